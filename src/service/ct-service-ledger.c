/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-service-ledger"
#include "config.h"

#include <string.h>

#include "ct-card-number.h"
#include "ct-money.h"
#include "ct-phone.h"
#include "ct-service-ledger.h"
#include "ct-service-levels.h"
#include "ct-wallet-outbox.h"
#include "ct-service-member.h"

/* The ledger rules of docs/ledger.md. Parse functions run in a worker thread
 * and only look at the body; apply functions run in the committer, inside
 * the request's savepoint, in the order of §4: card (404), manager, then the
 * business rules. */

#define TEXT_MAX 200

typedef struct
{
  const char *operator_name;
  const char *name;
  const char *phone;
  const char *level;
  const char *status;
  const char *card_no;
  const char *package_id;
  const char *order_ref;
  const char *reason;
  const char *transaction_id;
  gboolean    has_member;
  gboolean    has_name;
  gboolean    has_phone;
  gboolean    has_level;
  gboolean    has_amount;
  gboolean    has_expect;
  int64_t     amount;
  int64_t     expect_amount;
  int64_t     expect_bonus;
  int64_t     delta;
  CtTender    tender;
  int64_t     taken_at;      /* ms, 0 when the request did not say */
  char       *phone_digits;  /* owns the normalised phone that phone points to */
  int64_t     redeem_points;
  const char *member_code;
  gboolean    has_rest;      /* a split payment: another tender took the rest of the order */
  int64_t     rest;
  CtTender    rest_tender;
} Req;

static void
req_free (gpointer data)
{
  Req *r = data;

  g_free (r->phone_digits);
  g_free (r);
}

static Req *
req_new (CtCall *call)
{
  Req *r = g_new0 (Req, 1);

  call->data = r;
  call->data_free = req_free;
  return r;
}

/* A write that failed. On PostgreSQL a write deferred to the next round
 * trip may meet the pool's floor there, in whatever statement follows
 * it: that is the merchant pool's refusal, whichever route it is. */
static CtReply *
internal (GError *error)
{
  if (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT_POOL))
    {
      g_warning ("ledger: refused by the pool's floor, nothing was changed: %s", error->message);
      return ct_reply_error (409, "insufficient_pool",
                             "The merchant's card account holds too little for this; nothing was changed");
    }
  g_warning ("ledger: %s", error ? error->message : "unknown failure");
  return ct_reply_error (500, "internal", "The service could not complete the request; nothing was changed");
}

static gboolean
is_null (json_object *obj,
         const char  *key)
{
  json_object *v = NULL;

  return json_object_object_get_ex (obj, key, &v) && v == NULL;
}

/* Reads "member": {"name", "phone"}; on PATCH both are optional. */
static CtReply *
parse_member (CtCall   *call,
              Req      *r,
              gboolean  required)
{
  json_object *m = NULL;
  CtReply *reply = NULL;

  if (!json_object_object_get_ex (call->json, "member", &m) || m == NULL)
    {
      if (required)
        return ct_reply_error (400, "bad_request", "\"member\": {\"name\", \"phone\"} is required");
      return NULL;
    }
  if (!json_object_is_type (m, json_type_object))
    return ct_reply_error (400, "bad_request", "\"member\" must be an object");
  if ((reply = ct_json_refuse_unknown (m, "member.", (const char * const[]) { "name", "phone", NULL })) != NULL)
    return reply;
  r->has_member = TRUE;
  if (!ct_json_get_string (m, "name", required, TEXT_MAX, &r->name, &reply)
      || !ct_json_get_string (m, "phone", FALSE, 32, &r->phone, &reply))
    return reply;
  r->has_name = r->name != NULL;
  r->has_phone = r->phone != NULL || is_null (m, "phone");
  if (r->name != NULL && *r->name == '\0')
    return ct_reply_error (400, "bad_request", "\"member.name\" must not be empty");
  if (r->phone != NULL && *r->phone == '\0')
    r->phone = NULL;
  if (r->phone != NULL)
    {
      g_autoptr(GError) error = NULL;

      r->phone_digits = ct_phone_normalize (r->phone, &error);
      if (r->phone_digits == NULL)
        return ct_reply_error (400, "bad_request", "\"member.phone\": %s", error->message);
      r->phone = r->phone_digits;
    }
  return NULL;
}

static CtReply *
parse_level (CtCall *call,
             Req    *r)
{
  CtReply *reply = NULL;

  if (!ct_json_get_string (call->json, "level", FALSE, 64, &r->level, &reply))
    return reply;
  r->has_level = r->level != NULL || is_null (call->json, "level");
  if (r->level != NULL && *r->level == '\0')
    r->level = NULL;
  return NULL;
}

/* The body as an object of the fields @known, with "operator" and
 * "manager" read. */
static CtReply *
parse_common (CtCall              *call,
              const char * const  *known,
              Req                **out,
              gboolean             operator_required)
{
  CtReply *reply;
  Req *r;

  if ((reply = ct_call_body_object (call)) != NULL
      || (reply = ct_json_refuse_unknown (call->json, "", known)) != NULL)
    return reply;
  r = req_new (call);
  *out = r;
  if (!ct_json_get_string (call->json, "operator", operator_required, 64, &r->operator_name, &reply))
    return reply;
  return ct_call_take_manager (call);
}

/**
 * ct_ledger_parse_taken_at:
 * Reads the optional "taken_at" (RFC 3339: when the customer paid, by the
 * till's clock) into @out_ms, 0 when absent. The service takes a time at
 * most a minute ahead of its own clock and no older than it keeps
 * Idempotency-Keys (less a day), so a replay can never apply twice.
 */
CtReply *
ct_ledger_parse_taken_at (CtCall  *call,
                          int64_t *out_ms)
{
  g_autoptr(GDateTime) when = NULL;
  const char *text = NULL;
  CtReply *reply = NULL;
  int64_t now = ct_store_now_ms ();

  *out_ms = 0;
  if (!ct_json_get_string (call->json, "taken_at", FALSE, 64, &text, &reply))
    return reply;
  if (text == NULL)
    return NULL;
  when = g_date_time_new_from_iso8601 (text, NULL);
  if (when == NULL)
    return ct_reply_error (400, "bad_request",
                           "\"taken_at\" is an RFC 3339 time with its offset, like 2026-01-31T23:59:00+08:00");
  *out_ms = g_date_time_to_unix (when) * 1000 + g_date_time_get_microsecond (when) / 1000;
  if (*out_ms > now + CT_LEDGER_TAKEN_AT_SKEW_MS)
    return ct_reply_error (422, "invalid_taken_at",
                           "\"taken_at\" %s is ahead of the service's clock: check the till's clock", text);
  if (*out_ms < now - (int64_t) (CT_SERVICE_KEY_RETENTION_DAYS - 1) * 86400 * 1000)
    return ct_reply_error (422, "invalid_taken_at",
                           "\"taken_at\" %s is older than the %d days a request may wait to be sent", text,
                           CT_SERVICE_KEY_RETENTION_DAYS - 1);
  call->taken_at = *out_ms;
  return NULL;
}

/* Looks the path's card up; 422 invalid_card_no or 404 card_not_found. */
static CtReply *
load_card (CtCall           *call,
           CtStore          *store,
           const CtStoreMerchant *merchant,
           CtStoreCard           *card)
{
  g_autofree char *no = NULL;
  g_autoptr(GError) error = NULL;
  CtReply *reply;

  if ((reply = ct_call_card_number (call, call->args[0], merchant, &no)) != NULL)
    return reply;
  if (!ct_store_card_get (store, no, card, &error))
    {
      if (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND))
        return ct_reply_error (404, "card_not_found", "No card %s", no);
      return internal (error);
    }
  g_free (call->card_no);
  call->card_no = g_steal_pointer (&no);
  return NULL;
}

