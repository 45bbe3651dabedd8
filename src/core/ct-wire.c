/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-wire"
#include "config.h"

#include <json-c/json.h>
#include <string.h>

#include "ct-money.h"
#include "ct-wire.h"

/* Points and other counters are bounded too: no honest answer comes near. */
#define CT_WIRE_COUNT_MAX ((int64_t) 1000000000000000LL) /* 10^15 */

G_DEFINE_QUARK (ct-client-error-quark, ct_client_error)

static const struct
{
  CtClientError  code;
  const char    *name;
} error_names[] = {
  { CT_CLIENT_ERROR_BAD_REQUEST, "bad_request" },
  { CT_CLIENT_ERROR_IDEMPOTENCY_KEY_MISSING, "idempotency_key_missing" },
  { CT_CLIENT_ERROR_UNAUTHORIZED, "unauthorized" },
  { CT_CLIENT_ERROR_FORBIDDEN, "forbidden" },
  { CT_CLIENT_ERROR_CARD_NOT_FOUND, "card_not_found" },
  { CT_CLIENT_ERROR_NOT_FOUND, "not_found" },
  { CT_CLIENT_ERROR_CARD_FROZEN, "card_frozen" },
  { CT_CLIENT_ERROR_INSUFFICIENT_BALANCE, "insufficient_balance" },
  { CT_CLIENT_ERROR_INSUFFICIENT_POOL, "insufficient_pool" },
  { CT_CLIENT_ERROR_ALREADY_REFUNDED, "already_refunded" },
  { CT_CLIENT_ERROR_CARD_EXISTS, "card_exists" },
  { CT_CLIENT_ERROR_PACKAGE_CHANGED, "package_changed" },
  { CT_CLIENT_ERROR_REQUEST_IN_PROGRESS, "request_in_progress" },
  { CT_CLIENT_ERROR_PAYLOAD_TOO_LARGE, "payload_too_large" },
  { CT_CLIENT_ERROR_INVALID_AMOUNT, "invalid_amount" },
  { CT_CLIENT_ERROR_INVALID_CARD_NO, "invalid_card_no" },
  { CT_CLIENT_ERROR_IDEMPOTENCY_KEY_REUSED, "idempotency_key_reused" },
  { CT_CLIENT_ERROR_PIN_LOCKED, "pin_locked" },
  { CT_CLIENT_ERROR_RATE_LIMITED, "rate_limited" },
  { CT_CLIENT_ERROR_INTERNAL, "internal" },
  { CT_CLIENT_ERROR_INSUFFICIENT_POINTS, "insufficient_points" },
  { CT_CLIENT_ERROR_MEMBER_CONSENT_REQUIRED, "member_consent_required" },
  { CT_CLIENT_ERROR_MEMBER_PIN_WRONG, "member_pin_wrong" },
  { CT_CLIENT_ERROR_MEMBER_PIN_LOCKED, "member_pin_locked" },
  { CT_CLIENT_ERROR_MEMBER_PIN_NOT_SET, "member_pin_not_set" },
  { CT_CLIENT_ERROR_SHIFT_OPEN, "shift_open" },
  { CT_CLIENT_ERROR_SHIFT_CLOSED, "shift_closed" },
  { CT_CLIENT_ERROR_SHIFT_REQUIRED, "shift_required" },
  { CT_CLIENT_ERROR_INVALID_TAKEN_AT, "invalid_taken_at" },
  { CT_CLIENT_ERROR_CARD_CLOSED, "card_closed" },
  { CT_CLIENT_ERROR_OTHER_REFUSAL, "refused" },
  { CT_CLIENT_ERROR_QUEUED, "queued" },
  { CT_CLIENT_ERROR_OFFLINE_REFUSED, "offline_refused" },
  { CT_CLIENT_ERROR_UNREACHABLE, "unreachable" },
  { CT_CLIENT_ERROR_BAD_ANSWER, "bad_answer" },
  { CT_CLIENT_ERROR_TLS, "tls" },
  { CT_CLIENT_ERROR_INVALID_INPUT, "invalid_input" },
  { CT_CLIENT_ERROR_LOCAL, "local" },
  { CT_CLIENT_ERROR_CONFIG, "config" },
  { CT_CLIENT_ERROR_EMBEDDED, "embedded" },
  { CT_CLIENT_ERROR_EARLIER_PENDING, "earlier_pending" },
};

const char *
ct_client_error_code_to_string (CtClientError code)
{
  for (guint i = 0; i < G_N_ELEMENTS (error_names); i++)
    if (error_names[i].code == code)
      return error_names[i].name;
  return "unknown";
}

CtClientError
ct_client_error_code_from_string (const char *code)
{
  g_return_val_if_fail (code != NULL, CT_CLIENT_ERROR_OTHER_REFUSAL);

  /* Only the codes the service sends map back; the local ones are ours. */
  for (guint i = 0; i < G_N_ELEMENTS (error_names); i++)
    {
      if (error_names[i].code >= CT_CLIENT_ERROR_OTHER_REFUSAL)
        break;
      if (strcmp (error_names[i].name, code) == 0)
        return error_names[i].code;
    }
  return CT_CLIENT_ERROR_OTHER_REFUSAL;
}

gboolean
ct_client_error_is_refusal (const GError *error)
{
  return error != NULL && error->domain == CT_CLIENT_ERROR
         && error->code <= CT_CLIENT_ERROR_OTHER_REFUSAL;
}

/* ---- plain data ---------------------------------------------------- */

CtCard *
ct_card_copy (const CtCard *card)
{
  CtCard *copy;

  g_return_val_if_fail (card != NULL, NULL);

  copy = g_memdup2 (card, sizeof *card);
  copy->card_no = g_strdup (card->card_no);
  copy->level = g_strdup (card->level);
  copy->member_name = g_strdup (card->member_name);
  copy->member_phone = g_strdup (card->member_phone);
  copy->created_at = g_strdup (card->created_at);
  copy->updated_at = g_strdup (card->updated_at);
  copy->replaced_by = g_strdup (card->replaced_by);
  return copy;
}

void
ct_card_free (CtCard *card)
{
  if (card == NULL)
    return;
  g_free (card->card_no);
  g_free (card->level);
  g_free (card->member_name);
  g_free (card->member_phone);
  g_free (card->created_at);
  g_free (card->updated_at);
  g_free (card->replaced_by);
  g_free (card);
}

CtTransaction *
ct_transaction_copy (const CtTransaction *tx)
{
  CtTransaction *copy;

  g_return_val_if_fail (tx != NULL, NULL);

  copy = g_memdup2 (tx, sizeof *tx);
  copy->id = g_strdup (tx->id);
  copy->card_no = g_strdup (tx->card_no);
  copy->store = g_strdup (tx->store);
  copy->till = g_strdup (tx->till);
  copy->operator_name = g_strdup (tx->operator_name);
  copy->manager = g_strdup (tx->manager);
  copy->reason = g_strdup (tx->reason);
  copy->order_ref = g_strdup (tx->order_ref);
  copy->refund_of = g_strdup (tx->refund_of);
  copy->created_at = g_strdup (tx->created_at);
  copy->taken_at = g_strdup (tx->taken_at);
  copy->tender = g_strdup (tx->tender);
  copy->shift_id = g_strdup (tx->shift_id);
  copy->level = g_strdup (tx->level);
  copy->rest_tender = g_strdup (tx->rest_tender);
  copy->level_up = g_strdup (tx->level_up);
  return copy;
}

