/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "ct-legacy-import.h"

G_BEGIN_DECLS

#define CT_TYPE_IMPORT_PREVIEW_ROW (ct_import_preview_row_get_type ())

G_DECLARE_FINAL_TYPE (CtImportPreviewRow, ct_import_preview_row, CT, IMPORT_PREVIEW_ROW, GObject)

CtImportPreviewRow *ct_import_preview_row_new          (const CtImportItem *item);
guint64             ct_import_preview_row_get_line     (CtImportPreviewRow *self);
gboolean            ct_import_preview_row_get_accepted (CtImportPreviewRow *self);
const char         *ct_import_preview_row_get_card_no  (CtImportPreviewRow *self);
const char         *ct_import_preview_row_get_name     (CtImportPreviewRow *self);
int64_t             ct_import_preview_row_get_balance  (CtImportPreviewRow *self);
const char         *ct_import_preview_row_get_status   (CtImportPreviewRow *self);

G_END_DECLS
