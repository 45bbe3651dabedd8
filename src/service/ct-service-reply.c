/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-service"
#include "config.h"

#include <string.h>
#include <time.h>

#include "ct-card-number.h"
#include "ct-service-auth.h"
#include "ct-service.h"
#include "ct-strict-json.h"

/* Replies, JSON shapes and the request checks every route shares. */

static char *
json_text (json_object *obj)
{
  return g_strdup (json_object_to_json_string_ext (obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

CtReply *
ct_reply_new_json (guint        status,
                   json_object *body)
{
  CtReply *r = g_new0 (CtReply, 1);

  r->status = status;
  r->body = json_text (body);
  json_object_put (body);
  return r;
}

CtReply *
ct_reply_error (guint       status,
                const char *code,
                const char *format,
                ...)
{
  CtReply *r = g_new0 (CtReply, 1);
  json_object *root = json_object_new_object ();
  json_object *err = json_object_new_object ();
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  if (!g_utf8_validate (message, -1, NULL))
    {
      char *fixed = g_utf8_make_valid (message, -1);
      g_free (message);
      message = fixed;
    }

  json_object_object_add (err, "code", json_object_new_string (code));
  json_object_object_add (err, "message", json_object_new_string (message));
  json_object_object_add (root, "error", err);
  r->status = status;
  r->code = g_strdup (code);
  r->body = json_text (root);
  json_object_put (root);
  return r;
}

CtReply *
ct_reply_copy (const CtReply *reply)
{
  CtReply *r = g_new0 (CtReply, 1);

  r->status = reply->status;
  r->code = g_strdup (reply->code);
  r->body = g_strdup (reply->body);
  r->retry_after = reply->retry_after;
  r->replayed = reply->replayed;
  r->content_type = reply->content_type;
  r->csp = g_strdup (reply->csp);
  return r;
}

void
ct_reply_free (CtReply *reply)
{
  if (reply == NULL)
    return;
  g_free (reply->code);
  g_free (reply->body);
  g_free (reply->csp);
  g_free (reply);
}

gboolean
ct_reply_is_success (const CtReply *reply)
{
  return reply->status >= 200 && reply->status < 300;
}

/* docs/api.md: 2xx and every refusal by validation or the ledger rules are
 * kept with the key; 401, idempotency_key_missing, request_in_progress, 413,
 * 429 and 5xx are not. */
gboolean
ct_reply_is_stored (const CtReply *reply)
{
  switch (reply->status)
    {
    case 400:
      return g_strcmp0 (reply->code, "bad_request") == 0;
    case 403:
    case 404:
      return TRUE;
    case 409:
      return g_strcmp0 (reply->code, "request_in_progress") != 0;
    case 422:
      return g_strcmp0 (reply->code, "idempotency_key_reused") != 0;
    default:
      return reply->status >= 200 && reply->status < 300;
    }
}

static char *
put_digits (char *p,
            int   value,
            int   width)
{
  for (int i = width - 1; i >= 0; i--, value /= 10)
    p[i] = (char) ('0' + value % 10);
  return p + width;
}

/* ISO 8601 in UTC with milliseconds, "2026-03-01T09:30:00.250Z": gmtime_r
 * and the digits put in place, as GDateTime's formatter and then printf
 * cost a payment 5 % and 3 % of its instructions. */
static gsize
format_time (int64_t ms,
             char    out[32])
{
  time_t secs = (time_t) (ms / 1000);
  struct tm tm;
  char *p = out;

  if (ms < 0 || gmtime_r (&secs, &tm) == NULL || tm.tm_year + 1900 > 9999)
    return g_strlcpy (out, "1970-01-01T00:00:00.000Z", 32);
  p = put_digits (p, tm.tm_year + 1900, 4);
  *p++ = '-';
  p = put_digits (p, tm.tm_mon + 1, 2);
  *p++ = '-';
  p = put_digits (p, tm.tm_mday, 2);
  *p++ = 'T';
  p = put_digits (p, tm.tm_hour, 2);
  *p++ = ':';
  p = put_digits (p, tm.tm_min, 2);
  *p++ = ':';
  p = put_digits (p, tm.tm_sec, 2);
  *p++ = '.';
  p = put_digits (p, (int) (ms % 1000), 3);
  *p++ = 'Z';
  *p = '\0';
  return (gsize) (p - out);
}

char *
ct_service_format_time (int64_t ms)
{
  char buf[32];

  format_time (ms, buf);
  return g_strdup (buf);
}

static json_object *
string_or_null (const char *s)
{
  return s != NULL ? json_object_new_string (s) : NULL;
}

static void
add_time (json_object *obj,
          const char  *key,
          int64_t      ms)
{
  g_autofree char *t = ct_service_format_time (ms);

  json_object_object_add (obj, key, json_object_new_string (t));
}

json_object *
ct_service_card_to_json (const CtStoreCard *card)
{
  json_object *obj = json_object_new_object ();
  json_object *member = json_object_new_object ();

  json_object_object_add (obj, "card_no", json_object_new_string (card->card_no));
  json_object_object_add (obj, "status", json_object_new_string (card->status));
  json_object_object_add (obj, "level", string_or_null (card->level));
  json_object_object_add (member, "name", string_or_null (card->name));
  json_object_object_add (member, "phone", string_or_null (card->phone));
  json_object_object_add (obj, "member", member);
  json_object_object_add (obj, "balance", json_object_new_int64 (card->balance));
  json_object_object_add (obj, "points", json_object_new_int64 (card->points));
  add_time (obj, "created_at", card->created_at);
  add_time (obj, "updated_at", card->updated_at);
  json_object_object_add (obj, "replaced_by", string_or_null (card->replaced_by));
  return obj;
}

/**
 * ct_reply_card_closed:
 * 409 card_closed for a card replaced by another (docs/api.md, "Lost
 * cards"): the error names the card that replaced it in "replaced_by", so
 * a till can say which card the member holds now.
 */
CtReply *
ct_reply_card_closed (const CtStoreCard *card)
{
  CtReply *r = ct_reply_error (409, "card_closed", "Card %s was replaced by card %s", card->card_no,
                               card->replaced_by != NULL ? card->replaced_by : "-");
  json_object *root = json_tokener_parse (r->body);
  json_object *err = NULL;

  if (root != NULL && json_object_object_get_ex (root, "error", &err))
    {
      json_object_object_add (err, "replaced_by", string_or_null (card->replaced_by));
      g_free (r->body);
      r->body = json_text (root);
    }
  json_object_put (root);
  return r;
}

json_object *
ct_service_tx_to_json (const CtStoreTx *tx)
{
  json_object *obj = json_object_new_object ();
  char id[32];

  g_snprintf (id, sizeof id, "%" G_GINT64_FORMAT, tx->id);
  json_object_object_add (obj, "id", json_object_new_string (id));
  json_object_object_add (obj, "card_no", json_object_new_string (tx->card_no));
  json_object_object_add (obj, "kind", json_object_new_string (tx->kind));
  json_object_object_add (obj, "delta", json_object_new_int64 (tx->delta));
  json_object_object_add (obj, "bonus", json_object_new_int64 (tx->bonus));
  json_object_object_add (obj, "balance_after", json_object_new_int64 (tx->balance_after));
  json_object_object_add (obj, "points_delta", json_object_new_int64 (tx->points_delta));
  json_object_object_add (obj, "points_after", json_object_new_int64 (tx->points_after));
  json_object_object_add (obj, "store", string_or_null (tx->store));
  json_object_object_add (obj, "till", string_or_null (tx->till));
  json_object_object_add (obj, "operator", string_or_null (tx->operator_name));
  json_object_object_add (obj, "manager", string_or_null (tx->manager));
  json_object_object_add (obj, "reason", string_or_null (tx->reason));
  json_object_object_add (obj, "order_ref", string_or_null (tx->order_ref));
  if (tx->refund_of > 0)
    {
      g_snprintf (id, sizeof id, "%" G_GINT64_FORMAT, tx->refund_of);
      json_object_object_add (obj, "refund_of", json_object_new_string (id));
    }
  else
    json_object_object_add (obj, "refund_of", NULL);
  add_time (obj, "created_at", tx->created_at);
  add_time (obj, "taken_at", tx->taken_at != 0 ? tx->taken_at : tx->created_at);
  json_object_object_add (obj, "tender", string_or_null (tx->tender));
  if (tx->shift_id > 0)
    {
      g_snprintf (id, sizeof id, "%" G_GINT64_FORMAT, tx->shift_id);
      json_object_object_add (obj, "shift_id", json_object_new_string (id));
    }
  else
    json_object_object_add (obj, "shift_id", NULL);
  json_object_object_add (obj, "level", string_or_null (tx->level));
  json_object_object_add (obj, "discount", json_object_new_int64 (tx->discount));
  json_object_object_add (obj, "level_bonus", json_object_new_int64 (tx->level_bonus));
  json_object_object_add (obj, "redeemed_points", json_object_new_int64 (tx->redeemed_points));
  json_object_object_add (obj, "redeemed_value", json_object_new_int64 (tx->redeemed_value));
  json_object_object_add (obj, "level_up", string_or_null (tx->level_up));
  if (tx->rest > 0 && tx->rest_tender != NULL)
    {
      json_object *rest = json_object_new_object ();

      json_object_object_add (rest, "amount", json_object_new_int64 (tx->rest));
      json_object_object_add (rest, "tender", json_object_new_string (tx->rest_tender));
      json_object_object_add (obj, "rest", rest);
    }
  else
    json_object_object_add (obj, "rest", NULL);
  json_object_object_add (obj, "refunded", json_object_new_int64 (tx->refunded));
  return obj;
}

/* Appends to @out in place when it has room: g_string_append_len() is a
 * call into g_string_insert_len() for every piece, and an answer is about
 * 130 pieces (11,000 instructions of a payment). */
static inline void
put_len (GString    *out,
         const char *s,
         gsize       n)
{
  if (G_LIKELY (out->len + n < out->allocated_len))
    {
      memcpy (out->str + out->len, s, n);
      out->len += n;
      out->str[out->len] = '\0';
    }
  else
    g_string_append_len (out, s, (gssize) n);
}

static inline void
put (GString    *out,
     const char *s)
{
  put_len (out, s, strlen (s));
}

/* The same shapes written straight into text, for the write routes' answers:
 * byte for byte what json-c prints for ct_service_card_to_json() and
 * ct_service_tx_to_json() (plain, no slash escapes), without building and
 * freeing a tree of objects for every payment. */

void
ct_json_append_string (GString    *out,
                       const char *s)
{
  const char *run;

  if (s == NULL)
    {
      put_len (out, "null", 4);
      return;
    }
  g_string_append_c (out, '"');
  for (run = s; *s != '\0'; s++)
    {
      guchar c = (guchar) *s;
      const char *esc = NULL;

      switch (c)
        {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
          if (c >= 0x20)
            continue;
          break;
        }
      put_len (out, run, s - run);
      if (esc != NULL)
        put (out, esc);
      else
        g_string_append_printf (out, "\\u%04x", c);
      run = s + 1;
    }
  put_len (out, run, s - run);
  g_string_append_c (out, '"');
}

static void
append_key (GString    *out,
            const char *key)
{
  if (out->len > 0 && out->str[out->len - 1] != '{')
    g_string_append_c (out, ',');
  g_string_append_c (out, '"');
  put (out, key);
  put_len (out, "\":", 2);
}

static void
append_str (GString    *out,
            const char *key,
            const char *value)
{
  append_key (out, key);
  ct_json_append_string (out, value);
}

/* The decimal digits of @value into @buf (at least 21 bytes, no NUL);
 * their count. printf was a twentieth of an answer's instructions. */
static gsize
format_int64 (int64_t  value,
              char    *buf)
{
  char digits[20];
  guint64 u = value < 0 ? -(guint64) value : (guint64) value;
  gsize n = 0, len = 0;

  do
    {
      digits[n++] = (char) ('0' + u % 10);
      u /= 10;
    }
  while (u > 0);
  if (value < 0)
    buf[len++] = '-';
  while (n > 0)
    buf[len++] = digits[--n];
  return len;
}

static void
append_int (GString    *out,
            const char *key,
            int64_t     value)
{
  char buf[24];

  append_key (out, key);
  put_len (out, buf, format_int64 (value, buf));
}

/* An id, which the API writes as a string. */
static void
append_id (GString    *out,
           const char *key,
           int64_t     id)
{
  char buf[24];

  append_key (out, key);
  g_string_append_c (out, '"');
  put_len (out, buf, format_int64 (id, buf));
  g_string_append_c (out, '"');
}

static void
append_time (GString    *out,
             const char *key,
             int64_t     ms)
{
  char buf[32];
  gsize n = format_time (ms, buf);

  append_key (out, key);
  g_string_append_c (out, '"');
  put_len (out, buf, n);
  g_string_append_c (out, '"');
}

void
ct_service_card_write (GString           *out,
                       const CtStoreCard *card)
{
  g_string_append_c (out, '{');
  append_str (out, "card_no", card->card_no);
  append_str (out, "status", card->status);
  append_str (out, "level", card->level);
  append_key (out, "member");
  g_string_append_c (out, '{');
  append_str (out, "name", card->name);
  append_str (out, "phone", card->phone);
  g_string_append_c (out, '}');
  append_int (out, "balance", card->balance);
  append_int (out, "points", card->points);
  append_time (out, "created_at", card->created_at);
  append_time (out, "updated_at", card->updated_at);
  append_str (out, "replaced_by", card->replaced_by);
  g_string_append_c (out, '}');
}

void
ct_service_tx_write (GString         *out,
                     const CtStoreTx *tx)
{
  g_string_append_c (out, '{');
  append_id (out, "id", tx->id);
  append_str (out, "card_no", tx->card_no);
  append_str (out, "kind", tx->kind);
  append_int (out, "delta", tx->delta);
  append_int (out, "bonus", tx->bonus);
  append_int (out, "balance_after", tx->balance_after);
  append_int (out, "points_delta", tx->points_delta);
  append_int (out, "points_after", tx->points_after);
  append_str (out, "store", tx->store);
  append_str (out, "till", tx->till);
  append_str (out, "operator", tx->operator_name);
  append_str (out, "manager", tx->manager);
  append_str (out, "reason", tx->reason);
  append_str (out, "order_ref", tx->order_ref);
  if (tx->refund_of > 0)
    append_id (out, "refund_of", tx->refund_of);
  else
    append_str (out, "refund_of", NULL);
  append_time (out, "created_at", tx->created_at);
  append_time (out, "taken_at", tx->taken_at != 0 ? tx->taken_at : tx->created_at);
  append_str (out, "tender", tx->tender);
  if (tx->shift_id > 0)
    append_id (out, "shift_id", tx->shift_id);
  else
    append_str (out, "shift_id", NULL);
  append_str (out, "level", tx->level);
  append_int (out, "discount", tx->discount);
  append_int (out, "level_bonus", tx->level_bonus);
  append_int (out, "redeemed_points", tx->redeemed_points);
  append_int (out, "redeemed_value", tx->redeemed_value);
  append_str (out, "level_up", tx->level_up);
  append_key (out, "rest");
  if (tx->rest > 0 && tx->rest_tender != NULL)
    {
      g_string_append_c (out, '{');
      append_int (out, "amount", tx->rest);
      append_str (out, "tender", tx->rest_tender);
      g_string_append_c (out, '}');
    }
  else
    put (out, "null");
  append_int (out, "refunded", tx->refunded);
  g_string_append_c (out, '}');
}

static json_object *
totals_pair (int64_t a,
             int64_t b)
{
  json_object *o = json_object_new_object ();

  json_object_object_add (o, "taken", json_object_new_int64 (a));
  json_object_object_add (o, "given_back", json_object_new_int64 (b));
  json_object_object_add (o, "net", json_object_new_int64 (a - b));
  return o;
}

/**
 * ct_service_totals_to_json:
 * The totals of a day, a till or a shift (docs/api.md, "Totals"): amounts
 * by kind, counts by kind, and money by tender.
 */
json_object *
ct_service_totals_to_json (const CtStoreDayTotals *t)
{
  json_object *o = json_object_new_object ();
  json_object *counts = json_object_new_object ();
  json_object *tenders = json_object_new_object ();
  json_object *rests = json_object_new_object ();

  json_object_object_add (o, "count", json_object_new_int64 (t->count));
  json_object_object_add (o, "topups", json_object_new_int64 (t->topups));
  json_object_object_add (o, "bonus", json_object_new_int64 (t->bonus));
  json_object_object_add (o, "payments", json_object_new_int64 (t->payments));
  json_object_object_add (o, "refunds", json_object_new_int64 (t->refunds));
  json_object_object_add (o, "voids", json_object_new_int64 (t->voids));
  json_object_object_add (o, "void_bonus", json_object_new_int64 (t->void_bonus));
  json_object_object_add (o, "adjustments", json_object_new_int64 (t->adjustments));
  json_object_object_add (o, "imports", json_object_new_int64 (t->imports));
  json_object_object_add (o, "points_redeemed", json_object_new_int64 (t->points_redeemed));
  json_object_object_add (o, "redeemed_value", json_object_new_int64 (t->redeemed_value));
  json_object_object_add (counts, "topups", json_object_new_int64 (t->topup_count));
  json_object_object_add (counts, "payments", json_object_new_int64 (t->payment_count));
  json_object_object_add (counts, "refunds", json_object_new_int64 (t->refund_count));
  json_object_object_add (counts, "voids", json_object_new_int64 (t->void_count));
  json_object_object_add (counts, "adjustments", json_object_new_int64 (t->adjustment_count));
  json_object_object_add (counts, "imports", json_object_new_int64 (t->import_count));
  json_object_object_add (counts, "points_redeemed", json_object_new_int64 (t->redeem_count));
  json_object_object_add (o, "counts", counts);
  for (guint i = 0; i < CT_N_TENDERS; i++)
    json_object_object_add (tenders, ct_store_tender_to_string (i), totals_pair (t->taken[i], t->given_back[i]));
  json_object_object_add (o, "tenders", tenders);
  /* The rests of split payments: money the till took by another tender
   * for the part of an order the card did not hold, not card money. */
  for (guint i = 0; i < CT_N_TENDERS; i++)
    json_object_object_add (rests, ct_store_tender_to_string (i),
                            totals_pair (t->rest_taken[i], t->rest_given_back[i]));
  json_object_object_add (o, "rests", rests);
  return o;
}

/* Body checks */

CtReply *
ct_call_body_object (CtCall *call)
{
  g_autoptr(GError) error = NULL;

  if (call->json != NULL)
    return NULL;
  if (call->body == NULL || call->body->len == 0)
    return ct_reply_error (400, "bad_request", "The request needs a JSON object body");
  call->json = ct_strict_json_parse (call->body->str, call->body->len, &error);
  if (call->json == NULL)
    return ct_reply_error (400, "bad_request", "The body is not acceptable JSON: %s", error->message);
  if (!json_object_is_type (call->json, json_type_object))
    return ct_reply_error (400, "bad_request", "The body must be a JSON object");
  return NULL;
}

/**
 * ct_json_refuse_unknown:
 * @where: the path of @obj in the body, "" for the body itself or "member."
 *
 * Refuses the first field of @obj that is not in @known (400 bad_request
 * naming it): a till newer than this service must never have a field it
 * relies on silently ignored. Returns NULL when every field is known.
 */
CtReply *
ct_json_refuse_unknown (json_object        *obj,
                        const char         *where,
                        const char * const *known)
{
  json_object_object_foreach (obj, key, value)
    {
      (void) value;
      if (!g_strv_contains (known, key))
        return ct_reply_error (400, "bad_request",
                               "Unknown field \"%s%s\": this service does not take it (GET /v1/health lists "
                               "its features)", where, key);
    }
  return NULL;
}

/* The member @key of @obj: TRUE with *out NULL when it is absent (or null)
 * and not @required; FALSE with a 400 reply when it is required. */
static gboolean
json_member (json_object  *obj,
             const char   *key,
             gboolean      required,
             json_object **out,
             CtReply     **reply)
{
  *out = NULL;
  if ((!json_object_object_get_ex (obj, key, out) || *out == NULL) && required)
    {
      *reply = ct_reply_error (400, "bad_request", "\"%s\" is required", key);
      return FALSE;
    }
  return TRUE;
}

gboolean
ct_json_get_string (json_object  *obj,
                    const char   *key,
                    gboolean      required,
                    gsize         max_len,
                    const char  **out,
                    CtReply     **reply)
{
  json_object *v = NULL;

  *out = NULL;
  if (!json_member (obj, key, required, &v, reply))
    return FALSE;
  if (v == NULL)
    return TRUE;
  if (!json_object_is_type (v, json_type_string))
    {
      *reply = ct_reply_error (400, "bad_request", "\"%s\" must be a string", key);
      return FALSE;
    }
  if ((gsize) json_object_get_string_len (v) > max_len)
    {
      *reply = ct_reply_error (400, "bad_request", "\"%s\" is longer than %" G_GSIZE_FORMAT " bytes", key, max_len);
      return FALSE;
    }
  if (required && json_object_get_string_len (v) == 0)
    {
      *reply = ct_reply_error (400, "bad_request", "\"%s\" must not be empty", key);
      return FALSE;
    }
  *out = json_object_get_string (v);
  return TRUE;
}

gboolean
ct_json_get_int (json_object  *obj,
                 const char   *key,
                 gboolean      required,
                 gboolean     *present,
                 int64_t      *out,
                 CtReply     **reply)
{
  json_object *v = NULL;

  *out = 0;
  if (present != NULL)
    *present = FALSE;
  if (!json_member (obj, key, required, &v, reply))
    return FALSE;
  if (v == NULL)
    return TRUE;
  /* The strict validator already refused fractions, exponents and values
   * beyond int64, so an int here is exactly what the client wrote. */
  if (!json_object_is_type (v, json_type_int))
    {
      *reply = ct_reply_error (400, "bad_request", "\"%s\" must be a JSON integer (minor units)", key);
      return FALSE;
    }
  *out = json_object_get_int64 (v);
  if (present != NULL)
    *present = TRUE;
  return TRUE;
}

/* Managers */

CtReply *
ct_call_take_manager (CtCall *call)
{
  json_object *m = NULL;
  const char *id = NULL, *pin = NULL;
  CtReply *reply = NULL;

  if (!json_object_object_get_ex (call->json, "manager", &m) || m == NULL)
    {
      call->manager_state = CT_MANAGER_ABSENT;
      return NULL;
    }
  if (!json_object_is_type (m, json_type_object))
    return ct_reply_error (400, "bad_request", "\"manager\" must be an object {\"id\", \"pin\"}");
  if ((reply = ct_json_refuse_unknown (m, "manager.", (const char * const[]) { "id", "pin", NULL })) != NULL)
    return reply;
  if (!ct_json_get_string (m, "id", FALSE, 64, &id, &reply)
      || !ct_json_get_string (m, "pin", FALSE, 64, &pin, &reply))
    return reply;
  if (id == NULL || pin == NULL || *id == '\0' || *pin == '\0')
    {
      call->manager_state = CT_MANAGER_ABSENT;
      return NULL;
    }
  call->manager_state = CT_MANAGER_GIVEN;
  call->manager_id = g_strdup (id);
  call->manager_pin = g_strdup (pin);
  call->guard_id = g_strdup (id);
  return NULL;
}

CtReply *
ct_call_card_number (CtCall            *call,
                     const char        *text,
                     const CtStoreMerchant  *merchant,
                     char             **out_card_no)
{
  g_autoptr(GError) error = NULL;
  CtCardNumberKind kind;
  char *no;

  *out_card_no = NULL;
  no = ct_card_number_normalize (text, merchant->issuer_prefix, &kind, &error);
  if (no == NULL)
    {
      if (g_error_matches (error, CT_CARD_NUMBER_ERROR, CT_CARD_NUMBER_ERROR_CHECK_DIGIT))
        return ct_reply_error (422, "invalid_card_no", "%s", error->message);
      return ct_reply_error (404, "card_not_found", "%s", error->message);
    }
  *out_card_no = no;
  return NULL;
}

/* Dates in the merchant's time zone */

static GTimeZone *
merchant_tz (const char *timezone)
{
  GTimeZone *tz = timezone != NULL ? g_time_zone_new_identifier (timezone) : NULL;

  return tz != NULL ? tz : g_time_zone_new_utc ();
}

gboolean
ct_service_day_range (const char *timezone,
                      const char *date,
                      int64_t    *from_ms,
                      int64_t    *to_ms)
{
  g_autoptr(GTimeZone) tz = merchant_tz (timezone);
  g_autoptr(GDateTime) start = NULL;
  g_autoptr(GDateTime) end = NULL;
  guint64 y, m, d;

  if (date == NULL || strlen (date) != 10 || date[4] != '-' || date[7] != '-')
    return FALSE;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && !g_ascii_isdigit (date[i]))
      return FALSE;
  y = g_ascii_strtoull (date, NULL, 10);
  m = g_ascii_strtoull (date + 5, NULL, 10);
  d = g_ascii_strtoull (date + 8, NULL, 10);
  if (y < 1970 || y > 9998 || !g_date_valid_dmy ((GDateDay) d, (GDateMonth) m, (GDateYear) y))
    return FALSE;
  start = g_date_time_new (tz, (int) y, (int) m, (int) d, 0, 0, 0);
  if (start == NULL)
    return FALSE;
  end = g_date_time_add_days (start, 1);
  if (end == NULL)
    return FALSE;
  *from_ms = g_date_time_to_unix (start) * 1000;
  *to_ms = g_date_time_to_unix (end) * 1000;
  return TRUE;
}

char *
ct_service_today (const char *timezone)
{
  g_autoptr(GTimeZone) tz = merchant_tz (timezone);
  g_autoptr(GDateTime) now = g_date_time_new_now (tz);

  return g_date_time_format (now, "%Y-%m-%d");
}