void
ct_transaction_free (CtTransaction *tx)
{
  if (tx == NULL)
    return;
  g_free (tx->id);
  g_free (tx->card_no);
  g_free (tx->store);
  g_free (tx->till);
  g_free (tx->operator_name);
  g_free (tx->manager);
  g_free (tx->reason);
  g_free (tx->order_ref);
  g_free (tx->refund_of);
  g_free (tx->created_at);
  g_free (tx->taken_at);
  g_free (tx->tender);
  g_free (tx->shift_id);
  g_free (tx->level);
  g_free (tx->rest_tender);
  g_free (tx->level_up);
  g_free (tx);
}

CtPackage *
ct_package_copy (const CtPackage *package)
{
  CtPackage *copy;

  g_return_val_if_fail (package != NULL, NULL);

  copy = g_memdup2 (package, sizeof *package);
  copy->id = g_strdup (package->id);
  return copy;
}

void
ct_package_free (CtPackage *package)
{
  if (package == NULL)
    return;
  g_free (package->id);
  g_free (package);
}

static GPtrArray *
copy_ptr_array (GPtrArray      *array,
                GBoxedCopyFunc  copy,
                GDestroyNotify  destroy)
{
  GPtrArray *out = g_ptr_array_new_full (array ? array->len : 0, destroy);

  for (guint i = 0; array != NULL && i < array->len; i++)
    g_ptr_array_add (out, copy (g_ptr_array_index (array, i)));
  return out;
}

static CtLevel *
level_copy (const CtLevel *level)
{
  CtLevel *copy = g_memdup2 (level, sizeof *level);

  copy->id = g_strdup (level->id);
  copy->name = g_strdup (level->name);
  return copy;
}

static void
level_free (CtLevel *level)
{
  g_free (level->id);
  g_free (level->name);
  g_free (level);
}

CtMerchant *
ct_merchant_copy (const CtMerchant *merchant)
{
  CtMerchant *copy;

  g_return_val_if_fail (merchant != NULL, NULL);

  copy = g_memdup2 (merchant, sizeof *merchant);
  copy->name = g_strdup (merchant->name);
  copy->currency = g_strdup (merchant->currency);
  copy->timezone = g_strdup (merchant->timezone);
  copy->store = g_strdup (merchant->store);
  copy->till = g_strdup (merchant->till);
  copy->packages = copy_ptr_array (merchant->packages, (GBoxedCopyFunc) ct_package_copy,
                                   (GDestroyNotify) ct_package_free);
  copy->levels = copy_ptr_array (merchant->levels, (GBoxedCopyFunc) level_copy, (GDestroyNotify) level_free);
  return copy;
}

void
ct_merchant_free (CtMerchant *merchant)
{
  if (merchant == NULL)
    return;
  g_free (merchant->name);
  g_free (merchant->currency);
  g_free (merchant->timezone);
  g_free (merchant->store);
  g_free (merchant->till);
  g_clear_pointer (&merchant->packages, g_ptr_array_unref);
  g_clear_pointer (&merchant->levels, g_ptr_array_unref);
  g_free (merchant);
}

const CtLevel *
ct_merchant_find_level (const CtMerchant *merchant,
                        const char       *level_id)
{
  for (guint i = 0; merchant != NULL && level_id != NULL && merchant->levels != NULL
                    && i < merchant->levels->len; i++)
    {
      const CtLevel *level = g_ptr_array_index (merchant->levels, i);

      if (strcmp (level->id, level_id) == 0)
        return level;
    }
  return NULL;
}

const char *
ct_merchant_level_name (const CtMerchant *merchant,
                        const char       *level_id)
{
  const CtLevel *level = ct_merchant_find_level (merchant, level_id);

  return level != NULL ? level->name : level_id;
}

const CtPackage *
ct_merchant_find_package (const CtMerchant *merchant,
                          const char       *package_id)
{
  g_return_val_if_fail (merchant != NULL, NULL);
  g_return_val_if_fail (package_id != NULL, NULL);

  for (guint i = 0; merchant->packages != NULL && i < merchant->packages->len; i++)
    {
      const CtPackage *p = g_ptr_array_index (merchant->packages, i);

      if (strcmp (p->id, package_id) == 0)
        return p;
    }
  return NULL;
}

CtReceipt *
ct_receipt_copy (const CtReceipt *receipt)
{
  CtReceipt *copy;

  g_return_val_if_fail (receipt != NULL, NULL);

  copy = g_new0 (CtReceipt, 1);
  copy->transaction = receipt->transaction ? ct_transaction_copy (receipt->transaction) : NULL;
  copy->card = receipt->card ? ct_card_copy (receipt->card) : NULL;
  copy->idempotency_key = g_strdup (receipt->idempotency_key);
  copy->replayed = receipt->replayed;
  copy->redeemed_points = receipt->redeemed_points;
  copy->redeemed_value = receipt->redeemed_value;
  copy->member_consent = receipt->member_consent;
  copy->level_up = g_strdup (receipt->level_up);
  copy->refund_amount = receipt->refund_amount;
  copy->refunded = receipt->refunded;
  copy->refund_total = receipt->refund_total;
  return copy;
}

void
ct_receipt_free (CtReceipt *receipt)
{
  if (receipt == NULL)
    return;
  g_clear_pointer (&receipt->transaction, ct_transaction_free);
  g_clear_pointer (&receipt->card, ct_card_free);
  g_free (receipt->idempotency_key);
  g_free (receipt->level_up);
  g_free (receipt);
}

CtHistoryPage *
ct_history_page_copy (const CtHistoryPage *page)
{
  CtHistoryPage *copy;

  g_return_val_if_fail (page != NULL, NULL);

  copy = g_new0 (CtHistoryPage, 1);
  copy->transactions = copy_ptr_array (page->transactions, (GBoxedCopyFunc) ct_transaction_copy,
                                       (GDestroyNotify) ct_transaction_free);
  copy->next_cursor = g_strdup (page->next_cursor);
  return copy;
}

void
ct_history_page_free (CtHistoryPage *page)
{
  if (page == NULL)
    return;
  g_clear_pointer (&page->transactions, g_ptr_array_unref);
  g_free (page->next_cursor);
  g_free (page);
}

CtDayReport *
ct_day_report_copy (const CtDayReport *report)
{
  CtDayReport *copy;

  g_return_val_if_fail (report != NULL, NULL);

  copy = g_memdup2 (report, sizeof *report);
  copy->date = g_strdup (report->date);
  copy->store = g_strdup (report->store);
  copy->next_cursor = g_strdup (report->next_cursor);
  copy->transactions = copy_ptr_array (report->transactions, (GBoxedCopyFunc) ct_transaction_copy,
                                       (GDestroyNotify) ct_transaction_free);
  return copy;
}