/* A closed card (replaced by another) takes no request but being looked
 * up: 409 card_closed naming the card that replaced it. */
static CtReply *
refuse_closed (const CtStoreCard *card)
{
  if (g_strcmp0 (card->status, "closed") == 0)
    return ct_reply_card_closed (card);
  return NULL;
}

/* The path's card for a manager's request, in the order of the checks:
 * the card (load_card()), the manager (ct_call_check_manager()), then a
 * closed card refused. */
static CtReply *
load_card_for_manager (CtCall                *call,
                       CtStore               *store,
                       const CtStoreMerchant *merchant,
                       CtStoreCard           *card)
{
  CtReply *reply;

  if ((reply = load_card (call, store, merchant, card)) != NULL
      || (reply = ct_call_check_manager (call, store)) != NULL)
    return reply;
  return refuse_closed (card);
}

/* Puts a copy of @value in place of *@field. */
static void
replace_string (char       **field,
                const char  *value)
{
  g_free (*field);
  *field = g_strdup (value);
}

static CtReply *
card_reply (guint         status,
            const CtStoreCard *card)
{
  return ct_reply_new_json (status, ct_service_card_to_json (card));
}

static void
tx_fill (CtStoreTx       *tx,
         CtCall     *call,
         const char *card_no,
         const char *kind,
         const char *operator_name)
{
  tx->card_no = g_strdup (card_no);
  tx->kind = g_strdup (kind);
  tx->store = g_strdup (call->till.store);
  tx->till = g_strdup (call->till.name);
  tx->operator_name = g_strdup (operator_name);
  tx->manager = call->manager_outcome == CT_MANAGER_OUTCOME_SUCCESS ? g_strdup (call->manager_id) : NULL;
  tx->created_at = call->now_ms != 0 ? call->now_ms : ct_store_now_ms ();
  tx->taken_at = ((Req *) call->data)->taken_at;
  if (tx->taken_at == 0)
    tx->taken_at = tx->created_at;
}

/* Records who changed a card; the PIN never goes into the record. */
static gboolean
record_event (CtStore     *store,
              CtCall      *call,
              const char  *card_no,
              const char  *kind,
              const char  *operator_name,
              GError     **error)
{
  json_object *detail = NULL;
  gboolean ok;

  if (json_object_deep_copy (call->json, &detail, NULL) != 0)
    detail = json_object_new_object ();
  json_object_object_del (detail, "manager");
  json_object_object_del (detail, "member_pin");
  ok = ct_store_card_event (store, card_no, kind,
                            json_object_to_json_string_ext (detail, JSON_C_TO_STRING_PLAIN),
                            call->till.store, call->till.name, operator_name,
                            call->manager_outcome == CT_MANAGER_OUTCOME_SUCCESS ? call->manager_id : NULL,
                            error);
  json_object_put (detail);
  /* The member's wallet learns of the new card, or its new state. */
  return ok && ct_wallet_outbox_card_changed (store, card_no, g_str_equal (kind, "issue"), error);
}

/* What a payment adds to its card's spend, and the level that took it
 * to (docs/ledger.md, "Levels"). */
typedef struct
{
  GPtrArray          *levels;
  int64_t             delta;
  int64_t             after;
  const CtStoreLevel *reached;
} SpendStep;

/* Posts @tx and answers {"transaction", "card"} as JSON text left open
 * (no closing brace) for the caller to add to and close; NULL with @error
 * when the store refused. The answer is written as text, not built as
 * json-c objects: this is every payment's and top-up's answer. A payment
 * books its @spend, and the card's move up with it, before the card is
 * answered. @before is the card read in this request's transaction, or
 * NULL: then it is read after the postings; else it is brought to what
 * the postings made of it (and is the card answered). */
static GString *
post_answer (CtStore              *store,
             CtStoreTx            *tx,
             const CtStorePosting *postings,
             guint                 n_postings,
             int64_t               points_delta,
             SpendStep            *spend,
             CtStoreCard          *before,
             GError              **error)
{
  g_auto(CtStoreCard) read = { 0 };
  CtStoreCard *card = before;
  GString *out;

  if (before != NULL)
    {
      if (!ct_store_post_card (store, postings, n_postings, before, error))
        return NULL;
    }
  else if (!ct_store_post (store, postings, n_postings, error)
           || !ct_store_card_get (store, tx->card_no, &read, error))
    return NULL;
  else
    card = &read;
  if (points_delta != 0 && !ct_store_card_add_points (store, tx->card_no, points_delta, &card->points, error))
    return NULL;
  if (spend != NULL
      && !ct_levels_add_spend (store, spend->levels, card, spend->delta, &spend->after, &spend->reached, error))
    return NULL;
  /* The move up is kept with the payment that made it, for its receipt
   * printed again later. */
  if (spend != NULL && spend->reached != NULL)
    {
      g_free (tx->level_up);
      tx->level_up = g_strdup (spend->reached->id);
    }
  tx->balance_after = card->balance;
  tx->points_delta = points_delta;
  tx->points_after = card->points;
  if (!ct_store_tx_insert (store, tx, postings, n_postings, error)
      || !ct_wallet_outbox_ledger_tx (store, tx, card, error))
    return NULL;
  out = g_string_sized_new (640);
  g_string_append (out, "{\"transaction\":");
  ct_service_tx_write (out, tx);
  g_string_append (out, ",\"card\":");
  ct_service_card_write (out, card);
  return out;
}

static CtReply *
reply_from_text (guint    status,
                 GString *body)
{
  CtReply *r = g_new0 (CtReply, 1);

  g_string_append_c (body, '}');
  r->status = status;
  r->body = g_string_free (body, FALSE);
  return r;
}

/* The money belongs to the shift that was open on this till when the
 * customer paid, whenever the request arrives; a merchant that requires
 * shifts takes no money outside one (409 shift_required). */
static CtReply *
find_shift (CtStore               *store,
            const CtStoreMerchant *merchant,
            CtStoreTx             *tx)
{
  g_autoptr(GError) error = NULL;

  tx->shift_id = ct_store_shift_at (store, tx->store, tx->till, tx->taken_at, &error);
  if (tx->shift_id < 0)
    return internal (g_steal_pointer (&error));
  if (tx->shift_id == 0 && merchant->require_shift)
    return ct_reply_error (409, "shift_required",
                           "This store takes money only during a shift: open a shift on till %s first", tx->till);
  return NULL;
}

CtReply *
ct_ledger_post (CtStore               *store,
                const CtStoreMerchant *merchant,
                CtCall                *call,
                CtStoreTx             *tx,
                const CtStorePosting  *postings,
                guint                  n_postings,
                int64_t                points_delta,
                GError               **error)
{
  GString *out;
  CtReply *refusal;

  if ((refusal = find_shift (store, merchant, tx)) != NULL)
    return refusal;
  out = post_answer (store, tx, postings, n_postings, points_delta, NULL, NULL, error);
  return out != NULL ? reply_from_text (201, out) : NULL;
}

/* Inserts @card under @no (taken; 409 card_exists when the number is
 * taken), or under a new number the service draws when @no is NULL. */
