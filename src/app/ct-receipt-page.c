/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-receipt-page"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-focus.h"
#include "ct-format.h"
#include "ct-receipt-page.h"

/* The receipt after every top-up, payment, refund and adjustment, on
 * screen and on paper (GtkPrintOperation, which can also write a PDF). */

struct _CtReceiptPage
{
  AdwBin      parent_instance;

  CtSession  *session;

  GtkLabel   *title_label;
  GtkLabel   *pending_label;
  GtkGrid    *lines_grid;
  GtkButton  *done_button;
  GtkWidget  *printer_box;
  GtkLabel   *printer_problem_label;
  GtkWidget  *print_again_button;
};

G_DEFINE_FINAL_TYPE (CtReceiptPage, ct_receipt_page, ADW_TYPE_BIN)

static void
show_receipt (CtReceiptPage *self)
{
  const CtReceiptData *data = ct_session_get_last_receipt (self->session);
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *title = NULL;
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->lines_grid))) != NULL)
    gtk_grid_remove (self->lines_grid, child);

  if (data == NULL)
    {
      gtk_label_set_label (self->title_label, _("No receipt yet"));
      gtk_widget_set_visible (GTK_WIDGET (self->pending_label), FALSE);
      return;
    }

  title = ct_receipt_title (data);
  gtk_label_set_label (self->title_label, title);
  gtk_widget_set_visible (GTK_WIDGET (self->pending_label), data->pending);

  lines = ct_receipt_lines (data);
  for (guint i = 0; i < lines->len; i++)
    {
      const CtReceiptLine *line = g_ptr_array_index (lines, i);
      GtkWidget *label = gtk_label_new (line->label);
      GtkWidget *value = gtk_label_new (line->value);

      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_widget_add_css_class (label, "dim-label");
      gtk_label_set_xalign (GTK_LABEL (value), 1);
      gtk_label_set_selectable (GTK_LABEL (value), TRUE);
      gtk_label_set_wrap (GTK_LABEL (value), TRUE);
      gtk_widget_set_hexpand (value, TRUE);
      gtk_grid_attach (self->lines_grid, label, 0, i, 1, 1);
      gtk_grid_attach (self->lines_grid, value, 1, i, 1, 1);
    }
}

/**
 * ct_receipt_page_get_text:
 *
 * Returns: the receipt on screen as plain text, one "label: value" line
 *   each (the tests read it).
 */
char *
ct_receipt_page_get_text (CtReceiptPage *self)
{
  const CtReceiptData *data;
  g_autoptr(GPtrArray) lines = NULL;
  GString *out;

  g_return_val_if_fail (CT_IS_RECEIPT_PAGE (self), NULL);

  data = ct_session_get_last_receipt (self->session);
  if (data == NULL)
    return g_strdup ("");

  out = g_string_new (gtk_label_get_label (self->title_label));
  g_string_append_c (out, '\n');
  if (data->pending)
    g_string_append_printf (out, "%s\n", gtk_label_get_label (self->pending_label));

  lines = ct_receipt_lines (data);
  for (guint i = 0; i < lines->len; i++)
    {
      const CtReceiptLine *line = g_ptr_array_index (lines, i);

      g_string_append_printf (out, "%s: %s\n", line->label, line->value);
    }

  return g_string_free (out, FALSE);
}

typedef struct
{
  CtReceiptData *data;
} PrintJob;

static void
print_job_free (gpointer user_data)
{
  PrintJob *job = user_data;

  ct_receipt_data_free (job->data);
  g_free (job);
}

static void
begin_print_cb (GtkPrintOperation *operation,
                GtkPrintContext   *context,
                gpointer           user_data)
{
  gtk_print_operation_set_n_pages (operation, 1);
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
  g_autoptr(GPtrArray) lines = ct_receipt_lines (job->data);
  g_autofree char *title = ct_receipt_title (job->data);
  g_autoptr(PangoLayout) layout = gtk_print_context_create_pango_layout (context);
  g_autoptr(PangoFontDescription) font = pango_font_description_from_string ("Sans 8");
  g_autoptr(PangoFontDescription) title_font = pango_font_description_from_string ("Sans Bold 11");
  double y = 0;
  int w;
  int h;

  cairo_set_source_rgb (cr, 0, 0, 0);

  pango_layout_set_font_description (layout, title_font);
  pango_layout_set_width (layout, (int) (width * PANGO_SCALE));
  pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
  pango_layout_set_text (layout, title, -1);
  cairo_move_to (cr, 0, y);
  pango_cairo_show_layout (cr, layout);
  pango_layout_get_pixel_size (layout, &w, &h);
  y += h + 6;

  pango_layout_set_font_description (layout, font);
  if (job->data->pending)
    {
      pango_layout_set_text (layout, _("PENDING SYNC"), -1);
      cairo_move_to (cr, 0, y);
      pango_cairo_show_layout (cr, layout);
      pango_layout_get_pixel_size (layout, &w, &h);
      y += h + 4;
    }

  for (guint i = 0; i < lines->len; i++)
    {
      const CtReceiptLine *line = g_ptr_array_index (lines, i);

      pango_layout_set_width (layout, (int) (width * PANGO_SCALE));
      pango_layout_set_alignment (layout, PANGO_ALIGN_LEFT);
      pango_layout_set_text (layout, line->label, -1);
      cairo_move_to (cr, 0, y);
      pango_cairo_show_layout (cr, layout);

      pango_layout_set_alignment (layout, PANGO_ALIGN_RIGHT);
      pango_layout_set_text (layout, line->value, -1);
      cairo_move_to (cr, 0, y);
      pango_cairo_show_layout (cr, layout);
      pango_layout_get_pixel_size (layout, &w, &h);
      y += h + 2;
    }
}

