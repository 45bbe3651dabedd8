/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-topup-page"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-dialog.h"
#include "ct-focus.h"
#include "ct-format.h"
#include "ct-keypad.h"
#include "ct-money.h"
#include "ct-topup-page.h"

/* Top up: in fixed mode one large tile per package, in any mode an
 * amount between the merchant's minimum and maximum. The confirmation
 * shows amount, bonus and the balance after before anything is sent. */

struct _CtTopupPage
{
  AdwBin         parent_instance;

  CtSession     *session;
  char          *card_no;   /* the customer the choices on screen belong to */
  CtMerchant    *merchant;
  CtPackage     *selected;
  GCancellable  *cancellable;
  int64_t        amount;
  int64_t        bonus;
  gboolean       amount_ok;
  gboolean       busy;
  char          *tender;    /* how the customer pays: "cash", "wechat", ... */

  GtkLabel      *card_label;
  GtkLabel      *mode_label;
  GtkFlowBox    *package_box;
  GtkBox        *amount_box;
  GtkEntry      *amount_entry;
  GtkLabel      *limits_label;
  CtKeypad      *keypad;
  GtkLabel      *summary_label;
  GtkLabel      *after_label;
  GtkLabel      *problem_label;
  GtkSpinner    *spinner;
  GtkButton     *confirm_button;
  GtkButton     *cancel_button;
};

G_DEFINE_FINAL_TYPE (CtTopupPage, ct_topup_page, ADW_TYPE_BIN)

enum
{
  PROP_0,
  PROP_TENDER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Each customer starts with cash, the common case. */
static void
set_tender (CtTopupPage *self,
            const char  *tender)
{
  if (g_strcmp0 (self->tender, tender) == 0)
    return;
  g_free (self->tender);
  self->tender = g_strdup (tender);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TENDER]);
}

static void
show_problem (CtTopupPage *self,
              const char  *problem)
{
  ct_problem_label_set (self->problem_label, problem);
}

static char *
money (CtTopupPage *self,
       int64_t      minor)
{
  return ct_session_format_money (self->session, minor);
}

static void
update_summary (CtTopupPage *self)
{
  const CtCard *card = ct_session_get_card (self->session);
  gboolean fixed = self->merchant == NULL || self->merchant->topup_mode == CT_TOPUP_MODE_FIXED;
  gboolean card_known = card != NULL && !(card->from_cache && card->fetched_at == 0);
  gboolean can_confirm;

  self->amount_ok = FALSE;
  self->bonus = 0;

  if (fixed)
    {
      if (self->selected != NULL)
        {
          self->amount = self->selected->amount;
          self->bonus = self->selected->bonus;
          self->amount_ok = TRUE;
        }
    }
  else
    {
      const char *text = gtk_editable_get_text (GTK_EDITABLE (self->amount_entry));
      g_autofree char *problem = NULL;
      int64_t amount = 0;

      if (text != NULL && *text != '\0')
        {
          if (!ct_format_parse_amount (text, self->merchant->minor_units, FALSE, &amount, &problem))
            {
              gtk_label_set_label (self->summary_label, problem);
            }
          else if (amount < self->merchant->topup_min || amount > self->merchant->topup_max)
            {
              g_autofree char *min = money (self, self->merchant->topup_min);
              g_autofree char *max = money (self, self->merchant->topup_max);
              g_autofree char *msg = g_strdup_printf (_("Top-ups must be between %s and %s."), min, max);

              gtk_label_set_label (self->summary_label, msg);
            }
          else
            {
              self->amount = amount;
              self->amount_ok = TRUE;
            }
        }
    }

  if (self->amount_ok)
    {
      g_autofree char *amount = money (self, self->amount);
      g_autofree char *bonus = money (self, self->bonus);
      g_autofree char *summary = NULL;

      if (self->bonus > 0)
        summary = g_strdup_printf (_("Top up %s + %s bonus"), amount, bonus);
      else
        summary = g_strdup_printf (_("Top up %s"), amount);
      gtk_label_set_label (self->summary_label, summary);

      if (card_known)
        {
          int64_t after = 0;

          if (ct_money_add (card->balance, self->amount, &after, NULL) &&
              ct_money_add (after, self->bonus, &after, NULL))
            {
              g_autofree char *after_text = money (self, after);
              g_autofree char *label = g_strdup_printf (_("Balance after: %s"), after_text);

              gtk_label_set_label (self->after_label, label);
            }
          else
            gtk_label_set_label (self->after_label, _("This top-up is too large."));
        }
      else
        gtk_label_set_label (self->after_label, "");
    }
  else if (fixed)
    {
      gtk_label_set_label (self->summary_label, _("Choose a package."));
      gtk_label_set_label (self->after_label, "");
    }
  else
    {
      if (*gtk_editable_get_text (GTK_EDITABLE (self->amount_entry)) == '\0')
        gtk_label_set_label (self->summary_label, _("Enter the amount."));
      gtk_label_set_label (self->after_label, "");
    }

  if (card == NULL)
    gtk_label_set_label (self->card_label, _("Scan the member's card first (F2)."));
  else
    {
      g_autofree char *balance = card_known ? money (self, card->balance) : g_strdup ("—");
      g_autofree char *label = NULL;

      label = g_strdup_printf (_("%s — balance %s"),
                               card->member_name && *card->member_name ? card->member_name
                                                                       : card->card_no,
                               balance);
      gtk_label_set_label (self->card_label, label);
    }

  can_confirm = card != NULL && self->amount_ok && !self->busy &&
                !(card_known && card->status == CT_CARD_STATUS_FROZEN);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "topup.confirm", can_confirm);

  if (card_known && card->status == CT_CARD_STATUS_FROZEN)
    show_problem (self, _("This card is frozen. A manager can unfreeze it."));
}

