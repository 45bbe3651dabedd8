/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-import-page"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "ct-app-resources.h"
#include "ct-format.h"
#include "ct-dialog.h"
#include "ct-import-page.h"
#include "ct-import-preview-row.h"
#include "ct-manager-pin.h"

/* The Import screen (docs/import.md): choose a CSV export of the old card
 * system, see its encoding, its column mapping, a preview of the first rows
 * with each row's verdict and the totals the manager must confirm, then
 * import with a progress bar, a cancel button and a report of every
 * rejected row. The file is read on GTask workers only (three passes over
 * a 100 MB file take seconds), never on the main loop. */

/* The preview: the first rows as they are, then the rejected rows further
 * down (the manager's "first rejects"), each with its verdict. */
#define PREVIEW_FIRST_ROWS 100
#define PREVIEW_MORE_REJECTS 400

struct _CtImportPage
{
  AdwBin            parent_instance;

  CtClient         *client;
  GFile            *file;
  CtLegacyImport   *import;      /* touched only by the one worker running, or when idle */
  GListStore       *preview;     /* element-type CtImportPreviewRow */
  guint             preview_first;
  CtImportTotals    check;
  int               minor_units;
  char             *currency;
  char             *report_path; /* rejects of the last check or import */
  GCancellable     *cancellable;
  gboolean          loading;
  gboolean          importing;
  gboolean          populating;
  gboolean          disposed;
  guint             load_serial;  /* the load whose answer counts */
  gpointer          load_data;    /* that load's LoadData, while it runs */
  guint             load_tick;
  guint             progress_source;
  GMutex            progress_lock;
  CtImportProgress  progress;
  char             *result_text;

  GtkSpinner       *spinner;
  GtkLabel         *file_label;
  AdwPreferencesGroup *file_group;
  AdwComboRow      *encoding_row;
  AdwActionRow     *rows_row;
  AdwActionRow     *batch_row;
  AdwPreferencesGroup *mapping_group;
  GtkListBox       *mapping_list;
  AdwPreferencesGroup *totals_group;
  AdwActionRow     *accepted_row;
  AdwActionRow     *rejected_row;
  AdwActionRow     *balance_row;
  AdwActionRow     *points_row;
  GtkWidget        *preview_box;
  GtkLabel         *preview_label;
  GtkColumnView    *preview_view;
  AdwPreferencesGroup *auth_group;
  AdwEntryRow      *manager_row;
  AdwPasswordEntryRow *pin_row;
  GtkWidget        *import_button;
  GtkWidget        *run_box;
  GtkProgressBar   *progress_bar;
  GtkLabel         *result_label;
  GtkWidget        *save_report_button;
};

G_DEFINE_FINAL_TYPE (CtImportPage, ct_import_page, ADW_TYPE_BIN)

/* The choices of a column, in the order of the combo rows. */
static const char *
field_label (int index)
{
  switch (index)
    {
    case 0: return _("Not imported");
    case 1: return _("Card number");
    case 2: return _("Name");
    case 3: return _("Phone");
    case 4: return _("Balance (yuan)");
    case 5: return _("Points");
    case 6: return _("Level");
    default: return "";
    }
}

static void update_actions (CtImportPage *self);

static char *
money_text (CtImportPage *self,
            int64_t       minor)
{
  return ct_format_money (minor, self->minor_units, self->currency);
}

static void
set_result (CtImportPage *self,
            const char   *text)
{
  g_free (self->result_text);
  self->result_text = g_strdup (text);
  gtk_label_set_text (self->result_label, text ? text : "");
}

static void
remove_report (CtImportPage *self)
{
  if (self->report_path != NULL)
    g_unlink (self->report_path);
  g_clear_pointer (&self->report_path, g_free);
}

static char *
new_report_path (void)
{
  g_autofree char *path = NULL;
  int fd = g_file_open_tmp ("cardtill-import-report-XXXXXX.csv", &path, NULL);

  if (fd < 0)
    return NULL;
  close (fd);
  return g_steal_pointer (&path);
}

/* ---- loading: open, map, check every row, preview ----------------------- */

typedef struct
{
  GFile          *file;
  CtCsvEncoding   encoding;
  GStrv           maps;
  int             minor_units;
  char           *report_path;
  CtLegacyImport *import;
  GPtrArray      *rows;         /* element-type CtImportPreviewRow */
  CtImportTotals  totals;
  guint           n_first;      /* preview rows taken from the top */
  guint           serial;
  gint            percent;      /* of the row check, atomic; -1 while opening */
  GPtrArray      *columns;      /* header names, for the mapping rows */
  GArray         *column_field; /* int per column: its field, or -1 */
} LoadData;

static void
load_data_free (gpointer data)
{
  LoadData *d = data;

  g_clear_object (&d->file);
  g_strfreev (d->maps);
  /* A report the page did not take (a superseded or failed check). */
  if (d->report_path != NULL)
    g_unlink (d->report_path);
  g_free (d->report_path);
  g_clear_pointer (&d->import, ct_legacy_import_free);
  g_clear_pointer (&d->rows, g_ptr_array_unref);
  g_clear_pointer (&d->columns, g_ptr_array_unref);
  g_clear_pointer (&d->column_field, g_array_unref);
  g_free (d);
}

