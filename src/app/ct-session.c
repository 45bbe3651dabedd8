/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-session"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ct-card-number.h"
#include "ct-format.h"
#include "ct-member-code.h"
#include "ct-money.h"
#include "ct-session.h"

/* CtSession is what the cashier is working on: the card on the counter
 * (shown from the member cache at once, then refreshed from the
 * service), the merchant's settings and the last receipt. Every screen
 * reads it, so a scan anywhere updates every screen. */

struct _CtSession
{
  GObject        parent_instance;

  CtClient      *client;
  GSettings     *settings;
  CtCard        *card;
  char          *problem;
  char          *last_scan;
  char          *member_code;       /* the dynamic code last scanned, for the next payment */
  char          *member_code_card;  /* the card it belongs to */
  char          *store;
  char          *till;
  CtReceiptData *last_receipt;
  CtTillPrinter *printer;
  CtCashier     *cashier;           /* who signed in, or NULL */
  GCancellable  *card_cancellable;
  guint          refreshing : 1;
};

G_DEFINE_FINAL_TYPE (CtSession, ct_session, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CLIENT,
  PROP_SETTINGS,
  PROP_CARD,
  PROP_REFRESHING,
  PROP_PROBLEM,
  PROP_LAST_RECEIPT,
  PROP_STORE,
  PROP_TILL,
  PROP_LAST_SCAN,
  PROP_CASHIER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
client_merchant_changed_cb (CtSession *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STORE]);
}

static void
client_card_updated_cb (CtSession *self,
                        CtCard    *card)
{
  /* Another screen (or the background sync) learnt something newer about
   * the card on the counter: show it. */
  if (self->card != NULL && card != NULL &&
      g_strcmp0 (self->card->card_no, card->card_no) == 0 &&
      !self->refreshing)
    ct_session_set_card (self, card);
}

