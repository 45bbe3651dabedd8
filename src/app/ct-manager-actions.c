/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-manager-actions"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ct-adjust-dialog.h"
#include "ct-barcode-image.h"
#include "ct-issue-dialog.h"
#include "ct-format.h"
#include "ct-manager-actions.h"
#include "ct-manager-pin.h"
#include "ct-member-pin-dialog.h"
#include "ct-members-page.h"
#include "ct-outcome-dialog.h"
#include "ct-pin-dialog.h"
#include "ct-refund-dialog.h"
#include "ct-replace-dialog.h"

/* Manager actions: each asks what to do, then the manager's PIN, then
 * sends one request. A wrong PIN asks again (a new request with a new
 * key, as docs/api.md wants); every other refusal is explained in a
 * dialog, in words a cashier understands. */

typedef enum
{
  OP_ADJUST,
  OP_REFUND,
  OP_FREEZE,
  OP_UNFREEZE,
  OP_ISSUE,
  OP_RESEND,
  OP_MEMBER_PIN,
  OP_REPLACE,
} OpKind;

typedef struct
{
  OpKind      kind;
  GtkWidget  *parent;
  CtSession  *session;
  char       *card_no;
  int64_t     delta;
  int64_t     amount;      /* a refund: the part of the payment, 0 for all of it */
  int64_t     whole;       /* a refund: the payment's total when nothing of it was refunded, else -1 */
  int64_t     left;        /* a refund: what is left of the payment to refund */
  char       *reason;
  char       *transaction_id;
  char       *name;
  char       *phone;
  char       *level;
  gint64      entry_id;
  char       *heading;
  char       *body;
  char       *member_pin;  /* the member's new PIN, typed twice */
  char       *new_card_no; /* a replacement's number, or NULL: the service picks */
  CtTransaction *transaction; /* a refund of a lost card's transaction, while the card it goes onto is looked up */
  guint       hops;        /* the replacements followed so far */
  gboolean    replaced;    /* a refund onto the card that replaced the one the payment was taken on */
  int64_t     shown;       /* a refund: the amount the manager agreed to, for a confirmation */
  gboolean    void_topup;  /* a refund that voids a top-up */
  char       *sent_to;     /* a refund refused as card_closed: the card it was sent to */
} ManagerOp;

static void op_ask_pin (ManagerOp  *op,
                        const char *problem);

static void
op_free (ManagerOp *op)
{
  g_clear_object (&op->parent);
  g_clear_object (&op->session);
  g_free (op->card_no);
  g_free (op->reason);
  g_free (op->transaction_id);
  g_free (op->name);
  g_free (op->phone);
  g_free (op->level);
  g_free (op->heading);
  g_free (op->body);
  ct_secret_free (op->member_pin);
  g_free (op->new_card_no);
  g_free (op->sent_to);
  g_clear_pointer (&op->transaction, ct_transaction_free);
  g_free (op);
}

/* Tells what was done in the window the manager action started from (a
 * toast), unless that window is gone. */
static void
op_toast (ManagerOp  *op,
          const char *text)
{
  GtkRoot *root = gtk_widget_get_root (op->parent);

  if (root != NULL)
    gtk_widget_activate_action (GTK_WIDGET (root), "win.toast", "s", text);
}

static ManagerOp *
op_new (OpKind      kind,
        GtkWidget  *parent,
        CtSession  *session)
{
  ManagerOp *op = g_new0 (ManagerOp, 1);

  op->kind = kind;
  op->parent = g_object_ref (parent);
  op->session = g_object_ref (session);

  return op;
}

/**
 * ct_show_problem:
 *
 * Tells the user why something was not done, in a dialog they close
 * with Enter or Escape.
 */
void
ct_show_problem (GtkWidget  *parent,
                 const char *heading,
                 const char *body)
{
  GtkWidget *dialog;

  dialog = adw_message_dialog_new (ct_window_of (parent), heading, body);
  gtk_widget_set_name (dialog, "ct-problem-dialog");
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "close");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "close");
  gtk_window_present (GTK_WINDOW (dialog));
}

static const char *
op_failure_heading (ManagerOp *op)
{
  switch (op->kind)
    {
    case OP_ADJUST:
      return _("The Balance Was Not Changed");
    case OP_REFUND:
      return _("Nothing Was Refunded");
    case OP_FREEZE:
      return _("The Card Was Not Frozen");
    case OP_UNFREEZE:
      return _("The Card Was Not Unfrozen");
    case OP_ISSUE:
      return _("No Card Was Issued");
    case OP_MEMBER_PIN:
      return _("The Member's PIN Was Not Set");
    case OP_REPLACE:
      return _("The Card Was Not Replaced");
    case OP_RESEND:
    default:
      return _("Nothing Was Sent");
    }
}