void
ct_day_report_free (CtDayReport *report)
{
  if (report == NULL)
    return;
  g_free (report->date);
  g_free (report->store);
  g_free (report->next_cursor);
  g_clear_pointer (&report->transactions, g_ptr_array_unref);
  g_free (report);
}

G_DEFINE_BOXED_TYPE (CtCard, ct_card, ct_card_copy, ct_card_free)
G_DEFINE_BOXED_TYPE (CtTransaction, ct_transaction, ct_transaction_copy, ct_transaction_free)
G_DEFINE_BOXED_TYPE (CtPackage, ct_package, ct_package_copy, ct_package_free)
G_DEFINE_BOXED_TYPE (CtMerchant, ct_merchant, ct_merchant_copy, ct_merchant_free)
G_DEFINE_BOXED_TYPE (CtReceipt, ct_receipt, ct_receipt_copy, ct_receipt_free)
G_DEFINE_BOXED_TYPE (CtHistoryPage, ct_history_page, ct_history_page_copy, ct_history_page_free)
G_DEFINE_BOXED_TYPE (CtDayReport, ct_day_report, ct_day_report_copy, ct_day_report_free)

static const char * const kind_names[] = {
  [CT_TRANSACTION_TOPUP] = "topup",
  [CT_TRANSACTION_PAYMENT] = "payment",
  [CT_TRANSACTION_REFUND] = "refund",
  [CT_TRANSACTION_ADJUSTMENT] = "adjustment",
  [CT_TRANSACTION_IMPORT] = "import",
  [CT_TRANSACTION_REPLACEMENT] = "replacement",
};

const char *
ct_transaction_kind_to_string (CtTransactionKind kind)
{
  if ((guint) kind < G_N_ELEMENTS (kind_names))
    return kind_names[kind];
  return "unknown";
}

const char *
ct_card_status_to_string (CtCardStatus status)
{
  switch (status)
    {
    case CT_CARD_STATUS_FROZEN:
      return "frozen";
    case CT_CARD_STATUS_CLOSED:
      return "closed";
    case CT_CARD_STATUS_ACTIVE:
    default:
      return "active";
    }
}

/* ---- decoding ------------------------------------------------------ */

static gboolean G_GNUC_PRINTF (2, 3)
bad_answer (GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_BAD_ANSWER,
               "The service sent an answer the till cannot read: %s", text);
  return FALSE;
}