static void
ct_session_constructed (GObject *object)
{
  CtSession *self = CT_SESSION (object);

  G_OBJECT_CLASS (ct_session_parent_class)->constructed (object);

  g_signal_connect_object (self->client, "notify::merchant",
                           G_CALLBACK (client_merchant_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->client, "card-updated",
                           G_CALLBACK (client_card_updated_cb), self,
                           G_CONNECT_SWAPPED);
  if (self->settings != NULL)
    {
      g_signal_connect_object (self->settings, "changed::store-name",
                               G_CALLBACK (client_merchant_changed_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (self->settings, "changed::till-name",
                               G_CALLBACK (client_merchant_changed_cb), self,
                               G_CONNECT_SWAPPED);
      self->printer = ct_till_printer_new (self->settings);
    }
}

static void
ct_session_dispose (GObject *object)
{
  CtSession *self = CT_SESSION (object);

  if (self->card_cancellable != NULL)
    g_cancellable_cancel (self->card_cancellable);
  g_clear_object (&self->card_cancellable);
  g_clear_object (&self->client);
  g_clear_object (&self->printer);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (ct_session_parent_class)->dispose (object);
}

static void
ct_session_finalize (GObject *object)
{
  CtSession *self = CT_SESSION (object);

  g_clear_pointer (&self->card, ct_card_free);
  g_clear_pointer (&self->last_receipt, ct_receipt_data_free);
  g_clear_pointer (&self->cashier, ct_cashier_free);
  g_free (self->problem);
  g_free (self->last_scan);
  g_free (self->member_code);
  g_free (self->member_code_card);
  g_free (self->store);
  g_free (self->till);

  G_OBJECT_CLASS (ct_session_parent_class)->finalize (object);
}

static void
ct_session_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  CtSession *self = CT_SESSION (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;
    case PROP_CARD:
      g_value_set_boxed (value, self->card);
      break;
    case PROP_REFRESHING:
      g_value_set_boolean (value, self->refreshing);
      break;
    case PROP_PROBLEM:
      g_value_set_string (value, self->problem);
      break;
    case PROP_LAST_RECEIPT:
      g_value_set_boxed (value, self->last_receipt);
      break;
    case PROP_STORE:
      g_value_set_string (value, ct_session_get_store (self));
      break;
    case PROP_TILL:
      g_value_set_string (value, ct_session_get_till (self));
      break;
    case PROP_LAST_SCAN:
      g_value_set_string (value, self->last_scan);
      break;
    case PROP_CASHIER:
      g_value_set_pointer (value, self->cashier);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ct_session_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  CtSession *self = CT_SESSION (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      self->client = g_value_dup_object (value);
      break;
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ct_session_class_init (CtSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = ct_session_constructed;
  object_class->dispose = ct_session_dispose;
  object_class->finalize = ct_session_finalize;
  object_class->get_property = ct_session_get_property;
  object_class->set_property = ct_session_set_property;

  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL, CT_TYPE_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CARD] =
    g_param_spec_boxed ("card", NULL, NULL, CT_TYPE_CARD,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_REFRESHING] =
    g_param_spec_boolean ("refreshing", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROBLEM] =
    g_param_spec_string ("problem", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LAST_RECEIPT] =
    g_param_spec_boxed ("last-receipt", NULL, NULL, CT_TYPE_RECEIPT_DATA,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STORE] =
    g_param_spec_string ("store", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TILL] =
    g_param_spec_string ("till", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LAST_SCAN] =
    g_param_spec_string ("last-scan", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /* The cashier signed in at the till (a CtCashier), or NULL. */
  properties[PROP_CASHIER] =
    g_param_spec_pointer ("cashier", NULL, NULL,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ct_session_init (CtSession *self)
{
}

CtSession *
ct_session_new (CtClient  *client,
                GSettings *settings)
{
  g_return_val_if_fail (CT_IS_CLIENT (client), NULL);

  return g_object_new (CT_TYPE_SESSION,
                       "client", client,
                       "settings", settings,
                       NULL);
}

CtClient *
ct_session_get_client (CtSession *self)
{
  g_return_val_if_fail (CT_IS_SESSION (self), NULL);
  return self->client;
}

GSettings *
ct_session_get_settings (CtSession *self)
{
  g_return_val_if_fail (CT_IS_SESSION (self), NULL);
  return self->settings;
}

const CtCard *
ct_session_get_card (CtSession *self)
{
  g_return_val_if_fail (CT_IS_SESSION (self), NULL);
  return self->card;
}

/**
 * ct_session_card_is_new:
 * @seen: (inout) (nullable): the card number a screen last saw on the
 *   counter
 *
 * Tells another customer (another card on the counter, or none after a
 * sale) from a fresh state of the same card.
 *
 * Returns: %TRUE when the counter's card is not *@seen, which then
 *   follows it.
 */
gboolean
ct_session_card_is_new (CtSession  *self,
                        char      **seen)
{
  const char *card_no;

  g_return_val_if_fail (CT_IS_SESSION (self), FALSE);

  card_no = self->card != NULL ? self->card->card_no : NULL;
  if (g_strcmp0 (card_no, *seen) == 0)
    return FALSE;
  g_free (*seen);
  *seen = g_strdup (card_no);
  return TRUE;
}

gboolean
ct_session_get_refreshing (CtSession *self)
{
  g_return_val_if_fail (CT_IS_SESSION (self), FALSE);
  return self->refreshing;
}

const char *
ct_session_get_problem (CtSession *self)
{
  g_return_val_if_fail (CT_IS_SESSION (self), NULL);
  return self->problem;
}

const char *
ct_session_get_last_scan (CtSession *self)
{
  g_return_val_if_fail (CT_IS_SESSION (self), NULL);
  return self->last_scan;
}

CtMerchant *
ct_session_dup_merchant (CtSession *self)
{
  g_return_val_if_fail (CT_IS_SESSION (self), NULL);
  return ct_client_dup_merchant (self->client);
}

int
ct_session_get_minor_units (CtSession *self)
{
  g_autoptr(CtMerchant) merchant = ct_session_dup_merchant (self);

  return merchant ? merchant->minor_units : 2;
}

const char *
ct_session_get_currency (CtSession *self)
{
  g_autoptr(CtMerchant) merchant = ct_session_dup_merchant (self);

  /* The currency is fixed at the service's init: the common ones are
   * static strings, so nothing dangles after the merchant is freed. */
  if (merchant == NULL || merchant->currency == NULL)
    return "CNY";

  return g_intern_string (merchant->currency);
}

char *
ct_session_format_money (CtSession *self,
                         int64_t    minor)
{
  g_autoptr(CtMerchant) merchant = ct_session_dup_merchant (self);

  return ct_format_money (minor,
                          merchant ? merchant->minor_units : 2,
                          merchant ? merchant->currency : "CNY");
}

const char *
ct_session_get_store (CtSession *self)
{
  g_autofree char *setting = NULL;
  g_autoptr(CtMerchant) merchant = NULL;

  g_return_val_if_fail (CT_IS_SESSION (self), NULL);

  if (self->settings != NULL)
    setting = g_settings_get_string (self->settings, "store-name");

  if (setting != NULL && *setting != '\0')
    {
      g_free (self->store);
      self->store = g_steal_pointer (&setting);
      return self->store;
    }

  merchant = ct_client_dup_merchant (self->client);
  g_free (self->store);
  self->store = g_strdup (merchant && merchant->name ? merchant->name : "");
  return self->store;
}

const char *
ct_session_get_till (CtSession *self)
{
  g_autofree char *setting = NULL;

  g_return_val_if_fail (CT_IS_SESSION (self), NULL);

  if (self->settings != NULL)
    setting = g_settings_get_string (self->settings, "till-name");

  g_free (self->till);
  self->till = (setting != NULL && *setting != '\0') ? g_steal_pointer (&setting)
                                                      : g_strdup (_("Till"));
  return self->till;
}

static void
set_problem (CtSession  *self,
             const char *problem)
{
  if (g_strcmp0 (self->problem, problem) == 0)
    return;

  g_free (self->problem);
  self->problem = g_strdup (problem);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROBLEM]);
}

static void
set_refreshing (CtSession *self,
                gboolean   refreshing)
{
  if (self->refreshing == !!refreshing)
    return;

  self->refreshing = !!refreshing;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REFRESHING]);
}

/**
 * ct_session_set_card:
 * @card: (nullable): the card on the counter
 *
 * Shows @card on every screen (a copy is kept).
 */
void
ct_session_set_card (CtSession    *self,
                     const CtCard *card)
{
  g_return_if_fail (CT_IS_SESSION (self));

  g_clear_pointer (&self->card, ct_card_free);
  self->card = card ? ct_card_copy (card) : NULL;
  /* A member's code is for their own card only. */
  if (card == NULL || g_strcmp0 (card->card_no, self->member_code_card) != 0)
    ct_session_forget_member_code (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CARD]);
}

/**
 * ct_session_get_member_code:
 *
 * Returns: (nullable): the dynamic payment code the member showed for the
 *   card on the counter, to go with the next payment
 */
const char *
ct_session_get_member_code (CtSession *self)
{
  g_return_val_if_fail (CT_IS_SESSION (self), NULL);

  if (self->card == NULL || g_strcmp0 (self->card->card_no, self->member_code_card) != 0)
    return NULL;
  return self->member_code;
}

/**
 * ct_session_forget_member_code:
 *
 * Drops the remembered code: a code pays once, and belongs to one card.
 */
void
ct_session_forget_member_code (CtSession *self)
{
  g_return_if_fail (CT_IS_SESSION (self));

  g_clear_pointer (&self->member_code, g_free);
  g_clear_pointer (&self->member_code_card, g_free);
}

void
ct_session_clear_card (CtSession *self)
{
  g_return_if_fail (CT_IS_SESSION (self));

  if (self->card_cancellable != NULL)
    g_cancellable_cancel (self->card_cancellable);
  g_clear_object (&self->card_cancellable);
  set_refreshing (self, FALSE);
  set_problem (self, NULL);
  ct_session_set_card (self, NULL);
}

/* A lost card that was replaced never goes on the counter: the cashier
 * is told which card the member holds now. Closed is for good, so a
 * cached closed card needs no look-up. */
static gboolean
refuse_closed (CtSession    *self,
               const CtCard *card)
{
  g_autofree char *text = NULL;

  if (card == NULL || card->status != CT_CARD_STATUS_CLOSED)
    return FALSE;
  text = g_strdup_printf (_("This card was replaced by card %s. Ask the member for the new card, or look the "
                            "member up."), card->replaced_by);
  /* The sentence first: a screen that sees the card leave shows why. */
  set_problem (self, text);
  ct_session_set_card (self, NULL);
  return TRUE;
}

static void
card_show_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(CtSession) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCard) card = NULL;

  card = ct_client_card_show_finish (CT_CLIENT (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_clear_object (&self->card_cancellable);
  set_refreshing (self, FALSE);

  if (card != NULL)
    {
      if (refuse_closed (self, card))
        return;
      set_problem (self, NULL);
      ct_session_set_card (self, card);
      return;
    }

  if (self->card != NULL && self->card->fetched_at > 0 &&
      (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_UNREACHABLE) ||
       g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_QUEUED)))
    {
      /* Offline with a cached card: the cashier keeps working with the
       * last known state, which the card view marks as such. */
      set_problem (self, _("The card service cannot be reached. Showing the last known state of this card."));
      return;
    }

  {
    g_autofree char *text = ct_format_error (error);

    /* Nothing known about this card: there is nothing to show. */
    ct_session_set_card (self, NULL);
    set_problem (self, text);
  }
}

