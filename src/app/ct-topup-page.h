/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ct-session.h"

G_BEGIN_DECLS

#define CT_TYPE_TOPUP_PAGE (ct_topup_page_get_type ())

G_DECLARE_FINAL_TYPE (CtTopupPage, ct_topup_page, CT, TOPUP_PAGE, AdwBin)

GtkWidget  *ct_topup_page_new              (CtSession   *session);
gboolean    ct_topup_page_select_package   (CtTopupPage *self,
                                            const char  *package_id);
GtkEntry   *ct_topup_page_get_amount_entry (CtTopupPage *self);
const char *ct_topup_page_get_summary      (CtTopupPage *self);
const char *ct_topup_page_get_after        (CtTopupPage *self);
const char *ct_topup_page_get_problem      (CtTopupPage *self);
guint       ct_topup_page_get_n_packages   (CtTopupPage *self);
gboolean    ct_topup_page_is_busy          (CtTopupPage *self);

G_END_DECLS
