/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ct-session.h"

G_BEGIN_DECLS

#define CT_TYPE_PAY_PAGE (ct_pay_page_get_type ())

G_DECLARE_FINAL_TYPE (CtPayPage, ct_pay_page, CT, PAY_PAGE, AdwBin)

GtkWidget  *ct_pay_page_new              (CtSession *session);
GtkEntry   *ct_pay_page_get_amount_entry (CtPayPage *self);
const char *ct_pay_page_get_summary      (CtPayPage *self);
const char *ct_pay_page_get_after        (CtPayPage *self);
const char *ct_pay_page_get_points       (CtPayPage *self);
const char *ct_pay_page_get_split_offer (CtPayPage *self);
const char *ct_pay_page_get_problem      (CtPayPage *self);
const char *ct_pay_page_get_benefit      (CtPayPage *self);
GtkEntry   *ct_pay_page_get_points_entry (CtPayPage *self);
gboolean    ct_pay_page_is_busy          (CtPayPage *self);

G_END_DECLS