static CtReply *
insert_card (CtStore               *store,
             const CtStoreMerchant *merchant,
             CtStoreCard           *card,
             char                  *no)
{
  g_autoptr(GError) error = NULL;

  if (no != NULL)
    {
      card->card_no = no;
      if (!ct_store_card_insert (store, card, &error))
        {
          if (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS))
            return ct_reply_error (409, "card_exists", "Card %s already exists", card->card_no);
          return internal (error);
        }
    }
  else
    {
      g_autoptr(GRand) rand = g_rand_new ();

      /* Random numbers under the issuer prefix; a collision just draws again. */
      for (int attempt = 0;; attempt++)
        {
          g_clear_pointer (&card->card_no, g_free);
          card->card_no = ct_card_number_generate (merchant->issuer_prefix, rand);
          if (ct_store_card_insert (store, card, &error))
            break;
          if (!g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS) || attempt >= 50)
            return internal (error);
          g_clear_error (&error);
        }
    }
  return NULL;
}

/* POST /v1/cards */

CtReply *
ct_ledger_parse_issue (CtService *svc,
                       CtCall    *call)
{
  static const char * const known[] = { "member", "level", "card_no", "member_pin", "operator", "manager", NULL };
  CtReply *reply;
  Req *r = NULL;

  if ((reply = parse_common (call, known, &r, TRUE)) != NULL)
    return reply;
  if ((reply = parse_member (call, r, TRUE)) != NULL || (reply = parse_level (call, r)) != NULL
      || (reply = ct_call_take_member_pin (call, TRUE)) != NULL)
    return reply;
  if (!ct_json_get_string (call->json, "card_no", FALSE, 64, &r->card_no, &reply))
    return reply;
  return NULL;
}

CtReply *
ct_ledger_apply_issue (CtService        *svc,
                       CtStore          *store,
                       const CtStoreMerchant *merchant,
                       CtCall           *call)
{
  Req *r = call->data;
  g_auto(CtStoreCard) card = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *no = NULL;
  g_autofree char *member_url = NULL;
  json_object *obj;
  CtReply *reply;

  if (r->card_no != NULL)
    {
      CtCardNumberKind kind;

      no = ct_card_number_normalize (r->card_no, merchant->issuer_prefix, &kind, &error);
      if (no == NULL)
        return ct_reply_error (422, "invalid_card_no", "%s", error->message);
    }
  if ((reply = ct_call_check_manager (call, store)) != NULL)
    return reply;

  card.status = g_strdup ("active");
  card.level = g_strdup (r->level);
  card.name = g_strdup (r->name);
  card.phone = g_strdup (r->phone);
  card.created_at = card.updated_at = ct_store_now_ms ();
  if ((reply = insert_card (store, merchant, &card, g_steal_pointer (&no))) != NULL)
    return reply;
  call->card_no = g_strdup (card.card_no);
  if (!record_event (store, call, card.card_no, "issue", r->operator_name, &error)
      || !ct_call_put_member_pin (call, store, card.card_no, &error))
    return internal (error);
  member_url = ct_member_link_new (store, call, card.card_no, &error);
  if (member_url == NULL)
    return internal (error);
  obj = ct_service_card_to_json (&card);
  json_object_object_add (obj, "member_url", json_object_new_string (member_url));
  return ct_reply_new_json (201, obj);
}

/* POST /v1/cards/{no}/member-link {"manager", "operator"?}: a new link to
 * the member's page; the old one stops. */

CtReply *
ct_ledger_parse_member_link (CtService *svc,
                             CtCall    *call)
{
  static const char * const known[] = { "operator", "manager", NULL };
  Req *r = NULL;

  return parse_common (call, known, &r, FALSE);
}

CtReply *
ct_ledger_apply_member_link (CtService             *svc,
                             CtStore               *store,
                             const CtStoreMerchant *merchant,
                             CtCall                *call)
{
  Req *r = call->data;
  g_auto(CtStoreCard) card = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *member_url = NULL;
  json_object *obj;
  CtReply *reply;

  if ((reply = load_card_for_manager (call, store, merchant, &card)) != NULL)
    return reply;
  member_url = ct_member_link_new (store, call, card.card_no, &error);
  if (member_url == NULL || !record_event (store, call, card.card_no, "member_link", r->operator_name, &error))
    return internal (error);
  obj = json_object_new_object ();
  json_object_object_add (obj, "member_url", json_object_new_string (member_url));
  return ct_reply_new_json (201, obj);
}

/* POST /v1/cards/{no}/member-pin {"member_pin", "manager", "operator"?}:
 * the member chose a new PIN (typed on the till's keypad); the wrong PINs
 * and locks of the old one are forgotten. */

CtReply *
ct_ledger_parse_member_pin (CtService *svc,
                            CtCall    *call)
{
  static const char * const known[] = { "member_pin", "operator", "manager", NULL };
  CtReply *reply;
  Req *r = NULL;

  if ((reply = parse_common (call, known, &r, FALSE)) != NULL
      || (reply = ct_call_take_member_pin (call, TRUE)) != NULL)
    return reply;
  if (call->member_pin == NULL)
    return ct_reply_error (400, "bad_request", "\"member_pin\" is required");
  return NULL;
}

CtReply *
ct_ledger_apply_member_pin (CtService             *svc,
                            CtStore               *store,
                            const CtStoreMerchant *merchant,
                            CtCall                *call)
{
  Req *r = call->data;
  g_auto(CtStoreCard) card = { 0 };
  g_autoptr(GError) error = NULL;
  CtReply *reply;

  if ((reply = load_card_for_manager (call, store, merchant, &card)) != NULL)
    return reply;
  if (!ct_call_put_member_pin (call, store, card.card_no, &error)
      || !record_event (store, call, card.card_no, "member_pin", r->operator_name, &error))
    return internal (error);
  return card_reply (200, &card);
}

/* PATCH /v1/cards/{no} */

CtReply *
ct_ledger_parse_patch (CtService *svc,
                       CtCall    *call)
{
  static const char * const known[] = { "member", "level", "status", "operator", "manager", NULL };
  CtReply *reply;
  Req *r = NULL;

  if ((reply = parse_common (call, known, &r, FALSE)) != NULL)
    return reply;
  if ((reply = parse_member (call, r, FALSE)) != NULL || (reply = parse_level (call, r)) != NULL)
    return reply;
  if (!ct_json_get_string (call->json, "status", FALSE, 16, &r->status, &reply))
    return reply;
  if (r->status != NULL && !g_str_equal (r->status, "active") && !g_str_equal (r->status, "frozen"))
    return ct_reply_error (400, "bad_request", "\"status\" is \"active\" or \"frozen\", not \"%s\"", r->status);
  return NULL;
}

CtReply *
ct_ledger_apply_patch (CtService        *svc,
                       CtStore          *store,
                       const CtStoreMerchant *merchant,
                       CtCall           *call)
{
  Req *r = call->data;
  g_auto(CtStoreCard) card = { 0 };
  g_autoptr(GError) error = NULL;
  CtReply *reply;

  if ((reply = load_card_for_manager (call, store, merchant, &card)) != NULL)
    return reply;
  if (r->has_name)
    replace_string (&card.name, r->name);
  if (r->has_phone)
    replace_string (&card.phone, r->phone);
  if (r->has_level)
    replace_string (&card.level, r->level);
  if (r->status != NULL)
    replace_string (&card.status, r->status);
  card.updated_at = ct_store_now_ms ();
  if (!ct_store_card_update (store, &card, &error)
      || !record_event (store, call, card.card_no, r->status != NULL ? r->status : "change",
                        r->operator_name, &error))
    return internal (error);
  return card_reply (200, &card);
}