static void
pool_merchant_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  ManagerOp *op = user_data;
  g_autoptr(CtMerchant) merchant = ct_client_merchant_finish (CT_CLIENT (object), result, NULL);
  g_autofree char *body = NULL;

  if (merchant != NULL)
    {
      g_autofree char *pool = ct_format_money (merchant->pool_balance, merchant->minor_units,
                                               merchant->currency);

      body = g_strdup_printf (_("The store's card account is too low for this: it holds %s. "
                                "It fills up as members pay with their cards."), pool);
    }
  else
    body = g_strdup (_("The store's card account is too low for this. It fills up as members pay with their cards."));

  ct_show_problem (op->parent, op_failure_heading (op), body);
  op_free (op);
}

/* Returns TRUE when @error was dealt with by asking again. */
static gboolean
op_handle_error (ManagerOp *op,
                 GError    *error)
{
  g_autofree char *text = NULL;

  if (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_FORBIDDEN))
    {
      op_ask_pin (op, _("Wrong manager or PIN. Try again."));
      return TRUE;
    }

  if (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INSUFFICIENT_POOL))
    {
      ct_client_merchant_async (ct_session_get_client (op->session), NULL, pool_merchant_cb, op);
      return TRUE;
    }

  text = ct_format_error (error);
  ct_show_problem (op->parent, op_failure_heading (op), text);
  return FALSE;
}

static void
receipt_done (ManagerOp *op,
              CtReceipt *receipt,
              GError    *error)
{
  if (receipt != NULL)
    {
      ct_session_apply_receipt (op->session, receipt);
      op_free (op);
      return;
    }

  if (!op_handle_error (op, error))
    op_free (op);
}

static void
adjust_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtReceipt) receipt = ct_client_adjust_finish (CT_CLIENT (object), result, &error);

  receipt_done (user_data, receipt, error);
}

static void refund_moved_cb (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data);

static void
refund_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtReceipt) receipt = ct_client_refund_finish (CT_CLIENT (object), result, &error);
  ManagerOp *op = user_data;

  /* The card the refund went to was lost and replaced while the form was
   * open: the service refused it whole (card_closed), so nothing was
   * refunded. The card that holds the money now is looked up, to the end
   * of the replacements, and the manager confirms the refund onto it. */
  if (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CARD_CLOSED) && op->hops < 32)
    {
      g_free (op->sent_to);
      op->sent_to = g_strdup (op->card_no);
      ct_client_card_show_async (CT_CLIENT (object), op->card_no, NULL, refund_moved_cb, op);
      return;
    }
  /* A lost card's transaction refunded onto the card that replaced it:
   * the Members screen shows that card, where the money is now, as it
   * does after the replacement itself. */
  if (receipt != NULL && receipt->card != NULL && op->replaced && CT_IS_MEMBERS_PAGE (op->parent))
    {
      g_autoptr(CtMembersPage) members = CT_MEMBERS_PAGE (g_object_ref (op->parent));

      receipt_done (op, receipt, NULL);
      ct_members_page_show_card (members, receipt->card);
      return;
    }
  receipt_done (op, receipt, error);
}

static void
resend_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtReceipt) receipt = ct_client_resend_as_new_finish (CT_CLIENT (object), result, &error);

  receipt_done (user_data, receipt, error);
}

static void
patch_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  ManagerOp *op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCard) card = ct_client_card_patch_finish (CT_CLIENT (object), result, &error);

  if (card != NULL)
    {
      const CtCard *current = ct_session_get_card (op->session);

      if (current != NULL && g_strcmp0 (current->card_no, card->card_no) == 0)
        ct_session_set_card (op->session, card);
      op_toast (op, card->status == CT_CARD_STATUS_FROZEN ? _("The card is frozen.")
                                                          : _("The card is active again."));
      op_free (op);
      return;
    }

  if (!op_handle_error (op, error))
    op_free (op);
}