/* Parses exactly one JSON object filling the whole body (whitespace aside). */
static json_object *
parse_object (const char  *body,
              gsize        len,
              GError     **error)
{
  json_tokener *tok;
  json_object *obj;
  enum json_tokener_error jerr;
  size_t used;

  if (body == NULL || len == 0)
    {
      bad_answer (error, "empty body");
      return NULL;
    }
  if (len > G_MAXINT - 1)
    {
      bad_answer (error, "body too large");
      return NULL;
    }
  if (memchr (body, '\0', len) != NULL)
    {
      bad_answer (error, "NUL byte in body");
      return NULL;
    }

  tok = json_tokener_new_ex (64);
  json_tokener_set_flags (tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
  obj = json_tokener_parse_ex (tok, body, (int) len);
  jerr = json_tokener_get_error (tok);
  used = json_tokener_get_parse_end (tok);
  json_tokener_free (tok);

  if (jerr == json_tokener_continue)
    {
      json_object_put (obj);
      bad_answer (error, "truncated JSON");
      return NULL;
    }
  if (jerr != json_tokener_success || obj == NULL)
    {
      json_object_put (obj);
      bad_answer (error, "not JSON (%s)", json_tokener_error_desc (jerr));
      return NULL;
    }
  for (size_t i = used; i < len; i++)
    {
      if (!g_ascii_isspace (body[i]))
        {
          json_object_put (obj);
          bad_answer (error, "data after the JSON value");
          return NULL;
        }
    }
  if (!json_object_is_type (obj, json_type_object))
    {
      json_object_put (obj);
      bad_answer (error, "not a JSON object");
      return NULL;
    }
  return obj;
}

static json_object *
member (json_object  *obj,
        const char   *key,
        json_type     type,
        gboolean      nullable,
        gboolean     *out_null,
        GError      **error)
{
  json_object *value = NULL;

  if (out_null)
    *out_null = FALSE;
  if (!json_object_object_get_ex (obj, key, &value))
    {
      bad_answer (error, "missing field \"%s\"", key);
      return NULL;
    }
  if (value == NULL)
    {
      if (nullable)
        {
          if (out_null)
            *out_null = TRUE;
          return NULL;
        }
      bad_answer (error, "field \"%s\" is null", key);
      return NULL;
    }
  if (!json_object_is_type (value, type))
    {
      bad_answer (error, "field \"%s\" has the wrong type", key);
      return NULL;
    }
  return value;
}

static gboolean
get_string (json_object  *obj,
            const char   *key,
            gboolean      nullable,
            char        **out,
            GError      **error)
{
  gboolean is_null;
  json_object *v = member (obj, key, json_type_string, nullable, &is_null, error);

  if (v == NULL && !is_null)
    return FALSE;
  g_free (*out);
  *out = v ? g_strndup (json_object_get_string (v), json_object_get_string_len (v)) : NULL;
  return TRUE;
}

/* A field a service older than it leaves out. */
static gboolean
get_optional_string (json_object  *obj,
                     const char   *key,
                     char        **out,
                     GError      **error)
{
  if (!json_object_object_get_ex (obj, key, NULL))
    return TRUE;
  return get_string (obj, key, TRUE, out, error);
}

static gboolean
get_int (json_object  *obj,
         const char   *key,
         int64_t       min,
         int64_t       max,
         int64_t      *out,
         GError      **error)
{
  json_object *v = member (obj, key, json_type_int, FALSE, NULL, error);
  int64_t value;

  if (v == NULL)
    return FALSE;
  /* json-c keeps integers beyond int64 as uint64 or clamps them; either way
   * they fall outside every range used here. */
  value = json_object_get_int64 (v);
  if (value < min || value > max)
    return bad_answer (error, "field \"%s\" is out of range", key);
  *out = value;
  return TRUE;
}

static gboolean
get_money (json_object  *obj,
           const char   *key,
           gboolean      signed_ok,
           int64_t      *out,
           GError      **error)
{
  return get_int (obj, key, signed_ok ? -CT_MONEY_MAX : 0, CT_MONEY_MAX, out, error);
}

/* A field a service before it did not send: absent leaves 0. */
static gboolean
get_optional_int (json_object  *obj,
                  const char   *key,
                  int64_t       min,
                  int64_t       max,
                  int64_t      *out,
                  GError      **error)
{
  if (!json_object_object_get_ex (obj, key, NULL))
    return TRUE;
  return get_int (obj, key, min, max, out, error);
}

static gboolean
get_optional_money (json_object  *obj,
                    const char   *key,
                    int64_t      *out,
                    GError      **error)
{
  return get_optional_int (obj, key, 0, CT_MONEY_MAX, out, error);
}

static CtCard *
card_from_json (json_object  *obj,
                GError      **error)
{
  g_autoptr(CtCard) card = g_new0 (CtCard, 1);
  g_autofree char *status = NULL;
  json_object *m;
  gboolean is_null;

  if (!json_object_is_type (obj, json_type_object))
    {
      bad_answer (error, "card is not an object");
      return NULL;
    }
  if (!get_string (obj, "card_no", FALSE, &card->card_no, error)
      || !get_string (obj, "status", FALSE, &status, error)
      || !get_string (obj, "level", TRUE, &card->level, error)
      || !get_money (obj, "balance", FALSE, &card->balance, error)
      || !get_int (obj, "points", 0, CT_WIRE_COUNT_MAX, &card->points, error)
      || !get_string (obj, "created_at", FALSE, &card->created_at, error)
      || !get_string (obj, "updated_at", FALSE, &card->updated_at, error)
      || !get_optional_string (obj, "replaced_by", &card->replaced_by, error))
    return NULL;
  if (card->card_no[0] == '\0')
    {
      bad_answer (error, "empty card number");
      return NULL;
    }
  if (strcmp (status, "active") == 0)
    card->status = CT_CARD_STATUS_ACTIVE;
  else if (strcmp (status, "frozen") == 0)
    card->status = CT_CARD_STATUS_FROZEN;
  else if (strcmp (status, "closed") == 0 && card->replaced_by != NULL && card->replaced_by[0] != '\0')
    card->status = CT_CARD_STATUS_CLOSED;
  else
    {
      bad_answer (error, "unknown card status \"%s\"", status);
      return NULL;
    }

  m = member (obj, "member", json_type_object, TRUE, &is_null, error);
  if (m == NULL && !is_null)
    return NULL;
  if (m != NULL
      && (!get_string (m, "name", TRUE, &card->member_name, error)
          || !get_string (m, "phone", TRUE, &card->member_phone, error)))
    return NULL;

  card->fetched_at = g_get_real_time ();
  return g_steal_pointer (&card);
}

static CtTransaction *
transaction_from_json (json_object  *obj,
                       GError      **error)
{
  g_autoptr(CtTransaction) tx = g_new0 (CtTransaction, 1);
  g_autofree char *kind = NULL;
  gboolean found = FALSE;

  if (!json_object_is_type (obj, json_type_object))
    {
      bad_answer (error, "transaction is not an object");
      return NULL;
    }
  if (!get_string (obj, "id", FALSE, &tx->id, error)
      || !get_string (obj, "card_no", FALSE, &tx->card_no, error)
      || !get_string (obj, "kind", FALSE, &kind, error)
      || !get_money (obj, "delta", TRUE, &tx->delta, error)
      || !get_money (obj, "bonus", FALSE, &tx->bonus, error)
      || !get_money (obj, "balance_after", FALSE, &tx->balance_after, error)
      || !get_int (obj, "points_delta", -CT_WIRE_COUNT_MAX, CT_WIRE_COUNT_MAX, &tx->points_delta, error)
      || !get_int (obj, "points_after", 0, CT_WIRE_COUNT_MAX, &tx->points_after, error)
      || !get_string (obj, "store", TRUE, &tx->store, error)
      || !get_string (obj, "till", TRUE, &tx->till, error)
      || !get_string (obj, "operator", TRUE, &tx->operator_name, error)
      || !get_string (obj, "manager", TRUE, &tx->manager, error)
      || !get_string (obj, "reason", TRUE, &tx->reason, error)
      || !get_string (obj, "order_ref", TRUE, &tx->order_ref, error)
      || !get_string (obj, "refund_of", TRUE, &tx->refund_of, error)
      || !get_string (obj, "created_at", FALSE, &tx->created_at, error)
      || !get_optional_string (obj, "taken_at", &tx->taken_at, error)
      || !get_optional_string (obj, "tender", &tx->tender, error)
      || !get_optional_string (obj, "shift_id", &tx->shift_id, error)
      || !get_optional_string (obj, "level", &tx->level, error)
      || !get_optional_money (obj, "discount", &tx->discount, error)
      || !get_optional_money (obj, "level_bonus", &tx->level_bonus, error)
      || !get_optional_int (obj, "redeemed_points", 0, CT_WIRE_COUNT_MAX, &tx->redeemed_points, error)
      || !get_optional_money (obj, "redeemed_value", &tx->redeemed_value, error)
      || !get_optional_money (obj, "refunded", &tx->refunded, error)
      || !get_optional_string (obj, "level_up", &tx->level_up, error))
    return NULL;
  /* A split payment's rest (absent from a service before split payments). */
  if (json_object_object_get_ex (obj, "rest", NULL))
    {
      gboolean is_null = FALSE;
      json_object *rest = member (obj, "rest", json_type_object, TRUE, &is_null, error);

      if (rest == NULL && !is_null)
        return NULL;
      if (rest != NULL
          && (!get_money (rest, "amount", FALSE, &tx->rest, error)
              || !get_string (rest, "tender", FALSE, &tx->rest_tender, error)))
        return NULL;
    }

  for (guint i = 0; i < G_N_ELEMENTS (kind_names); i++)
    {
      if (strcmp (kind_names[i], kind) == 0)
        {
          tx->kind = i;
          found = TRUE;
          break;
        }
    }
  if (!found)
    {
      bad_answer (error, "unknown transaction kind \"%s\"", kind);
      return NULL;
    }
  return g_steal_pointer (&tx);
}

static GPtrArray *
transactions_from_json (json_object  *obj,
                        const char   *key,
                        GError      **error)
{
  json_object *list = member (obj, key, json_type_array, FALSE, NULL, error);
  g_autoptr(GPtrArray) out = NULL;
  size_t n;

  if (list == NULL)
    return NULL;
  n = json_object_array_length (list);
  out = g_ptr_array_new_full (n, (GDestroyNotify) ct_transaction_free);
  for (size_t i = 0; i < n; i++)
    {
      CtTransaction *tx = transaction_from_json (json_object_array_get_idx (list, i), error);

      if (tx == NULL)
        return NULL;
      g_ptr_array_add (out, tx);
    }
  return g_steal_pointer (&out);
}

CtCard *
ct_wire_decode_card (const char  *body,
                     gsize        len,
                     GError     **error)
{
  json_object *obj = parse_object (body, len, error);
  CtCard *card;

  if (obj == NULL)
    return NULL;
  card = card_from_json (obj, error);
  json_object_put (obj);
  return card;
}

gboolean
ct_wire_decode_card_replaced (const char  *body,
                              gsize        len,
                              CtCard     **out_card,
                              CtCard     **out_replaced,
                              GError     **error)
{
  json_object *obj = parse_object (body, len, error);
  json_object *card, *replaced;
  g_autoptr(CtCard) new_card = NULL;
  g_autoptr(CtCard) old_card = NULL;

  if (obj == NULL)
    return FALSE;
  if ((card = member (obj, "card", json_type_object, FALSE, NULL, error)) != NULL
      && (replaced = member (obj, "replaced", json_type_object, FALSE, NULL, error)) != NULL
      && (new_card = card_from_json (card, error)) != NULL)
    old_card = card_from_json (replaced, error);
  json_object_put (obj);
  if (old_card == NULL)
    return FALSE;
  *out_card = g_steal_pointer (&new_card);
  *out_replaced = g_steal_pointer (&old_card);
  return TRUE;
}

GPtrArray *
ct_wire_decode_card_list (const char  *body,
                          gsize        len,
                          GError     **error)
{
  json_object *obj = parse_object (body, len, error);
  json_object *list;
  g_autoptr(GPtrArray) out = NULL;

  if (obj == NULL)
    return NULL;
  list = member (obj, "cards", json_type_array, FALSE, NULL, error);
  if (list != NULL)
    {
      size_t n = json_object_array_length (list);

      out = g_ptr_array_new_full (n, (GDestroyNotify) ct_card_free);
      for (size_t i = 0; i < n; i++)
        {
          CtCard *card = card_from_json (json_object_array_get_idx (list, i), error);

          if (card == NULL)
            {
              g_clear_pointer (&out, g_ptr_array_unref);
              break;
            }
          g_ptr_array_add (out, card);
        }
    }
  json_object_put (obj);
  return g_steal_pointer (&out);
}

/* The merchant's levels; a service before levels sends none. */
static gboolean
levels_from_json (json_object  *obj,
                  GPtrArray    *levels,
                  GError      **error)
{
  json_object *list = NULL;

  if (!json_object_object_get_ex (obj, "levels", &list))
    return TRUE;
  if (!json_object_is_type (list, json_type_array))
    return bad_answer (error, "\"levels\" is not an array");
  for (size_t i = 0; i < json_object_array_length (list); i++)
    {
      json_object *l = json_object_array_get_idx (list, i);
      CtLevel *level;

      if (!json_object_is_type (l, json_type_object))
        return bad_answer (error, "level is not an object");
      level = g_new0 (CtLevel, 1);
      g_ptr_array_add (levels, level);
      if (!get_string (l, "id", FALSE, &level->id, error)
          || !get_string (l, "name", FALSE, &level->name, error)
          || !get_money (l, "min_spend", FALSE, &level->min_spend, error)
          || !get_int (l, "discount_bp", 0, 10000, &level->discount_bp, error)
          || !get_int (l, "points_multiplier_bp", 0, 100000, &level->points_multiplier_bp, error)
          || !get_int (l, "topup_bonus_bp", 0, 100000, &level->topup_bonus_bp, error))
        return FALSE;
    }
  return TRUE;
}

CtMerchant *
ct_wire_decode_merchant (const char  *body,
                         gsize        len,
                         GError     **error)
{
  json_object *obj = parse_object (body, len, error);
  g_autoptr(CtMerchant) m = NULL;
  g_autofree char *mode = NULL;
  json_object *list;
  int64_t minor_units = 0;
  gboolean ok;

  if (obj == NULL)
    return NULL;
  m = g_new0 (CtMerchant, 1);
  m->packages = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_package_free);
  m->levels = g_ptr_array_new_with_free_func ((GDestroyNotify) level_free);
  ok = get_string (obj, "name", FALSE, &m->name, error)
       && get_string (obj, "currency", FALSE, &m->currency, error)
       && get_int (obj, "minor_units", 0, CT_MONEY_MINOR_UNITS_MAX, &minor_units, error)
       && get_string (obj, "topup_mode", FALSE, &mode, error)
       && get_money (obj, "topup_min", FALSE, &m->topup_min, error)
       && get_money (obj, "topup_max", FALSE, &m->topup_max, error)
       && get_int (obj, "points_per_unit", 0, CT_WIRE_COUNT_MAX, &m->points_per_unit, error)
       && get_string (obj, "timezone", FALSE, &m->timezone, error)
       && get_money (obj, "offline_payment_cap", FALSE, &m->offline_payment_cap, error)
       && get_money (obj, "offline_card_cap", FALSE, &m->offline_card_cap, error)
       && get_money (obj, "pool_balance", FALSE, &m->pool_balance, error);
  if (ok)
    {
      json_object *sign_in = NULL;

      /* A service from before cashiers does not say; then nobody signs in. */
      m->cashier_sign_in = json_object_object_get_ex (obj, "cashier_sign_in", &sign_in)
                           && json_object_is_type (sign_in, json_type_boolean)
                           && json_object_get_boolean (sign_in);
      m->minor_units = (int) minor_units;
      if (strcmp (mode, "fixed") == 0)
        m->topup_mode = CT_TOPUP_MODE_FIXED;
      else if (strcmp (mode, "any") == 0)
        m->topup_mode = CT_TOPUP_MODE_ANY;
      else
        ok = bad_answer (error, "unknown top-up mode \"%s\"", mode);
    }
  if (ok)
    {
      list = member (obj, "topup_packages", json_type_array, FALSE, NULL, error);
      ok = list != NULL;
      for (size_t i = 0; ok && i < json_object_array_length (list); i++)
        {
          json_object *p = json_object_array_get_idx (list, i);
          g_autoptr(CtPackage) package = g_new0 (CtPackage, 1);

          if (!json_object_is_type (p, json_type_object))
            ok = bad_answer (error, "package is not an object");
          else
            ok = get_string (p, "id", FALSE, &package->id, error)
                 && get_money (p, "amount", FALSE, &package->amount, error)
                 && get_money (p, "bonus", FALSE, &package->bonus, error);
          if (ok)
            g_ptr_array_add (m->packages, g_steal_pointer (&package));
        }
    }
  if (ok)
    ok = get_optional_int (obj, "points_redeem_rate", 0, CT_WIRE_COUNT_MAX, &m->points_redeem_rate, error)
         && get_optional_int (obj, "points_redeem_max_bp", 0, 10000, &m->points_redeem_max_bp, error)
         && get_optional_int (obj, "consent_over", 0, CT_MONEY_MAX, &m->consent_over, error)
         && get_optional_string (obj, "store", &m->store, error)
         && get_optional_string (obj, "till", &m->till, error)
         && levels_from_json (obj, m->levels, error);
  json_object_put (obj);
  if (!ok)
    return NULL;
  m->fetched_at = g_get_real_time ();
  return g_steal_pointer (&m);
}

