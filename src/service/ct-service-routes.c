/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-service"
#include "config.h"

#include <string.h>

#include "ct-phone.h"
#include "ct-service-ledger.h"
#include "ct-service-member.h"
#include "ct-service.h"
#include "ct-service-shifts.h"
#include "service-imports.h"

/* The API of docs/api.md as a table: one line per endpoint. A read runs
 * in a worker thread; a write is parsed there and applied by the committer.
 * Adding an endpoint is one line here plus its functions. */

static CtReply *read_health       (CtService *svc, CtCall *call);
static CtReply *read_merchant     (CtService *svc, CtCall *call);
static CtReply *read_card         (CtService *svc, CtCall *call);
static CtReply *read_find_cards   (CtService *svc, CtCall *call);
static CtReply *read_card_history (CtService *svc, CtCall *call);
static CtReply *read_store_day    (CtService *svc, CtCall *call);
static CtReply *read_day_report   (CtService *svc, CtCall *call);
static CtReply *read_ledger_check (CtService *svc, CtCall *call);

static const CtRoute routes[] = {
  { "GET",   "/v1/health",                  TRUE,  read_health, NULL, NULL },
  { "GET",   "/v1/merchant",                FALSE, read_merchant, NULL, NULL },
  { "POST",  "/v1/cards",                   FALSE, NULL, ct_ledger_parse_issue, ct_ledger_apply_issue, 0, "issue" },
  { "GET",   "/v1/cards",                   FALSE, read_find_cards, NULL, NULL },
  { "GET",   "/v1/cards/*",                 FALSE, read_card, NULL, NULL },
  { "PATCH", "/v1/cards/*",                 FALSE, NULL, ct_ledger_parse_patch, ct_ledger_apply_patch, 0, "card_change" },
  { "POST",  "/v1/cards/*/topups",          FALSE, NULL, ct_ledger_parse_topup, ct_ledger_apply_topup },
  { "POST",  "/v1/cards/*/payments",        FALSE, NULL, ct_ledger_parse_payment, ct_ledger_apply_payment },
  { "POST",  "/v1/cards/*/refunds",         FALSE, NULL, ct_ledger_parse_refund, ct_ledger_apply_refund, 0, "refund" },
  { "POST",  "/v1/cards/*/adjustments",     FALSE, NULL, ct_ledger_parse_adjustment, ct_ledger_apply_adjustment, 0,
    "adjustment" },
  { "GET",   "/v1/cards/*/transactions",    FALSE, read_card_history, NULL, NULL },
  { "GET",   "/v1/transactions",            FALSE, read_store_day, NULL, NULL },
  { "GET",   "/v1/reports/day",             FALSE, read_day_report, NULL, NULL },
  { "POST",  "/v1/imports",                 FALSE, NULL, ct_imports_parse, ct_imports_apply, CT_SERVICE_IMPORT_BODY_MAX,
    "import" },
  { "GET",   "/v1/imports/*",               FALSE, ct_imports_read, NULL, NULL },
  { "GET",   "/v1/ledger/check",            FALSE, read_ledger_check, NULL, NULL },
  { "POST",  "/v1/cards/*/member-pin",      FALSE, NULL, ct_ledger_parse_member_pin, ct_ledger_apply_member_pin, 0,
    "member_pin" },
  { "POST",  "/v1/cards/*/member-link",     FALSE, NULL, ct_ledger_parse_member_link, ct_ledger_apply_member_link, 0,
    "member_link" },
  { "POST",  "/v1/cards/*/replace",         FALSE, NULL, ct_ledger_parse_replace, ct_ledger_apply_replace, 0,
    "card_replace" },
  { "POST",  "/v1/outcomes",                FALSE, NULL, ct_service_parse_outcome, ct_service_apply_outcome, 0, "outcome" },
  { "POST",  "/v1/cashiers/sign-in",        FALSE, NULL, ct_service_parse_cashier_sign_in,
    ct_service_apply_cashier_sign_in, 0, "cashier_sign_in" },
  { "GET",   "/m/*",                        TRUE,  ct_member_read_page, NULL, NULL },
  { "GET",   "/m/*/code",                   TRUE,  ct_member_read_code, NULL, NULL },
  { "POST",  "/v1/shifts",                  FALSE, NULL, ct_shifts_parse_open, ct_shifts_apply_open },
  { "GET",   "/v1/shifts",                  FALSE, ct_shifts_read_day, NULL, NULL },
  { "GET",   "/v1/shifts/*",                FALSE, ct_shifts_read_one, NULL, NULL },
  { "POST",  "/v1/shifts/*/close",          FALSE, NULL, ct_shifts_parse_close, ct_shifts_apply_close },
};