static void
show_new_card (ManagerOp    *op,
               const CtCard *card)
{
  g_autoptr(GdkTexture) qr = ct_barcode_image_texture (card->card_no, CT_BARCODE_IMAGE_QR, NULL);
  g_autoptr(GdkTexture) barcode = ct_barcode_image_texture (card->card_no, CT_BARCODE_IMAGE_CODE128, NULL);
  g_autofree char *number = ct_format_card_no (card->card_no);
  g_autofree char *body = op->member_pin != NULL
                          ? g_strdup_printf (_("Card %s for %s, with the PIN the member chose. The member scans the QR code to add the card to their phone."),
                                             number, card->member_name ? card->member_name : "")
                          : g_strdup_printf (_("Card %s for %s. The member scans the QR code to add the card to their phone."),
                                             number, card->member_name ? card->member_name : "");
  GtkWidget *dialog;
  GtkWidget *box;
  GtkWidget *picture;

  dialog = adw_message_dialog_new (ct_window_of (op->parent),
                                   _("New Card Issued"), body);
  gtk_widget_set_name (dialog, "ct-new-card-dialog");
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Done"));
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "close");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "close");

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  if (qr != NULL)
    {
      picture = gtk_picture_new_for_paintable (GDK_PAINTABLE (qr));
      gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
      gtk_widget_set_size_request (picture, 200, 200);
      gtk_widget_set_halign (picture, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (picture, "barcode");
      gtk_accessible_update_property (GTK_ACCESSIBLE (picture),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _("Enrollment QR code"), -1);
      gtk_box_append (GTK_BOX (box), picture);
    }
  if (barcode != NULL)
    {
      picture = gtk_picture_new_for_paintable (GDK_PAINTABLE (barcode));
      gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
      gtk_widget_set_size_request (picture, 280, 90);
      gtk_widget_set_halign (picture, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (picture, "barcode");
      gtk_accessible_update_property (GTK_ACCESSIBLE (picture),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _("Card barcode"), -1);
      gtk_box_append (GTK_BOX (box), picture);
    }
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
issue_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  ManagerOp *op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCard) card = ct_client_card_issue_finish (CT_CLIENT (object), result, &error);

  if (card != NULL)
    {
      ct_session_set_card (op->session, card);
      show_new_card (op, card);
      op_free (op);
      return;
    }

  if (!op_handle_error (op, error))
    op_free (op);
}

static void
member_pin_set_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  ManagerOp *op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCard) card = ct_client_member_pin_finish (CT_CLIENT (object), result, &error);

  if (card != NULL)
    {
      op_toast (op, _("The member's PIN is set."));
      op_free (op);
      return;
    }
  if (!op_handle_error (op, error))
    op_free (op);
}

static void
replace_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  ManagerOp *op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCard) card = ct_client_card_replace_finish (CT_CLIENT (object), result, &error);

  if (card != NULL)
    {
      const CtCard *current = ct_session_get_card (op->session);
      g_autofree char *text = g_strdup_printf (_("Card %s replaces lost card %s."), card->card_no, op->card_no);

      /* The member holds the new card now, at the counter and on the
       * Members screen. */
      if (current != NULL && g_strcmp0 (current->card_no, op->card_no) == 0)
        ct_session_set_card (op->session, card);
      if (CT_IS_MEMBERS_PAGE (op->parent))
        ct_members_page_show_card (CT_MEMBERS_PAGE (op->parent), card);
      op_toast (op, text);
      op_free (op);
      return;
    }
  if (!op_handle_error (op, error))
    op_free (op);
}

static void
op_send (ManagerOp  *op,
         const char *manager_id,
         const char *pin)
{
  CtClient *client = ct_session_get_client (op->session);
  CtCardPatch patch = { 0 };

  switch (op->kind)
    {
    case OP_ADJUST:
      ct_client_adjust_async (client, op->card_no, op->delta, op->reason, manager_id, pin,
                              NULL, adjust_cb, op);
      break;
    case OP_REFUND:
      ct_client_refund_async (client, op->card_no, op->transaction_id, op->amount, manager_id, pin,
                              NULL, refund_cb, op);
      break;
    case OP_FREEZE:
    case OP_UNFREEZE:
      patch.status = op->kind == OP_FREEZE ? CT_CARD_STATUS_CHANGE_FREEZE : CT_CARD_STATUS_CHANGE_UNFREEZE;
      ct_client_card_patch_async (client, op->card_no, &patch, manager_id, pin,
                                  NULL, patch_cb, op);
      break;
    case OP_ISSUE:
      /* The member's PIN goes with the issue (docs/api.md): the card is
       * never issued without the PIN the member chose. */
      ct_client_card_issue_with_pin_async (client, op->name, op->phone, op->level, NULL, op->member_pin,
                                           manager_id, pin, NULL, issue_cb, op);
      break;
    case OP_RESEND:
      ct_client_resend_as_new_async (client, op->entry_id, manager_id, pin, NULL, resend_cb, op);
      break;
    case OP_MEMBER_PIN:
      ct_client_member_pin_async (client, op->card_no, op->member_pin, manager_id, pin, NULL,
                                  member_pin_set_cb, op);
      break;
    case OP_REPLACE:
      ct_client_card_replace_async (client, op->card_no, op->new_card_no, manager_id, pin, NULL, replace_cb, op);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
pin_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  ManagerOp *op = user_data;
  g_autofree char *manager_id = NULL;
  g_autofree char *pin = NULL;
  GSettings *settings;

  if (!ct_pin_dialog_run_finish (result, &manager_id, &pin, NULL))
    {
      op_free (op);
      return;
    }

  settings = ct_session_get_settings (op->session);
  if (settings != NULL)
    g_settings_set_string (settings, "manager-id", manager_id);

  op_send (op, manager_id, pin);
  memset (pin, 0, strlen (pin));
}

static void
op_ask_pin (ManagerOp  *op,
            const char *problem)
{
  GSettings *settings = ct_session_get_settings (op->session);
  g_autofree char *manager_id = settings ? g_settings_get_string (settings, "manager-id") : NULL;

  ct_pin_dialog_run_async (op->parent, op->heading, op->body, problem, manager_id,
                           NULL, pin_cb, op);
}

/* The adjustment form (CtAdjustDialog): the change and its reason, then
 * the PIN. The operation rides on the dialog until it is submitted. */

static void
adjust_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    gpointer          user_data)
{
  g_autofree char *problem = NULL;
  g_autofree char *amount = NULL;
  ManagerOp *op;
  int64_t delta = 0;
  char *reason = NULL;

  if (g_strcmp0 (response, "continue") != 0 ||
      !ct_adjust_dialog_read (CT_ADJUST_DIALOG (dialog), &delta, &reason, &problem))
    return;

  op = g_object_steal_data (G_OBJECT (dialog), "ct-op");
  op->delta = delta;
  op->reason = reason;
  amount = ct_format_signed_money (delta, ct_session_get_minor_units (op->session),
                                   ct_session_get_currency (op->session));
  op->body = g_strdup_printf (_("Change the balance of card %s by %s. Reason: %s"),
                              op->card_no, amount, op->reason);
  op_ask_pin (op, NULL);
}