CtReceipt *
ct_wire_decode_receipt (const char  *body,
                        gsize        len,
                        GError     **error)
{
  json_object *obj = parse_object (body, len, error);
  g_autoptr(CtReceipt) receipt = NULL;
  json_object *t, *c;

  if (obj == NULL)
    return NULL;
  receipt = g_new0 (CtReceipt, 1);
  t = member (obj, "transaction", json_type_object, FALSE, NULL, error);
  if (t != NULL)
    receipt->transaction = transaction_from_json (t, error);
  if (receipt->transaction != NULL)
    {
      c = member (obj, "card", json_type_object, FALSE, NULL, error);
      if (c != NULL)
        receipt->card = card_from_json (c, error);
    }
  /* What the service applied to a payment; absent from other answers and
   * from services before points redemption. */
  {
    json_object *redemption = NULL, *consent = NULL, *v = NULL;

    if (json_object_object_get_ex (obj, "redemption", &redemption)
        && json_object_is_type (redemption, json_type_object))
      {
        if (json_object_object_get_ex (redemption, "points", &v) && json_object_is_type (v, json_type_int))
          receipt->redeemed_points = json_object_get_int64 (v);
        if (json_object_object_get_ex (redemption, "value", &v) && json_object_is_type (v, json_type_int))
          receipt->redeemed_value = json_object_get_int64 (v);
      }
    if (json_object_object_get_ex (obj, "consent", &consent) && json_object_is_type (consent, json_type_string))
      receipt->member_consent = g_str_equal (json_object_get_string (consent), "member_pin")
                                ? CT_MEMBER_CONSENT_PIN : CT_MEMBER_CONSENT_CODE;
    if (receipt->transaction != NULL && receipt->transaction->kind == CT_TRANSACTION_REFUND
        && (!get_optional_money (obj, "amount", &receipt->refund_amount, error)
            || !get_optional_money (obj, "refunded", &receipt->refunded, error)
            || !get_optional_money (obj, "total", &receipt->refund_total, error)))
      {
        json_object_put (obj);
        return NULL;
      }
    if (json_object_object_get_ex (obj, "level_up", &v) && json_object_is_type (v, json_type_object)
        && json_object_object_get_ex (v, "name", &v) && json_object_is_type (v, json_type_string))
      receipt->level_up = g_strdup (json_object_get_string (v));
    /* A service before the transaction said so itself. */
    if (receipt->transaction != NULL && receipt->transaction->redeemed_points == 0)
      {
        receipt->transaction->redeemed_points = receipt->redeemed_points;
        receipt->transaction->redeemed_value = receipt->redeemed_value;
      }
  }
  json_object_put (obj);
  if (receipt->card == NULL)
    return NULL;
  return g_steal_pointer (&receipt);
}