/* When the columns do not map, the header alone is read so that the
 * manager can map them here. */
static void
read_header (LoadData     *d,
             GCancellable *cancellable)
{
  CtCsvSniff sniff;
  g_autoptr(GFileInputStream) in = NULL;
  g_autoptr(CtCsvReader) reader = NULL;

  if (!ct_csv_sniff_file (d->file, d->encoding, &sniff, cancellable, NULL))
    return;
  in = g_file_read (d->file, cancellable, NULL);
  if (in == NULL)
    return;
  reader = ct_csv_reader_new (G_INPUT_STREAM (in), sniff.encoding);
  while (ct_csv_reader_next (reader, cancellable, NULL))
    {
      if (ct_csv_reader_is_blank (reader))
        continue;
      d->columns = g_ptr_array_new_with_free_func (g_free);
      d->column_field = g_array_new (FALSE, FALSE, sizeof (int));
      for (guint c = 0; c < ct_csv_reader_get_n_fields (reader); c++)
        {
          const char *name = ct_csv_reader_get_field (reader, c);
          CtImportField field;
          int value = -1;

          for (guint m = 0; d->maps != NULL && d->maps[m] != NULL; m++)
            {
              const char *eq = strrchr (d->maps[m], '=');

              if (eq != NULL && strncmp (d->maps[m], name, eq - d->maps[m]) == 0
                  && name[eq - d->maps[m]] == '\0')
                value = ct_import_field_from_string (eq + 1, &field) ? (int) field : -2;
            }
          if (value == -1 && ct_import_field_for_header (name, &field))
            value = field;
          if (value == -2)
            value = -1;
          g_ptr_array_add (d->columns, g_strdup (name));
          g_array_append_val (d->column_field, value);
        }
      return;
    }
}

static void
columns_from_import (LoadData *d)
{
  d->columns = g_ptr_array_new_with_free_func (g_free);
  d->column_field = g_array_new (FALSE, FALSE, sizeof (int));
  for (guint c = 0; c < ct_legacy_import_get_n_columns (d->import); c++)
    {
      int value = -1;

      for (int f = 0; f < CT_IMPORT_N_FIELDS; f++)
        if (ct_legacy_import_get_column (d->import, f) == (int) c)
          value = f;
      g_ptr_array_add (d->columns, g_strdup (ct_legacy_import_get_column_name (d->import, c)));
      g_array_append_val (d->column_field, value);
    }
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  LoadData *d = task_data;
  CtImportOptions options = { d->encoding, (const char * const *) d->maps, d->minor_units, NULL };
  g_autoptr(CtImportReport) report = NULL;
  g_autoptr(GError) error = NULL;
  CtImportItem item;

  d->import = ct_legacy_import_open (d->file, &options, cancellable, &error);
  if (d->import == NULL)
    {
      if (g_error_matches (error, CT_LEGACY_IMPORT_ERROR, CT_LEGACY_IMPORT_ERROR_MAPPING))
        read_header (d, cancellable);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  columns_from_import (d);
  if (d->report_path != NULL)
    {
      g_autoptr(GFile) report_file = g_file_new_for_path (d->report_path);

      report = ct_import_report_new (report_file, NULL);
    }

  d->rows = g_ptr_array_new_with_free_func (g_object_unref);
  while (ct_legacy_import_next (d->import, &item, cancellable, &error))
    {
      if (item.line % 4096 == 0)
        {
          guint64 size = MAX (ct_legacy_import_get_size (d->import), 1);

          g_atomic_int_set (&d->percent,
                            (gint) MIN (100, ct_legacy_import_get_bytes_read (d->import) * 100 / size));
        }
      if (!item.accepted && report != NULL)
        ct_import_report_add (report, item.line, item.card_no, item.code, item.reason, NULL);
      if (d->n_first < PREVIEW_FIRST_ROWS
          || (!item.accepted && d->rows->len < PREVIEW_FIRST_ROWS + PREVIEW_MORE_REJECTS))
        {
          g_ptr_array_add (d->rows, ct_import_preview_row_new (&item));
          if (d->n_first < PREVIEW_FIRST_ROWS)
            d->n_first++;
        }
    }
  if (error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (report != NULL)
    ct_import_report_close (report, NULL);
  ct_legacy_import_get_totals (d->import, &d->totals);
  if (!ct_legacy_import_rewind (d->import, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
mapping_changed_cb (CtImportPage *self);

static void
populate_mapping (CtImportPage *self,
                  GPtrArray    *columns,
                  GArray       *column_field)
{
  GtkWidget *child;
  g_autoptr(GtkStringList) fields = gtk_string_list_new (NULL);

  for (int i = 0; i <= CT_IMPORT_N_FIELDS; i++)
    gtk_string_list_append (fields, field_label (i));

  self->populating = TRUE;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->mapping_list))) != NULL)
    gtk_list_box_remove (self->mapping_list, child);

  for (guint c = 0; columns != NULL && c < columns->len; c++)
    {
      AdwComboRow *row = ADW_COMBO_ROW (adw_combo_row_new ());
      int field = g_array_index (column_field, int, c);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), g_ptr_array_index (columns, c));
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_combo_row_set_model (row, G_LIST_MODEL (fields));
      adw_combo_row_set_selected (row, field >= 0 ? (guint) field + 1 : 0);
      g_signal_connect_swapped (row, "notify::selected", G_CALLBACK (mapping_changed_cb), self);
      gtk_list_box_append (self->mapping_list, GTK_WIDGET (row));
    }
  self->populating = FALSE;
}