/**
 * ct_manager_adjust:
 * @card_no: the card whose balance changes
 *
 * Asks for the change (+ or −) and the reason, then the manager's PIN,
 * and sends the adjustment.
 */
void
ct_manager_adjust (GtkWidget  *parent,
                   CtSession  *session,
                   const char *card_no)
{
  ManagerOp *op = op_new (OP_ADJUST, parent, session);
  CtAdjustDialog *dialog = ct_adjust_dialog_new (parent, ct_session_get_minor_units (session));

  op->card_no = g_strdup (card_no);
  op->heading = g_strdup (_("Adjust Balance"));
  g_object_set_data_full (G_OBJECT (dialog), "ct-op", op, (GDestroyNotify) op_free);
  g_signal_connect (dialog, "response", G_CALLBACK (adjust_response_cb), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* What a payment took (its balance part and what points paid) and what
 * refunds left of it; an older service does not say what was refunded. */
static int64_t
refund_left (const CtTransaction *payment)
{
  return MAX (-payment->delta + payment->redeemed_value - payment->refunded, 0);
}

/* What the PIN dialog says a refund does once its amount is known: how
 * much goes back onto which card. */
static void
refund_set_body (ManagerOp *op)
{
  g_autofree char *amount = ct_format_money (op->shown, ct_session_get_minor_units (op->session),
                                             ct_session_get_currency (op->session));

  g_free (op->body);
  op->body = op->void_topup
             ? g_strdup_printf (_("Void the top-up of %s: it is taken off card %s."), amount, op->card_no)
             : g_strdup_printf (_("Refund %s to card %s."), amount, op->card_no);
}

/* The refund form of a payment (CtRefundDialog): how much, then the
 * PIN. */
static void
refund_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    gpointer          user_data)
{
  g_autofree char *problem = NULL;
  ManagerOp *op;
  int64_t amount = 0;

  if (g_strcmp0 (response, "continue") != 0
      || !ct_refund_dialog_read (CT_REFUND_DIALOG (dialog), &amount, &problem))
    return;

  op = g_object_steal_data (G_OBJECT (dialog), "ct-op");
  /* All of a payment nothing was refunded of goes as a whole refund, which
   * every service takes; a part names its amount, to a service that takes
   * parts only. */
  op->amount = amount == op->whole || !ct_refund_dialog_takes_part (CT_REFUND_DIALOG (dialog)) ? 0 : amount;
  op->shown = amount;
  refund_set_body (op);
  op_ask_pin (op, NULL);
}

/* A refund's form comes up after the service answered (its features, the
 * card that replaced a lost one). Until it does, the page that asked takes
 * no second refund: a manager who clicks again on a slow service would
 * otherwise get two forms for one payment. */
#define REFUND_PENDING "ct-manager-refund-pending"

static void
refund_pending_end (ManagerOp *op)
{
  g_object_set_data (G_OBJECT (op->parent), REFUND_PENDING, NULL);
}

/* A service from before lost cards' refunds would answer that the
 * transaction is not the new card's: says what it lacks instead, and ends
 * @op. */
static gboolean
refund_refused_as_replaced (ManagerOp          *op,
                            const char * const *features)
{
  if (!op->replaced || features == NULL || g_strv_contains (features, "refund_replaced"))
    return FALSE;
  ct_show_problem (op->parent, op_failure_heading (op),
                   _("This card service is older and cannot refund a lost card's payment or top-up onto "
                     "the card that replaced it. Update it; nothing was refunded."));
  op_free (op);
  return TRUE;
}

/* A lost card's top-up, voided on the card that has its money now. */
static void
void_features_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  ManagerOp *op = user_data;
  g_auto(GStrv) features = ct_client_features_finish (CT_CLIENT (object), result, NULL);

  refund_pending_end (op);
  if (refund_refused_as_replaced (op, (const char * const *) features))
    return;
  op_ask_pin (op, NULL);
}