static gboolean
match (const char *pattern,
       const char *path,
       char       *args[2])
{
  int n_args = 0;

  while (*pattern && *path)
    {
      if (*pattern == '*')
        {
          const char *end = strchr (path, '/');
          gsize len = end ? (gsize) (end - path) : strlen (path);

          if (len == 0 || n_args >= 2)
            goto fail;
          args[n_args++] = g_strndup (path, len);
          path += len;
          pattern++;
          continue;
        }
      if (*pattern != *path)
        goto fail;
      pattern++;
      path++;
    }
  if (*pattern == '\0' && *path == '\0')
    return TRUE;
fail:
  for (int i = 0; i < n_args; i++)
    g_clear_pointer (&args[i], g_free);
  return FALSE;
}

/**
 * ct_service_route:
 * Finds the route for @method and @path, filling @args with the segments
 * that matched '*'. @path_known tells a wrong method from an unknown path.
 */
const CtRoute *
ct_service_route (const char *method,
                  const char *path,
                  char       *args[2],
                  gboolean   *path_known)
{
  *path_known = FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      if (!match (routes[i].pattern, path, args))
        continue;
      *path_known = TRUE;
      if (g_str_equal (routes[i].method, method))
        return &routes[i];
      g_clear_pointer (&args[0], g_free);
      g_clear_pointer (&args[1], g_free);
    }
  return NULL;
}

static CtReply *
internal_read (GError *error)
{
  g_warning ("read: %s", error ? error->message : "unknown failure");
  return ct_reply_error (500, "internal", "The service could not read its ledger");
}

static const char *
query (CtCall     *call,
       const char *name)
{
  return call->query ? g_hash_table_lookup (call->query, name) : NULL;
}

/* The API features this service has beyond the first version of the API,
 * for a till to check before it offers them: whoever adds a feature to the
 * API adds its name here and to docs/api.md. */
static const char * const features[] = {
  "strict_fields",   /* unknown fields in a body are refused (400), never ignored */
  "points_redemption", /* "redeem_points" on a payment */
  "member_code",     /* "member_code" on a payment over the merchant's consent_over */
  "member_pin",      /* "member_pin" on a payment and a card issue, POST /v1/cards/{no}/member-pin */
  "member_page",     /* "member_url" on a card issue, POST /v1/cards/{no}/member-link, GET /m/{token} */
  "outcomes",        /* POST /v1/outcomes: a manager's note on a refused request, in the audit log */
  "tenders",         /* "tender" on a top-up; money taken per tender in reports and ledger check */
  "shifts",          /* /v1/shifts, shift_id on transactions, require_shift */
  "taken_at",        /* "taken_at" on money requests: the till's time decides the day and shift */
  "day_report",      /* GET /v1/reports/day with tenders and the day's shifts */
  "outcome_cash",    /* POST /v1/outcomes takes cash_given_back, out of the shift's expected cash */
  "split_payment",   /* a payment's "rest" {amount, tender}: another tender takes what the card does not hold */
  "partial_refund",  /* "amount" on a refund of a payment; "refunded" on transactions */
  "card_replace",    /* POST /v1/cards/{no}/replace; a closed card's "replaced_by", 409 card_closed */
  "level_up",        /* transactions show "level_up": the level a payment moved its card up to */
  "refund_replaced", /* a refund on a card names a payment or top-up of a card it replaced */
  NULL
};

