/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-sign-in-page"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-dialog.h"
#include "ct-sign-in-page.h"

/* Who is at the till (docs/operations.md, "Cashiers"): the cashier id and
 * PIN, checked by the service or, while it is unreachable, against the
 * till's memory of an earlier online sign-in. The PIN is passed on and
 * never kept here. A right PIN emits "signed-in"; the window then shows
 * the till again, as it was. */

struct _CtSignInPage
{
  AdwBin                parent_instance;

  CtSession            *session;
  GCancellable         *cancellable;
  guint                 focus_source;

  /* Template widgets */
  AdwEntryRow          *cashier_row;
  AdwPasswordEntryRow  *pin_row;
  GtkLabel             *problem_label;
  GtkSpinner           *spinner;
};

G_DEFINE_FINAL_TYPE (CtSignInPage, ct_sign_in_page, ADW_TYPE_BIN)

enum {
  SIGNAL_SIGNED_IN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
show_problem (CtSignInPage *self,
              const char   *text)
{
  ct_problem_label_set (self->problem_label, text);
}

static gboolean
is_busy (CtSignInPage *self)
{
  return self->cancellable != NULL;
}

static void
update_sensitivity (CtSignInPage *self)
{
  const char *id = gtk_editable_get_text (GTK_EDITABLE (self->cashier_row));
  const char *pin = gtk_editable_get_text (GTK_EDITABLE (self->pin_row));

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "sign-in.submit",
                                 !is_busy (self) && *id != '\0' && *pin != '\0');
}

static void
fields_changed_cb (CtSignInPage *self)
{
  update_sensitivity (self);
}

/* The sentence for a sign-in the till could not make. */
static char *
problem_text (const GError *error,
              const char   *cashier_id)
{
  if (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_FORBIDDEN))
    return g_strdup (_("Wrong cashier ID or PIN. Check both and try again."));
  if (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_PIN_LOCKED))
    return g_strdup_printf (_("Cashier %s is locked after too many wrong PINs. Try again in a few minutes, "
                              "or ask a manager to set a new PIN."), cashier_id);
  if (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_UNREACHABLE))
    return g_strdup_printf (_("The card service cannot be reached, and %s has not signed in on this till "
                              "recently. Sign in once the service is back."), cashier_id);
  return g_strdup_printf (_("Could not sign in: %s"), error->message);
}

static void
sign_in_done_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(CtSignInPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCashier) cashier = ct_client_cashier_sign_in_finish (CT_CLIENT (object), result, &error);
  g_autofree char *problem = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->cancellable);
  gtk_spinner_stop (self->spinner);
  gtk_editable_set_text (GTK_EDITABLE (self->pin_row), "");
  update_sensitivity (self);
  if (cashier == NULL)
    {
      problem = problem_text (error, gtk_editable_get_text (GTK_EDITABLE (self->cashier_row)));
      show_problem (self, problem);
      gtk_widget_grab_focus (GTK_WIDGET (self->pin_row));
      return;
    }
  show_problem (self, NULL);
  ct_session_set_cashier (self->session, cashier);
  g_signal_emit (self, signals[SIGNAL_SIGNED_IN], 0, cashier);
}

static void
submit_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  CtSignInPage *self = CT_SIGN_IN_PAGE (widget);
  g_autofree char *id = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->cashier_row))));
  const char *pin = gtk_editable_get_text (GTK_EDITABLE (self->pin_row));

  if (is_busy (self) || *id == '\0' || *pin == '\0')
    return;
  self->cancellable = g_cancellable_new ();
  show_problem (self, NULL);
  gtk_spinner_start (self->spinner);
  update_sensitivity (self);
  ct_client_cashier_sign_in_async (ct_session_get_client (self->session), id, pin, self->cancellable,
                                   sign_in_done_cb, g_object_ref (self));
}

static void
cashier_activated_cb (CtSignInPage *self)
{
  /* Enter after the id goes on to the PIN, as a person reads the form. */
  gtk_widget_grab_focus (GTK_WIDGET (self->pin_row));
}

static void
pin_activated_cb (CtSignInPage *self)
{
  if (*gtk_editable_get_text (GTK_EDITABLE (self->cashier_row)) == '\0')
    gtk_widget_grab_focus (GTK_WIDGET (self->cashier_row));
  else
    gtk_widget_activate_action (GTK_WIDGET (self), "sign-in.submit", NULL);
}

