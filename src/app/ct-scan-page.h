/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ct-card-view.h"
#include "ct-session.h"

G_BEGIN_DECLS

#define CT_TYPE_SCAN_PAGE (ct_scan_page_get_type ())

G_DECLARE_FINAL_TYPE (CtScanPage, ct_scan_page, CT, SCAN_PAGE, AdwBin)

GtkWidget  *ct_scan_page_new           (CtSession  *session);
CtCardView *ct_scan_page_get_card_view (CtScanPage *self);
GtkEntry   *ct_scan_page_get_entry     (CtScanPage *self);
const char *ct_scan_page_get_problem   (CtScanPage *self);
gboolean    ct_scan_page_suggests_sale (CtScanPage *self);
gboolean    ct_scan_page_is_showing_card (CtScanPage *self);
void        ct_scan_page_read_image    (CtScanPage *self,
                                        const char *path);

G_END_DECLS