/* The refund form, once the service said whether it takes a part of a
 * payment (and, for a lost card's payment, a refund onto the card that
 * replaced it). */
static void
refund_features_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  ManagerOp *op = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) features = ct_client_features_finish (CT_CLIENT (object), result, &error);
  const char *no_partial = NULL;
  CtRefundDialog *dialog;

  refund_pending_end (op);
  if (refund_refused_as_replaced (op, (const char * const *) features))
    return;
  if (features == NULL)
    no_partial = _("The card service could not be asked whether it refunds part of a payment, "
                   "so only all that is left of it can be refunded.");
  else if (!g_strv_contains ((const char * const *) features, "partial_refund"))
    no_partial = _("This card service is older and refunds a payment only in full. "
                   "Update it to refund a part.");
  dialog = ct_refund_dialog_new (op->parent, op->body, ct_session_get_minor_units (op->session), op->left,
                                 no_partial);
  g_object_set_data_full (G_OBJECT (dialog), "ct-op", op, (GDestroyNotify) op_free);
  g_signal_connect (dialog, "response", G_CALLBACK (refund_response_cb), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* The PIN again for a refund whose card was lost and replaced while it
 * was asked: says that nothing was refunded and which card it goes onto
 * now. */
static void
refund_confirm_moved (ManagerOp *op)
{
  g_autofree char *problem = g_strdup_printf (_("Card %s was replaced by card %s in the meantime, and nothing "
                                                "was refunded. Type the PIN again to refund onto card %s."),
                                              op->sent_to, op->card_no, op->card_no);

  refund_set_body (op);
  op_ask_pin (op, problem);
}

static void
refund_moved_features_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  ManagerOp *op = user_data;
  g_auto(GStrv) features = ct_client_features_finish (CT_CLIENT (object), result, NULL);

  if (refund_refused_as_replaced (op, (const char * const *) features))
    return;
  refund_confirm_moved (op);
}

/* The card a refund was refused on as closed (refund_cb), then each card
 * that replaced it, to the one the member holds now. */
static void
refund_moved_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  ManagerOp *op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCard) card = ct_client_card_show_finish (CT_CLIENT (object), result, &error);
  gboolean was_replaced = op->replaced;

  if (card != NULL && card->status == CT_CARD_STATUS_CLOSED && card->replaced_by != NULL && ++op->hops < 32)
    {
      ct_client_card_show_async (CT_CLIENT (object), card->replaced_by, NULL, refund_moved_cb, op);
      return;
    }
  /* No card to follow to: the refusal stands, and nothing was refunded. */
  if (card != NULL && (card->status == CT_CARD_STATUS_CLOSED || g_strcmp0 (card->card_no, op->sent_to) == 0))
    g_set_error_literal (&error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CARD_CLOSED, "");
  if (error != NULL)
    {
      g_autofree char *text = ct_format_error (error);

      ct_show_problem (op->parent, op_failure_heading (op), text);
      op_free (op);
      return;
    }
  g_free (op->card_no);
  op->card_no = g_strdup (card->card_no);
  op->replaced = TRUE;
  /* A refund that was on the card its transaction was taken on goes onto
   * another card now: the service must take that. */
  if (!was_replaced)
    {
      ct_client_features_async (ct_session_get_client (op->session), NULL, refund_moved_features_cb, op);
      return;
    }
  refund_confirm_moved (op);
}

/* Asks how much of @transaction to refund onto op->card_no (a top-up: the
 * PIN alone). */