static void
show_check (CtImportPage *self)
{
  g_autofree char *rows = NULL;
  g_autofree char *n_rows = NULL;
  g_autofree char *accepted = g_strdup_printf ("%" G_GUINT64_FORMAT, self->check.accepted);
  g_autofree char *rejected = g_strdup_printf ("%" G_GUINT64_FORMAT, self->check.rejected);
  g_autofree char *balance = money_text (self, self->check.total_balance);
  g_autofree char *points = g_strdup_printf ("%" G_GINT64_FORMAT, self->check.total_points);
  g_autofree char *preview = NULL;

  n_rows = g_strdup_printf ("%" G_GUINT64_FORMAT, ct_legacy_import_get_n_rows (self->import));
  /* TRANSLATORS: "12345 rows, UTF-8 text" */
  rows = g_strdup_printf (_("%s rows, %s"), n_rows,
                          ct_legacy_import_get_encoding (self->import) == CT_CSV_ENCODING_GB18030
                            ? _("GB18030 (GBK) text") : _("UTF-8 text"));
  adw_action_row_set_subtitle (self->rows_row, rows);
  adw_action_row_set_subtitle (self->batch_row, ct_legacy_import_get_batch_id (self->import));
  adw_action_row_set_subtitle (self->accepted_row, accepted);
  adw_action_row_set_subtitle (self->rejected_row, rejected);
  adw_action_row_set_subtitle (self->balance_row, balance);
  adw_action_row_set_subtitle (self->points_row, points);

  if (g_list_model_get_n_items (G_LIST_MODEL (self->preview)) > self->preview_first)
    preview = g_strdup_printf (_("Preview: the first %u rows, then %u rejected rows further down"),
                               self->preview_first,
                               g_list_model_get_n_items (G_LIST_MODEL (self->preview)) - self->preview_first);
  else
    preview = g_strdup_printf (_("Preview: the first %u rows"), self->preview_first);
  gtk_label_set_text (self->preview_label, preview);

  gtk_widget_set_visible (GTK_WIDGET (self->file_group), TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->mapping_group), TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->totals_group), TRUE);
  gtk_widget_set_visible (self->preview_box, TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->auth_group), TRUE);
  gtk_widget_set_visible (self->run_box, TRUE);
  gtk_widget_set_visible (self->save_report_button, self->check.rejected > 0);

  if (self->check.rejected > 0)
    {
      g_autofree char *text = g_strdup_printf (
        g_dngettext (GETTEXT_PACKAGE,
                     "%s row will not be imported; the preview and the report say why.",
                     "%s rows will not be imported; the preview and the report say why.",
                     (gulong) MIN (self->check.rejected, G_MAXULONG)),
        rejected);
      set_result (self, text);
    }
  else
    set_result (self, _("Every row passed the check."));
}

static void
load_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  CtImportPage *self = CT_IMPORT_PAGE (source);
  GTask *task = G_TASK (result);
  LoadData *d = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (task, &error);

  /* A load replaced by a newer one, or a page already gone: nothing to show. */
  if (self->disposed || d->serial != self->load_serial)
    return;
  self->load_data = NULL;
  g_clear_handle_id (&self->load_tick, g_source_remove);

  if (!ok)
    {
      self->loading = FALSE;
      gtk_spinner_stop (self->spinner);
      g_list_store_remove_all (self->preview);
      gtk_widget_set_visible (GTK_WIDGET (self->totals_group), FALSE);
      gtk_widget_set_visible (self->preview_box, FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->auth_group), FALSE);
      gtk_widget_set_visible (self->run_box, FALSE);
      gtk_widget_set_visible (self->save_report_button, FALSE);
      /* A mapping problem shows the file's columns so it can be fixed. */
      g_clear_pointer (&self->import, ct_legacy_import_free);
      if (d->columns != NULL)
        populate_mapping (self, d->columns, d->column_field);
      gtk_widget_set_visible (GTK_WIDGET (self->mapping_group), d->columns != NULL);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        set_result (self, _("Check cancelled. Choose the file again to check it."));
      else
        set_result (self, error->message);
      update_actions (self);
      return;
    }

  self->loading = FALSE;
  gtk_spinner_stop (self->spinner);
  g_clear_pointer (&self->import, ct_legacy_import_free);
  self->import = g_steal_pointer (&d->import);
  self->check = d->totals;
  remove_report (self);
  self->report_path = g_steal_pointer (&d->report_path);

  g_list_store_remove_all (self->preview);
  g_list_store_splice (self->preview, 0, 0, d->rows->pdata, d->rows->len);
  self->preview_first = d->n_first;
  populate_mapping (self, d->columns, d->column_field);
  show_check (self);
  update_actions (self);
}

