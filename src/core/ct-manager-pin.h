/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The rule for a new manager PIN, wherever one is chosen (the till's first
 * start, cardtill-service manager add): at least this many digits, and
 * digits only. PINs made under an older rule keep working. */
#define CT_MANAGER_PIN_MIN_DIGITS 6
#define CT_MANAGER_PIN_MAX_DIGITS 32

/* A member PIN (docs/api.md, "Member consent") is typed by the member on
 * the till's keypad: exactly this many digits, like a bank card's. */
#define CT_MEMBER_PIN_DIGITS 6

#define CT_MANAGER_PIN_ERROR (ct_manager_pin_error_quark ())

typedef enum
{
  CT_MANAGER_PIN_ERROR_TOO_SHORT,
  CT_MANAGER_PIN_ERROR_TOO_LONG,
  CT_MANAGER_PIN_ERROR_NOT_DIGITS,
} CtManagerPinError;

GQuark    ct_manager_pin_error_quark (void);
char     *ct_manager_pin_rule        (void);
gboolean  ct_manager_pin_check_new   (const char  *pin,
                                      GError     **error);
gboolean  ct_cashier_pin_check_new   (const char  *pin,
                                      GError     **error);
gboolean  ct_member_pin_check        (const char  *pin,
                                      GError     **error);

G_END_DECLS