static void
refund_ask (ManagerOp           *op,
            const CtTransaction *transaction)
{
  int mu = ct_session_get_minor_units (op->session);
  const char *currency = ct_session_get_currency (op->session);
  g_autofree char *amount = NULL;
  g_autofree char *when = ct_format_local_time (transaction->created_at, "%Y-%m-%d %H:%M");
  g_autofree char *taken = NULL;
  int64_t total;

  op->transaction_id = g_strdup (transaction->id);
  op->heading = g_strdup (transaction->kind == CT_TRANSACTION_TOPUP ? _("Void Top-Up")
                                                                     : _("Refund Payment"));
  if (transaction->kind != CT_TRANSACTION_PAYMENT)
    {
      op->void_topup = TRUE;
      op->shown = ABS (transaction->delta);
      amount = ct_format_money (ABS (transaction->delta), mu, currency);
      taken = g_strdup_printf (_("%s of %s on %s, card %s."),
                               ct_format_transaction_kind (transaction->kind), amount, when,
                               transaction->card_no);
      /* A lost card's top-up is taken off the card that has its money now,
       * by a service that takes it. */
      op->replaced = g_strcmp0 (op->card_no, transaction->card_no) != 0;
      op->body = !op->replaced
                 ? g_steal_pointer (&taken)
                 : g_strdup_printf (_("%s The card was replaced: it is taken off card %s."), taken, op->card_no);
      if (op->replaced)
        {
          ct_client_features_async (ct_session_get_client (op->session), NULL, void_features_cb, op);
          return;
        }
      refund_pending_end (op);
      op_ask_pin (op, NULL);
      return;
    }

  total = -transaction->delta + transaction->redeemed_value;
  amount = ct_format_money (total, mu, currency);
  if (transaction->refunded > 0)
    {
      g_autofree char *refunded = ct_format_money (transaction->refunded, mu, currency);

      op->body = g_strdup_printf (_("Payment of %s on %s, card %s; %s of it is refunded already."),
                                  amount, when, transaction->card_no, refunded);
    }
  else
    op->body = g_strdup_printf (_("Payment of %s on %s, card %s."), amount, when, transaction->card_no);
  if (g_strcmp0 (op->card_no, transaction->card_no) != 0)
    {
      g_autofree char *paid = g_steal_pointer (&op->body);

      op->replaced = TRUE;
      op->body = g_strdup_printf (_("%s The card was replaced: the refund goes onto card %s."), paid, op->card_no);
    }
  op->whole = transaction->refunded == 0 ? total : -1;
  op->left = refund_left (transaction);
  /* Whether the service takes a part decides what the form offers: one
   * without partial refunds would give back all of the payment whatever
   * part it was asked for. */
  ct_client_features_async (ct_session_get_client (op->session), NULL, refund_features_cb, op);
}

/* The card that replaced the one a refund's transaction was taken on: the
 * refund goes onto the card the member holds now, at the end of the
 * replacements. */
static void
refund_holder_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  ManagerOp *op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCard) card = ct_client_card_show_finish (CT_CLIENT (object), result, &error);

  if (card == NULL)
    {
      g_autofree char *text = ct_format_error (error);

      refund_pending_end (op);
      ct_show_problem (op->parent, op_failure_heading (op), text);
      op_free (op);
      return;
    }
  g_free (op->card_no);
  op->card_no = g_strdup (card->card_no);
  /* A replacement card lost in its turn; a chain no till makes ends. */
  if (card->status == CT_CARD_STATUS_CLOSED && card->replaced_by != NULL && ++op->hops < 32)
    {
      ct_client_card_show_async (CT_CLIENT (object), card->replaced_by, NULL, refund_holder_cb, op);
      return;
    }
  refund_ask (op, op->transaction);
}

/**
 * ct_manager_refund:
 * @card: the card whose history shows @transaction
 * @transaction: a payment or top-up of @card, from its history
 *
 * A payment: asks how much of it to refund (all that is left at first),
 * then the manager's PIN, and refunds it. A top-up is voided whole: the
 * manager's PIN alone. A closed card's transaction (the card was lost and
 * replaced) is refunded onto the card that replaced it, at the end of the
 * replacements.
 */
void
ct_manager_refund (GtkWidget           *parent,
                   CtSession           *session,
                   const CtCard        *card,
                   const CtTransaction *transaction)
{
  ManagerOp *op;

  if (g_object_get_data (G_OBJECT (parent), REFUND_PENDING) != NULL)
    return;
  g_object_set_data (G_OBJECT (parent), REFUND_PENDING, GINT_TO_POINTER (1));
  op = op_new (OP_REFUND, parent, session);
  op->card_no = g_strdup (transaction->card_no);
  if (card != NULL && card->status == CT_CARD_STATUS_CLOSED && card->replaced_by != NULL)
    {
      op->transaction = ct_transaction_copy (transaction);
      ct_client_card_show_async (ct_session_get_client (session), card->replaced_by, NULL, refund_holder_cb, op);
      return;
    }
  refund_ask (op, transaction);
}

/**
 * ct_manager_set_frozen:
 * @freeze: %TRUE to freeze, %FALSE to unfreeze
 */
