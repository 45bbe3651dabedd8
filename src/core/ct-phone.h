/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CT_PHONE_ERROR (ct_phone_error_quark ())

typedef enum
{
  CT_PHONE_ERROR_INVALID,
} CtPhoneError;

/* A stored phone is 5 to 15 ASCII digits; a search may also name the last
 * CT_PHONE_TAIL_DIGITS of one. */
#define CT_PHONE_MIN_DIGITS  5
#define CT_PHONE_MAX_DIGITS  15
#define CT_PHONE_TAIL_DIGITS 4

GQuark    ct_phone_error_quark (void);

char     *ct_phone_normalize   (const char *text,
                                GError    **error);
char     *ct_phone_search_key  (const char *text,
                                gboolean   *out_tail);
char     *ct_phone_mask        (const char *phone);

G_END_DECLS