static void
select_package_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  CtTopupPage *self = CT_TOPUP_PAGE (widget);

  /* Soon: a tile picked from the keyboard is activated by the tiles' box,
   * which puts the focus back on the tile when it is done. */
  if (ct_topup_page_select_package (self, g_variant_get_string (param, NULL)))
    ct_focus_soon (GTK_WIDGET (self->confirm_button));
}

/* Tab leaves the tiles (arrows move between them): to Confirm when a
 * package is picked, else to Cancel. */
static gboolean
package_key_pressed_cb (GtkEventControllerKey *controller,
                        guint                  keyval,
                        guint                  keycode,
                        GdkModifierType        state,
                        CtTopupPage           *self)
{
  if ((keyval != GDK_KEY_Tab && keyval != GDK_KEY_KP_Tab) || (state & GDK_SHIFT_MASK))
    return FALSE;

  if (gtk_widget_is_sensitive (GTK_WIDGET (self->confirm_button)))
    gtk_widget_grab_focus (GTK_WIDGET (self->confirm_button));
  else
    gtk_widget_grab_focus (GTK_WIDGET (self->cancel_button));
  return TRUE;
}

static void
package_activated_cb (CtTopupPage     *self,
                      GtkFlowBoxChild *child)
{
  GtkWidget *button = gtk_flow_box_child_get_child (child);
  const char *id = g_object_get_data (G_OBJECT (button), "ct-package-id");

  if (id != NULL)
    gtk_widget_activate_action (GTK_WIDGET (self), "topup.select-package", "s", id);
}