void
ct_manager_set_frozen (GtkWidget  *parent,
                       CtSession  *session,
                       const char *card_no,
                       gboolean    freeze)
{
  ManagerOp *op = op_new (freeze ? OP_FREEZE : OP_UNFREEZE, parent, session);

  op->card_no = g_strdup (card_no);
  op->heading = g_strdup (freeze ? _("Freeze Card") : _("Unfreeze Card"));
  op->body = freeze
    ? g_strdup_printf (_("Card %s will not pay or top up until it is unfrozen. Refunds still reach it."), card_no)
    : g_strdup_printf (_("Card %s will pay and top up again."), card_no);
  op_ask_pin (op, NULL);
}

/* The lost card form (CtReplaceDialog): the new card's number or none,
 * then the PIN. */

static void
replace_response_cb (AdwMessageDialog *dialog,
                     const char       *response,
                     gpointer          user_data)
{
  g_autofree char *problem = NULL;
  ManagerOp *op;
  char *new_no = NULL;

  if (g_strcmp0 (response, "continue") != 0
      || !ct_replace_dialog_read (CT_REPLACE_DIALOG (dialog), &new_no, &problem))
    return;

  op = g_object_steal_data (G_OBJECT (dialog), "ct-op");
  op->new_card_no = new_no;
  op->body = new_no != NULL
             ? g_strdup_printf (_("Card %s is closed and card %s takes its balance, points and level."),
                                op->card_no, new_no)
             : g_strdup_printf (_("Card %s is closed and a new card takes its balance, points and level."),
                                op->card_no);
  op_ask_pin (op, NULL);
}

/**
 * ct_manager_replace_card:
 * @card: the lost card
 *
 * Asks for the new card's number (or none, for one the service picks),
 * then the manager's PIN, and replaces the lost card (挂失补卡).
 */
