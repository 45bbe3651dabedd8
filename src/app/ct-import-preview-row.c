/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-import-preview-row"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-import-preview-row.h"

/* One row of the Import screen's preview table: a row of the file as the
 * importer judged it. The row copies what it shows, since the importer's
 * strings last only until its next row; rows are made on the worker that
 * reads the file and shown on the main loop. */

struct _CtImportPreviewRow
{
  GObject   parent_instance;
  guint64   line;
  gboolean  accepted;
  char     *card_no;
  char     *name;
  int64_t   balance;
  char     *status;
};

G_DEFINE_FINAL_TYPE (CtImportPreviewRow, ct_import_preview_row, G_TYPE_OBJECT)

static void
ct_import_preview_row_finalize (GObject *object)
{
  CtImportPreviewRow *self = CT_IMPORT_PREVIEW_ROW (object);

  g_free (self->card_no);
  g_free (self->name);
  g_free (self->status);
  G_OBJECT_CLASS (ct_import_preview_row_parent_class)->finalize (object);
}

static void
ct_import_preview_row_class_init (CtImportPreviewRowClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ct_import_preview_row_finalize;
}

static void
ct_import_preview_row_init (CtImportPreviewRow *self)
{
}

/**
 * ct_import_preview_row_new:
 * @item: a row as ct_legacy_import_next() gave it
 *
 * Returns: (transfer full): the preview of @item; its status is "OK" or
 *   the reason the row is rejected.
 */
CtImportPreviewRow *
ct_import_preview_row_new (const CtImportItem *item)
{
  CtImportPreviewRow *self;

  g_return_val_if_fail (item != NULL, NULL);

  self = g_object_new (CT_TYPE_IMPORT_PREVIEW_ROW, NULL);
  self->line = item->line;
  self->accepted = item->accepted;
  self->card_no = g_strdup (item->card_no);
  self->name = g_strdup (item->name);
  self->balance = item->balance;
  self->status = g_strdup (item->accepted ? _("OK") : item->reason);
  return self;
}

guint64
ct_import_preview_row_get_line (CtImportPreviewRow *self)
{
  g_return_val_if_fail (CT_IS_IMPORT_PREVIEW_ROW (self), 0);

  return self->line;
}

gboolean
ct_import_preview_row_get_accepted (CtImportPreviewRow *self)
{
  g_return_val_if_fail (CT_IS_IMPORT_PREVIEW_ROW (self), FALSE);

  return self->accepted;
}

const char *
ct_import_preview_row_get_card_no (CtImportPreviewRow *self)
{
  g_return_val_if_fail (CT_IS_IMPORT_PREVIEW_ROW (self), NULL);

  return self->card_no;
}

const char *
ct_import_preview_row_get_name (CtImportPreviewRow *self)
{
  g_return_val_if_fail (CT_IS_IMPORT_PREVIEW_ROW (self), NULL);

  return self->name;
}

/* Minor units; meaningful for an accepted row only. */
int64_t
ct_import_preview_row_get_balance (CtImportPreviewRow *self)
{
  g_return_val_if_fail (CT_IS_IMPORT_PREVIEW_ROW (self), 0);

  return self->balance;
}

const char *
ct_import_preview_row_get_status (CtImportPreviewRow *self)
{
  g_return_val_if_fail (CT_IS_IMPORT_PREVIEW_ROW (self), NULL);

  return self->status;
}