CtHistoryPage *
ct_wire_decode_history (const char  *body,
                        gsize        len,
                        GError     **error)
{
  json_object *obj = parse_object (body, len, error);
  g_autoptr(CtHistoryPage) page = NULL;
  gboolean ok;

  if (obj == NULL)
    return NULL;
  page = g_new0 (CtHistoryPage, 1);
  page->transactions = transactions_from_json (obj, "transactions", error);
  ok = page->transactions != NULL
       && get_string (obj, "next_cursor", TRUE, &page->next_cursor, error);
  json_object_put (obj);
  if (!ok)
    return NULL;
  return g_steal_pointer (&page);
}

CtDayReport *
ct_wire_decode_day_report (const char  *body,
                           gsize        len,
                           GError     **error)
{
  json_object *obj = parse_object (body, len, error);
  g_autoptr(CtDayReport) report = NULL;
  json_object *totals;
  gboolean ok;

  if (obj == NULL)
    return NULL;
  report = g_new0 (CtDayReport, 1);
  ok = get_string (obj, "date", FALSE, &report->date, error)
       && get_string (obj, "store", TRUE, &report->store, error)
       && (report->transactions = transactions_from_json (obj, "transactions", error)) != NULL
       && (totals = member (obj, "totals", json_type_object, FALSE, NULL, error)) != NULL
       && get_money (totals, "topups", TRUE, &report->totals.topups, error)
       && get_money (totals, "bonus", TRUE, &report->totals.bonus, error)
       && get_money (totals, "payments", TRUE, &report->totals.payments, error)
       && get_money (totals, "refunds", TRUE, &report->totals.refunds, error)
       && get_money (totals, "adjustments", TRUE, &report->totals.adjustments, error)
       && get_money (totals, "imports", TRUE, &report->totals.imports, error)
       /* A service that does not page the day sends no cursor. */
       && (!json_object_object_get_ex (obj, "next_cursor", NULL)
           || get_string (obj, "next_cursor", TRUE, &report->next_cursor, error));
  json_object_put (obj);
  if (!ok)
    return NULL;
  return g_steal_pointer (&report);
}

gboolean
ct_wire_decode_ledger_check (const char     *body,
                             gsize           len,
                             CtLedgerCheck  *out,
                             GError        **error)
{
  json_object *obj = parse_object (body, len, error);
  int64_t big = G_MAXINT64 / 2;
  gboolean ok;

  if (obj == NULL)
    return FALSE;
  /* Account totals may be sums of many cards: allow a wider range. */
  ok = get_int (obj, "sum", -big, big, &out->sum, error)
       && get_int (obj, "cards", -big, big, &out->cards, error)
       && get_int (obj, "pool", -big, big, &out->pool, error)
       && get_int (obj, "cash", -big, big, &out->cash, error)
       && get_int (obj, "promo", -big, big, &out->promo, error)
       && get_int (obj, "legacy", -big, big, &out->legacy, error);
  json_object_put (obj);
  return ok;
}

/* The names in a health answer's "features"; a service from before the
 * list has none. */
static gboolean
get_features (json_object  *obj,
              char       ***out,
              GError      **error)
{
  g_autoptr(GStrvBuilder) names = g_strv_builder_new ();
  json_object *list;

  if (json_object_object_get_ex (obj, "features", NULL))
    {
      if ((list = member (obj, "features", json_type_array, FALSE, NULL, error)) == NULL)
        return FALSE;
      for (size_t i = 0; i < json_object_array_length (list); i++)
        {
          json_object *name = json_object_array_get_idx (list, i);

          if (!json_object_is_type (name, json_type_string))
            return bad_answer (error, "a feature is not a string");
          g_strv_builder_add (names, json_object_get_string (name));
        }
    }
  *out = g_strv_builder_end (names);
  return TRUE;
}

/**
 * ct_wire_decode_health:
 * @out_version: (out) (optional): the service's version
 * @out_features: (out) (optional): what it has beyond the first version
 *   of the API (none from a service before the list)
 */
gboolean
ct_wire_decode_health (const char   *body,
                       gsize         len,
                       char        **out_version,
                       char       ***out_features,
                       GError      **error)
{
  json_object *obj = parse_object (body, len, error);
  g_autofree char *status = NULL;
  g_autofree char *version = NULL;
  g_auto(GStrv) features = NULL;
  gboolean ok;

  if (obj == NULL)
    return FALSE;
  ok = get_string (obj, "status", FALSE, &status, error)
       && get_string (obj, "version", FALSE, &version, error)
       && get_features (obj, &features, error);
  json_object_put (obj);
  if (ok && strcmp (status, "ok") != 0)
    ok = bad_answer (error, "health status \"%s\"", status);
  if (ok && out_version)
    *out_version = g_steal_pointer (&version);
  if (ok && out_features)
    *out_features = g_steal_pointer (&features);
  return ok;
}