static CtReply *
read_health (CtService *svc,
             CtCall    *call)
{
  json_object *obj = json_object_new_object ();
  json_object *list = json_object_new_array ();

  json_object_object_add (obj, "status", json_object_new_string ("ok"));
  json_object_object_add (obj, "version", json_object_new_string (PACKAGE_VERSION));
  for (gsize i = 0; features[i] != NULL; i++)
    json_object_array_add (list, json_object_new_string (features[i]));
  json_object_object_add (obj, "features", list);
  json_object_object_add (obj, "writes_waiting", json_object_new_int64 (ct_service_writes_waiting (svc)));
  return ct_reply_new_json (200, obj);
}

/* The levels, so that a till shows a member's level by name and what it
 * takes off a payment before the cashier confirms. */
static json_object *
levels_to_json (GPtrArray *levels)
{
  json_object *list = json_object_new_array ();

  for (guint i = 0; i < levels->len; i++)
    {
      CtStoreLevel *level = levels->pdata[i];
      json_object *lo = json_object_new_object ();

      json_object_object_add (lo, "id", json_object_new_string (level->id));
      json_object_object_add (lo, "name", json_object_new_string (level->name));
      json_object_object_add (lo, "min_spend", json_object_new_int64 (level->min_spend));
      json_object_object_add (lo, "discount_bp", json_object_new_int64 (level->discount_bp));
      json_object_object_add (lo, "points_multiplier_bp", json_object_new_int64 (level->points_multiplier_bp));
      json_object_object_add (lo, "topup_bonus_bp", json_object_new_int64 (level->topup_bonus_bp));
      json_object_array_add (list, lo);
    }
  return list;
}

static CtReply *
read_merchant (CtService *svc,
               CtCall    *call)
{
  CtStore *store = call->store;
  g_auto(CtStoreMerchant) m = { 0 };
  g_autoptr(GPtrArray) packages = NULL;
  g_autoptr(GPtrArray) cashiers = NULL;
  g_autoptr(GPtrArray) levels = NULL;
  g_autoptr(GError) error = NULL;
  json_object *obj, *list;
  int64_t pool;

  if (!ct_store_get_merchant (store, &m, &error)
      || (packages = ct_store_list_packages (store, &error)) == NULL
      || (cashiers = ct_store_cashier_list (store, &error)) == NULL
      || (levels = ct_store_level_list (store, &error)) == NULL
      || (pool = ct_store_account_balance (store, CT_ACCOUNT_POOL, &error)) < 0)
    return internal_read (error);

  obj = json_object_new_object ();
  json_object_object_add (obj, "name", json_object_new_string (m.name));
  json_object_object_add (obj, "currency", json_object_new_string (m.currency));
  json_object_object_add (obj, "minor_units", json_object_new_int (m.minor_units));
  json_object_object_add (obj, "topup_mode", json_object_new_string (m.topup_mode));
  list = json_object_new_array ();
  for (guint i = 0; i < packages->len; i++)
    {
      CtStorePackage *p = packages->pdata[i];
      json_object *po = json_object_new_object ();

      json_object_object_add (po, "id", json_object_new_string (p->id));
      json_object_object_add (po, "amount", json_object_new_int64 (p->amount));
      json_object_object_add (po, "bonus", json_object_new_int64 (ct_store_package_bonus (p)));
      json_object_array_add (list, po);
    }
  json_object_object_add (obj, "topup_packages", list);
  json_object_object_add (obj, "topup_min", json_object_new_int64 (m.topup_min));
  json_object_object_add (obj, "topup_max", json_object_new_int64 (m.topup_max));
  json_object_object_add (obj, "points_per_unit", json_object_new_int64 (m.points_per_unit));
  json_object_object_add (obj, "timezone", json_object_new_string (m.timezone));
  json_object_object_add (obj, "offline_payment_cap", json_object_new_int64 (m.offline_payment_cap));
  json_object_object_add (obj, "offline_card_cap", json_object_new_int64 (m.offline_card_cap));
  json_object_object_add (obj, "points_redeem_rate", json_object_new_int64 (m.points_redeem_rate));
  json_object_object_add (obj, "points_redeem_max_bp", json_object_new_int64 (m.points_redeem_max_bp));
  json_object_object_add (obj, "consent_over", json_object_new_int64 (m.consent_over));
  json_object_object_add (obj, "pool_balance", json_object_new_int64 (pool));
  json_object_object_add (obj, "cashier_sign_in", json_object_new_boolean (cashiers->len > 0));
  json_object_object_add (obj, "levels", levels_to_json (levels));
  /* The asking till as its transactions name it: a till tells its own
   * transactions from another till's (a receipt printed again names this
   * till's store and till as it calls them). */
  json_object_object_add (obj, "store", json_object_new_string (call->till.store));
  json_object_object_add (obj, "till", json_object_new_string (call->till.name));
  return ct_reply_new_json (200, obj);
}

