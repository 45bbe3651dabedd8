/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-service-member"
#include "config.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include "ct-member-code.h"
#include "ct-member-page.h"
#include "ct-service-auth.h"
#include "ct-service-member.h"

/*
 * The member's side of the service: the link to the member's page (a
 * random token of 128 bits, of which the database keeps only the SHA-256),
 * the page itself and its payment code, and the check of a code that a
 * till sends with a payment. Nothing here changes money.
 */

#define TOKEN_BYTES 16
#define TOKEN_CHARS 32          /* hex */
#define HISTORY_DAYS_BACK 366   /* the page pages back at most a year */
#define HISTORY_LIMIT 200

static gboolean
token_valid (const char *token)
{
  if (token == NULL || strlen (token) != TOKEN_CHARS)
    return FALSE;
  for (const char *p = token; *p != '\0'; p++)
    if (!g_ascii_isxdigit (*p) || g_ascii_isupper (*p))
      return FALSE;
  return TRUE;
}

/**
 * ct_member_link_new:
 * @store: the store, inside the request's transaction
 * @call: the request (its base URL makes the link absolute)
 * @card_no: the card
 *
 * Gives the card a new member link; the old one, if any, stops working.
 * The card keeps its payment-code secret (a new card gets one).
 *
 * Returns: (transfer full): the member's URL, or %NULL
 */
char *
ct_member_link_new (CtStore     *store,
                    CtCall      *call,
                    const char  *card_no,
                    GError     **error)
{
  guint8 raw[TOKEN_BYTES];
  guint8 secret[CT_MEMBER_CODE_SECRET_LEN];
  guint8 hash[32];
  char token[TOKEN_CHARS + 1];

  if (gnutls_rnd (GNUTLS_RND_KEY, raw, sizeof raw) != 0
      || gnutls_rnd (GNUTLS_RND_KEY, secret, sizeof secret) != 0)
    g_error ("no random numbers available");
  for (guint i = 0; i < TOKEN_BYTES; i++)
    g_snprintf (token + 2 * i, 3, "%02x", raw[i]);
  ct_auth_token_hash (token, hash);
  if (!ct_store_member_link_put (store, card_no, hash, secret, sizeof secret, ct_store_now_ms (), error))
    return NULL;
  return g_strconcat (call->base_url, "/m/", token, NULL);
}

/**
 * ct_member_code_check:
 * @store: the store, inside the payment's transaction
 * @card_no: the card paying
 * @code: the code the till read from the member's phone
 *
 * Returns: whether @code is the card's code now and has not paid before;
 *   on %TRUE the code is used up.
 */
gboolean
ct_member_code_check (CtStore     *store,
                      const char  *card_no,
                      const char  *code,
                      GError     **error)
{
  g_autoptr(GBytes) secret = NULL;
  g_autoptr(GError) local = NULL;
  gint64 step = 0;
  gsize len = 0;
  const guint8 *key;

  if (!ct_store_member_secret_get (store, card_no, &secret, &local))
    {
      if (!g_error_matches (local, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      return FALSE;
    }
  key = g_bytes_get_data (secret, &len);
  if (!ct_member_code_verify (key, len, code, g_get_real_time () / G_USEC_PER_SEC, &step))
    return FALSE;
  if (!ct_store_member_code_take (store, card_no, step, &local))
    {
      if (!g_error_matches (local, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS))
        g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return TRUE;
}

static CtReply *
page_reply (guint  status,
            char  *html)
{
  CtReply *reply = g_new0 (CtReply, 1);

  reply->status = status;
  reply->body = html;
  reply->content_type = "text/html; charset=utf-8";
  reply->csp = ct_member_page_csp ();
  return reply;
}

/* The card of the path's token; NULL with a reply when there is none. */
static CtReply *
token_card (CtService        *svc,
            CtCall           *call,
            CtMemberPageLanguage language,
            CtStoreMerchant  *m,
            CtStoreCard      *card,
            GBytes          **secret)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *card_no = NULL;
  int64_t merchant = 0;
  guint8 hash[32];

  if (token_valid (call->args[0]))
    {
      ct_auth_token_hash (call->args[0], hash);
      /* The link decides the merchant the page reads inside. */
      if (ct_store_member_link_get (ct_service_get_store (svc), hash, &merchant, &card_no, secret, &error))
        {
          g_clear_pointer (&call->store, ct_store_free);
          call->store = ct_store_for_merchant (ct_service_get_store (svc), merchant);
        }
      if (error == NULL
          && ct_store_get_merchant (call->store, m, &error)
          && ct_store_card_get (call->store, card_no, card, &error))
        return NULL;
      if (!g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND))
        {
          g_warning ("member page: %s", error->message);
          return page_reply (500, ct_member_page_refused (language));
        }
    }
  /* Unknown, replaced and malformed links look the same. */
  return page_reply (404, ct_member_page_refused (language));
}

static char *
shift_day (const char *day,
           const char *timezone,
           int         days)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier (timezone);
  g_autofree char *iso = g_strdup_printf ("%sT12:00:00", day);
  g_autoptr(GDateTime) at = NULL;
  g_autoptr(GDateTime) shifted = NULL;

  if (tz == NULL)
    tz = g_time_zone_new_utc ();
  at = g_date_time_new_from_iso8601 (iso, tz);
  if (at == NULL)
    return NULL;
  shifted = g_date_time_add_days (at, days);
  return g_date_time_format (shifted, "%Y-%m-%d");
}