static GStrv
current_maps (CtImportPage *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  GtkWidget *child;

  for (child = gtk_widget_get_first_child (GTK_WIDGET (self->mapping_list)); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      guint selected;
      g_autofree char *map = NULL;

      if (!ADW_IS_COMBO_ROW (child))
        continue;
      selected = adw_combo_row_get_selected (ADW_COMBO_ROW (child));
      map = g_strdup_printf ("%s=%s", adw_preferences_row_get_title (ADW_PREFERENCES_ROW (child)),
                             selected == 0 || selected == GTK_INVALID_LIST_POSITION
                               ? "ignore" : ct_import_field_to_string (selected - 1));
      g_strv_builder_add (builder, map);
    }
  return g_strv_builder_end (builder);
}

/* What the check is doing, for a large file. */
static gboolean
load_tick_cb (gpointer user_data)
{
  CtImportPage *self = user_data;
  LoadData *d = self->load_data;
  g_autofree char *text = NULL;
  gint percent;

  if (d == NULL)
    return G_SOURCE_CONTINUE;
  percent = g_atomic_int_get (&d->percent);
  if (percent < 0)
    set_result (self, _("Reading the file: encoding, columns, card numbers…"));
  else
    {
      /* TRANSLATORS: the share of the file checked so far, "42" */
      text = g_strdup_printf (_("Checking every row… %d %%"), percent);
      set_result (self, text);
    }
  return G_SOURCE_CONTINUE;
}

static void
start_load (CtImportPage *self,
            GStrv         maps)
{
  g_autoptr(GTask) task = NULL;
  LoadData *d;
  static const CtCsvEncoding encodings[] = { CT_CSV_ENCODING_AUTO, CT_CSV_ENCODING_UTF8,
                                             CT_CSV_ENCODING_GB18030 };
  guint enc = adw_combo_row_get_selected (self->encoding_row);

  g_return_if_fail (!self->importing);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  d = g_new0 (LoadData, 1);
  d->file = g_object_ref (self->file);
  d->encoding = encodings[enc < G_N_ELEMENTS (encodings) ? enc : 0];
  d->maps = maps;
  d->minor_units = self->minor_units;
  d->report_path = new_report_path ();
  d->serial = ++self->load_serial;
  d->percent = -1;
  self->load_data = d;
  if (self->load_tick == 0)
    self->load_tick = g_timeout_add (200, load_tick_cb, self);

  self->loading = TRUE;
  gtk_spinner_start (self->spinner);
  set_result (self, _("Checking every row…"));
  update_actions (self);

  task = g_task_new (self, self->cancellable, load_done_cb, NULL);
  g_task_set_source_tag (task, start_load);
  g_task_set_task_data (task, d, load_data_free);
  g_task_run_in_thread (task, load_thread);
}

static void
mapping_changed_cb (CtImportPage *self)
{
  if (self->populating || self->file == NULL || self->importing)
    return;
  start_load (self, current_maps (self));
}

static void
encoding_changed_cb (CtImportPage *self)
{
  if (self->populating || self->file == NULL || self->importing)
    return;
  /* The column names change with the encoding: map them afresh. */
  start_load (self, NULL);
}

/**
 * ct_import_page_open_file:
 *
 * Checks @file on a worker: encoding, columns, every row. The page shows
 * the result when it is done (ct_import_page_is_busy() turns %FALSE).
 */
void
ct_import_page_open_file (CtImportPage *self,
                          GFile        *file)
{
  g_autofree char *name = NULL;

  g_return_if_fail (CT_IS_IMPORT_PAGE (self));
  g_return_if_fail (G_IS_FILE (file));

  if (self->importing)
    return;
  g_set_object (&self->file, file);
  g_clear_pointer (&self->import, ct_legacy_import_free);
  name = g_file_get_parse_name (file);
  gtk_label_set_text (self->file_label, name);
  gtk_widget_remove_css_class (GTK_WIDGET (self->file_label), "dim-label");

  self->populating = TRUE;
  adw_combo_row_set_selected (self->encoding_row, 0);
  self->populating = FALSE;
  start_load (self, NULL);
}

/* ---- choosing a file, saving the report --------------------------------- */

static void
choose_response_cb (GtkNativeDialog *dialog,
                    int              response,
                    CtImportPage    *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));

      if (file != NULL)
        ct_import_page_open_file (self, file);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