static CtReply *
path_card (CtService  *svc,
           CtCall     *call,
           CtStoreMerchant *m,
           CtStoreCard     *card)
{
  CtStore *store = call->store;
  g_autoptr(GError) error = NULL;
  g_autofree char *no = NULL;
  CtReply *reply;

  if (!ct_store_get_merchant (store, m, &error))
    return internal_read (error);
  if ((reply = ct_call_card_number (call, call->args[0], m, &no)) != NULL)
    return reply;
  if (!ct_store_card_get (store, no, card, &error))
    {
      if (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND))
        return ct_reply_error (404, "card_not_found", "No card %s", no);
      return internal_read (error);
    }
  return NULL;
}

static CtReply *
read_card (CtService *svc,
           CtCall    *call)
{
  g_auto(CtStoreMerchant) m = { 0 };
  g_auto(CtStoreCard) card = { 0 };
  CtReply *reply;

  if ((reply = path_card (svc, call, &m, &card)) != NULL)
    return reply;
  return ct_reply_new_json (200, ct_service_card_to_json (&card));
}

static CtReply *
read_find_cards (CtService *svc,
                 CtCall    *call)
{
  const char *phone = query (call, "phone");
  const char *name = query (call, "name");
  g_autofree char *phone_key = NULL;
  gboolean tail = FALSE;
  g_autoptr(GPtrArray) cards = NULL;
  g_autoptr(GError) error = NULL;
  json_object *obj, *list;

  if ((phone == NULL) == (name == NULL) || (phone != NULL && *phone == '\0') || (name != NULL && *name == '\0'))
    return ct_reply_error (400, "bad_request", "Look members up with ?phone=P or ?name=N (one of them)");
  if (!g_utf8_validate (phone ? phone : name, -1, NULL) || strlen (phone ? phone : name) > 200)
    return ct_reply_error (400, "bad_request", "The search text is not valid");
  if (phone != NULL)
    {
      phone_key = ct_phone_search_key (phone, &tail);
      if (phone_key == NULL)
        return ct_reply_error (400, "bad_request",
                               "Look a phone up by the whole number or by its last 4 digits");
    }
  cards = ct_store_find_cards (call->store, phone_key, name, 50, &error);
  if (cards == NULL)
    return internal_read (error);
  obj = json_object_new_object ();
  list = json_object_new_array ();
  for (guint i = 0; i < cards->len; i++)
    {
      CtStoreCard *card = cards->pdata[i];

      /* Four digits match many members: the cashier chooses by name and
       * the masked phone, and nobody reads other members' numbers whole. */
      if (tail && card->phone != NULL)
        {
          char *masked = ct_phone_mask (card->phone);

          g_free (card->phone);
          card->phone = masked;
        }
      json_object_array_add (list, ct_service_card_to_json (card));
    }
  json_object_object_add (obj, "cards", list);
  return ct_reply_new_json (200, obj);
}

