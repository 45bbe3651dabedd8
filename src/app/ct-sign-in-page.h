/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ct-session.h"

G_BEGIN_DECLS

#define CT_TYPE_SIGN_IN_PAGE (ct_sign_in_page_get_type ())

G_DECLARE_FINAL_TYPE (CtSignInPage, ct_sign_in_page, CT, SIGN_IN_PAGE, AdwBin)

GtkWidget  *ct_sign_in_page_new         (CtSession    *session);
/* Empties the PIN, keeps the cashier id (the one who locked the till
 * signs in again with the PIN alone) and puts the focus where typing
 * goes next. */
void        ct_sign_in_page_reset       (CtSignInPage *self);
void        ct_sign_in_page_sign_in     (CtSignInPage *self,
                                         const char   *cashier_id,
                                         const char   *pin);
const char *ct_sign_in_page_get_problem (CtSignInPage *self);
gboolean    ct_sign_in_page_get_busy    (CtSignInPage *self);

G_END_DECLS