choose_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  CtImportPage *self = CT_IMPORT_PAGE (widget);
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) csv = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();

  chooser = gtk_file_chooser_native_new (_("Choose the Old System's Export"),
                                         ct_window_of (widget),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  gtk_file_filter_set_name (csv, _("CSV files"));
  gtk_file_filter_add_pattern (csv, "*.csv");
  gtk_file_filter_add_pattern (csv, "*.CSV");
  gtk_file_filter_add_mime_type (csv, "text/csv");
  gtk_file_filter_set_name (all, _("All files"));
  gtk_file_filter_add_pattern (all, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), csv);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), all);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (choose_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
save_response_cb (GtkNativeDialog *dialog,
                  int              response,
                  CtImportPage    *self)
{
  if (response == GTK_RESPONSE_ACCEPT && self->report_path != NULL)
    {
      g_autoptr(GFile) target = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autoptr(GFile) source = g_file_new_for_path (self->report_path);
      g_autoptr(GError) error = NULL;

      if (target != NULL
          && !g_file_copy (source, target, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &error))
        set_result (self, error->message);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
save_report_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  CtImportPage *self = CT_IMPORT_PAGE (widget);
  GtkFileChooserNative *chooser;

  if (self->report_path == NULL)
    return;
  chooser = gtk_file_chooser_native_new (_("Save the Report of Rejected Rows"),
                                         ct_window_of (widget),
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), _("import-report.csv"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (save_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* ---- importing ----------------------------------------------------------- */

typedef struct
{
  CtImportPage   *self;        /* ref held */
  CtLegacyImport *import;      /* borrowed from the page while importing */
  CtClient       *client;
  char           *manager_id;
  char           *pin;
  char           *report_path;
  CtImportReport *report;
  gboolean        batch_known;   /* what the service holds of the batch afterwards */
  int64_t         batch_rows;
  int64_t         batch_balance;
} RunData;

static void
run_data_free (gpointer data)
{
  RunData *d = data;

  g_clear_object (&d->self);
  g_clear_object (&d->client);
  g_free (d->manager_id);
  ct_secret_free (d->pin);
  g_clear_pointer (&d->report, ct_import_report_free);
  if (d->report_path != NULL)
    g_unlink (d->report_path);
  g_free (d->report_path);
  g_free (d);
}

static void
run_reject_cb (guint64     line,
               const char *card_no,
               const char *code,
               const char *reason,
               gpointer    user_data)
{
  RunData *d = user_data;

  if (d->report != NULL)
    ct_import_report_add (d->report, line, card_no, code, reason, NULL);
}

static void
run_progress_cb (const CtImportProgress *progress,
                 gpointer                user_data)
{
  RunData *d = user_data;

  g_mutex_lock (&d->self->progress_lock);
  d->self->progress = *progress;
  g_mutex_unlock (&d->self->progress_lock);
}

/* Asks the service what it holds of this batch now, so that the final
 * report rests on the service's own count. */
static void
read_batch (RunData *d)
{
  d->batch_known = ct_import_fetch_batch (d->client, ct_legacy_import_get_batch_id (d->import),
                                          &d->batch_rows, &d->batch_balance, NULL);
}

static void
run_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  RunData *d = task_data;
  CtImportCallbacks callbacks = { run_reject_cb, run_progress_cb, NULL, NULL, d };
  CtImportProgress progress;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (d->report_path != NULL)
    {
      g_autoptr(GFile) file = g_file_new_for_path (d->report_path);

      d->report = ct_import_report_new (file, NULL);
    }
  if (!ct_legacy_import_rewind (d->import, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  ok = ct_legacy_import_run (d->import, d->client, d->manager_id, d->pin, &callbacks, &progress,
                             cancellable, &error);
  run_progress_cb (&progress, d);
  if (ok)
    read_batch (d);
  if (d->report != NULL)
    ct_import_report_close (d->report, NULL);
  ct_legacy_import_rewind (d->import, NULL);
  if (!ok)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static gboolean
progress_tick_cb (gpointer user_data)
{
  CtImportPage *self = user_data;
  CtImportProgress p;
  guint64 n_rows = self->import != NULL ? ct_legacy_import_get_n_rows (self->import) : 0;
  g_autofree char *text = NULL;
  g_autofree char *done = NULL;
  g_autofree char *all = NULL;
  g_autofree char *imported = NULL;

  g_mutex_lock (&self->progress_lock);
  p = self->progress;
  g_mutex_unlock (&self->progress_lock);

  done = g_strdup_printf ("%" G_GUINT64_FORMAT, p.rows);
  all = g_strdup_printf ("%" G_GUINT64_FORMAT, n_rows);
  imported = g_strdup_printf ("%" G_GUINT64_FORMAT, p.accepted);
  if (n_rows > 0)
    gtk_progress_bar_set_fraction (self->progress_bar, MIN (1.0, (double) p.rows / (double) n_rows));
  /* TRANSLATORS: "5000 of 12345 rows · 4998 imported" */
  text = g_strdup_printf (_("%s of %s rows · %s imported"), done, all, imported);
  gtk_progress_bar_set_text (self->progress_bar, text);
  return G_SOURCE_CONTINUE;
}

static void
run_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  CtImportPage *self = CT_IMPORT_PAGE (source);
  GTask *task = G_TASK (result);
  RunData *d = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *balance = NULL;
  g_autofree char *text = NULL;
  g_autofree char *accepted = NULL;
  g_autofree char *rejected = NULL;
  CtImportProgress p;

  self->importing = FALSE;
  g_clear_handle_id (&self->progress_source, g_source_remove);
  if (self->disposed)
    return;
  progress_tick_cb (self);
  gtk_spinner_stop (self->spinner);
  gtk_editable_set_text (GTK_EDITABLE (self->pin_row), "");

  remove_report (self);
  self->report_path = g_steal_pointer (&d->report_path);

  g_mutex_lock (&self->progress_lock);
  p = self->progress;
  g_mutex_unlock (&self->progress_lock);
  balance = money_text (self, p.total_balance);
  accepted = g_strdup_printf ("%" G_GUINT64_FORMAT, p.accepted);
  rejected = g_strdup_printf ("%" G_GUINT64_FORMAT, p.rejected);

  if (!g_task_propagate_boolean (task, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        text = g_strdup_printf (_("Import cancelled after %u chunks (%s rows imported). "
                                  "Choose Import again to go on: nothing is imported twice."),
                                p.chunks, accepted);
      else
        {
          g_autofree char *why = ct_format_error (error);

          text = g_strdup_printf (_("The import stopped: %s. %s rows are in. "
                                    "Choose Import again to go on: nothing is imported twice."),
                                  why, accepted);
        }
    }
  else
    {
      g_autofree char *summary = NULL;

      if (p.rejected > 0)
        summary = g_strdup_printf (_("Imported %s cards with %s in all. %s rows were rejected; "
                                     "save the report to see why."), accepted, balance, rejected);
      else
        summary = g_strdup_printf (_("Imported %s cards with %s in all. No row was rejected."),
                                   accepted, balance);
      if (d->batch_known)
        {
          g_autofree char *held_rows = g_strdup_printf ("%" G_GINT64_FORMAT, d->batch_rows);
          g_autofree char *held_balance = money_text (self, d->batch_balance);
          g_autofree char *held = g_strdup_printf (_("The service holds %s cards of this file, "
                                                     "with %s in all."), held_rows, held_balance);

          text = g_strconcat (summary, " ", held, NULL);
        }
      else
        text = g_steal_pointer (&summary);
    }
  set_result (self, text);
  gtk_widget_set_visible (self->save_report_button, p.rejected > 0);
  update_actions (self);
}

static void
start_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  CtImportPage *self = CT_IMPORT_PAGE (widget);
  g_autoptr(GTask) task = NULL;
  const char *manager = gtk_editable_get_text (GTK_EDITABLE (self->manager_row));
  const char *pin = gtk_editable_get_text (GTK_EDITABLE (self->pin_row));
  RunData *d;

  if (self->import == NULL || self->loading || self->importing)
    return;
  if (*manager == '\0' || *pin == '\0')
    {
      set_result (self, _("Enter the manager's ID and PIN to import."));
      gtk_widget_grab_focus (*manager == '\0' ? GTK_WIDGET (self->manager_row)
                                              : GTK_WIDGET (self->pin_row));
      return;
    }

  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  memset (&self->progress, 0, sizeof self->progress);

  d = g_new0 (RunData, 1);
  d->self = g_object_ref (self);
  d->import = self->import;
  d->client = g_object_ref (self->client);
  d->manager_id = g_strdup (manager);
  d->pin = g_strdup (pin);
  d->report_path = new_report_path ();

  self->importing = TRUE;
  gtk_spinner_start (self->spinner);
  set_result (self, _("Importing…"));
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  self->progress_source = g_timeout_add (100, progress_tick_cb, self);
  update_actions (self);

  task = g_task_new (self, self->cancellable, run_done_cb, NULL);
  g_task_set_source_tag (task, start_action);
  g_task_set_task_data (task, d, run_data_free);
  g_task_run_in_thread (task, run_thread);
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  CtImportPage *self = CT_IMPORT_PAGE (widget);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  if (self->importing)
    set_result (self, _("Cancelling after the chunk being sent…"));
}

static void
update_actions (CtImportPage *self)
{
  gboolean busy = self->loading || self->importing;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "import.choose", !self->importing);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "import.start",
                                 !busy && self->import != NULL && self->check.accepted > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "import.cancel", busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "import.save-report",
                                 !busy && self->report_path != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->mapping_list), !self->importing);
  gtk_widget_set_sensitive (GTK_WIDGET (self->encoding_row), !self->importing);
}

/* ---- the preview table --------------------------------------------------- */

typedef enum
{
  COLUMN_LINE,
  COLUMN_CARD,
  COLUMN_NAME,
  COLUMN_BALANCE,
  COLUMN_STATUS,
} PreviewColumn;

static void
preview_setup_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *item,
                  gpointer                  user_data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), GPOINTER_TO_INT (user_data) == COLUMN_BALANCE ? 1.0 : 0.0);
  if (GPOINTER_TO_INT (user_data) == COLUMN_STATUS)
    {
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_max_width_chars (GTK_LABEL (label), 48);
    }
  else
    gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_list_item_set_child (item, label);
}