static void
rebuild_packages (CtTopupPage *self)
{
  GtkWidget *child;
  gboolean fixed;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->package_box))) != NULL)
    gtk_flow_box_remove (self->package_box, child);

  g_clear_pointer (&self->merchant, ct_merchant_free);
  self->merchant = ct_session_dup_merchant (self->session);

  fixed = self->merchant == NULL || self->merchant->topup_mode == CT_TOPUP_MODE_FIXED;
  gtk_widget_set_visible (GTK_WIDGET (self->package_box), fixed);
  gtk_widget_set_visible (GTK_WIDGET (self->amount_box), !fixed);

  if (self->merchant == NULL)
    {
      gtk_label_set_label (self->mode_label, _("Waiting for the store's top-up settings…"));
      return;
    }

  if (fixed)
    {
      gtk_label_set_label (self->mode_label, _("Choose the package the customer pays for."));

      for (guint i = 0; i < self->merchant->packages->len; i++)
        {
          const CtPackage *package = g_ptr_array_index (self->merchant->packages, i);
          g_autofree char *amount = money (self, package->amount);
          g_autofree char *bonus = money (self, package->bonus);
          g_autofree char *label = NULL;
          GtkWidget *button;

          if (package->bonus > 0)
            label = g_strdup_printf (_("%s\n+ %s bonus"), amount, bonus);
          else
            label = g_strdup (amount);

          button = gtk_toggle_button_new_with_label (label);
          gtk_widget_add_css_class (button, "package-tile");
          gtk_widget_add_css_class (button, "card");
          g_object_set_data_full (G_OBJECT (button), "ct-package-id", g_strdup (package->id), g_free);
          gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (button),
                                        self->selected && g_strcmp0 (self->selected->id, package->id) == 0);
          gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "topup.select-package");
          gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", package->id);
          /* The tiles are one stop for Tab: the box's children take the
           * focus, arrows move between them, Enter or Space picks one. */
          gtk_widget_set_focusable (button, FALSE);
          gtk_flow_box_append (self->package_box, button);
        }
    }
  else
    {
      g_autofree char *min = money (self, self->merchant->topup_min);
      g_autofree char *max = money (self, self->merchant->topup_max);
      g_autofree char *limits = g_strdup_printf (_("From %s to %s, no bonus."), min, max);

      gtk_label_set_label (self->mode_label, _("Enter the amount the customer pays."));
      gtk_label_set_label (self->limits_label, limits);
    }

  update_summary (self);
}

/**
 * ct_topup_page_select_package:
 * @package_id: a package of the merchant's list
 *
 * Chooses the package to top up with (what clicking its tile does).
 *
 * Returns: %FALSE when there is no such package.
 */
gboolean
ct_topup_page_select_package (CtTopupPage *self,
                              const char  *package_id)
{
  const CtPackage *package;

  g_return_val_if_fail (CT_IS_TOPUP_PAGE (self), FALSE);

  if (self->merchant == NULL ||
      (package = ct_merchant_find_package (self->merchant, package_id)) == NULL)
    return FALSE;

  g_clear_pointer (&self->selected, ct_package_free);
  self->selected = ct_package_copy (package);
  show_problem (self, NULL);

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->package_box));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *button = gtk_flow_box_child_get_child (GTK_FLOW_BOX_CHILD (child));
      const char *id = g_object_get_data (G_OBJECT (button), "ct-package-id");

      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (button), g_strcmp0 (id, package_id) == 0);
    }

  update_summary (self);
  return TRUE;
}

static void
amount_changed_cb (CtTopupPage *self)
{
  show_problem (self, NULL);
  update_summary (self);
}

static void
amount_activate_cb (CtTopupPage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "topup.confirm", NULL);
}

static void
set_busy (CtTopupPage *self,
          gboolean     busy)
{
  self->busy = busy;
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->package_box), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->amount_box), !busy);
  update_summary (self);
}

static void
reset_entry (CtTopupPage *self)
{
  set_tender (self, "cash");
  g_clear_pointer (&self->selected, ct_package_free);
  gtk_editable_set_text (GTK_EDITABLE (self->amount_entry), "");
  rebuild_packages (self);
}

static void
topup_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(CtTopupPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtReceipt) receipt = NULL;

  receipt = ct_client_topup_finish (CT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  set_busy (self, FALSE);

  if (receipt != NULL)
    {
      reset_entry (self);
      ct_session_apply_receipt (self->session, receipt);
      return;
    }

  if (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_QUEUED))
    {
      ct_session_show_queued_receipt (self->session, CT_TRANSACTION_TOPUP,
                                      ct_session_get_card (self->session),
                                      self->amount, self->bonus, self->tender);
      reset_entry (self);
      return;
    }

  {
    g_autofree char *problem = ct_format_error (error);

    show_problem (self, problem);
    ct_session_refresh_after_refusal (self->session, error);
    if (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_PACKAGE_CHANGED))
      {
        /* The store changed its packages: show the new list, so the
         * cashier confirms the new price with the customer. */
        ct_client_merchant_async (ct_session_get_client (self->session), NULL, NULL, NULL);
        g_clear_pointer (&self->selected, ct_package_free);
      }
  }
}

