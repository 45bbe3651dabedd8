/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ct-session.h"

G_BEGIN_DECLS

#define CT_TYPE_REPORTS_PAGE (ct_reports_page_get_type ())

G_DECLARE_FINAL_TYPE (CtReportsPage, ct_reports_page, CT, REPORTS_PAGE, AdwBin)

GtkWidget  *ct_reports_page_new            (CtSession     *session);
void        ct_reports_page_load           (CtReportsPage *self,
                                            const char    *date);
const char *ct_reports_page_get_date       (CtReportsPage *self);
gboolean    ct_reports_page_is_loading     (CtReportsPage *self);
const char *ct_reports_page_get_problem    (CtReportsPage *self);
GtkEntry   *ct_reports_page_get_date_entry (CtReportsPage *self);
char       *ct_reports_page_get_text       (CtReportsPage *self);

G_END_DECLS