/**
 * ct_session_refresh_card:
 *
 * Asks the service for the fresh state of the card on the counter.
 */
void
ct_session_refresh_card (CtSession *self)
{
  g_return_if_fail (CT_IS_SESSION (self));

  if (self->card == NULL)
    return;

  if (self->card_cancellable != NULL)
    g_cancellable_cancel (self->card_cancellable);
  g_clear_object (&self->card_cancellable);
  self->card_cancellable = g_cancellable_new ();

  set_refreshing (self, TRUE);
  ct_client_card_show_async (self->client, self->card->card_no, self->card_cancellable,
                             card_show_cb, g_object_ref (self));
}

/**
 * ct_session_refresh_after_refusal:
 * @error: why the service refused a request on the card on the counter
 *
 * A refusal that says the card changed since the counter read it (its
 * balance is lower, it was frozen, or lost and replaced at another till)
 * fetches the card again, so that the counter shows what the service
 * holds: the real balance, the frozen card, or the number of the card
 * that replaced it.
 */
void
ct_session_refresh_after_refusal (CtSession    *self,
                                  const GError *error)
{
  g_return_if_fail (CT_IS_SESSION (self));

  if (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INSUFFICIENT_BALANCE)
      || g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CARD_FROZEN)
      || g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CARD_CLOSED))
    ct_session_refresh_card (self);
}