/* POST /v1/cards/{no}/topups */

CtReply *
ct_ledger_parse_topup (CtService *svc,
                       CtCall    *call)
{
  static const char * const known[] = { "package_id", "amount", "expect", "tender", "taken_at", "operator", NULL };
  CtReply *reply;
  json_object *expect = NULL;
  const char *tender = NULL;
  Req *r = NULL;

  if ((reply = parse_common (call, known, &r, TRUE)) != NULL)
    return reply;
  if (!ct_json_get_string (call->json, "package_id", FALSE, 64, &r->package_id, &reply)
      || !ct_json_get_int (call->json, "amount", FALSE, &r->has_amount, &r->amount, &reply))
    return reply;
  if (!ct_json_get_string (call->json, "tender", FALSE, 16, &tender, &reply))
    return reply;
  if (tender != NULL && !ct_store_tender_from_string (tender, &r->tender))
    return ct_reply_error (400, "bad_request",
                           "\"tender\" is \"cash\", \"wechat\", \"alipay\", \"bank_card\" or \"other\", not \"%s\"",
                           tender);
  if ((reply = ct_ledger_parse_taken_at (call, &r->taken_at)) != NULL)
    return reply;
  if (r->package_id != NULL && r->has_amount)
    return ct_reply_error (400, "bad_request", "A top-up names either \"package_id\" or \"amount\", not both");
  if (r->package_id == NULL && !r->has_amount)
    return ct_reply_error (400, "bad_request", "A top-up needs \"package_id\" (fixed mode) or \"amount\" (any mode)");
  if (json_object_object_get_ex (call->json, "expect", &expect) && expect != NULL)
    {
      if (!json_object_is_type (expect, json_type_object))
        return ct_reply_error (400, "bad_request", "\"expect\" must be an object {\"amount\", \"bonus\"}");
      if ((reply = ct_json_refuse_unknown (expect, "expect.", (const char * const[]) { "amount", "bonus", NULL }))
          != NULL)
        return reply;
      if (!ct_json_get_int (expect, "amount", TRUE, NULL, &r->expect_amount, &reply)
          || !ct_json_get_int (expect, "bonus", TRUE, NULL, &r->expect_bonus, &reply))
        return reply;
      r->has_expect = TRUE;
    }
  return NULL;
}

CtReply *
ct_ledger_apply_topup (CtService        *svc,
                       CtStore          *store,
                       const CtStoreMerchant *merchant,
                       CtCall           *call)
{
  Req *r = call->data;
  g_auto(CtStoreCard) card = { 0 };
  g_auto(CtStoreTx) tx = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) levels = NULL;
  const CtStoreLevel *level = NULL;
  int64_t amount, bonus = 0, level_bonus = 0, total;
  g_autofree char *min_text = NULL;
  g_autofree char *max_text = NULL;
  GString *root;
  CtReply *reply;

  if ((reply = load_card (call, store, merchant, &card)) != NULL
      || (reply = refuse_closed (&card)) != NULL)
    return reply;

  if (g_str_equal (merchant->topup_mode, "fixed"))
    {
      g_auto(CtStorePackage) pkg = { 0 };

      if (r->package_id == NULL)
        return ct_reply_error (422, "invalid_amount",
                               "This merchant tops up in fixed packages: name a \"package_id\" instead of an amount");
      if (!ct_store_get_package (store, r->package_id, &pkg, &error))
        {
          if (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND))
            return ct_reply_error (404, "not_found", "There is no top-up package \"%s\"", r->package_id);
          return internal (error);
        }
      amount = pkg.amount;
      bonus = ct_store_package_bonus (&pkg);
      if (g_str_equal (card.status, "frozen"))
        return ct_reply_error (409, "card_frozen", "Card %s is frozen: no top-ups", card.card_no);
      if (r->has_expect && (r->expect_amount != amount || r->expect_bonus != bonus))
        {
          g_autofree char *a = ct_money_format_plain (amount, merchant->minor_units);
          g_autofree char *b = ct_money_format_plain (bonus, merchant->minor_units);
          return ct_reply_error (409, "package_changed",
                                 "Package %s is now %s with bonus %s; show the customer the new terms",
                                 pkg.id, a, b);
        }
      /* The member's level adds to a package's bonus, funded by promo. */
      if ((levels = ct_store_level_list (store, &error)) == NULL)
        return internal (error);
      level = ct_levels_find (levels, card.level);
      if (level != NULL)
        level_bonus = ct_money_share_bp (amount, level->topup_bonus_bp);
      if (!ct_money_add (bonus, level_bonus, &bonus, NULL))
        return ct_reply_error (422, "invalid_amount", "This top-up would take the card's balance beyond the limit");
    }
  else
    {
      if (r->package_id != NULL)
        return ct_reply_error (422, "invalid_amount",
                               "This merchant tops up any amount: send \"amount\", not a package");
      amount = r->amount;
      min_text = ct_money_format_plain (merchant->topup_min, merchant->minor_units);
      max_text = ct_money_format_plain (merchant->topup_max, merchant->minor_units);
      if (amount < merchant->topup_min || amount > merchant->topup_max || amount <= 0)
        return ct_reply_error (422, "invalid_amount", "A top-up is between %s and %s", min_text, max_text);
      if (g_str_equal (card.status, "frozen"))
        return ct_reply_error (409, "card_frozen", "Card %s is frozen: no top-ups", card.card_no);
    }

  if (!ct_money_add (amount, bonus, &total, NULL) || total > CT_MONEY_MAX - card.balance)
    return ct_reply_error (422, "invalid_amount", "This top-up would take the card's balance beyond the limit");

  {
    CtStorePosting postings[] = {
      { ct_store_tender_account (r->tender), -amount },
      { card.card_no, amount },
      { CT_ACCOUNT_PROMO, -bonus },
      { card.card_no, bonus },
    };

    tx_fill (&tx, call, card.card_no, "topup", r->operator_name);
    tx.delta = total;
    tx.bonus = bonus;
    tx.tender = g_strdup (ct_store_tender_to_string (r->tender));
    tx.level = level != NULL ? g_strdup (level->id) : NULL;
    tx.level_bonus = level_bonus;
    if ((reply = find_shift (store, merchant, &tx)) != NULL)
      return reply;
    root = post_answer (store, &tx, postings, G_N_ELEMENTS (postings), 0, NULL, &card, &error);
  }
  if (root != NULL && level != NULL)
    {
      CtStoreBenefit benefit = { level->id, amount, 0, level->points_multiplier_bp, level_bonus };

      if (!ct_store_benefit_put (store, tx.id, &benefit, &error))
        {
          g_string_free (root, TRUE);
          root = NULL;
        }
    }
  if (root == NULL)
    return internal (error);
  /* What the member's level added, for the till's receipt. */
  ct_levels_write_applied (root, level);
  g_string_append_printf (root, ",\"level_bonus\":%" G_GINT64_FORMAT, level_bonus);
  return reply_from_text (201, root);
}

/* POST /v1/cards/{no}/payments */

/* Reads the optional "rest": {"amount", "tender"} of a split payment: the
 * part of the order the card does not pay, taken by another tender. The
 * amount's range is a business rule, checked after the card (422). */