static void
preview_bind_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *item,
                 gpointer                  user_data)
{
  CtImportPreviewRow *row = gtk_list_item_get_item (item);
  GtkWidget *label = gtk_list_item_get_child (item);
  CtImportPage *self = g_object_get_data (G_OBJECT (factory), "page");
  gboolean accepted = ct_import_preview_row_get_accepted (row);
  g_autofree char *text = NULL;

  switch ((PreviewColumn) GPOINTER_TO_INT (user_data))
    {
    case COLUMN_LINE:
      text = g_strdup_printf ("%" G_GUINT64_FORMAT, ct_import_preview_row_get_line (row));
      break;
    case COLUMN_CARD:
      text = g_strdup (ct_import_preview_row_get_card_no (row));
      break;
    case COLUMN_NAME:
      text = g_strdup (ct_import_preview_row_get_name (row));
      break;
    case COLUMN_BALANCE:
      text = accepted ? money_text (self, ct_import_preview_row_get_balance (row)) : g_strdup ("");
      break;
    case COLUMN_STATUS:
      text = g_strdup (ct_import_preview_row_get_status (row));
      break;
    default:
      g_assert_not_reached ();
    }
  gtk_label_set_text (GTK_LABEL (label), text ? text : "");
  if (GPOINTER_TO_INT (user_data) == COLUMN_STATUS)
    {
      if (accepted)
        {
          gtk_widget_remove_css_class (label, "error");
          gtk_widget_add_css_class (label, "success");
        }
      else
        {
          gtk_widget_remove_css_class (label, "success");
          gtk_widget_add_css_class (label, "error");
        }
    }
}