/* The code now and how long it lasts, or NULL when the card cannot pay. */
static char *
current_code (const CtStoreCard *card,
              GBytes            *secret,
              int               *out_seconds_left)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gsize len = 0;
  const guint8 *key = g_bytes_get_data (secret, &len);

  *out_seconds_left = CT_MEMBER_CODE_STEP_S - (int) (now % CT_MEMBER_CODE_STEP_S);
  if (g_strcmp0 (card->status, "active") != 0 || len == 0)
    return NULL;
  return ct_member_code_at (key, len, now, CT_MEMBER_CODE_DIGITS);
}

/* GET /m/{token}[?date=D] */
CtReply *
ct_member_read_page (CtService *svc,
                     CtCall    *call)
{
  CtMemberPageLanguage language = ct_member_page_language (call->accept_language);
  g_auto(CtStoreMerchant) m = { 0 };
  g_auto(CtStoreCard) card = { 0 };
  g_autoptr(GBytes) secret = NULL;
  g_autoptr(GPtrArray) txs = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *today = NULL;
  g_autofree char *oldest = NULL;
  g_autofree char *prev = NULL;
  g_autofree char *next = NULL;
  g_autofree char *code = NULL;
  g_autofree char *payload = NULL;
  g_autofree char *page_path = NULL;
  g_autofree char *code_url = NULL;
  const char *day;
  int64_t from_ms, to_ms;
  CtMemberPageData data = { 0 };
  CtReply *reply;

  if ((reply = token_card (svc, call, language, &m, &card, &secret)) != NULL)
    return reply;
  today = ct_service_today (m.timezone);
  oldest = shift_day (today, m.timezone, -HISTORY_DAYS_BACK);
  day = g_hash_table_lookup (call->query, "date");
  /* A day that is not a date, in the future or too far back shows today. */
  if (day == NULL || !ct_service_day_range (m.timezone, day, &from_ms, &to_ms)
      || strcmp (day, today) > 0 || strcmp (day, oldest) < 0)
    day = today;
  if (!ct_service_day_range (m.timezone, day, &from_ms, &to_ms))
    return page_reply (500, ct_member_page_refused (language));
  txs = ct_store_card_history (call->store, card.card_no, from_ms, to_ms, 0,
                               HISTORY_LIMIT, &error);
  if (txs == NULL)
    {
      g_warning ("member page: %s", error->message);
      return page_reply (500, ct_member_page_refused (language));
    }
  if (strcmp (day, oldest) > 0)
    prev = shift_day (day, m.timezone, -1);
  if (strcmp (day, today) < 0)
    next = shift_day (day, m.timezone, 1);

  code = current_code (&card, secret, &data.code_seconds_left);
  if (code != NULL)
    payload = ct_member_code_payload (card.card_no, code);
  page_path = g_strconcat ("/m/", call->args[0], NULL);
  code_url = g_strconcat (page_path, "/code", NULL);

  data.merchant_name = m.name;
  data.currency = m.currency;
  data.minor_units = m.minor_units;
  data.timezone = m.timezone;
  data.member_name = card.name;
  data.card_no = card.card_no;
  data.level = card.level;
  data.status = card.status;
  data.balance = card.balance;
  data.points = card.points;
  data.code_payload = payload;
  data.code = code;
  data.code_url = code_url;
  data.page_path = page_path;
  data.day = day;
  data.prev_day = prev;
  data.next_day = next;
  data.transactions = txs;
  return page_reply (200, ct_member_page_render (&data, language));
}

/* GET /m/{token}/code: what the page's script fetches every 30 s. */
CtReply *
ct_member_read_code (CtService *svc,
                     CtCall    *call)
{
  CtMemberPageLanguage language = ct_member_page_language (call->accept_language);
  g_auto(CtStoreMerchant) m = { 0 };
  g_auto(CtStoreCard) card = { 0 };
  g_autoptr(GBytes) secret = NULL;
  g_autofree char *code = NULL;
  g_autofree char *payload = NULL;
  char *json;
  int seconds_left = 0;
  CtReply *reply;

  if ((reply = token_card (svc, call, language, &m, &card, &secret)) != NULL)
    {
      ct_reply_free (reply);
      return ct_reply_error (404, "not_found", "This member link is not valid");
    }
  code = current_code (&card, secret, &seconds_left);
  if (code == NULL)
    return ct_reply_error (409, "card_frozen", "This card cannot pay now");
  payload = ct_member_code_payload (card.card_no, code);
  json = ct_member_page_code_json (payload, code, seconds_left);
  if (json == NULL)
    return ct_reply_error (500, "internal", "The payment code could not be drawn");
  reply = g_new0 (CtReply, 1);
  reply->status = 200;
  reply->body = json;
  return reply;
}
