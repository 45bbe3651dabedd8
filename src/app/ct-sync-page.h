/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ct-session.h"

G_BEGIN_DECLS

#define CT_TYPE_SYNC_PAGE (ct_sync_page_get_type ())

G_DECLARE_FINAL_TYPE (CtSyncPage, ct_sync_page, CT, SYNC_PAGE, AdwBin)

GtkWidget  *ct_sync_page_new             (CtSession  *session);
void        ct_sync_page_reload          (CtSyncPage *self);
guint       ct_sync_page_get_n_pending   (CtSyncPage *self);
guint       ct_sync_page_get_n_attention (CtSyncPage *self);
gboolean    ct_sync_page_is_loading      (CtSyncPage *self);
const char *ct_sync_page_get_state_text  (CtSyncPage *self);
const CtOutboxEntry *ct_sync_page_get_attention_entry (CtSyncPage *self,
                                                       guint       index);
char       *ct_connection_text           (CtClient   *client);

G_END_DECLS