/* The ?limit= (1 to 500, 50 by default) and ?cursor= (0 when absent) of a
 * paged list of transactions, or the reply that refuses them. */
static CtReply *
query_page (CtCall  *call,
            guint64 *out_limit,
            guint64 *out_cursor)
{
  const char *limit = query (call, "limit");
  const char *cursor = query (call, "cursor");

  *out_limit = 50;
  *out_cursor = 0;
  if (limit != NULL && !g_ascii_string_to_unsigned (limit, 10, 1, 500, out_limit, NULL))
    return ct_reply_error (400, "bad_request", "\"limit\" is 1 to 500");
  if (cursor != NULL && !g_ascii_string_to_unsigned (cursor, 10, 1, G_MAXINT64, out_cursor, NULL))
    return ct_reply_error (400, "bad_request", "\"cursor\" is not one this service gave out");
  return NULL;
}

/* One page of @txs, which the store was asked for with one more than
 * @limit to tell whether another page exists: the first @limit as a JSON
 * array, and in @out_next the next page's cursor (the last one's id), or
 * NULL on the last page. */
static json_object *
tx_page (GPtrArray    *txs,
         guint64       limit,
         json_object **out_next)
{
  json_object *list = json_object_new_array ();

  for (guint i = 0; i < txs->len && i < limit; i++)
    json_object_array_add (list, ct_service_tx_to_json (txs->pdata[i]));
  *out_next = NULL;
  if (txs->len > limit)
    {
      CtStoreTx *last = txs->pdata[limit - 1];
      char buf[32];

      g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, last->id);
      *out_next = json_object_new_string (buf);
    }
  return list;
}

static CtReply *
read_card_history (CtService *svc,
                   CtCall    *call)
{
  g_auto(CtStoreMerchant) m = { 0 };
  g_auto(CtStoreCard) card = { 0 };
  g_autoptr(GPtrArray) txs = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *today = NULL;
  const char *from = query (call, "from");
  const char *to = query (call, "to");
  int64_t from_ms, to_ms, ignored;
  guint64 limit, before;
  json_object *obj, *next;
  CtReply *reply;

  if ((reply = path_card (svc, call, &m, &card)) != NULL)
    return reply;
  today = ct_service_today (m.timezone);
  if (from == NULL)
    from = to != NULL ? to : today;
  if (to == NULL)
    to = from;
  if (!ct_service_day_range (m.timezone, from, &from_ms, &ignored)
      || !ct_service_day_range (m.timezone, to, &ignored, &to_ms))
    return ct_reply_error (400, "bad_request", "Dates are YYYY-MM-DD");
  if (from_ms >= to_ms)
    return ct_reply_error (400, "bad_request", "\"from\" must not be after \"to\"");
  if ((reply = query_page (call, &limit, &before)) != NULL)
    return reply;
  /* One more than asked tells whether another page exists. */
  txs = ct_store_card_history (call->store, card.card_no, from_ms, to_ms, (int64_t) before,
                               (guint) limit + 1, &error);
  if (txs == NULL)
    return internal_read (error);
  obj = json_object_new_object ();
  json_object_object_add (obj, "transactions", tx_page (txs, limit, &next));
  json_object_object_add (obj, "next_cursor", next);
  return ct_reply_new_json (200, obj);
}

/* The day of ?date= (today by default) in the merchant's time zone. */
static CtReply *
query_day (CtCall                *call,
           const CtStoreMerchant *m,
           char                 **out_date,
           int64_t               *from_ms,
           int64_t               *to_ms)
{
  const char *date = query (call, "date");

  *out_date = date != NULL ? g_strdup (date) : ct_service_today (m->timezone);
  if (!ct_service_day_range (m->timezone, *out_date, from_ms, to_ms))
    return ct_reply_error (400, "bad_request", "\"date\" is YYYY-MM-DD");
  return NULL;
}

