/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-print-lines"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-print-lines.h"
#include "ct-receipt-data.h"

/* A receipt, a shift report and a day report are all a title, perhaps a
 * note ("PENDING SYNC"), and label/value lines: one way to show them in a
 * grid and one to print them on a receipt roll through GtkPrintOperation,
 * which also writes a PDF. */

/**
 * ct_lines_grid_fill:
 * @lines: (element-type CtReceiptLine) (nullable)
 * @headings: (nullable): labels whose lines begin a section (a day
 *   report's "Store" and "Till"), shown as headings
 *
 * Shows @lines in @grid (labels left, values right), in place of what
 * it showed.
 */
void
ct_lines_grid_fill (GtkGrid           *grid,
                    GPtrArray         *lines,
                    const char * const *headings)
{
  GtkWidget *child;

  g_return_if_fail (GTK_IS_GRID (grid));

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (grid))) != NULL)
    gtk_grid_remove (grid, child);

  for (guint i = 0; lines != NULL && i < lines->len; i++)
    {
      const CtReceiptLine *line = g_ptr_array_index (lines, i);
      GtkWidget *label = gtk_label_new (line->label);
      GtkWidget *value = gtk_label_new (line->value);

      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_widget_add_css_class (label, "dim-label");
      gtk_label_set_xalign (GTK_LABEL (value), 1);
      gtk_label_set_selectable (GTK_LABEL (value), TRUE);
      gtk_label_set_wrap (GTK_LABEL (value), TRUE);
      gtk_widget_set_hexpand (value, TRUE);
      if (headings != NULL && g_strv_contains (headings, line->label))
        {
          gtk_widget_remove_css_class (label, "dim-label");
          gtk_widget_add_css_class (label, "heading");
          gtk_widget_add_css_class (value, "heading");
          gtk_widget_set_margin_top (label, i > 0 ? 12 : 0);
          gtk_widget_set_margin_top (value, i > 0 ? 12 : 0);
        }
      gtk_grid_attach (grid, label, 0, i, 1, 1);
      gtk_grid_attach (grid, value, 1, i, 1, 1);
    }
}

/**
 * ct_lines_to_text:
 * @title: (nullable)
 * @lines: (element-type CtReceiptLine) (nullable)
 *
 * Returns: the title and a "label: value" line each, as plain text
 *   ("" without lines): what the tests read of a screen.
 */
char *
ct_lines_to_text (const char *title,
                  GPtrArray  *lines)
{
  GString *out = g_string_new ("");

  if (lines == NULL)
    return g_string_free (out, FALSE);
  if (title != NULL)
    g_string_append_printf (out, "%s\n", title);
  for (guint i = 0; i < lines->len; i++)
    {
      const CtReceiptLine *line = g_ptr_array_index (lines, i);

      g_string_append_printf (out, "%s: %s\n", line->label, line->value);
    }
  return g_string_free (out, FALSE);
}

typedef struct
{
  char      *title;
  char      *note;
  GPtrArray *lines;
} PrintJob;

static void
print_job_free (gpointer user_data)
{
  PrintJob *job = user_data;

  g_free (job->title);
  g_free (job->note);
  g_ptr_array_unref (job->lines);
  g_free (job);
}

static void
begin_print_cb (GtkPrintOperation *operation,
                GtkPrintContext   *context,
                gpointer           user_data)
{
  gtk_print_operation_set_n_pages (operation, 1);
}

static double
show_text (cairo_t     *cr,
           PangoLayout *layout,
           const char  *text,
           double       y)
{
  int w, h;

  pango_layout_set_text (layout, text, -1);
  cairo_move_to (cr, 0, y);
  pango_cairo_show_layout (cr, layout);
  pango_layout_get_pixel_size (layout, &w, &h);
  return h;
}

static void
draw_page_cb (GtkPrintOperation *operation,
              GtkPrintContext   *context,
              int                page_nr,
              gpointer           user_data)
{
  PrintJob *job = user_data;
  cairo_t *cr = gtk_print_context_get_cairo_context (context);
  double width = gtk_print_context_get_width (context);
  g_autoptr(PangoLayout) layout = gtk_print_context_create_pango_layout (context);
  g_autoptr(PangoFontDescription) font = pango_font_description_from_string ("Sans 8");
  g_autoptr(PangoFontDescription) title_font = pango_font_description_from_string ("Sans Bold 11");
  double y = 0;

  cairo_set_source_rgb (cr, 0, 0, 0);
  pango_layout_set_width (layout, (int) (width * PANGO_SCALE));

  pango_layout_set_font_description (layout, title_font);
  pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
  y += show_text (cr, layout, job->title, y) + 6;

  pango_layout_set_font_description (layout, font);
  pango_layout_set_alignment (layout, PANGO_ALIGN_LEFT);
  if (job->note != NULL)
    y += show_text (cr, layout, job->note, y) + 4;

  for (guint i = 0; i < job->lines->len; i++)
    {
      const CtReceiptLine *line = g_ptr_array_index (job->lines, i);

      pango_layout_set_alignment (layout, PANGO_ALIGN_LEFT);
      show_text (cr, layout, line->label, y);
      pango_layout_set_alignment (layout, PANGO_ALIGN_RIGHT);
      y += show_text (cr, layout, line->value, y) + 2;
    }
}

