/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ct-session.h"

G_BEGIN_DECLS

#define CT_TYPE_MEMBERS_PAGE (ct_members_page_get_type ())

G_DECLARE_FINAL_TYPE (CtMembersPage, ct_members_page, CT, MEMBERS_PAGE, AdwBin)

GtkWidget  *ct_members_page_new              (CtSession     *session);
void        ct_members_page_search           (CtMembersPage *self,
                                              const char    *text);
void        ct_members_page_show_card        (CtMembersPage *self,
                                              const CtCard  *card);
void        ct_members_page_set_date         (CtMembersPage *self,
                                              GDate         *date);
char       *ct_members_page_get_date_text    (CtMembersPage *self);
guint       ct_members_page_get_n_results    (CtMembersPage *self);
guint       ct_members_page_get_n_result_rows (CtMembersPage *self);
guint       ct_members_page_get_n_history    (CtMembersPage *self);
gboolean    ct_members_page_is_loading       (CtMembersPage *self);
const char *ct_members_page_get_status       (CtMembersPage *self);
const CtCard *ct_members_page_get_card       (CtMembersPage *self);
const CtTransaction *ct_members_page_get_history_item (CtMembersPage *self,
                                                       guint          index);

G_END_DECLS