static CtReply *
parse_rest (CtCall *call,
            Req    *r)
{
  json_object *rest = NULL;
  const char *tender = NULL;
  CtReply *reply = NULL;

  if (!json_object_object_get_ex (call->json, "rest", &rest) || rest == NULL)
    return NULL;
  if (!json_object_is_type (rest, json_type_object))
    return ct_reply_error (400, "bad_request", "\"rest\" must be an object {\"amount\", \"tender\"}");
  if ((reply = ct_json_refuse_unknown (rest, "rest.", (const char * const[]) { "amount", "tender", NULL })) != NULL)
    return reply;
  if (!json_object_object_get_ex (rest, "amount", NULL))
    return ct_reply_error (400, "bad_request", "\"rest.amount\" is required");
  if (!ct_json_get_int (rest, "amount", TRUE, NULL, &r->rest, &reply)
      || !ct_json_get_string (rest, "tender", FALSE, 16, &tender, &reply))
    return reply;
  if (tender == NULL)
    return ct_reply_error (400, "bad_request", "\"rest.tender\" is required");
  if (!ct_store_tender_from_string (tender, &r->rest_tender))
    return ct_reply_error (400, "bad_request",
                           "\"rest.tender\" is \"cash\", \"wechat\", \"alipay\", \"bank_card\" or \"other\", not \"%s\"",
                           tender);
  r->has_rest = TRUE;
  return NULL;
}

CtReply *
ct_ledger_parse_payment (CtService *svc,
                         CtCall    *call)
{
  static const char * const known[] = { "amount", "order_ref", "redeem_points", "member_code", "member_pin", "rest",
                                        "taken_at", "operator", NULL };
  CtReply *reply;
  Req *r = NULL;

  if ((reply = parse_common (call, known, &r, TRUE)) != NULL
      || (reply = parse_rest (call, r)) != NULL)
    return reply;
  if (!ct_json_get_int (call->json, "amount", TRUE, &r->has_amount, &r->amount, &reply)
      || !ct_json_get_string (call->json, "order_ref", FALSE, 128, &r->order_ref, &reply)
      || !ct_json_get_int (call->json, "redeem_points", FALSE, NULL, &r->redeem_points, &reply)
      || !ct_json_get_string (call->json, "member_code", FALSE, 16, &r->member_code, &reply)
      || (reply = ct_call_take_member_pin (call, FALSE)) != NULL)
    return reply;
  if (r->redeem_points < 0)
    return ct_reply_error (422, "invalid_amount", "\"redeem_points\" is 0 or more");
  if (r->member_code != NULL && call->member_pin != NULL)
    return ct_reply_error (400, "bad_request", "A payment carries \"member_code\" or \"member_pin\", not both");
  return ct_ledger_parse_taken_at (call, &r->taken_at);
}

/* The member's consent to a payment above the merchant's consent_over: the
 * dynamic payment code from the member's page, good for one payment, or
 * the member's PIN typed on the till's keypad. A code or PIN sent with a
 * smaller payment is checked (and a code used) all the same. *out_given
 * names the consent given, or is NULL. */
static CtReply *
check_consent (CtCall                *call,
               CtStore               *store,
               const CtStoreMerchant *merchant,
               const CtStoreCard     *card,
               Req                   *r,
               const char           **out_given)
{
  g_autoptr(GError) error = NULL;
  CtReply *reply;

  *out_given = NULL;
  if (call->member_pin != NULL)
    {
      if ((reply = ct_call_check_member_pin (call, store, card->card_no)) != NULL)
        return reply;
      *out_given = "member_pin";
      return NULL;
    }
  if (r->member_code != NULL)
    {
      if (!ct_member_code_check (store, card->card_no, r->member_code, &error))
        {
          if (error != NULL)
            return internal (error);
          return ct_reply_error (403, "member_consent_required",
                                 "The member's payment code is wrong, expired or was used; "
                                 "ask the member to show the code on their page again");
        }
      *out_given = "member_code";
      return NULL;
    }
  if (merchant->consent_over > 0 && r->amount > merchant->consent_over)
    {
      g_autofree char *over = ct_money_format_plain (merchant->consent_over, merchant->minor_units);

      return ct_reply_error (403, "member_consent_required",
                             "A payment above %s needs the member's consent: the member's PIN on the till's "
                             "keypad, or the payment code on the member's page", over);
    }
  return NULL;
}

/* Points that pay part of a payment: N points are N / rate major units,
 * at most points_redeem_max_bp of what is @due after the level's discount.
 * Sets *out_value (minor units) or refuses. */
static CtReply *
check_redemption (const CtStoreMerchant *merchant,
                  const CtStoreCard     *card,
                  const Req             *r,
                  int64_t                due,
                  int64_t               *out_value)
{
  int64_t unit = 1, units, max_value;

  *out_value = 0;
  if (r->redeem_points == 0)
    return NULL;
  if (merchant->points_redeem_rate <= 0)
    return ct_reply_error (422, "invalid_amount", "This merchant does not take points as payment");
  if (r->redeem_points % merchant->points_redeem_rate != 0)
    return ct_reply_error (422, "invalid_amount", "Points pay in steps of %" G_GINT64_FORMAT " (one unit)",
                           merchant->points_redeem_rate);
  for (int i = 0; i < merchant->minor_units; i++)
    unit *= 10;
  units = r->redeem_points / merchant->points_redeem_rate;
  if (units > CT_MONEY_MAX / unit)
    return ct_reply_error (422, "invalid_amount", "That is more points than any payment can use");
  /* No floating point: the share is computed in basis points of the amount. */
  max_value = ct_money_share_bp (due, MAX (merchant->points_redeem_max_bp, 0));
  if (units * unit > max_value)
    {
      g_autofree char *max = ct_money_format_plain (max_value, merchant->minor_units);

      return ct_reply_error (422, "invalid_amount", "Points may pay at most %s of this payment", max);
    }
  if (card->points < r->redeem_points)
    return ct_reply_error (409, "insufficient_points", "Card %s holds only %" G_GINT64_FORMAT " points",
                           card->card_no, card->points);
  *out_value = units * unit;
  return NULL;
}

/* What the service applied, for the till's receipt: the order's total,
 * the level's discount and benefits, the points redeemed, the consent,
 * the spend and the level reached. */
static void
write_payment_applied (GString            *root,
                       const CtPaySplit   *split,
                       const CtStoreLevel *level,
                       int64_t             redeem_points,
                       const char         *consent,
                       const SpendStep    *spend)
{
  g_string_append_printf (root, ",\"amount\":%" G_GINT64_FORMAT ",\"discount\":%" G_GINT64_FORMAT,
                          split->amount, split->discount);
  if (split->points_value > 0)
    g_string_append_printf (root, ",\"redemption\":{\"points\":%" G_GINT64_FORMAT ",\"value\":%" G_GINT64_FORMAT "}",
                            redeem_points, split->points_value);
  else
    g_string_append (root, ",\"redemption\":null");
  g_string_append (root, ",\"consent\":");
  if (consent != NULL)
    ct_json_append_string (root, consent);
  else
    g_string_append (root, "null");
  ct_levels_write_applied (root, level);
  g_string_append_printf (root, ",\"spend\":%" G_GINT64_FORMAT ",\"level_up\":", spend->after);
  if (spend->reached == NULL)
    g_string_append (root, "null");
  else
    {
      g_string_append (root, "{\"id\":");
      ct_json_append_string (root, spend->reached->id);
      g_string_append (root, ",\"name\":");
      ct_json_append_string (root, spend->reached->name);
      g_string_append_c (root, '}');
    }
}