void
ct_manager_replace_card (GtkWidget    *parent,
                         CtSession    *session,
                         const CtCard *card)
{
  ManagerOp *op = op_new (OP_REPLACE, parent, session);
  CtReplaceDialog *dialog = ct_replace_dialog_new (parent, card, ct_session_get_minor_units (session),
                                                   ct_session_get_currency (session));

  op->card_no = g_strdup (card->card_no);
  op->heading = g_strdup (_("Lost Card"));
  g_object_set_data_full (G_OBJECT (dialog), "ct-op", op, (GDestroyNotify) op_free);
  g_signal_connect (dialog, "response", G_CALLBACK (replace_response_cb), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* The card issue form (CtIssueDialog): name, phone and level, then the
 * PIN. */

static void
issue_response_cb (AdwMessageDialog *dialog,
                   const char       *response,
                   gpointer          user_data)
{
  ManagerOp *op;
  char *name = NULL;
  char *phone = NULL;
  char *level = NULL;
  char *member_pin = NULL;

  if (g_strcmp0 (response, "continue") != 0 ||
      !ct_issue_dialog_read (CT_ISSUE_DIALOG (dialog), &name, &phone, &level, &member_pin, NULL))
    return;

  op = g_object_steal_data (G_OBJECT (dialog), "ct-op");
  op->name = name;
  op->phone = phone;
  op->level = level;
  op->member_pin = member_pin;
  op->body = member_pin != NULL
             ? g_strdup_printf (_("A new card for %s (%s), with the PIN the member chose."), op->name, op->phone)
             : g_strdup_printf (_("A new card for %s (%s)."), op->name, op->phone);
  op_ask_pin (op, NULL);
}

/**
 * ct_manager_issue_card:
 *
 * Asks for the member's name, phone and level, then the manager's PIN,
 * issues the card and shows its enrollment QR code and barcode.
 */
void
ct_manager_issue_card (GtkWidget *parent,
                       CtSession *session)
{
  ManagerOp *op = op_new (OP_ISSUE, parent, session);
  CtIssueDialog *dialog = ct_issue_dialog_new (parent);

  op->heading = g_strdup (_("Issue New Card"));
  g_object_set_data_full (G_OBJECT (dialog), "ct-op", op, (GDestroyNotify) op_free);
  g_signal_connect (dialog, "response", G_CALLBACK (issue_response_cb), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

/**
 * ct_manager_resend:
 * @entry: a request from the "needs attention" list
 *
 * Sends the same intent again as a new request, with the manager's PIN.
 */
void
ct_manager_resend (GtkWidget           *parent,
                   CtSession           *session,
                   const CtOutboxEntry *entry)
{
  ManagerOp *op = op_new (OP_RESEND, parent, session);

  op->entry_id = entry->id;
  op->card_no = g_strdup (entry->card_no);
  op->heading = g_strdup (_("Send Again as a New Request"));
  op->body = g_strdup (_("The card service refused this request after it was taken. Send it again only after checking the card's history."));
  op_ask_pin (op, NULL);
}

/* The outcome form (CtOutcomeDialog): the request it is for rides on
 * the dialog. */
typedef struct
{
  CtSession *session;
  GtkWidget *parent;
  gint64     entry_id;
} Outcome;

static void
outcome_free (gpointer data)
{
  Outcome *outcome = data;

  g_clear_object (&outcome->session);
  g_clear_object (&outcome->parent);
  g_free (outcome);
}

static void
record_outcome_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GtkWidget) parent = user_data;
  g_autoptr(GError) error = NULL;

  if (!ct_client_record_outcome_finish (CT_CLIENT (object), result, &error))
    {
      g_autofree char *text = ct_format_error (error);

      ct_show_problem (parent, _("The Outcome Was Not Recorded"), text);
    }
}

static void
outcome_response_cb (AdwMessageDialog *dialog,
                     const char       *response,
                     gpointer          user_data)
{
  Outcome *outcome = g_object_get_data (G_OBJECT (dialog), "ct-outcome");
  g_autofree char *manager_id = NULL;
  g_autofree char *pin = NULL;
  g_autofree char *text = NULL;
  int64_t cash = 0;

  if (g_strcmp0 (response, "record") != 0 ||
      !ct_outcome_dialog_read (CT_OUTCOME_DIALOG (dialog), &manager_id, &pin, &text, &cash))
    return;

  /* The outcome is recorded at the service, in its audit log, under the
   * manager's PIN; a wrong PIN leaves the request where it was. The cash
   * handed back leaves the expected cash of the till's open shift. */
  ct_client_record_outcome_authorized_async (ct_session_get_client (outcome->session), outcome->entry_id,
                                             manager_id, pin, text, cash,
                                             NULL, record_outcome_cb, g_object_ref (outcome->parent));
  memset (pin, 0, strlen (pin));
}

/**
 * ct_manager_record_outcome:
 * @entry: a request from the "needs attention" list
 *
 * Records what was done instead ("cash returned to customer") and takes
 * the request off the list.
 */
void
ct_manager_record_outcome (GtkWidget           *parent,
                           CtSession           *session,
                           const CtOutboxEntry *entry)
{
  GSettings *settings = ct_session_get_settings (session);
  g_autofree char *manager_id = settings ? g_settings_get_string (settings, "manager-id") : NULL;
  CtOutcomeDialog *dialog = ct_outcome_dialog_new (parent, manager_id, ct_session_get_minor_units (session));
  Outcome *outcome = g_new0 (Outcome, 1);

  outcome->session = g_object_ref (session);
  outcome->parent = g_object_ref (parent);
  outcome->entry_id = entry->id;
  g_object_set_data_full (G_OBJECT (dialog), "ct-outcome", outcome, outcome_free);
  g_signal_connect (dialog, "response", G_CALLBACK (outcome_response_cb), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* A new member PIN: the member types it twice on the keypad turned to
 * them, then a manager authorises it. */

static void ask_new_member_pin (ManagerOp *op, const char *problem);

static void
new_member_pin_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  ManagerOp *op = user_data;
  g_autofree char *pin = ct_member_pin_dialog_run_finish (result, NULL);

  if (pin == NULL)
    {
      op_free (op);
      return;
    }
  if (op->member_pin == NULL)
    {
      op->member_pin = g_steal_pointer (&pin);
      ask_new_member_pin (op, NULL);
      return;
    }
  if (!g_str_equal (op->member_pin, pin))
    {
      g_clear_pointer (&op->member_pin, ct_secret_free);
      memset (pin, 0, strlen (pin));
      ask_new_member_pin (op, _("The two PINs differ. Please type the new PIN again."));
      return;
    }
  memset (pin, 0, strlen (pin));
  op_ask_pin (op, NULL);
}

static void
ask_new_member_pin (ManagerOp  *op,
                    const char *problem)
{
  ct_member_pin_dialog_run_async (op->parent,
                                  op->member_pin == NULL ? _("Please type the new PIN for your card.")
                                                         : _("Please type the same PIN again."),
                                  problem, _("_Next"), NULL, new_member_pin_cb, op);
}

/**
 * ct_manager_set_member_pin:
 *
 * The member chooses a new PIN for @card_no (docs/operations.md, "Member
 * PINs"); a manager authorises it.
 */
void
ct_manager_set_member_pin (GtkWidget  *parent,
                           CtSession  *session,
                           const char *card_no)
{
  ManagerOp *op = op_new (OP_MEMBER_PIN, parent, session);

  op->card_no = g_strdup (card_no);
  op->heading = g_strdup (_("Set Member PIN"));
  op->body = g_strdup_printf (_("Card %s gets the PIN the member just typed."), card_no);
  ask_new_member_pin (op, NULL);
}