/**
 * ct_session_scan:
 * @text: a scanner payload or what the cashier typed
 * @source: where @text came from
 *
 * Turns @text into a card number, shows the cached state of that card
 * at once (marked as refreshing) and asks the service for the fresh one.
 *
 * Returns: %FALSE when @text is not a card number (the problem property
 *   says why in a cashier's words).
 */
gboolean
ct_session_scan (CtSession    *self,
                 const char   *text,
                 CtScanSource  source)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *card_no = NULL;
  g_autofree char *member_code = NULL;
  g_autoptr(CtCard) cached = NULL;
  CtCardNumberKind kind;

  g_return_val_if_fail (CT_IS_SESSION (self), FALSE);
  g_return_val_if_fail (text != NULL, FALSE);

  g_free (self->last_scan);
  self->last_scan = g_strdup (text);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_SCAN]);

  /* Every scanner path (USB, keyboard wedge, image) arrives here, so this
   * is where a member's dynamic payment code is recognised: it names the
   * card, and its code is kept for the next payment on that card. */
  if (source == CT_SCAN_SOURCE_SCANNER
      && g_ascii_strncasecmp (text, CT_MEMBER_CODE_PREFIX, strlen (CT_MEMBER_CODE_PREFIX)) == 0)
    ct_member_code_parse (text, CT_CARD_NUMBER_DEFAULT_PREFIX, &card_no, &member_code, &error);
  else if (source == CT_SCAN_SOURCE_SCANNER)
    card_no = ct_card_number_from_scan (text, CT_CARD_NUMBER_DEFAULT_PREFIX, &error);
  else
    {
      /* Cashiers copy numbers the way cards print them, in groups. */
      g_autoptr(GString) compact = g_string_new (NULL);

      for (const char *p = text; *p != '\0'; p++)
        if (*p != ' ')
          g_string_append_c (compact, *p);

      card_no = ct_card_number_normalize (compact->str, CT_CARD_NUMBER_DEFAULT_PREFIX, &kind, &error);
    }

  if (card_no == NULL)
    {
      g_autofree char *problem = ct_format_error (error);

      /* Whoever was on the counter before is not this customer: nothing
       * of theirs may stay to be paid for. */
      ct_session_forget_member_code (self);
      ct_session_clear_card (self);
      set_problem (self, problem);
      return FALSE;
    }

  if (self->card_cancellable != NULL)
    g_cancellable_cancel (self->card_cancellable);
  g_clear_object (&self->card_cancellable);

  set_problem (self, NULL);
  ct_session_forget_member_code (self);
  if (member_code != NULL)
    {
      self->member_code = g_steal_pointer (&member_code);
      self->member_code_card = g_strdup (card_no);
    }

  cached = ct_client_cached_card (self->client, card_no);
  if (refuse_closed (self, cached))
    return TRUE;
  if (cached != NULL)
    {
      ct_session_set_card (self, cached);
    }
  else
    {
      /* Never seen on this till: show the number being looked up. */
      g_autoptr(CtCard) looking_up = g_new0 (CtCard, 1);

      looking_up->card_no = g_strdup (card_no);
      looking_up->from_cache = TRUE;
      looking_up->fetched_at = 0;
      ct_session_set_card (self, looking_up);
    }

  self->card_cancellable = g_cancellable_new ();
  set_refreshing (self, TRUE);
  ct_client_card_show_async (self->client, card_no, self->card_cancellable,
                             card_show_cb, g_object_ref (self));

  return TRUE;
}

