/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-scan-page"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-focus.h"
#include "ct-barcode-image.h"
#include "ct-scan-page.h"

/* The home screen: waits for a card from any source and shows the
 * member card at once (cached state first, marked while it refreshes). */

struct _CtScanPage
{
  AdwBin         parent_instance;

  CtSession     *session;
  GCancellable  *image_cancellable;

  GtkEntry      *card_entry;
  GtkRevealer   *problem_revealer;
  GtkLabel      *problem_label;
  GtkStack      *card_stack;
  CtCardView    *card_view;
  GtkWidget     *topup_button;
  GtkWidget     *pay_button;
};

G_DEFINE_FINAL_TYPE (CtScanPage, ct_scan_page, ADW_TYPE_BIN)

static void
show_problem (CtScanPage *self,
              const char *problem)
{
  gtk_label_set_label (self->problem_label, problem ? problem : "");
  gtk_revealer_set_reveal_child (self->problem_revealer, problem != NULL && *problem != '\0');
}

static void
session_changed_cb (CtScanPage *self)
{
  const CtCard *card = ct_session_get_card (self->session);
  g_autoptr(CtMerchant) merchant = ct_session_dup_merchant (self->session);

  ct_card_view_set_merchant (self->card_view, merchant);
  ct_card_view_set_card (self->card_view, card,
                         ct_session_get_minor_units (self->session),
                         ct_session_get_currency (self->session),
                         ct_session_get_refreshing (self->session));
  gtk_stack_set_visible_child_name (self->card_stack, card ? "card" : "empty");
  show_problem (self, ct_session_get_problem (self->session));

  /* A frozen card can neither top up nor pay: those are not offered as
   * the next step. */
  {
    gboolean frozen = card != NULL && card->fetched_at > 0 && card->status == CT_CARD_STATUS_FROZEN;

    if (frozen)
      {
        gtk_widget_remove_css_class (self->topup_button, "suggested-action");
        gtk_widget_remove_css_class (self->pay_button, "suggested-action");
      }
    else
      {
        gtk_widget_add_css_class (self->topup_button, "suggested-action");
        gtk_widget_add_css_class (self->pay_button, "suggested-action");
      }
  }

  /* History needs the card's state from the service at least once. */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "scan.history",
                                 card != NULL && card->fetched_at > 0);
}

static void
card_entry_activate_cb (CtScanPage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "scan.lookup", NULL);
}

static void
lookup_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  CtScanPage *self = CT_SCAN_PAGE (widget);
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->card_entry));

  if (text == NULL || *text == '\0')
    {
      show_problem (self, _("Type the card number, or scan the card."));
      return;
    }

  if (ct_session_scan (self->session, text, CT_SCAN_SOURCE_TYPED))
    gtk_editable_set_text (GTK_EDITABLE (self->card_entry), "");
}

static void
clear_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *param)
{
  CtScanPage *self = CT_SCAN_PAGE (widget);

  gtk_editable_set_text (GTK_EDITABLE (self->card_entry), "");
  ct_session_clear_card (self->session);
  gtk_widget_grab_focus (GTK_WIDGET (self->card_entry));
}

static void
decode_image_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(CtScanPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  text = ct_barcode_image_decode_file_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (text == NULL)
    {
      show_problem (self, error->message);
      return;
    }

  ct_session_scan (self->session, text, CT_SCAN_SOURCE_SCANNER);
}

/**
 * ct_scan_page_read_image:
 * @path: an image file, a photo of a card
 *
 * Reads a card barcode or QR code from @path on a worker thread and
 * looks the card up.
 */
void
ct_scan_page_read_image (CtScanPage *self,
                         const char *path)
{
  g_return_if_fail (CT_IS_SCAN_PAGE (self));

  if (self->image_cancellable != NULL)
    g_cancellable_cancel (self->image_cancellable);
  g_clear_object (&self->image_cancellable);
  self->image_cancellable = g_cancellable_new ();

  ct_barcode_image_decode_file_async (path, self->image_cancellable,
                                decode_image_cb, g_object_ref (self));
}

static void
image_chosen_cb (GtkNativeDialog *dialog,
                 int              response,
                 CtScanPage      *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;

      if (path != NULL)
        ct_scan_page_read_image (self, path);
    }

  g_object_unref (dialog);
}