static void
add_preview_column (CtImportPage  *self,
                    const char    *title,
                    PreviewColumn  column,
                    gboolean       expand)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkColumnViewColumn *col;

  g_object_set_data (G_OBJECT (factory), "page", self);
  g_signal_connect (factory, "setup", G_CALLBACK (preview_setup_cb), GINT_TO_POINTER (column));
  g_signal_connect (factory, "bind", G_CALLBACK (preview_bind_cb), GINT_TO_POINTER (column));
  col = gtk_column_view_column_new (title, factory);
  gtk_column_view_column_set_expand (col, expand);
  gtk_column_view_column_set_resizable (col, TRUE);
  gtk_column_view_append_column (self->preview_view, col);
  g_object_unref (col);
}

/* ---- object -------------------------------------------------------------- */

static void
ct_import_page_dispose (GObject *object)
{
  CtImportPage *self = CT_IMPORT_PAGE (object);

  self->disposed = TRUE;
  self->load_data = NULL;
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->progress_source, g_source_remove);
  g_clear_handle_id (&self->load_tick, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), CT_TYPE_IMPORT_PAGE);
  G_OBJECT_CLASS (ct_import_page_parent_class)->dispose (object);
}

static void
ct_import_page_finalize (GObject *object)
{
  CtImportPage *self = CT_IMPORT_PAGE (object);

  g_clear_object (&self->client);
  g_clear_object (&self->file);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->preview);
  g_clear_pointer (&self->import, ct_legacy_import_free);
  remove_report (self);
  g_free (self->currency);
  g_free (self->result_text);
  g_mutex_clear (&self->progress_lock);
  G_OBJECT_CLASS (ct_import_page_parent_class)->finalize (object);
}

static void
ct_import_page_class_init (CtImportPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ct_import_page_dispose;
  object_class->finalize = ct_import_page_finalize;

  /* Referencing the resource bundle keeps the linker from dropping it
   * out of the static library when the page is used alone. */
  g_assert (ct_app_get_resource () != NULL);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-import-page.ui");
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, file_label);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, file_group);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, encoding_row);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, rows_row);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, batch_row);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, mapping_group);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, mapping_list);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, totals_group);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, accepted_row);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, rejected_row);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, balance_row);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, points_row);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, preview_box);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, preview_label);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, preview_view);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, auth_group);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, manager_row);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, pin_row);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, import_button);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, run_box);
  gtk_widget_class_bind_template_child_full (widget_class, "progress", FALSE,
                                             G_STRUCT_OFFSET (CtImportPage, progress_bar));
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, result_label);
  gtk_widget_class_bind_template_child (widget_class, CtImportPage, save_report_button);

  gtk_widget_class_install_action (widget_class, "import.choose", NULL, choose_action);
  gtk_widget_class_install_action (widget_class, "import.start", NULL, start_action);
  gtk_widget_class_install_action (widget_class, "import.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "import.save-report", NULL, save_report_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "import.choose", NULL);
}

static void
ct_import_page_init (CtImportPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* Enter moves from the manager to the PIN and imports; Tab from the PIN
   * goes to Import, not Cancel. */
  ct_screen_form (GTK_WIDGET (self), "import.start", self->import_button,
                  GTK_WIDGET (self->manager_row), GTK_WIDGET (self->pin_row), NULL);

  g_mutex_init (&self->progress_lock);
  self->minor_units = 2;
  self->currency = g_strdup ("CNY");
  self->preview = g_list_store_new (CT_TYPE_IMPORT_PREVIEW_ROW);
  {
    GtkNoSelection *selection = gtk_no_selection_new (G_LIST_MODEL (g_object_ref (self->preview)));

    gtk_column_view_set_model (self->preview_view, GTK_SELECTION_MODEL (selection));
    g_object_unref (selection);
  }
  add_preview_column (self, _("Line"), COLUMN_LINE, FALSE);
  add_preview_column (self, _("Card"), COLUMN_CARD, FALSE);
  add_preview_column (self, _("Name"), COLUMN_NAME, TRUE);
  add_preview_column (self, _("Balance"), COLUMN_BALANCE, FALSE);
  add_preview_column (self, _("Check"), COLUMN_STATUS, TRUE);

  g_signal_connect_swapped (self->encoding_row, "notify::selected",
                            G_CALLBACK (encoding_changed_cb), self);
  update_actions (self);
}