/* GET /v1/transactions?date=D[&store=S][&till=T][&limit=N&cursor=C]: one
 * page of a store's day, oldest first, with the whole day's totals summed
 * by the database, so memory stays bounded whatever the day's size. */
static CtReply *
read_store_day (CtService *svc,
                CtCall    *call)
{
  CtStore *store = call->store;
  g_auto(CtStoreMerchant) m = { 0 };
  g_autoptr(GPtrArray) txs = NULL;
  g_autoptr(GPtrArray) totals = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *date = NULL;
  const char *till = query (call, "till");
  const char *store_name = query (call, "store");
  guint64 limit, after;
  int64_t from_ms, to_ms;
  json_object *obj, *next;
  CtReply *reply;

  if (!ct_store_get_merchant (store, &m, &error))
    return internal_read (error);
  if ((reply = query_day (call, &m, &date, &from_ms, &to_ms)) != NULL)
    return reply;
  if (store_name == NULL)
    store_name = call->till.store;
  if (*store_name == '\0' || !g_utf8_validate (store_name, -1, NULL))
    return ct_reply_error (400, "bad_request", "\"store\" names a store of this merchant");
  if (till != NULL && (*till == '\0' || !g_utf8_validate (till, -1, NULL)))
    return ct_reply_error (400, "bad_request", "\"till\" names a till of this store");
  if ((reply = query_page (call, &limit, &after)) != NULL)
    return reply;
  /* One more than asked tells whether another page exists. */
  txs = ct_store_store_day (store, store_name, till, from_ms, to_ms, (int64_t) after, (guint) limit + 1, &error);
  if (txs == NULL)
    return internal_read (error);
  totals = ct_store_day_totals (store, store_name, till, from_ms, to_ms, FALSE, &error);
  if (totals == NULL || totals->len != 1)
    return internal_read (error);

  obj = json_object_new_object ();
  json_object_object_add (obj, "date", json_object_new_string (date));
  json_object_object_add (obj, "store", json_object_new_string (store_name));
  json_object_object_add (obj, "transactions", tx_page (txs, limit, &next));
  json_object_object_add (obj, "totals", ct_service_totals_to_json (totals->pdata[0]));
  json_object_object_add (obj, "next_cursor", next);
  return ct_reply_new_json (200, obj);
}

/* GET /v1/reports/day?date=D: the merchant's day per store and per till
 * (one row per till that took a transaction), and in all, by kind and by
 * tender, with the day's shifts. */