static void
focus_next_field (CtSignInPage *self)
{
  if (*gtk_editable_get_text (GTK_EDITABLE (self->cashier_row)) == '\0')
    gtk_widget_grab_focus (GTK_WIDGET (self->cashier_row));
  else
    gtk_widget_grab_focus (GTK_WIDGET (self->pin_row));
}

static gboolean
focus_idle_cb (gpointer user_data)
{
  CtSignInPage *self = user_data;

  self->focus_source = 0;
  focus_next_field (self);
  return G_SOURCE_REMOVE;
}

/* Shown, the page takes the keyboard: the cashier types at once. After
 * the screens it covers have let go of the focus, so that it stays. */
static void
ct_sign_in_page_map (GtkWidget *widget)
{
  CtSignInPage *self = CT_SIGN_IN_PAGE (widget);

  GTK_WIDGET_CLASS (ct_sign_in_page_parent_class)->map (widget);
  focus_next_field (self);
  if (self->focus_source == 0)
    self->focus_source = g_idle_add (focus_idle_cb, self);
}

void
ct_sign_in_page_reset (CtSignInPage *self)
{
  const CtCashier *last;

  g_return_if_fail (CT_IS_SIGN_IN_PAGE (self));

  last = ct_session_get_cashier (self->session);
  if (last != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->cashier_row), last->id);
  gtk_editable_set_text (GTK_EDITABLE (self->pin_row), "");
  show_problem (self, NULL);
  update_sensitivity (self);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    focus_next_field (self);
}

/**
 * ct_sign_in_page_sign_in:
 *
 * Fills in @cashier_id and @pin and signs in, as a cashier typing them and
 * pressing Enter would (the demo's walk-through).
 */
void
ct_sign_in_page_sign_in (CtSignInPage *self,
                         const char   *cashier_id,
                         const char   *pin)
{
  g_return_if_fail (CT_IS_SIGN_IN_PAGE (self));

  gtk_editable_set_text (GTK_EDITABLE (self->cashier_row), cashier_id);
  gtk_editable_set_text (GTK_EDITABLE (self->pin_row), pin);
  gtk_widget_activate_action (GTK_WIDGET (self), "sign-in.submit", NULL);
}

const char *
ct_sign_in_page_get_problem (CtSignInPage *self)
{
  g_return_val_if_fail (CT_IS_SIGN_IN_PAGE (self), NULL);

  return ct_problem_label_get (self->problem_label);
}

gboolean
ct_sign_in_page_get_busy (CtSignInPage *self)
{
  g_return_val_if_fail (CT_IS_SIGN_IN_PAGE (self), FALSE);
  return is_busy (self);
}

static void
ct_sign_in_page_dispose (GObject *object)
{
  CtSignInPage *self = CT_SIGN_IN_PAGE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->focus_source, g_source_remove);
  g_clear_object (&self->session);
  gtk_widget_dispose_template (GTK_WIDGET (self), CT_TYPE_SIGN_IN_PAGE);

  G_OBJECT_CLASS (ct_sign_in_page_parent_class)->dispose (object);
}

static void
ct_sign_in_page_class_init (CtSignInPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ct_sign_in_page_dispose;
  widget_class->map = ct_sign_in_page_map;

  /**
   * CtSignInPage::signed-in:
   * @cashier: (type gpointer): the CtCashier who signed in
   */
  signals[SIGNAL_SIGNED_IN] =
    g_signal_new ("signed-in", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_POINTER);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-sign-in-page.ui");
  gtk_widget_class_bind_template_child (widget_class, CtSignInPage, cashier_row);
  gtk_widget_class_bind_template_child (widget_class, CtSignInPage, pin_row);
  gtk_widget_class_bind_template_child (widget_class, CtSignInPage, problem_label);
  gtk_widget_class_bind_template_child (widget_class, CtSignInPage, spinner);
  gtk_widget_class_bind_template_callback (widget_class, fields_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, cashier_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, pin_activated_cb);

  gtk_widget_class_install_action (widget_class, "sign-in.submit", NULL, submit_action);
}

static void
ct_sign_in_page_init (CtSignInPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "sign-in.submit", FALSE);
}

GtkWidget *
ct_sign_in_page_new (CtSession *session)
{
  CtSignInPage *self;

  g_return_val_if_fail (CT_IS_SESSION (session), NULL);

  self = g_object_new (CT_TYPE_SIGN_IN_PAGE, NULL);
  self->session = g_object_ref (session);
  return GTK_WIDGET (self);
}
