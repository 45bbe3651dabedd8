/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-receipt-page"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-focus.h"
#include "ct-format.h"
#include "ct-print-lines.h"
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

  if (data == NULL)
    {
      ct_lines_grid_fill (self->lines_grid, NULL, NULL);
      gtk_label_set_label (self->title_label, _("No receipt yet"));
      gtk_widget_set_visible (GTK_WIDGET (self->pending_label), FALSE);
      return;
    }

  title = ct_receipt_title (data);
  gtk_label_set_label (self->title_label, title);
  gtk_widget_set_visible (GTK_WIDGET (self->pending_label), data->pending);

  lines = ct_receipt_lines (data);
  ct_lines_grid_fill (self->lines_grid, lines, NULL);
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
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *title = NULL;

  g_return_val_if_fail (data != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  lines = ct_receipt_lines (data);
  title = ct_receipt_title (data);
  return ct_print_lines_export_pdf (parent, title, data->pending ? _("PENDING SYNC") : NULL, lines, path, error);
}

static void
print_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *param)
{
  CtReceiptPage *self = CT_RECEIPT_PAGE (widget);
  const CtReceiptData *data = ct_session_get_last_receipt (self->session);
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *title = NULL;

  if (data == NULL)
    return;

  lines = ct_receipt_lines (data);
  title = ct_receipt_title (data);
  ct_print_lines_dialog (widget, _("cardtill receipt"), title, data->pending ? _("PENDING SYNC") : NULL, lines);
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

  if (data != NULL && ct_till_printer_is_set (printer)
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