static void
confirm_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *param)
{
  CtTopupPage *self = CT_TOPUP_PAGE (widget);
  const CtCard *card = ct_session_get_card (self->session);
  CtClient *client = ct_session_get_client (self->session);

  update_summary (self);
  if (card == NULL || !self->amount_ok || self->busy)
    return;

  show_problem (self, NULL);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  set_busy (self, TRUE);

  ct_client_topup_async (client, card->card_no,
                         self->merchant->topup_mode == CT_TOPUP_MODE_FIXED ? self->selected : NULL,
                         self->amount, self->tender, self->cancellable, topup_cb, g_object_ref (self));
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  CtTopupPage *self = CT_TOPUP_PAGE (widget);

  /* A request already sent is settled by the outbox; cancelling only
   * stops waiting for it here. Before sending, it clears the choice. */
  if (self->busy)
    return;

  show_problem (self, NULL);
  reset_entry (self);
  gtk_widget_activate_action (widget, "win.page", "s", "scan");
}

static void
ct_topup_page_dispose (GObject *object)
{
  CtTopupPage *self = CT_TOPUP_PAGE (object);

  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), CT_TYPE_TOPUP_PAGE);
  g_clear_object (&self->session);
  g_clear_pointer (&self->card_no, g_free);
  g_clear_pointer (&self->merchant, ct_merchant_free);
  g_clear_pointer (&self->selected, ct_package_free);
  g_clear_pointer (&self->tender, g_free);

  G_OBJECT_CLASS (ct_topup_page_parent_class)->dispose (object);
}

static void
ct_topup_page_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  CtTopupPage *self = CT_TOPUP_PAGE (object);

  switch (prop_id)
    {
    case PROP_TENDER:
      g_value_set_string (value, self->tender);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ct_topup_page_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  CtTopupPage *self = CT_TOPUP_PAGE (object);

  switch (prop_id)
    {
    case PROP_TENDER:
      set_tender (self, ct_wire_tender_is_valid (g_value_get_string (value)) ? g_value_get_string (value)
                                                                              : "cash");
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ct_topup_page_map (GtkWidget *widget)
{
  CtTopupPage *self = CT_TOPUP_PAGE (widget);

  GTK_WIDGET_CLASS (ct_topup_page_parent_class)->map (widget);

  if (gtk_widget_get_visible (GTK_WIDGET (self->amount_box)))
    ct_focus_soon (GTK_WIDGET (self->amount_entry));
  else
    {
      GtkFlowBoxChild *first = gtk_flow_box_get_child_at_index (self->package_box, 0);

      if (first != NULL)
        ct_focus_soon (GTK_WIDGET (first));
    }
}

static void
ct_topup_page_class_init (CtTopupPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ct_topup_page_dispose;
  object_class->get_property = ct_topup_page_get_property;
  object_class->set_property = ct_topup_page_set_property;
  widget_class->map = ct_topup_page_map;

  properties[PROP_TENDER] =
    g_param_spec_string ("tender", NULL, NULL, "cash",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (CT_TYPE_KEYPAD);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-topup-page.ui");
  gtk_widget_class_bind_template_child (widget_class, CtTopupPage, card_label);
  gtk_widget_class_bind_template_child (widget_class, CtTopupPage, mode_label);
  gtk_widget_class_bind_template_child (widget_class, CtTopupPage, package_box);
  gtk_widget_class_bind_template_child (widget_class, CtTopupPage, amount_box);
  gtk_widget_class_bind_template_child (widget_class, CtTopupPage, amount_entry);
  gtk_widget_class_bind_template_child (widget_class, CtTopupPage, limits_label);
  gtk_widget_class_bind_template_child (widget_class, CtTopupPage, keypad);
  gtk_widget_class_bind_template_child (widget_class, CtTopupPage, summary_label);
  gtk_widget_class_bind_template_child (widget_class, CtTopupPage, after_label);
  gtk_widget_class_bind_template_child (widget_class, CtTopupPage, problem_label);
  gtk_widget_class_bind_template_child (widget_class, CtTopupPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, CtTopupPage, confirm_button);
  gtk_widget_class_bind_template_child (widget_class, CtTopupPage, cancel_button);
  gtk_widget_class_bind_template_callback (widget_class, amount_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, amount_activate_cb);

  gtk_widget_class_install_action (widget_class, "topup.confirm", NULL, confirm_action);
  gtk_widget_class_install_action (widget_class, "topup.select-package", "s", select_package_action);
  gtk_widget_class_install_action (widget_class, "topup.cancel", NULL, cancel_action);
  /* How the customer pays, one toggle each with its mnemonic (Alt+C, W,
   * A, B, O): the drawer opens and the shift counts cash only for cash. */
  gtk_widget_class_install_property_action (widget_class, "topup.tender", "tender");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "topup.cancel", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK, "topup.confirm", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Enter, 0, "topup.confirm", NULL);
}

static void
ct_topup_page_init (CtTopupPage *self)
{
  self->tender = g_strdup ("cash");
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->package_box, "child-activated", G_CALLBACK (package_activated_cb), self);
  {
    GtkEventController *keys = gtk_event_controller_key_new ();

    gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
    g_signal_connect (keys, "key-pressed", G_CALLBACK (package_key_pressed_cb), self);
    gtk_widget_add_controller (GTK_WIDGET (self->package_box), keys);
  }
  ct_keypad_set_target (self->keypad, GTK_EDITABLE (self->amount_entry));
}

/* Another customer (or none) is on the counter: what was chosen for the
 * previous one goes, and the focus leaves Confirm, so that Enter cannot
 * take the previous customer's choice for the new one. */
static void
card_changed_cb (CtTopupPage *self)
{
  gboolean had_focus;

  if (!ct_session_card_is_new (self->session, &self->card_no))
    {
      update_summary (self);
      return;
    }

  had_focus = gtk_widget_has_focus (GTK_WIDGET (self->confirm_button));
  g_clear_pointer (&self->selected, ct_package_free);
  set_tender (self, "cash");
  gtk_editable_set_text (GTK_EDITABLE (self->amount_entry), "");
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->package_box));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (gtk_flow_box_child_get_child (GTK_FLOW_BOX_CHILD (child))),
                                  FALSE);
  /* A card that left the counter because the service closed it: the
   * session says why (the card that replaced it). */
  show_problem (self, ct_session_get_card (self->session) == NULL ? ct_session_get_problem (self->session) : NULL);
  update_summary (self);
  if (had_focus && gtk_widget_get_visible (GTK_WIDGET (self->amount_box)))
    gtk_widget_grab_focus (GTK_WIDGET (self->amount_entry));
  else if (had_focus && gtk_flow_box_get_child_at_index (self->package_box, 0) != NULL)
    gtk_widget_grab_focus (GTK_WIDGET (gtk_flow_box_get_child_at_index (self->package_box, 0)));
}