CtReply *
ct_ledger_apply_payment (CtService        *svc,
                         CtStore          *store,
                         const CtStoreMerchant *merchant,
                         CtCall           *call)
{
  Req *r = call->data;
  g_auto(CtStoreCard) card = { 0 };
  g_auto(CtStoreTx) tx = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) levels = NULL;
  const CtStoreLevel *level;
  int64_t points, value = 0, discount_bp;
  CtPaySplit split;
  SpendStep spend = { 0 };
  const char *consent = NULL;
  GString *root = NULL;
  CtReply *reply;

  if ((reply = load_card (call, store, merchant, &card)) != NULL
      || (reply = refuse_closed (&card)) != NULL)
    return reply;
  if (r->amount <= 0 || r->amount > CT_MONEY_MAX)
    return ct_reply_error (422, "invalid_amount", "A payment is a positive amount of at most 10^13 minor units");
  if (r->has_rest && (r->rest <= 0 || r->rest > CT_MONEY_MAX - r->amount))
    return ct_reply_error (422, "invalid_amount",
                           "\"rest.amount\" is a positive amount, and the order at most 10^13 minor units");
  if ((reply = check_consent (call, store, merchant, &card, r, &consent)) != NULL)
    return reply;
  if (g_str_equal (card.status, "frozen"))
    return ct_reply_error (409, "card_frozen", "Card %s is frozen: no payments", card.card_no);
  /* The benefits are those of the level the card has when it pays. */
  if ((levels = ct_store_level_list (store, &error)) == NULL)
    return internal (error);
  level = ct_levels_find (levels, card.level);
  discount_bp = level != NULL ? level->discount_bp : 0;
  if ((reply = check_redemption (merchant, &card, r, r->amount - ct_money_share_bp (r->amount, discount_bp),
                                 &value)) != NULL)
    return reply;
  ct_pay_split_compute (r->amount, discount_bp, value, merchant->minor_units, merchant->points_per_unit,
                        level != NULL ? level->points_multiplier_bp : 10000, &split);
  if (card.balance < split.from_balance)
    {
      g_autofree char *have = ct_money_format_plain (card.balance, merchant->minor_units);
      return ct_reply_error (409, "insufficient_balance", "Card %s holds only %s", card.card_no, have);
    }
  /* Points are earned on the part the balance paid, and the redeemed ones
   * leave the card in the same change. */
  points = split.points_earned;
  if (points > CT_MONEY_MAX - card.points)
    points = MAX (CT_MONEY_MAX - card.points, 0);
  points -= r->redeem_points;
  spend.levels = levels;
  spend.delta = split.from_balance;

  {
    CtStorePosting postings[] = {
      { card.card_no, -split.from_balance },
      { CT_ACCOUNT_POOL, split.due },
      { CT_ACCOUNT_PROMO, -value },
    };

    tx_fill (&tx, call, card.card_no, "payment", r->operator_name);
    tx.delta = -split.from_balance;
    tx.order_ref = g_strdup (r->order_ref);
    tx.level = level != NULL ? g_strdup (level->id) : NULL;
    tx.discount = split.discount;
    tx.redeemed_points = value > 0 ? r->redeem_points : 0;
    tx.redeemed_value = value;
    if (r->has_rest)
      {
        tx.rest = r->rest;
        tx.rest_tender = g_strdup (ct_store_tender_to_string (r->rest_tender));
      }
    if ((reply = find_shift (store, merchant, &tx)) != NULL)
      return reply;
    root = post_answer (store, &tx, postings, value > 0 ? 3 : 2, points, &spend, &card, &error);
  }
  if (root == NULL && g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT))
    return ct_reply_error (409, "insufficient_balance", "Card %s does not hold enough", card.card_no);
  if (root != NULL && level != NULL)
    {
      CtStoreBenefit benefit = { level->id, r->amount, split.discount, level->points_multiplier_bp, 0 };

      if (!ct_store_benefit_put (store, tx.id, &benefit, &error))
        {
          g_string_free (root, TRUE);
          root = NULL;
        }
    }
  if (root == NULL || (value > 0 && !ct_store_redemption_put (store, tx.id, r->redeem_points, value, &error)))
    {
      if (root != NULL)
        g_string_free (root, TRUE);
      return internal (error);
    }
  write_payment_applied (root, &split, level, r->redeem_points, consent, &spend);
  return reply_from_text (201, root);
}

/* POST /v1/cards/{no}/refunds */

CtReply *
ct_ledger_parse_refund (CtService *svc,
                        CtCall    *call)
{
  static const char * const known[] = { "transaction_id", "amount", "taken_at", "operator", "manager", NULL };
  CtReply *reply;
  Req *r = NULL;

  if ((reply = parse_common (call, known, &r, TRUE)) != NULL)
    return reply;
  if (!ct_json_get_string (call->json, "transaction_id", TRUE, 32, &r->transaction_id, &reply)
      || !ct_json_get_int (call->json, "amount", FALSE, &r->has_amount, &r->amount, &reply))
    return reply;
  return ct_ledger_parse_taken_at (call, &r->taken_at);
}

/* What a refund of @orig may give back at most: a payment's balance part
 * and what points paid of it, a top-up's amount and bonus. */
static int64_t
refund_total (const CtStoreTx *orig)
{
  if (g_str_equal (orig->kind, "payment"))
    return -orig->delta + orig->redeemed_value;
  return orig->delta;
}

/* The amount a refund gives back: the request's "amount", or all that is
 * left; refused when nothing is left (409 already_refunded) or the amount
 * is not a part of what is left (422 invalid_amount). A top-up is voided
 * whole. */
static CtReply *
refund_amount (const CtStoreMerchant *merchant,
               const Req             *r,
               const CtStoreTx       *orig,
               int64_t                total,
               int64_t                refunded,
               int64_t               *out_amount)
{
  int64_t left = total - refunded;
  g_autofree char *left_text = ct_money_format_plain (left, merchant->minor_units);

  if (left <= 0)
    return ct_reply_error (409, "already_refunded", "Transaction %s was already refunded", r->transaction_id);
  if (!r->has_amount)
    {
      *out_amount = left;
      return NULL;
    }
  if (g_str_equal (orig->kind, "topup"))
    {
      if (r->amount != total)
        return ct_reply_error (422, "invalid_amount", "A top-up is voided whole: %s", left_text);
    }
  else if (r->amount <= 0 || r->amount > left)
    return ct_reply_error (422, "invalid_amount", "A refund of transaction %s gives back more than 0 and at most %s",
                           r->transaction_id, left_text);
  *out_amount = r->amount;
  return NULL;
}

/* Posts a refund; its answer adds what it gave back of the transaction,
 * and what the refunds of it gave back so far, of all it took. */
static CtReply *
post_refund (CtStore               *store,
             const CtStoreMerchant *merchant,
             CtStoreTx             *tx,
             const CtStorePosting  *postings,
             guint                  n_postings,
             int64_t                points_delta,
             int64_t                amount,
             int64_t                refunded,
             int64_t                total,
             GError               **error)
{
  GString *out;
  CtReply *refusal;

  if ((refusal = find_shift (store, merchant, tx)) != NULL)
    return refusal;
  out = post_answer (store, tx, postings, n_postings, points_delta, NULL, NULL, error);
  if (out == NULL)
    return NULL;
  g_string_append_printf (out, ",\"amount\":%" G_GINT64_FORMAT ",\"refunded\":%" G_GINT64_FORMAT
                               ",\"total\":%" G_GINT64_FORMAT, amount, refunded, total);
  return reply_from_text (201, out);
}