gboolean
ct_wire_check_object (const char  *body,
                      gsize        len,
                      GError     **error)
{
  json_object *obj = parse_object (body, len, error);

  if (obj == NULL)
    return FALSE;
  json_object_put (obj);
  return TRUE;
}

gboolean
ct_wire_decode_error (int          status,
                      const char  *body,
                      gsize        len,
                      GError     **error)
{
  g_autoptr(GError) local = NULL;
  json_object *obj = parse_object (body, len, &local);
  json_object *e;
  g_autofree char *code = NULL;
  g_autofree char *message = NULL;

  if (obj == NULL)
    {
      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_BAD_ANSWER,
                   "The service answered HTTP %d without a readable error (%s)",
                   status, local->message);
      return FALSE;
    }
  e = member (obj, "error", json_type_object, FALSE, NULL, &local);
  if (e == NULL
      || !get_string (e, "code", FALSE, &code, &local)
      || !get_string (e, "message", FALSE, &message, &local))
    {
      json_object_put (obj);
      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_BAD_ANSWER,
                   "The service answered HTTP %d without a readable error (%s)",
                   status, local->message);
      return FALSE;
    }
  /* A closed card's refusal names the card that replaced it: the sentence
   * is made here from "replaced_by", whatever the service's words. */
  if (strcmp (code, "card_closed") == 0)
    {
      g_autofree char *replaced_by = NULL;

      if (get_optional_string (e, "replaced_by", &replaced_by, NULL) && replaced_by != NULL)
        {
          g_free (message);
          message = g_strdup_printf ("This card was replaced by card %s: use the new card", replaced_by);
        }
    }
  json_object_put (obj);
  g_set_error_literal (error, CT_CLIENT_ERROR, ct_client_error_code_from_string (code),
                       message);
  return FALSE;
}

/* ---- encoding ------------------------------------------------------ */

char *
ct_wire_json_take_text (json_object *obj)
{
  char *text = g_strdup (json_object_to_json_string_ext (obj, JSON_C_TO_STRING_PLAIN
                                                              | JSON_C_TO_STRING_NOSLASHESCAPE));

  json_object_put (obj);
  return text;
}

static void
add_string (json_object *obj,
            const char  *key,
            const char  *value)
{
  json_object_object_add (obj, key, value ? json_object_new_string (value) : NULL);
}

static void
add_manager (json_object *obj,
             const char  *manager_id,
             const char  *manager_pin)
{
  json_object *m = json_object_new_object ();

  add_string (m, "id", manager_id ? manager_id : "");
  add_string (m, "pin", manager_pin ? manager_pin : "");
  json_object_object_add (obj, "manager", m);
}

char *
ct_wire_encode_payment (int64_t     amount,
                        const char *order_ref,
                        int64_t     redeem_points,
                        const char *member_code,
                        const char *member_pin,
                        const char *operator_name)
{
  return ct_wire_encode_split_payment (amount, order_ref, redeem_points, member_code, member_pin, 0, NULL,
                                       operator_name);
}

char *
ct_wire_encode_split_payment (int64_t     amount,
                              const char *order_ref,
                              int64_t     redeem_points,
                              const char *member_code,
                              const char *member_pin,
                              int64_t     rest,
                              const char *rest_tender,
                              const char *operator_name)
{
  json_object *obj = json_object_new_object ();

  json_object_object_add (obj, "amount", json_object_new_int64 (amount));
  if (order_ref != NULL)
    add_string (obj, "order_ref", order_ref);
  /* Only when used, so a payment without them reaches a service from before
   * points redemption and member codes as it always did. */
  if (redeem_points > 0)
    json_object_object_add (obj, "redeem_points", json_object_new_int64 (redeem_points));
  if (member_code != NULL)
    add_string (obj, "member_code", member_code);
  if (member_pin != NULL)
    add_string (obj, "member_pin", member_pin);
  /* Only a split payment carries a rest: another tender took it. */
  if (rest > 0 && rest_tender != NULL)
    {
      json_object *r = json_object_new_object ();

      json_object_object_add (r, "amount", json_object_new_int64 (rest));
      add_string (r, "tender", rest_tender);
      json_object_object_add (obj, "rest", r);
    }
  add_string (obj, "operator", operator_name);
  return ct_wire_json_take_text (obj);
}

/**
 * ct_wire_payment_needs_service:
 * @body: a payment's request body
 *
 * A payment that redeems points or carries the member's payment code or
 * PIN is decided by the service (the points, the code's single use, the
 * PIN, which only the service can check): it is never taken offline.
 *
 * Returns: whether the payment in @body is online-only
 */
gboolean
ct_wire_payment_needs_service (GBytes *body)
{
  gsize len = 0;
  const char *data = body != NULL ? g_bytes_get_data (body, &len) : NULL;
  json_tokener *tok;
  json_object *obj;
  gboolean needs;

  if (data == NULL)
    return FALSE;
  tok = json_tokener_new ();
  obj = json_tokener_parse_ex (tok, data, (int) len);
  json_tokener_free (tok);
  needs = obj != NULL && json_object_is_type (obj, json_type_object)
          && (json_object_object_get_ex (obj, "redeem_points", NULL)
              || json_object_object_get_ex (obj, "member_code", NULL)
              || json_object_object_get_ex (obj, "member_pin", NULL));
  json_object_put (obj);
  return needs;
}

char *
ct_wire_encode_topup_package (const char *package_id,
                              gboolean    with_expect,
                              int64_t     expect_amount,
                              int64_t     expect_bonus,
                              const char *tender,
                              const char *operator_name)
{
  json_object *obj = json_object_new_object ();

  add_string (obj, "package_id", package_id);
  if (with_expect)
    {
      json_object *e = json_object_new_object ();

      json_object_object_add (e, "amount", json_object_new_int64 (expect_amount));
      json_object_object_add (e, "bonus", json_object_new_int64 (expect_bonus));
      json_object_object_add (obj, "expect", e);
    }
  if (tender != NULL)
    add_string (obj, "tender", tender);
  add_string (obj, "operator", operator_name);
  return ct_wire_json_take_text (obj);
}

char *
ct_wire_encode_topup_amount (int64_t     amount,
                             const char *tender,
                             const char *operator_name)
{
  json_object *obj = json_object_new_object ();

  json_object_object_add (obj, "amount", json_object_new_int64 (amount));
  if (tender != NULL)
    add_string (obj, "tender", tender);
  add_string (obj, "operator", operator_name);
  return ct_wire_json_take_text (obj);
}

char *
ct_wire_encode_shift_open (int64_t     float_amount,
                           const char *operator_name)
{
  json_object *obj = json_object_new_object ();

  add_string (obj, "operator", operator_name);
  json_object_object_add (obj, "float", json_object_new_int64 (float_amount));
  return ct_wire_json_take_text (obj);
}

