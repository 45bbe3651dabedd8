/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ct-client.h"
#include "ct-legacy-import-send.h"

G_BEGIN_DECLS

#define CT_TYPE_IMPORT_PAGE (ct_import_page_get_type ())

G_DECLARE_FINAL_TYPE (CtImportPage, ct_import_page, CT, IMPORT_PAGE, AdwBin)

GtkWidget  *ct_import_page_new             (CtClient         *client);
void        ct_import_page_open_file       (CtImportPage     *self,
                                            GFile            *file);
void        ct_import_page_set_manager     (CtImportPage     *self,
                                            const char       *manager_id,
                                            const char       *pin);
gboolean    ct_import_page_set_column_field (CtImportPage *self,
                                            const char       *column,
                                            int               field);
void        ct_import_page_set_encoding    (CtImportPage     *self,
                                            CtCsvEncoding     encoding);
gboolean    ct_import_page_is_busy         (CtImportPage     *self);
gboolean    ct_import_page_is_loaded       (CtImportPage     *self);
GListModel *ct_import_page_get_preview     (CtImportPage     *self);
void        ct_import_page_get_check       (CtImportPage     *self,
                                            CtImportTotals   *out_totals);
void        ct_import_page_get_progress    (CtImportPage     *self,
                                            CtImportProgress *out_progress);
const char *ct_import_page_get_result_text (CtImportPage     *self);
const char *ct_import_page_get_report_path (CtImportPage     *self);

G_END_DECLS