static void
from_image_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *param)
{
  CtScanPage *self = CT_SCAN_PAGE (widget);
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  chooser = gtk_file_chooser_native_new (_("Read a Card from a Photo"),
                                         GTK_WINDOW (gtk_widget_get_root (widget)),
                                         GTK_FILE_CHOOSER_ACTION_OPEN,
                                         _("_Read"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("Images"));
  gtk_file_filter_add_pixbuf_formats (filter);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (image_chosen_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
history_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *param)
{
  gtk_widget_activate_action (widget, "win.card-history", NULL);
}

static void
ct_scan_page_dispose (GObject *object)
{
  CtScanPage *self = CT_SCAN_PAGE (object);

  if (self->image_cancellable != NULL)
    g_cancellable_cancel (self->image_cancellable);
  g_clear_object (&self->image_cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), CT_TYPE_SCAN_PAGE);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (ct_scan_page_parent_class)->dispose (object);
}

static void
ct_scan_page_map (GtkWidget *widget)
{
  CtScanPage *self = CT_SCAN_PAGE (widget);

  GTK_WIDGET_CLASS (ct_scan_page_parent_class)->map (widget);
  ct_focus_soon (GTK_WIDGET (self->card_entry));
}

static void
ct_scan_page_class_init (CtScanPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ct_scan_page_dispose;
  widget_class->map = ct_scan_page_map;

  g_type_ensure (CT_TYPE_CARD_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-scan-page.ui");
  gtk_widget_class_bind_template_child (widget_class, CtScanPage, card_entry);
  gtk_widget_class_bind_template_child (widget_class, CtScanPage, problem_revealer);
  gtk_widget_class_bind_template_child (widget_class, CtScanPage, problem_label);
  gtk_widget_class_bind_template_child (widget_class, CtScanPage, card_stack);
  gtk_widget_class_bind_template_child (widget_class, CtScanPage, card_view);
  gtk_widget_class_bind_template_child (widget_class, CtScanPage, topup_button);
  gtk_widget_class_bind_template_child (widget_class, CtScanPage, pay_button);
  gtk_widget_class_bind_template_callback (widget_class, card_entry_activate_cb);

  gtk_widget_class_install_action (widget_class, "scan.lookup", NULL, lookup_action);
  gtk_widget_class_install_action (widget_class, "scan.clear", NULL, clear_action);
  gtk_widget_class_install_action (widget_class, "scan.from-image", NULL, from_image_action);
  gtk_widget_class_install_action (widget_class, "scan.history", NULL, history_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "scan.clear", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "scan.from-image", NULL);
}

static void
ct_scan_page_init (CtScanPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
ct_scan_page_new (CtSession *session)
{
  CtScanPage *self = g_object_new (CT_TYPE_SCAN_PAGE, NULL);

  self->session = g_object_ref (session);
  g_signal_connect_object (session, "notify::card", G_CALLBACK (session_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (session, "notify::refreshing", G_CALLBACK (session_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (session, "notify::problem", G_CALLBACK (session_changed_cb), self, G_CONNECT_SWAPPED);
  session_changed_cb (self);

  return GTK_WIDGET (self);
}

CtCardView *
ct_scan_page_get_card_view (CtScanPage *self)
{
  g_return_val_if_fail (CT_IS_SCAN_PAGE (self), NULL);
  return self->card_view;
}

GtkEntry *
ct_scan_page_get_entry (CtScanPage *self)
{
  g_return_val_if_fail (CT_IS_SCAN_PAGE (self), NULL);
  return self->card_entry;
}

const char *
ct_scan_page_get_problem (CtScanPage *self)
{
  g_return_val_if_fail (CT_IS_SCAN_PAGE (self), NULL);

  if (!gtk_revealer_get_reveal_child (self->problem_revealer))
    return NULL;

  return gtk_label_get_label (self->problem_label);
}

/**
 * ct_scan_page_suggests_sale:
 *
 * Returns: %TRUE when Top Up and Pay are shown as the next step.
 */
gboolean
ct_scan_page_suggests_sale (CtScanPage *self)
{
  g_return_val_if_fail (CT_IS_SCAN_PAGE (self), FALSE);
  return gtk_widget_has_css_class (self->topup_button, "suggested-action") &&
         gtk_widget_has_css_class (self->pay_button, "suggested-action");
}

gboolean
ct_scan_page_is_showing_card (CtScanPage *self)
{
  g_return_val_if_fail (CT_IS_SCAN_PAGE (self), FALSE);
  return g_strcmp0 (gtk_stack_get_visible_child_name (self->card_stack), "card") == 0;
}