static GtkPrintOperation *
receipt_print_operation_new (const CtReceiptData *data)
{
  GtkPrintOperation *operation = gtk_print_operation_new ();
  g_autoptr(GtkPageSetup) setup = gtk_page_setup_new ();
  GtkPaperSize *paper;
  PrintJob *job = g_new0 (PrintJob, 1);

  /* An 80 mm receipt roll, the common till printer. */
  paper = gtk_paper_size_new_custom ("cardtill-receipt", _("Receipt roll 80 mm"), 80, 160, GTK_UNIT_MM);
  gtk_page_setup_set_paper_size (setup, paper);
  gtk_page_setup_set_left_margin (setup, 4, GTK_UNIT_MM);
  gtk_page_setup_set_right_margin (setup, 4, GTK_UNIT_MM);
  gtk_page_setup_set_top_margin (setup, 4, GTK_UNIT_MM);
  gtk_page_setup_set_bottom_margin (setup, 4, GTK_UNIT_MM);
  gtk_paper_size_free (paper);

  gtk_print_operation_set_default_page_setup (operation, setup);
  gtk_print_operation_set_job_name (operation, _("cardtill receipt"));
  gtk_print_operation_set_unit (operation, GTK_UNIT_POINTS);

  job->data = ct_receipt_data_copy (data);
  g_object_set_data_full (G_OBJECT (operation), "ct-print-job", job, print_job_free);
  g_signal_connect (operation, "begin-print", G_CALLBACK (begin_print_cb), job);
  g_signal_connect (operation, "draw-page", G_CALLBACK (draw_page_cb), job);

  return operation;
}

/**
 * ct_receipt_export_pdf:
 * @path: where to write the PDF
 *
 * Writes the receipt as a PDF without any dialog.
 */
gboolean
ct_receipt_export_pdf (const CtReceiptData  *data,
                       GtkWindow            *parent,
                       const char           *path,
                       GError              **error)
{
  g_autoptr(GtkPrintOperation) operation = NULL;
  GtkPrintOperationResult result;

  g_return_val_if_fail (data != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  operation = receipt_print_operation_new (data);
  gtk_print_operation_set_export_filename (operation, path);
  result = gtk_print_operation_run (operation, GTK_PRINT_OPERATION_ACTION_EXPORT, parent, error);

  return result != GTK_PRINT_OPERATION_RESULT_ERROR;
}

static void
print_done_cb (GtkPrintOperation       *operation,
               GtkPrintOperationResult  result,
               CtReceiptPage           *self)
{
  if (result == GTK_PRINT_OPERATION_RESULT_ERROR)
    {
      g_autoptr(GError) error = NULL;

      gtk_print_operation_get_error (operation, &error);
      g_warning ("Printing failed: %s", error ? error->message : "");
      gtk_widget_activate_action (GTK_WIDGET (self), "win.toast", "s",
                                  _("The receipt could not be printed. Check the printer."));
    }

  g_object_unref (operation);
}

static void
print_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *param)
{
  CtReceiptPage *self = CT_RECEIPT_PAGE (widget);
  const CtReceiptData *data = ct_session_get_last_receipt (self->session);
  GtkPrintOperation *operation;
  g_autoptr(GError) error = NULL;

  if (data == NULL)
    return;

  /* The print dialog offers "Print to File" (PDF) as well. "done" is
   * emitted once whatever happens, and drops the reference. */
  operation = receipt_print_operation_new (data);
  gtk_print_operation_set_allow_async (operation, TRUE);
  g_signal_connect (operation, "done", G_CALLBACK (print_done_cb), self);
  gtk_print_operation_run (operation, GTK_PRINT_OPERATION_ACTION_PRINT_DIALOG,
                           GTK_WINDOW (gtk_widget_get_root (widget)), &error);
}