static CtReply *
read_day_report (CtService *svc,
                 CtCall    *call)
{
  CtStore *store = call->store;
  g_auto(CtStoreMerchant) m = { 0 };
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *date = NULL;
  CtStoreDayTotals all = { 0 }, store_sum = { 0 };
  int64_t from_ms, to_ms;
  json_object *obj, *stores, *tills = NULL;
  CtReply *reply;

  if (!ct_store_get_merchant (store, &m, &error))
    return internal_read (error);
  if ((reply = query_day (call, &m, &date, &from_ms, &to_ms)) != NULL)
    return reply;
  rows = ct_store_day_totals (store, NULL, NULL, from_ms, to_ms, TRUE, &error);
  if (rows == NULL)
    return internal_read (error);

  obj = json_object_new_object ();
  json_object_object_add (obj, "date", json_object_new_string (date));
  stores = json_object_new_array ();
  /* Rows come in store, till order: a store's tills are together. */
  for (guint i = 0; i <= rows->len; i++)
    {
      CtStoreDayTotals *t = i < rows->len ? rows->pdata[i] : NULL;
      CtStoreDayTotals *prev = i > 0 ? rows->pdata[i - 1] : NULL;

      if (prev != NULL && (t == NULL || g_strcmp0 (t->store, prev->store) != 0))
        {
          json_object *s = json_object_new_object ();

          json_object_object_add (s, "store", json_object_new_string (prev->store));
          json_object_object_add (s, "totals", ct_service_totals_to_json (&store_sum));
          json_object_object_add (s, "tills", g_steal_pointer (&tills));
          json_object_array_add (stores, s);
          memset (&store_sum, 0, sizeof store_sum);
        }
      if (t == NULL)
        break;
      if (tills == NULL)
        tills = json_object_new_array ();
      {
        json_object *row = json_object_new_object ();

        json_object_object_add (row, "till", json_object_new_string (t->till));
        json_object_object_add (row, "totals", ct_service_totals_to_json (t));
        json_object_array_add (tills, row);
      }
      ct_store_day_totals_add (&store_sum, t);
      ct_store_day_totals_add (&all, t);
    }
  json_object_object_add (obj, "stores", stores);
  json_object_object_add (obj, "totals", ct_service_totals_to_json (&all));
  /* The day's shifts, each with its cash count and variance. */
  if ((reply = ct_shifts_add_day (store, NULL, NULL, from_ms, to_ms, obj)) != NULL)
    {
      json_object_put (obj);
      return reply;
    }
  return ct_reply_new_json (200, obj);
}

static CtReply *
read_ledger_check (CtService *svc,
                   CtCall    *call)
{
  CtStoreLedgerCheck check;
  g_autoptr(GError) error = NULL;
  json_object *obj, *tenders;

  if (!ct_store_ledger_check (call->store, &check, &error))
    return internal_read (error);
  obj = json_object_new_object ();
  json_object_object_add (obj, "sum", json_object_new_int64 (check.sum));
  json_object_object_add (obj, "cards", json_object_new_int64 (check.cards));
  json_object_object_add (obj, "pool", json_object_new_int64 (check.pool));
  json_object_object_add (obj, "cash", json_object_new_int64 (check.cash));
  json_object_object_add (obj, "promo", json_object_new_int64 (check.promo));
  json_object_object_add (obj, "legacy", json_object_new_int64 (check.legacy));
  tenders = json_object_new_object ();
  for (guint i = 0; i < CT_N_TENDERS; i++)
    json_object_object_add (tenders, ct_store_tender_to_string (i), json_object_new_int64 (check.tenders[i]));
  json_object_object_add (obj, "tenders", tenders);
  json_object_object_add (obj, "postings_sum", json_object_new_int64 (check.postings_sum));
  json_object_object_add (obj, "balanced", json_object_new_boolean (check.sum == 0 && check.postings_sum == 0
                                                                    && check.balances_match));
  return ct_reply_new_json (200, obj);
}

/**
 * ct_service_parse_body:
 * Runs the parse step of the write route for @method and @path on @body, as
 * the service would, without a server or a database. Returns the refusal, or
 * NULL when the body would go on to the ledger.
 */
CtReply *
ct_service_parse_body (const char *method,
                       const char *path,
                       const char *body,
                       gsize       len)
{
  CtCall call = { 0 };
  const CtRoute *route;
  gboolean known;
  CtReply *reply = NULL;

  route = ct_service_route (method, path, call.args, &known);
  if (route == NULL || route->parse == NULL)
    return ct_reply_error (404, "not_found", "No such endpoint");
  call.body = g_string_new_len (body, len);
  reply = route->parse (NULL, &call);
  g_string_free (call.body, TRUE);
  g_clear_pointer (&call.json, json_object_put);
  if (call.data_free)
    call.data_free (call.data);
  g_free (call.manager_id);
  g_free (call.manager_pin);
  g_free (call.guard_id);
  g_free (call.member_pin);
  g_free (call.args[0]);
  g_free (call.args[1]);
  return reply;
}