GtkWidget *
ct_topup_page_new (CtSession *session)
{
  CtTopupPage *self = g_object_new (CT_TYPE_TOPUP_PAGE, NULL);

  self->session = g_object_ref (session);
  g_signal_connect_object (session, "notify::card", G_CALLBACK (card_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (ct_session_get_client (session), "notify::merchant",
                           G_CALLBACK (rebuild_packages), self, G_CONNECT_SWAPPED);
  rebuild_packages (self);

  return GTK_WIDGET (self);
}

GtkEntry *
ct_topup_page_get_amount_entry (CtTopupPage *self)
{
  g_return_val_if_fail (CT_IS_TOPUP_PAGE (self), NULL);
  return self->amount_entry;
}

const char *
ct_topup_page_get_summary (CtTopupPage *self)
{
  g_return_val_if_fail (CT_IS_TOPUP_PAGE (self), NULL);
  return gtk_label_get_label (self->summary_label);
}

const char *
ct_topup_page_get_after (CtTopupPage *self)
{
  g_return_val_if_fail (CT_IS_TOPUP_PAGE (self), NULL);
  return gtk_label_get_label (self->after_label);
}

const char *
ct_topup_page_get_problem (CtTopupPage *self)
{
  g_return_val_if_fail (CT_IS_TOPUP_PAGE (self), NULL);

  return ct_problem_label_get (self->problem_label);
}

guint
ct_topup_page_get_n_packages (CtTopupPage *self)
{
  guint n = 0;

  g_return_val_if_fail (CT_IS_TOPUP_PAGE (self), 0);

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->package_box));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n++;

  return n;
}

gboolean
ct_topup_page_is_busy (CtTopupPage *self)
{
  g_return_val_if_fail (CT_IS_TOPUP_PAGE (self), FALSE);
  return self->busy;
}