/* A receipt printer fault stays on the receipt as a sentence, with the
 * button that prints it again, until a receipt prints. */
static void
printer_problem_cb (CtReceiptPage *self)
{
  CtTillPrinter *printer = ct_session_get_printer (self->session);
  const char *problem = printer ? ct_till_printer_get_problem (printer) : NULL;

  gtk_label_set_label (self->printer_problem_label, problem ? problem : "");
  gtk_widget_set_visible (self->printer_box, problem != NULL);
  /* One press, one receipt: no second job while one is printing. */
  gtk_widget_set_sensitive (self->print_again_button,
                            printer == NULL || !ct_till_printer_get_busy (printer));
}

static void
print_again_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  CtReceiptPage *self = CT_RECEIPT_PAGE (widget);
  CtTillPrinter *printer = ct_session_get_printer (self->session);
  const CtReceiptData *data = ct_session_get_last_receipt (self->session);

  if (printer != NULL && data != NULL && ct_till_printer_is_set (printer)
      && !ct_till_printer_get_busy (printer))
    ct_till_printer_reprint (printer, data);
}

/**
 * ct_receipt_page_get_printer_problem:
 *
 * Returns: (nullable): the receipt printer's fault shown on the receipt.
 */
const char *
ct_receipt_page_get_printer_problem (CtReceiptPage *self)
{
  g_return_val_if_fail (CT_IS_RECEIPT_PAGE (self), NULL);

  if (!gtk_widget_get_visible (self->printer_box))
    return NULL;
  return gtk_label_get_label (self->printer_problem_label);
}

static void
done_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  CtReceiptPage *self = CT_RECEIPT_PAGE (widget);

  /* The sale is finished: the next customer starts on an empty screen. */
  ct_session_clear_card (self->session);
  gtk_widget_activate_action (widget, "win.page", "s", "scan");
}

static void
ct_receipt_page_dispose (GObject *object)
{
  CtReceiptPage *self = CT_RECEIPT_PAGE (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), CT_TYPE_RECEIPT_PAGE);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (ct_receipt_page_parent_class)->dispose (object);
}

static void
ct_receipt_page_map (GtkWidget *widget)
{
  CtReceiptPage *self = CT_RECEIPT_PAGE (widget);

  GTK_WIDGET_CLASS (ct_receipt_page_parent_class)->map (widget);
  ct_focus_soon (GTK_WIDGET (self->done_button));
}

static void
ct_receipt_page_class_init (CtReceiptPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ct_receipt_page_dispose;
  widget_class->map = ct_receipt_page_map;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-receipt-page.ui");
  gtk_widget_class_bind_template_child (widget_class, CtReceiptPage, title_label);
  gtk_widget_class_bind_template_child (widget_class, CtReceiptPage, pending_label);
  gtk_widget_class_bind_template_child (widget_class, CtReceiptPage, lines_grid);
  gtk_widget_class_bind_template_child (widget_class, CtReceiptPage, done_button);
  gtk_widget_class_bind_template_child (widget_class, CtReceiptPage, printer_box);
  gtk_widget_class_bind_template_child (widget_class, CtReceiptPage, printer_problem_label);
  gtk_widget_class_bind_template_child (widget_class, CtReceiptPage, print_again_button);

  gtk_widget_class_install_action (widget_class, "receipt.print", NULL, print_action);
  gtk_widget_class_install_action (widget_class, "receipt.done", NULL, done_action);
  gtk_widget_class_install_action (widget_class, "receipt.print-again", NULL, print_again_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_p, GDK_CONTROL_MASK, "receipt.print", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "receipt.done", NULL);
}

static void
ct_receipt_page_init (CtReceiptPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
ct_receipt_page_new (CtSession *session)
{
  CtReceiptPage *self = g_object_new (CT_TYPE_RECEIPT_PAGE, NULL);

  self->session = g_object_ref (session);
  g_signal_connect_object (session, "notify::last-receipt", G_CALLBACK (show_receipt), self, G_CONNECT_SWAPPED);
  if (ct_session_get_printer (session) != NULL)
    {
      g_signal_connect_object (ct_session_get_printer (session), "notify::problem",
                               G_CALLBACK (printer_problem_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (ct_session_get_printer (session), "notify::busy",
                               G_CALLBACK (printer_problem_cb), self, G_CONNECT_SWAPPED);
    }
  show_receipt (self);
  printer_problem_cb (self);

  return GTK_WIDGET (self);
}