char *
ct_wire_encode_shift_close (int64_t     counted_cash,
                            const char *operator_name)
{
  json_object *obj = json_object_new_object ();

  add_string (obj, "operator", operator_name);
  json_object_object_add (obj, "counted_cash", json_object_new_int64 (counted_cash));
  return ct_wire_json_take_text (obj);
}

char *
ct_wire_add_taken_at (const char *body,
                      gsize       len,
                      gint64      now_us)
{
  g_autoptr(GDateTime) now = g_date_time_new_from_unix_utc (now_us / G_USEC_PER_SEC);
  g_autofree char *stamp = NULL;
  g_autofree char *seconds = NULL;
  json_tokener *tok = json_tokener_new ();
  json_object *obj = json_tokener_parse_ex (tok, body, (int) len);

  json_tokener_free (tok);
  if (obj == NULL || !json_object_is_type (obj, json_type_object))
    {
      json_object_put (obj);
      return NULL;
    }
  if (json_object_object_get_ex (obj, "taken_at", NULL))
    return ct_wire_json_take_text (obj);
  seconds = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S");
  stamp = g_strdup_printf ("%s.%03dZ", seconds, (int) ((now_us / 1000) % 1000));
  add_string (obj, "taken_at", stamp);
  return ct_wire_json_take_text (obj);
}

gboolean
ct_wire_tender_is_valid (const char *text)
{
  static const char * const tenders[] = { "cash", "wechat", "alipay", "bank_card", "other", NULL };

  return text != NULL && g_strv_contains (tenders, text);
}

char *
ct_wire_encode_refund (const char *transaction_id,
                       int64_t     amount,
                       const char *operator_name,
                       const char *manager_id,
                       const char *manager_pin)
{
  json_object *obj = json_object_new_object ();

  add_string (obj, "transaction_id", transaction_id);
  /* A whole refund says no amount, so a service from before partial
   * refunds takes it as it always did. */
  if (amount > 0)
    json_object_object_add (obj, "amount", json_object_new_int64 (amount));
  add_string (obj, "operator", operator_name);
  add_manager (obj, manager_id, manager_pin);
  return ct_wire_json_take_text (obj);
}

char *
ct_wire_encode_outcome (const char *card_no,
                        const char *idempotency_key,
                        const char *kind,
                        const char *outcome,
                        int64_t     cash_given_back,
                        const char *manager_id,
                        const char *manager_pin)
{
  json_object *obj = json_object_new_object ();

  add_string (obj, "card_no", card_no);
  add_string (obj, "idempotency_key", idempotency_key);
  add_string (obj, "kind", kind);
  add_string (obj, "outcome", outcome);
  if (cash_given_back > 0)
    json_object_object_add (obj, "cash_given_back", json_object_new_int64 (cash_given_back));
  add_manager (obj, manager_id, manager_pin);
  return ct_wire_json_take_text (obj);
}

char *
ct_wire_encode_adjustment (int64_t     delta,
                           const char *reason,
                           const char *operator_name,
                           const char *manager_id,
                           const char *manager_pin)
{
  json_object *obj = json_object_new_object ();

  json_object_object_add (obj, "delta", json_object_new_int64 (delta));
  add_string (obj, "reason", reason);
  add_string (obj, "operator", operator_name);
  add_manager (obj, manager_id, manager_pin);
  return ct_wire_json_take_text (obj);
}

char *
ct_wire_encode_card_issue (const CtCardIssue *issue)
{
  json_object *obj = json_object_new_object ();
  json_object *m = json_object_new_object ();

  add_string (m, "name", issue->member_name);
  add_string (m, "phone", issue->member_phone);
  json_object_object_add (obj, "member", m);
  if (issue->level != NULL)
    add_string (obj, "level", issue->level);
  if (issue->card_no != NULL)
    add_string (obj, "card_no", issue->card_no);
  if (issue->member_pin != NULL)
    add_string (obj, "member_pin", issue->member_pin);
  add_string (obj, "operator", issue->operator_name);
  add_manager (obj, issue->manager_id, issue->manager_pin);
  return ct_wire_json_take_text (obj);
}

char *
ct_wire_encode_member_pin (const char *member_pin,
                           const char *operator_name,
                           const char *manager_id,
                           const char *manager_pin)
{
  json_object *obj = json_object_new_object ();

  add_string (obj, "member_pin", member_pin);
  add_string (obj, "operator", operator_name);
  add_manager (obj, manager_id, manager_pin);
  return ct_wire_json_take_text (obj);
}

char *
ct_wire_encode_card_replace (const char *new_card_no,
                             const char *operator_name,
                             const char *manager_id,
                             const char *manager_pin)
{
  json_object *obj = json_object_new_object ();

  if (new_card_no != NULL)
    add_string (obj, "new_card_no", new_card_no);
  add_string (obj, "operator", operator_name);
  add_manager (obj, manager_id, manager_pin);
  return ct_wire_json_take_text (obj);
}

char *
ct_wire_encode_card_patch (const CtCardPatch *patch,
                           const char        *manager_id,
                           const char        *manager_pin)
{
  json_object *obj = json_object_new_object ();

  g_return_val_if_fail (patch != NULL, NULL);

  if (patch->member_name != NULL || patch->member_phone != NULL)
    {
      json_object *m = json_object_new_object ();

      if (patch->member_name != NULL)
        add_string (m, "name", patch->member_name);
      if (patch->member_phone != NULL)
        add_string (m, "phone", patch->member_phone);
      json_object_object_add (obj, "member", m);
    }
  if (patch->level != NULL)
    add_string (obj, "level", patch->level);
  switch (patch->status)
    {
    case CT_CARD_STATUS_CHANGE_FREEZE:
      add_string (obj, "status", "frozen");
      break;
    case CT_CARD_STATUS_CHANGE_UNFREEZE:
      add_string (obj, "status", "active");
      break;
    case CT_CARD_STATUS_CHANGE_NONE:
    default:
      break;
    }
  add_manager (obj, manager_id, manager_pin);
  return ct_wire_json_take_text (obj);
}

char *
ct_wire_encode_card (const CtCard *card)
{
  json_object *obj = json_object_new_object ();
  json_object *m = json_object_new_object ();

  g_return_val_if_fail (card != NULL, NULL);

  add_string (obj, "card_no", card->card_no);
  add_string (obj, "status", ct_card_status_to_string (card->status));
  add_string (obj, "level", card->level);
  add_string (m, "name", card->member_name);
  add_string (m, "phone", card->member_phone);
  json_object_object_add (obj, "member", m);
  json_object_object_add (obj, "balance", json_object_new_int64 (card->balance));
  json_object_object_add (obj, "points", json_object_new_int64 (card->points));
  add_string (obj, "created_at", card->created_at);
  add_string (obj, "updated_at", card->updated_at);
  add_string (obj, "replaced_by", card->replaced_by);
  return ct_wire_json_take_text (obj);
}