static CtReply *
refuse_not_refundable (const Req         *r,
                       const CtStoreCard *card)
{
  return ct_reply_error (404, "not_found", "Transaction %s is not a payment or top-up of card %s or of a card it "
                         "replaced", r->transaction_id, card->card_no);
}

CtReply *
ct_ledger_apply_refund (CtService        *svc,
                        CtStore          *store,
                        const CtStoreMerchant *merchant,
                        CtCall           *call)
{
  Req *r = call->data;
  g_auto(CtStoreCard) card = { 0 };
  g_auto(CtStoreTx) orig = { 0 };
  g_auto(CtStoreTx) tx = { 0 };
  g_autoptr(GError) error = NULL;
  guint64 id = 0;
  int64_t total, refunded = 0, amount = 0, before = 0;
  CtReply *reply;

  if ((reply = load_card_for_manager (call, store, merchant, &card)) != NULL)
    return reply;

  if (!g_ascii_string_to_unsigned (r->transaction_id, 10, 1, G_MAXINT64, &id, NULL)
      || !ct_store_tx_get (store, (int64_t) id, &orig, NULL)
      || !(g_str_equal (orig.kind, "payment") || g_str_equal (orig.kind, "topup")))
    return refuse_not_refundable (r, &card);
  /* A payment or top-up of a card this one replaced (the member's lost
   * card, or one before it) comes back onto the card the member holds
   * now: the lost card is closed and takes no refund. */
  if (!g_str_equal (orig.card_no, card.card_no))
    {
      gboolean replaced = FALSE;

      if (!ct_store_card_replaced_into (store, orig.card_no, card.card_no, &replaced, &error))
        return internal (error);
      if (!replaced)
        return refuse_not_refundable (r, &card);
    }

  total = refund_total (&orig);
  if (!ct_store_tx_refunded (store, orig.id, &refunded, &error))
    return internal (error);
  /* The database decides what is left, whatever refunds of this
   * transaction run at the same time, before the balances: a refund beyond
   * what is left is always refused as such, never as short of pool. When
   * another refund took a part first, what is left is asked again. */
  for (;;)
    {
      if ((reply = refund_amount (merchant, r, &orig, total, refunded, &amount)) != NULL)
        return reply;
      if (ct_store_refund_claim (store, orig.id, total, amount, &before, &error))
        break;
      if (!g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT) || before <= refunded)
        return internal (error);
      g_clear_error (&error);
      refunded = before;
    }

  tx_fill (&tx, call, card.card_no, "refund", r->operator_name);
  tx.refund_of = orig.id;
  if (g_str_equal (orig.kind, "payment"))
    {
      CtRefundSplit split = { 0 };
      int64_t points, spend = 0;

      /* Points come back in the refund's proportion: the redeemed ones
       * given back, the earned ones taken back, never below zero. */
      ct_refund_split_compute (total, orig.redeemed_value, orig.redeemed_points,
                               orig.points_delta + orig.redeemed_points, orig.rest, before, amount, &split);
      points = split.points_back - split.points_taken;
      if (points < 0)
        points = -ct_points_for_refund (-points, card.points);
      /* What comes back to the balance leaves the spend; the level stays. */
      if (!ct_store_card_add_spend (store, card.card_no, -split.to_card, &spend, &error))
        return internal (error);
      {
        CtStorePosting postings[] = {
          { CT_ACCOUNT_POOL, -(split.to_card + split.to_promo) },
          { card.card_no, split.to_card },
          { CT_ACCOUNT_PROMO, split.to_promo },
        };

        tx.delta = split.to_card;
        /* The rest another tender took is given back by that tender, in
         * the refund's proportion. */
        if (split.rest_back > 0)
          {
            tx.rest = split.rest_back;
            tx.rest_tender = g_strdup (orig.rest_tender);
          }
        reply = post_refund (store, merchant, &tx, postings, split.to_promo > 0 ? 3 : 2, points,
                             amount, before + amount, total, &error);
      }
    }
  else
    {
      int64_t bonus = orig.bonus;
      int64_t topup = orig.delta - bonus;
      CtTender tender = CT_TENDER_CASH;
      CtStorePosting postings[] = {
        { card.card_no, -topup },
        { NULL, topup },
        { card.card_no, -bonus },
        { CT_ACCOUNT_PROMO, bonus },
      };

      /* A void gives the money back the way the customer paid it. */
      ct_store_tender_from_string (orig.tender, &tender);
      postings[1].account = ct_store_tender_account (tender);
      tx.tender = g_strdup (ct_store_tender_to_string (tender));
      /* The void says how much of it was bonus, so a report can tell the
       * money given back from the bonus taken back. */
      tx.bonus = bonus;
      tx.delta = -orig.delta;
      reply = post_refund (store, merchant, &tx, postings, G_N_ELEMENTS (postings), 0,
                           amount, before + amount, total, &error);
    }
  if (reply != NULL)
    return reply;

  if (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT))
    {
      if (g_str_equal (orig.kind, "payment"))
        return ct_reply_error (409, "insufficient_pool",
                               "The merchant's card account holds too little to refund this payment");
      return ct_reply_error (409, "insufficient_balance",
                             "Card %s no longer holds the top-up to void", card.card_no);
    }
  return internal (error);
}

/* POST /v1/cards/{no}/adjustments */

CtReply *
ct_ledger_parse_adjustment (CtService *svc,
                            CtCall    *call)
{
  static const char * const known[] = { "delta", "reason", "taken_at", "operator", "manager", NULL };
  CtReply *reply;
  Req *r = NULL;

  if ((reply = parse_common (call, known, &r, FALSE)) != NULL)
    return reply;
  if (!ct_json_get_int (call->json, "delta", TRUE, NULL, &r->delta, &reply)
      || !ct_json_get_string (call->json, "reason", TRUE, TEXT_MAX, &r->reason, &reply))
    return reply;
  return ct_ledger_parse_taken_at (call, &r->taken_at);
}

CtReply *
ct_ledger_apply_adjustment (CtService        *svc,
                            CtStore          *store,
                            const CtStoreMerchant *merchant,
                            CtCall           *call)
{
  Req *r = call->data;
  g_auto(CtStoreCard) card = { 0 };
  g_auto(CtStoreTx) tx = { 0 };
  g_autoptr(GError) error = NULL;
  CtReply *reply;

  if ((reply = load_card_for_manager (call, store, merchant, &card)) != NULL)
    return reply;
  if (r->delta == 0 || r->delta > CT_MONEY_MAX || r->delta < -CT_MONEY_MAX)
    return ct_reply_error (422, "invalid_amount", "An adjustment is a non-zero amount of at most 10^13 minor units");
  if (r->delta > 0 && card.balance + r->delta > CT_MONEY_MAX)
    return ct_reply_error (422, "invalid_amount", "This adjustment would take the card's balance beyond the limit");

  {
    CtStorePosting postings[] = {
      { CT_ACCOUNT_POOL, -r->delta },
      { card.card_no, r->delta },
    };
    /* Debit first so the refusal names the account that is short. */
    if (r->delta < 0)
      {
        postings[0] = (CtStorePosting) { card.card_no, r->delta };
        postings[1] = (CtStorePosting) { CT_ACCOUNT_POOL, -r->delta };
      }
    tx_fill (&tx, call, card.card_no, "adjustment", r->operator_name);
    tx.delta = r->delta;
    tx.reason = g_strdup (r->reason);
    reply = ct_ledger_post (store, merchant, call, &tx, postings, G_N_ELEMENTS (postings), 0, &error);
  }
  if (reply == NULL && g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_INSUFFICIENT))
    {
      if (r->delta > 0)
        return ct_reply_error (409, "insufficient_pool",
                               "The merchant's card account holds too little for this increase; "
                               "it fills as members pay");
      return ct_reply_error (409, "insufficient_balance", "Card %s does not hold that much", card.card_no);
    }
  return reply != NULL ? reply : internal (error);
}