/**
 * ct_import_page_new:
 * @client: the window's client (never %NULL)
 */
GtkWidget *
ct_import_page_new (CtClient *client)
{
  CtImportPage *self;
  g_autoptr(CtMerchant) merchant = NULL;

  g_return_val_if_fail (CT_IS_CLIENT (client), NULL);

  self = g_object_new (CT_TYPE_IMPORT_PAGE, NULL);
  self->client = g_object_ref (client);
  merchant = ct_client_dup_merchant (client);
  if (merchant != NULL)
    {
      self->minor_units = merchant->minor_units;
      if (merchant->currency != NULL)
        {
          g_free (self->currency);
          self->currency = g_strdup (merchant->currency);
        }
    }
  return GTK_WIDGET (self);
}

/* Fills the manager fields (tests; a manager types them otherwise). */
void
ct_import_page_set_manager (CtImportPage *self,
                            const char   *manager_id,
                            const char   *pin)
{
  g_return_if_fail (CT_IS_IMPORT_PAGE (self));
  gtk_editable_set_text (GTK_EDITABLE (self->manager_row), manager_id ? manager_id : "");
  gtk_editable_set_text (GTK_EDITABLE (self->pin_row), pin ? pin : "");
}

/**
 * ct_import_page_set_column_field:
 * @column: a column name of the file's header
 * @field: the #CtImportField it holds, or -1 for none
 *
 * The mapping step, as choosing in a column's combo row does: the file is
 * checked again with the new mapping. Returns %FALSE for an unknown column.
 */
gboolean
ct_import_page_set_column_field (CtImportPage *self,
                                 const char   *column,
                                 int           field)
{
  GtkWidget *child;

  g_return_val_if_fail (CT_IS_IMPORT_PAGE (self), FALSE);
  g_return_val_if_fail (field >= -1 && field < CT_IMPORT_N_FIELDS, FALSE);

  for (child = gtk_widget_get_first_child (GTK_WIDGET (self->mapping_list)); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (ADW_IS_COMBO_ROW (child)
        && g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (child)), column) == 0)
      {
        adw_combo_row_set_selected (ADW_COMBO_ROW (child), (guint) (field + 1));
        return TRUE;
      }
  return FALSE;
}

/* Forces an encoding (or AUTO), as the Encoding row does; the file is
 * checked again. */
void
ct_import_page_set_encoding (CtImportPage  *self,
                             CtCsvEncoding  encoding)
{
  g_return_if_fail (CT_IS_IMPORT_PAGE (self));

  switch (encoding)
    {
    case CT_CSV_ENCODING_UTF8:
      adw_combo_row_set_selected (self->encoding_row, 1);
      break;
    case CT_CSV_ENCODING_GB18030:
      adw_combo_row_set_selected (self->encoding_row, 2);
      break;
    case CT_CSV_ENCODING_AUTO:
    default:
      adw_combo_row_set_selected (self->encoding_row, 0);
      break;
    }
}

gboolean
ct_import_page_is_busy (CtImportPage *self)
{
  g_return_val_if_fail (CT_IS_IMPORT_PAGE (self), FALSE);
  return self->loading || self->importing;
}

/* TRUE when a file was checked and can be imported. */
gboolean
ct_import_page_is_loaded (CtImportPage *self)
{
  g_return_val_if_fail (CT_IS_IMPORT_PAGE (self), FALSE);
  return self->import != NULL && !self->loading;
}

GListModel *
ct_import_page_get_preview (CtImportPage *self)
{
  g_return_val_if_fail (CT_IS_IMPORT_PAGE (self), NULL);
  return G_LIST_MODEL (self->preview);
}

/* The check's counts and totals (what the import would send). */
void
ct_import_page_get_check (CtImportPage   *self,
                          CtImportTotals *out_totals)
{
  g_return_if_fail (CT_IS_IMPORT_PAGE (self));
  *out_totals = self->check;
}

/* The last import run's counts. */
void
ct_import_page_get_progress (CtImportPage     *self,
                             CtImportProgress *out_progress)
{
  g_return_if_fail (CT_IS_IMPORT_PAGE (self));
  g_mutex_lock (&self->progress_lock);
  *out_progress = self->progress;
  g_mutex_unlock (&self->progress_lock);
}

const char *
ct_import_page_get_result_text (CtImportPage *self)
{
  g_return_val_if_fail (CT_IS_IMPORT_PAGE (self), NULL);
  return self->result_text;
}

const char *
ct_import_page_get_report_path (CtImportPage *self)
{
  g_return_val_if_fail (CT_IS_IMPORT_PAGE (self), NULL);
  return self->report_path;
}