const CtReceiptData *
ct_session_get_last_receipt (CtSession *self)
{
  g_return_val_if_fail (CT_IS_SESSION (self), NULL);
  return self->last_receipt;
}

void
ct_session_set_last_receipt (CtSession           *self,
                             const CtReceiptData *data)
{
  g_return_if_fail (CT_IS_SESSION (self));

  g_clear_pointer (&self->last_receipt, ct_receipt_data_free);
  self->last_receipt = ct_receipt_data_copy (data);
  /* The receipt names the signed-in cashier, where the ledger keeps the id. */
  if (self->last_receipt != NULL && self->cashier != NULL
      && g_strcmp0 (self->last_receipt->operator_name, self->cashier->id) == 0
      && g_strcmp0 (self->cashier->name, self->cashier->id) != 0)
    {
      g_free (self->last_receipt->operator_name);
      self->last_receipt->operator_name = g_strdup_printf ("%s (%s)", self->cashier->name, self->cashier->id);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_RECEIPT]);

  /* Every last receipt is a transaction just taken. */
  if (self->printer != NULL && data != NULL)
    ct_till_printer_taken (self->printer, data);
}

/**
 * ct_session_get_printer:
 *
 * Returns: (nullable) (transfer none): the till's receipt printer, %NULL
 *   without settings.
 */
CtTillPrinter *
ct_session_get_printer (CtSession *self)
{
  g_return_val_if_fail (CT_IS_SESSION (self), NULL);
  return self->printer;
}

/**
 * ct_session_pending_receipt:
 * @card: (nullable): the card as last known
 * @amount: what the customer gave (top-up) or spends (payment)
 * @tender: (nullable): how a top-up was paid; NULL is cash
 *
 * Returns: the receipt of a request the till queued: "pending sync", the
 *   balance after computed from the last known balance.
 */