/* POST /v1/cards/{no}/replace: a lost card (挂失补卡) replaced by a new
 * card, in one transaction (docs/ledger.md, "Lost cards"). */

CtReply *
ct_ledger_parse_replace (CtService *svc,
                         CtCall    *call)
{
  static const char * const known[] = { "new_card_no", "operator", "manager", NULL };
  CtReply *reply;
  Req *r = NULL;

  if ((reply = parse_common (call, known, &r, FALSE)) != NULL)
    return reply;
  if (!ct_json_get_string (call->json, "new_card_no", FALSE, 64, &r->card_no, &reply))
    return reply;
  return NULL;
}

/* One side of the move: the transaction of @card_no, -@balance and
 * -@points on the lost card, + on the new one. */
static void
replacement_tx (CtStoreTx  *tx,
                CtCall     *call,
                Req        *r,
                const char *card_no,
                int64_t     balance,
                int64_t     points,
                int64_t     balance_after,
                int64_t     points_after,
                char       *reason)
{
  tx_fill (tx, call, card_no, "replacement", r->operator_name);
  tx->delta = balance;
  tx->points_delta = points;
  tx->balance_after = balance_after;
  tx->points_after = points_after;
  tx->reason = reason;
}

/* Records the change of both cards with who made it. */
static gboolean
record_replacement (CtStore     *store,
                    CtCall      *call,
                    Req         *r,
                    const char  *old_no,
                    const char  *new_no,
                    GError     **error)
{
  const char *manager = call->manager_outcome == CT_MANAGER_OUTCOME_SUCCESS ? call->manager_id : NULL;
  g_autofree char *out = g_strdup_printf ("{\"replaced_by\":\"%s\"}", new_no);
  g_autofree char *in = g_strdup_printf ("{\"replaces\":\"%s\"}", old_no);

  return ct_store_card_event (store, old_no, "replaced", out, call->till.store, call->till.name,
                              r->operator_name, manager, error)
         && ct_store_card_event (store, new_no, "replacement", in, call->till.store, call->till.name,
                                 r->operator_name, manager, error);
}

CtReply *
ct_ledger_apply_replace (CtService             *svc,
                         CtStore               *store,
                         const CtStoreMerchant *merchant,
                         CtCall                *call)
{
  Req *r = call->data;
  g_auto(CtStoreCard) old = { 0 };
  g_auto(CtStoreCard) card = { 0 };
  g_auto(CtStoreCard) closed = { 0 };
  g_auto(CtStoreTx) tx_out = { 0 };
  g_auto(CtStoreTx) tx_in = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *no = NULL;
  g_autofree char *member_url = NULL;
  GString *out;
  CtReply *reply;

  if ((reply = load_card (call, store, merchant, &old)) != NULL)
    return reply;
  if (r->card_no != NULL)
    {
      CtCardNumberKind kind;

      no = ct_card_number_normalize (r->card_no, merchant->issuer_prefix, &kind, &error);
      if (no == NULL)
        return ct_reply_error (422, "invalid_card_no", "\"new_card_no\": %s", error->message);
    }
  if ((reply = ct_call_check_manager (call, store)) != NULL || (reply = refuse_closed (&old)) != NULL)
    return reply;

  /* The new card is the member's: same member, level and (below) money. */
  card.status = g_strdup ("active");
  card.level = g_strdup (old.level);
  card.name = g_strdup (old.name);
  card.phone = g_strdup (old.phone);
  card.created_at = card.updated_at = ct_store_now_ms ();
  if ((reply = insert_card (store, merchant, &card, g_steal_pointer (&no))) != NULL)
    return reply;

  /* Closing the lost card first holds its row: no payment on it can take
   * what is being moved (PostgreSQL); its balance is read after. */
  if (!ct_store_card_replace (store, old.card_no, card.card_no, card.created_at, &error))
    {
      if (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS))
        return ct_reply_error (409, "card_closed", "Card %s was replaced meanwhile", old.card_no);
      return internal (error);
    }
  ct_store_card_clear (&old);
  if (!ct_store_card_get (store, call->card_no, &old, &error))
    return internal (error);

  {
    /* Card to card: the ledger's sum does not change. */
    CtStorePosting postings[] = {
      { old.card_no, -old.balance },
      { card.card_no, old.balance },
    };

    replacement_tx (&tx_out, call, r, old.card_no, -old.balance, -old.points, 0, 0,
                    g_strdup_printf ("Replaced by card %s", card.card_no));
    replacement_tx (&tx_in, call, r, card.card_no, old.balance, old.points, old.balance, old.points,
                    g_strdup_printf ("Replaces lost card %s", old.card_no));
    if (!ct_store_post (store, postings, G_N_ELEMENTS (postings), &error)
        || (old.points > 0
            && (!ct_store_card_add_points (store, old.card_no, -old.points, NULL, &error)
                || !ct_store_card_add_points (store, card.card_no, old.points, NULL, &error)))
        || !ct_store_tx_insert (store, &tx_out, postings, G_N_ELEMENTS (postings), &error)
        || !ct_store_tx_insert (store, &tx_in, NULL, 0, &error))
      return internal (error);
  }
  ct_store_card_clear (&card);
  if (!ct_store_card_get (store, tx_in.card_no, &card, &error)
      || !ct_store_card_get (store, old.card_no, &closed, &error)
      || !record_replacement (store, call, r, old.card_no, card.card_no, &error))
    return internal (error);
  /* The member's wallet (docs/wallet.md): the new card opens with the
   * balance, points and level, then each card's replacement goes out as
   * its transaction: Alipay's card.update (the lost card CLOSED and empty),
   * WeChat Pay's balance with the remark 补卡. */
  if (!ct_wallet_outbox_card_changed (store, card.card_no, TRUE, &error)
      || !ct_wallet_outbox_ledger_tx (store, &tx_in, &card, &error)
      || !ct_wallet_outbox_ledger_tx (store, &tx_out, &closed, &error))
    return internal (error);
  /* The member's page moves to a new link: the lost card's one (printed
   * on it, perhaps) stopped with it, with its payment codes. */
  member_url = ct_member_link_new (store, call, card.card_no, &error);
  if (member_url == NULL)
    return internal (error);
  ct_service_audit (store, call, call->manager_id, call->route->action, closed.card_no,
                    g_strdup_printf ("replaced by card %s; moved balance %" G_GINT64_FORMAT
                                     ", points %" G_GINT64_FORMAT,
                                     card.card_no, tx_in.delta, tx_in.points_delta));

  out = g_string_sized_new (1024);
  g_string_append (out, "{\"transaction\":");
  ct_service_tx_write (out, &tx_in);
  g_string_append (out, ",\"card\":");
  ct_service_card_write (out, &card);
  g_string_append (out, ",\"replaced\":");
  ct_service_card_write (out, &closed);
  g_string_append (out, ",\"member_url\":");
  ct_json_append_string (out, member_url);
  return reply_from_text (201, out);
}