static GtkPrintOperation *
print_operation_new (const char *job_name,
                     const char *title,
                     const char *note,
                     GPtrArray  *lines)
{
  GtkPrintOperation *operation = gtk_print_operation_new ();
  g_autoptr(GtkPageSetup) setup = gtk_page_setup_new ();
  GtkPaperSize *paper;
  PrintJob *job = g_new0 (PrintJob, 1);
  /* A line of 8 pt text and its gap is under 4 mm: a long report gets a
   * longer piece of roll, never a second page. */
  double height_mm = MAX (160.0, 30.0 + 4.0 * lines->len);

  /* An 80 mm receipt roll, the common till printer. */
  paper = gtk_paper_size_new_custom ("cardtill-receipt", _("Receipt roll 80 mm"), 80, height_mm, GTK_UNIT_MM);
  gtk_page_setup_set_paper_size (setup, paper);
  gtk_page_setup_set_left_margin (setup, 4, GTK_UNIT_MM);
  gtk_page_setup_set_right_margin (setup, 4, GTK_UNIT_MM);
  gtk_page_setup_set_top_margin (setup, 4, GTK_UNIT_MM);
  gtk_page_setup_set_bottom_margin (setup, 4, GTK_UNIT_MM);
  gtk_paper_size_free (paper);

  gtk_print_operation_set_default_page_setup (operation, setup);
  gtk_print_operation_set_job_name (operation, job_name);
  gtk_print_operation_set_unit (operation, GTK_UNIT_POINTS);

  job->title = g_strdup (title);
  job->note = g_strdup (note);
  job->lines = g_ptr_array_ref (lines);
  g_object_set_data_full (G_OBJECT (operation), "ct-print-job", job, print_job_free);
  g_signal_connect (operation, "begin-print", G_CALLBACK (begin_print_cb), job);
  g_signal_connect (operation, "draw-page", G_CALLBACK (draw_page_cb), job);

  return operation;
}

static void
print_done_cb (GtkPrintOperation       *operation,
               GtkPrintOperationResult  result,
               GtkWidget               *widget)
{
  if (result == GTK_PRINT_OPERATION_RESULT_ERROR)
    {
      g_autoptr(GError) error = NULL;

      gtk_print_operation_get_error (operation, &error);
      g_warning ("Printing failed: %s", error ? error->message : "");
      gtk_widget_activate_action (widget, "win.toast", "s",
                                  _("It could not be printed. Check the printer."));
    }

  g_object_unref (widget);
  g_object_unref (operation);
}

/**
 * ct_print_lines_on_till:
 * @widget: the widget asking (a till without a receipt printer is told
 *   through its "win.toast")
 * @printer: (nullable): the till's printer
 * @lines: (element-type CtReceiptLine)
 *
 * Prints a report on the till's receipt printer.
 */
void
ct_print_lines_on_till (GtkWidget     *widget,
                        CtTillPrinter *printer,
                        const char    *title,
                        GPtrArray     *lines)
{
  if (!ct_till_printer_is_set (printer))
    {
      gtk_widget_activate_action (widget, "win.toast", "s", _("No receipt printer is set. Choose one in Settings."));
      return;
    }
  ct_till_printer_print_report (printer, title, lines);
}

/**
 * ct_print_lines_dialog:
 * @widget: the widget asking (its window parents the dialog; a fault is
 *   told through its "win.toast")
 * @note: (nullable): a line under the title
 * @lines: (element-type CtReceiptLine)
 *
 * Opens the print dialog for the lines, which offers "Print to File"
 * (PDF) as well.
 */
void
ct_print_lines_dialog (GtkWidget  *widget,
                       const char *job_name,
                       const char *title,
                       const char *note,
                       GPtrArray  *lines)
{
  GtkPrintOperation *operation;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (GTK_IS_WIDGET (widget));
  g_return_if_fail (lines != NULL);

  /* "done" is emitted once whatever happens, and drops the references. */
  operation = print_operation_new (job_name, title, note, lines);
  gtk_print_operation_set_allow_async (operation, TRUE);
  g_signal_connect (operation, "done", G_CALLBACK (print_done_cb), g_object_ref (widget));
  gtk_print_operation_run (operation, GTK_PRINT_OPERATION_ACTION_PRINT_DIALOG,
                           GTK_WINDOW (gtk_widget_get_root (widget)), &error);
}

/**
 * ct_print_lines_export_pdf:
 * @path: where to write the PDF
 *
 * Writes the lines as the print dialog would print them, as a PDF,
 * without any dialog.
 */
gboolean
ct_print_lines_export_pdf (GtkWindow   *parent,
                           const char  *title,
                           const char  *note,
                           GPtrArray   *lines,
                           const char  *path,
                           GError     **error)
{
  g_autoptr(GtkPrintOperation) operation = NULL;

  g_return_val_if_fail (lines != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  operation = print_operation_new ("cardtill", title, note, lines);
  gtk_print_operation_set_export_filename (operation, path);
  return gtk_print_operation_run (operation, GTK_PRINT_OPERATION_ACTION_EXPORT, parent, error)
         != GTK_PRINT_OPERATION_RESULT_ERROR;
}