CtReceiptData *
ct_session_pending_receipt (CtSession         *self,
                            CtTransactionKind  kind,
                            const CtCard      *card,
                            int64_t            amount,
                            int64_t            bonus,
                            const char        *tender)
{
  g_autoptr(CtMerchant) merchant = ct_session_dup_merchant (self);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  CtReceiptData *data = g_new0 (CtReceiptData, 1);
  int64_t delta = 0;

  data->kind = kind;
  data->card_no = g_strdup (card ? card->card_no : NULL);
  data->member_name = g_strdup (card ? card->member_name : NULL);
  data->store = g_strdup (ct_session_get_store (self));
  data->till = g_strdup (ct_session_get_till (self));
  data->operator_name = g_strdup (ct_client_get_operator (self->client));
  data->created_at = g_date_time_format_iso8601 (now);
  data->amount = amount;
  data->bonus = bonus;
  data->tender = g_strdup (tender);
  data->pending = TRUE;
  data->minor_units = merchant ? merchant->minor_units : 2;
  data->currency = g_strdup (merchant ? merchant->currency : "CNY");

  if (kind == CT_TRANSACTION_TOPUP)
    {
      const CtLevel *level = ct_merchant_find_level (merchant, card ? card->level : NULL);

      /* A package's bonus gets the level's part when the service books it. */
      if (level != NULL && merchant->topup_mode == CT_TOPUP_MODE_FIXED)
        {
          data->level = g_strdup (level->name);
          data->level_bonus = ct_money_share_bp (amount, level->topup_bonus_bp);
          data->bonus += data->level_bonus;
        }
      data->balance_known = ct_money_add (amount, data->bonus, &delta, NULL);
    }
  else if (kind == CT_TRANSACTION_PAYMENT)
    {
      /* The service applies the card's level when the till sends it: the
       * receipt shows the discount and points as expected. */
      const CtLevel *level = ct_merchant_find_level (merchant, card ? card->level : NULL);
      CtPaySplit split;

      ct_pay_split_compute (amount, level ? level->discount_bp : 0, 0, data->minor_units,
                            merchant ? merchant->points_per_unit : 0,
                            level ? level->points_multiplier_bp : 10000, &split);
      data->amount = split.from_balance;
      data->discount = split.discount;
      data->level = level ? g_strdup (level->name) : NULL;
      delta = -split.from_balance;
      data->balance_known = TRUE;
      data->points_delta = split.points_earned;
    }

  if (card != NULL && card->fetched_at > 0 && data->balance_known)
    {
      data->balance_before = card->balance;
      data->balance_known = ct_money_add (card->balance, delta, &data->balance_after, NULL);
      data->points_after = card->points + data->points_delta;
    }
  else
    data->balance_known = FALSE;

  return data;
}

typedef struct
{
  CtSession     *session;
  CtReceiptData *data;
} QueuedReceipt;

static void
queued_list_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  QueuedReceipt *queued = user_data;
  g_autoptr(CtSession) self = queued->session;
  g_autoptr(CtReceiptData) data = queued->data;
  g_autoptr(GPtrArray) pending = ct_client_outbox_list_finish (CT_CLIENT (object), result, NULL);

  g_free (queued);

  if (pending != NULL && data->balance_known)
    {
      int64_t own = data->balance_after - data->balance_before;
      int64_t last_known = data->balance_before;
      int64_t all = 0;
      guint count = 0;

      for (guint i = 0; i < pending->len && data->balance_known; i++)
        {
          const CtOutboxEntry *entry = g_ptr_array_index (pending, i);
          int64_t change = 0;

          if (g_strcmp0 (entry->card_no, data->card_no) != 0)
            continue;
          /* A pending change the till cannot count (a refund) leaves the
           * balance to the service. */
          if (!ct_outbox_entry_balance_change (entry, &change) || !ct_money_add (all, change, &all, NULL))
            data->balance_known = FALSE;
          count++;
        }

      /* The list holds this request too: everything pending on the card
       * comes on top of its last known balance. */
      if (data->balance_known && count > 0)
        data->balance_known = ct_money_add (last_known, all, &data->balance_after, NULL)
                              && ct_money_add (data->balance_after, -own, &data->balance_before, NULL);
    }

  ct_session_set_last_receipt (self, data);
}

/**
 * ct_session_show_queued_receipt:
 *
 * Makes the receipt of a request the till queued the last receipt, once
 * the outbox has said what else is pending on the card: its balance after
 * counts every pending top-up and payment of the card, as expected once
 * they are booked.
 */
void
ct_session_show_queued_receipt (CtSession         *self,
                                CtTransactionKind  kind,
                                const CtCard      *card,
                                int64_t            amount,
                                int64_t            bonus,
                                const char        *tender)
{
  QueuedReceipt *queued = g_new0 (QueuedReceipt, 1);

  g_return_if_fail (CT_IS_SESSION (self));

  queued->session = g_object_ref (self);
  queued->data = ct_session_pending_receipt (self, kind, card, amount, bonus, tender);
  ct_client_outbox_list_async (self->client, CT_OUTBOX_STATE_PENDING, NULL, queued_list_cb, queued);
}

/**
 * ct_session_show_queued_split_receipt:
 * @amount: what the card pays
 * @rest: what @rest_tender took of the order
 *
 * Like ct_session_show_queued_receipt() for a split payment the till
 * queued: the receipt shows the rest taken by its tender too.
 */
void
ct_session_show_queued_split_receipt (CtSession    *self,
                                      const CtCard *card,
                                      int64_t       amount,
                                      int64_t       rest,
                                      const char   *rest_tender)
{
  QueuedReceipt *queued = g_new0 (QueuedReceipt, 1);

  g_return_if_fail (CT_IS_SESSION (self));

  queued->session = g_object_ref (self);
  queued->data = ct_session_pending_receipt (self, CT_TRANSACTION_PAYMENT, card, amount, 0, NULL);
  queued->data->rest = rest;
  queued->data->rest_tender = g_strdup (rest_tender);
  ct_client_outbox_list_async (self->client, CT_OUTBOX_STATE_PENDING, NULL, queued_list_cb, queued);
}

/* The service names a transaction's store and till by the names it
 * keeps for them; the receipt shows them as this till calls them
 * (Settings, or the merchant's name), as a pending receipt does. */
static void
receipt_take_names (CtSession     *self,
                    CtReceiptData *data)
{
  g_free (data->store);
  data->store = g_strdup (ct_session_get_store (self));
  g_free (data->till);
  data->till = g_strdup (ct_session_get_till (self));
}

/**
 * ct_session_name_receipt:
 * @data: a receipt built from a transaction of the card's history
 *
 * Names the store and till on @data as a fresh receipt does when the
 * transaction was taken at this till (the service's merchant answer says
 * how this till's transactions name it). Another till's transaction keeps
 * the names the service has for that till: this till does not know what
 * that one calls itself.
 */
void
ct_session_name_receipt (CtSession     *self,
                         CtReceiptData *data)
{
  g_autoptr(CtMerchant) merchant = NULL;

  g_return_if_fail (CT_IS_SESSION (self));
  g_return_if_fail (data != NULL);

  merchant = ct_session_dup_merchant (self);
  if (merchant != NULL && merchant->store != NULL && merchant->till != NULL
      && g_strcmp0 (data->store, merchant->store) == 0 && g_strcmp0 (data->till, merchant->till) == 0)
    receipt_take_names (self, data);
}

/**
 * ct_session_apply_receipt:
 * @receipt: the service's answer to a money request
 *
 * Shows the card's new state and makes @receipt the last receipt.
 */
void
ct_session_apply_receipt (CtSession       *self,
                          const CtReceipt *receipt)
{
  g_autoptr(CtMerchant) merchant = ct_session_dup_merchant (self);
  g_autoptr(CtReceiptData) data = NULL;

  g_return_if_fail (CT_IS_SESSION (self));
  g_return_if_fail (receipt != NULL && receipt->transaction != NULL);

  if (receipt->card != NULL &&
      (self->card == NULL || g_strcmp0 (self->card->card_no, receipt->card->card_no) == 0))
    ct_session_set_card (self, receipt->card);

  data = ct_receipt_data_new_from_receipt (receipt, merchant);
  /* The answer to this till's own request. */
  receipt_take_names (self, data);
  if (receipt->card != NULL)
    {
      g_free (data->member_name);
      data->member_name = g_strdup (receipt->card->member_name);
    }
  ct_session_set_last_receipt (self, data);
}

/**
 * ct_session_get_cashier:
 *
 * Returns: (nullable) (transfer none): the cashier signed in at the till.
 */
const CtCashier *
ct_session_get_cashier (CtSession *self)
{
  g_return_val_if_fail (CT_IS_SESSION (self), NULL);
  return self->cashier;
}

/**
 * ct_session_set_cashier:
 * @cashier: (nullable): who signed in
 *
 * From now on every request records @cashier's id as the operator.
 */
void
ct_session_set_cashier (CtSession       *self,
                        const CtCashier *cashier)
{
  g_return_if_fail (CT_IS_SESSION (self));

  g_clear_pointer (&self->cashier, ct_cashier_free);
  if (cashier != NULL)
    {
      self->cashier = ct_cashier_copy (cashier);
      ct_client_set_operator (self->client, cashier->id);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CASHIER]);
}

/**
 * ct_session_get_cashiers_in_use:
 *
 * Returns: %TRUE when the merchant has cashiers, so that someone must
 *   sign in before the till takes money (as far as the till knows: the
 *   merchant's settings last fetched).
 */
gboolean
ct_session_get_cashiers_in_use (CtSession *self)
{
  g_autoptr(CtMerchant) merchant = NULL;

  g_return_val_if_fail (CT_IS_SESSION (self), FALSE);

  merchant = ct_session_dup_merchant (self);
  return merchant != NULL && merchant->cashier_sign_in;
}
