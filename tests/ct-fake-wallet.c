/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-fake-wallet"
#include "config.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <string.h>

#include "ct-fake-wallet.h"
#include "ct-wallet-sign.h"

#define BODY_MAX (256 * 1024)
#define WECHAT_PATH_PREFIX "/v3/marketing/membercard-open/cards/"

struct _CtFakeWallet
{
  CtFakeWalletKind   kind;
  char              *app_id;
  char              *merchant_serial;
  char              *platform_serial;
  CtWalletPubkey    *client_pub;
  CtWalletKey       *gateway_key;
  CtWalletKey       *wrong_key;         /* answers signed with this when set */
  struct MHD_Daemon *daemon;
  guint16            port;
  char              *url;

  GMutex             lock;
  guint              drop_every;
  guint              n_applied_calls;
  gboolean           unsigned_answers;
  GHashTable        *refused_cards;
  GHashTable        *seen;              /* request id → stored answer member */
  GHashTable        *opened;            /* biz_card_no → card_no */
  GPtrArray         *applied;           /* of CtFakeWalletRecord* */
  guint              n_received;
  guint              n_bad_signature;
};

typedef struct
{
  GString *body;
} Upload;

void
ct_fake_wallet_record_free (CtFakeWalletRecord *r)
{
  if (r == NULL)
    return;
  g_free (r->method);
  g_free (r->request_no);
  g_free (r->card_no);
  g_free (r->content);
  g_free (r);
}

static CtFakeWalletRecord *
record_new (const char *method,
            const char *request_no,
            const char *card_no,
            const char *content)
{
  CtFakeWalletRecord *r = g_new0 (CtFakeWalletRecord, 1);

  r->method = g_strdup (method);
  r->request_no = g_strdup (request_no);
  r->card_no = g_strdup (card_no);
  r->content = g_strdup (content);
  return r;
}

static char *
sign_text (CtFakeWallet *fake,
           const char   *text)
{
  CtWalletKey *key = fake->wrong_key != NULL ? fake->wrong_key : fake->gateway_key;

  return ct_wallet_sign (key, text, strlen (text), NULL);
}

static enum MHD_Result
send_answer (struct MHD_Connection *connection,
             guint                  status,
             const char            *body,
             const char            *content_type,
             GPtrArray             *headers)
{
  struct MHD_Response *response =
    MHD_create_response_from_buffer (strlen (body), (void *) body, MHD_RESPMEM_MUST_COPY);
  enum MHD_Result rc;

  if (content_type != NULL)
    MHD_add_response_header (response, "Content-Type", content_type);
  for (guint i = 0; headers != NULL && i + 1 < headers->len; i += 2)
    MHD_add_response_header (response, headers->pdata[i], headers->pdata[i + 1]);
  rc = MHD_queue_response (connection, status, response);
  MHD_destroy_response (response);
  return rc;
}

/* Applied now, answer lost: the connection closes without a byte. */
static gboolean
drop_this_one (CtFakeWallet *fake)
{
  fake->n_applied_calls++;
  return fake->drop_every > 0 && fake->n_applied_calls % fake->drop_every == 0;
}

/* ---- Alipay ---- */

static char *
form_unescape (const char *text,
               gsize       len)
{
  g_autofree char *plus = g_strndup (text, len);

  for (char *p = plus; *p; p++)
    if (*p == '+')
      *p = ' ';
  return g_uri_unescape_segment (plus, NULL, NULL);
}

static void
parse_form (GHashTable *into,
            const char *text)
{
  g_auto(GStrv) pairs = g_strsplit (text, "&", -1);

  for (guint i = 0; pairs[i] != NULL; i++)
    {
      const char *eq = strchr (pairs[i], '=');

      if (*pairs[i] == '\0')
        continue;
      if (eq == NULL)
        g_hash_table_replace (into, form_unescape (pairs[i], strlen (pairs[i])), g_strdup (""));
      else
        g_hash_table_replace (into, form_unescape (pairs[i], eq - pairs[i]),
                              form_unescape (eq + 1, strlen (eq + 1)));
    }
}

static enum MHD_Result
collect_arg (void               *cls,
             enum MHD_ValueKind  kind,
             const char         *key,
             const char         *value)
{
  g_hash_table_replace (cls, g_strdup (key), g_strdup (value != NULL ? value : ""));
  return MHD_YES;
}

static int
compare_str (gconstpointer a,
             gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The documented RSA2 check: decode the parameters in the declared charset,
 * sort the non-empty ones but sign by key, join key=value with '&', encode
 * the text in the declared charset and verify SHA256withRSA. */
static gboolean
alipay_verify (CtFakeWallet  *fake,
               GHashTable    *params,
               char         **why)
{
  /* A copy: the loop below replaces the values with their UTF-8 form. */
  g_autofree char *charset = g_strdup (g_hash_table_lookup (params, "charset"));
  g_autoptr(GPtrArray) keys = g_ptr_array_new ();
  g_autoptr(GString) content = g_string_new (NULL);
  g_autofree char *encoded = NULL;
  gsize encoded_len = 0;
  GHashTableIter iter;
  gpointer key, value;

  if (charset == NULL || (g_ascii_strcasecmp (charset, "utf-8") != 0 && g_ascii_strcasecmp (charset, "gbk") != 0))
    {
      *why = g_strdup ("isv.invalid-charset");
      return FALSE;
    }
  g_hash_table_iter_init (&iter, params);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autofree char *utf8 = NULL;

      /* The received bytes are in the declared charset. */
      utf8 = g_convert (value, -1, "UTF-8", charset, NULL, NULL, NULL);
      if (utf8 == NULL || !g_utf8_validate (utf8, -1, NULL))
        {
          *why = g_strdup ("isv.invalid-charset");
          return FALSE;
        }
      g_hash_table_iter_replace (&iter, g_steal_pointer (&utf8));
      if (!g_str_equal (key, "sign") && *(const char *) g_hash_table_lookup (params, key) != '\0')
        g_ptr_array_add (keys, key);
    }
  g_ptr_array_sort (keys, compare_str);
  for (guint i = 0; i < keys->len; i++)
    g_string_append_printf (content, "%s%s=%s", i ? "&" : "", (char *) keys->pdata[i],
                            (char *) g_hash_table_lookup (params, keys->pdata[i]));
  encoded = g_convert (content->str, content->len, charset, "UTF-8", NULL, &encoded_len, NULL);
  if (encoded == NULL
      || !ct_wallet_verify (fake->client_pub, encoded, encoded_len, g_hash_table_lookup (params, "sign"), NULL))
    {
      *why = g_strdup ("isv.invalid-signature");
      return FALSE;
    }
  return TRUE;
}

static enum MHD_Result
alipay_answer (CtFakeWallet          *fake,
               struct MHD_Connection *connection,
               const char            *method,
               const char            *member)
{
  g_autofree char *name = g_strdup_printf ("%s_response", method != NULL ? method : "error");
  g_autofree char *sign = NULL;
  g_autofree char *body = NULL;

  for (char *p = name; *p; p++)
    if (*p == '.')
      *p = '_';
  if (!fake->unsigned_answers)
    sign = sign_text (fake, member);
  /* Spacing and key order as a real gateway might write them: the client
   * must verify these bytes, not its own re-serialisation. */
  if (sign != NULL)
    body = g_strdup_printf ("{\"%s\":%s,\"sign\":\"%s\"}", name, member, sign);
  else
    body = g_strdup_printf ("{\"%s\":%s}", name, member);
  return send_answer (connection, 200, body, "text/html;charset=utf-8", NULL);
}

static const char *
json_str (json_object *obj,
          const char  *key)
{
  json_object *v = NULL;

  if (obj == NULL || !json_object_object_get_ex (obj, key, &v) || !json_object_is_type (v, json_type_string))
    return NULL;
  return json_object_get_string (v);
}

static char *
alipay_refusal (const char *code,
                const char *sub_code,
                const char *sub_msg)
{
  return g_strdup_printf ("{\"code\": \"%s\", \"msg\": \"Business Failed\", \"sub_code\": \"%s\", "
                          "\"sub_msg\": \"%s\"}", code, sub_code, sub_msg);
}

static enum MHD_Result
alipay_handle (CtFakeWallet          *fake,
               struct MHD_Connection *connection,
               const char            *body)
{
  g_autoptr(GHashTable) params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *why = NULL;
  g_autofree char *member = NULL;
  json_object *biz = NULL;
  const char *method, *request_no = NULL, *card_no = NULL;
  enum MHD_Result rc;

  MHD_get_connection_values (connection, MHD_GET_ARGUMENT_KIND, collect_arg, params);
  parse_form (params, body);
  if (!alipay_verify (fake, params, &why))
    {
      fake->n_bad_signature++;
      member = alipay_refusal ("40002", why, "the request's signature does not verify");
      return alipay_answer (fake, connection, NULL, member);
    }
  /* After the check, which turned every value into UTF-8. */
  method = g_hash_table_lookup (params, "method");
  if (g_strcmp0 (g_hash_table_lookup (params, "app_id"), fake->app_id) != 0
      || g_strcmp0 (g_hash_table_lookup (params, "sign_type"), "RSA2") != 0
      || g_strcmp0 (g_hash_table_lookup (params, "format"), "JSON") != 0
      || g_strcmp0 (g_hash_table_lookup (params, "version"), "1.0") != 0
      || g_hash_table_lookup (params, "timestamp") == NULL)
    {
      member = alipay_refusal ("40002", "isv.invalid-parameter", "app_id, sign_type, format, version or timestamp");
      return alipay_answer (fake, connection, method, member);
    }
  biz = json_tokener_parse (g_hash_table_lookup (params, "biz_content") ?: "");

  if (g_strcmp0 (method, "alipay.marketing.card.open") == 0)
    {
      json_object *ext = NULL;

      request_no = json_str (biz, "out_serial_no");
      json_object_object_get_ex (biz, "card_ext_info", &ext);
      card_no = json_str (ext, "external_card_no");
      if (request_no == NULL || card_no == NULL || json_str (biz, "card_template_id") == NULL)
        member = alipay_refusal ("40004", "MISSING_PARAMETER", "out_serial_no, card_template_id, external_card_no");
      else if (g_hash_table_contains (fake->refused_cards, card_no))
        member = alipay_refusal ("40004", "CARD_REFUSED", "this member cannot hold the card");
      else
        {
          g_autofree char *biz_no = g_strconcat ("BIZ", card_no, NULL);

          g_hash_table_replace (fake->opened, g_strdup (biz_no), g_strdup (card_no));
          member = g_strdup_printf ("{\"code\": \"10000\", \"msg\": \"Success\", \"card_info\": "
                                    "{\"biz_card_no\": \"%s\", \"external_card_no\": \"%s\"}}",
                                    biz_no, card_no);
        }
    }
  else if (g_strcmp0 (method, "alipay.marketing.card.consume.sync") == 0
           || g_strcmp0 (method, "alipay.marketing.card.update") == 0)
    {
      const char *target = json_str (biz, "target_card_no");
      gboolean sync = g_str_equal (method, "alipay.marketing.card.consume.sync");

      card_no = target != NULL ? g_hash_table_lookup (fake->opened, target) : NULL;
      request_no = sync ? json_str (biz, "trade_no") : NULL;
      if (g_strcmp0 (json_str (biz, "target_card_no_type"), "BIZ_CARD") != 0 || card_no == NULL)
        member = alipay_refusal ("40004", "CARD_NOT_EXIST", "no such card");
      else if (sync && (request_no == NULL || json_str (biz, "trade_type") == NULL))
        member = alipay_refusal ("40004", "MISSING_PARAMETER", "trade_no, trade_type");
      else if (g_hash_table_contains (fake->refused_cards, card_no))
        member = alipay_refusal ("40004", "CARD_REFUSED", "this card cannot be changed");
      else
        member = g_strdup ("{\"code\":\"10000\",\"msg\":\"Success\",\"sub_msg\":\"\\u6210\\u529f / ok\"}");
    }
  else
    member = alipay_refusal ("40002", "isv.invalid-method", "unknown method");

  /* Applied once per request id, as the gateway de-duplicates. */
  if (g_str_has_prefix (member, "{\"code\":\"10000\"") || g_str_has_prefix (member, "{\"code\": \"10000\""))
    {
      if (request_no == NULL || !g_hash_table_contains (fake->seen, request_no))
        {
          if (request_no != NULL)
            g_hash_table_add (fake->seen, g_strdup (request_no));
          g_ptr_array_add (fake->applied, record_new (method, request_no, card_no,
                                                      g_hash_table_lookup (params, "biz_content")));
        }
      if (drop_this_one (fake))
        {
          json_object_put (biz);
          return MHD_NO;
        }
    }
  rc = alipay_answer (fake, connection, method, member);
  json_object_put (biz);
  return rc;
}

/* ---- WeChat Pay ---- */

static GHashTable *
parse_authorization (const char *value)
{
  GHashTable *params;
  g_auto(GStrv) parts = NULL;
  const char *prefix = "WECHATPAY2-SHA256-RSA2048 ";

  if (value == NULL || !g_str_has_prefix (value, prefix))
    return NULL;
  params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  parts = g_strsplit (value + strlen (prefix), ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *eq = strchr (parts[i], '=');
      gsize vlen;

      if (eq == NULL)
        continue;
      vlen = strlen (eq + 1);
      if (vlen >= 2 && eq[1] == '"' && eq[vlen] == '"')
        g_hash_table_replace (params, g_strstrip (g_strndup (parts[i], eq - parts[i])),
                              g_strndup (eq + 2, vlen - 2));
    }
  return params;
}

static enum MHD_Result
wechat_answer (CtFakeWallet          *fake,
               struct MHD_Connection *connection,
               guint                  status,
               const char            *body)
{
  g_autoptr(GPtrArray) headers = g_ptr_array_new_with_free_func (g_free);

  if (!fake->unsigned_answers)
    {
      g_autofree char *nonce = ct_wallet_nonce (32);
      g_autofree char *ts = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time () / G_USEC_PER_SEC);
      g_autofree char *message = g_strdup_printf ("%s\n%s\n%s\n", ts, nonce, body);

      g_ptr_array_add (headers, g_strdup ("Wechatpay-Timestamp"));
      g_ptr_array_add (headers, g_strdup (ts));
      g_ptr_array_add (headers, g_strdup ("Wechatpay-Nonce"));
      g_ptr_array_add (headers, g_strdup (nonce));
      g_ptr_array_add (headers, g_strdup ("Wechatpay-Signature"));
      g_ptr_array_add (headers, sign_text (fake, message));
      g_ptr_array_add (headers, g_strdup ("Wechatpay-Serial"));
      g_ptr_array_add (headers, g_strdup (fake->platform_serial));
    }
  return send_answer (connection, status, body, *body ? "application/json" : NULL, headers);
}

static enum MHD_Result
wechat_handle (CtFakeWallet          *fake,
               struct MHD_Connection *connection,
               const char            *method,
               const char            *url,
               const char            *body)
{
  g_autoptr(GHashTable) auth = NULL;
  g_autofree char *message = NULL;
  g_auto(GStrv) segments = NULL;
  json_object *obj;
  const char *request_no;
  gint64 ts = 0;
  enum MHD_Result rc;

  auth = parse_authorization (MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "Authorization"));
  if (auth != NULL)
    message = g_strdup_printf ("%s\n%s\n%s\n%s\n%s\n", method, url,
                               (char *) g_hash_table_lookup (auth, "timestamp") ?: "",
                               (char *) g_hash_table_lookup (auth, "nonce_str") ?: "", body);
  if (auth == NULL || g_strcmp0 (g_hash_table_lookup (auth, "mchid"), fake->app_id) != 0
      || g_strcmp0 (g_hash_table_lookup (auth, "serial_no"), fake->merchant_serial) != 0
      || !g_ascii_string_to_signed (g_hash_table_lookup (auth, "timestamp") ?: "", 10, 0, G_MAXINT64, &ts, NULL)
      || ABS (ts - g_get_real_time () / G_USEC_PER_SEC) > 300
      || !ct_wallet_verify (fake->client_pub, message, strlen (message),
                            g_hash_table_lookup (auth, "signature"), NULL))
    {
      fake->n_bad_signature++;
      return wechat_answer (fake, connection, 401,
                            "{\"code\":\"SIGN_ERROR\",\"message\":\"signature does not verify\"}");
    }
  segments = g_strsplit (url + strlen (WECHAT_PATH_PREFIX), "/", -1);
  if (!g_str_equal (method, "PATCH") || !g_str_has_prefix (url, WECHAT_PATH_PREFIX)
      || g_strv_length (segments) != 3 || !g_str_equal (segments[1], "codes"))
    return wechat_answer (fake, connection, 404, "{\"code\":\"NOT_FOUND\",\"message\":\"no such path\"}");
  obj = json_tokener_parse (body);
  request_no = json_str (obj, "out_request_no");
  if (request_no == NULL)
    rc = wechat_answer (fake, connection, 400, "{\"code\":\"PARAM_ERROR\",\"message\":\"out_request_no\"}");
  else if (g_hash_table_contains (fake->refused_cards, segments[2]))
    rc = wechat_answer (fake, connection, 400,
                        "{\"code\":\"PARAM_ERROR\",\"message\":\"该会员卡code不存在\"}");
  else
    {
      if (!g_hash_table_contains (fake->seen, request_no))
        {
          g_hash_table_add (fake->seen, g_strdup (request_no));
          g_ptr_array_add (fake->applied, record_new ("PATCH", request_no, segments[2], body));
        }
      if (drop_this_one (fake))
        {
          json_object_put (obj);
          return MHD_NO;
        }
      rc = wechat_answer (fake, connection, 204, "");
    }
  json_object_put (obj);
  return rc;
}

static enum MHD_Result
access_cb (void                  *cls,
           struct MHD_Connection *connection,
           const char            *url,
           const char            *method,
           const char            *version,
           const char            *upload_data,
           size_t                *upload_data_size,
           void                 **con_cls)
{
  CtFakeWallet *fake = cls;
  Upload *up = *con_cls;
  g_autoptr(GMutexLocker) locker = NULL;

  if (up == NULL)
    {
      up = g_new0 (Upload, 1);
      up->body = g_string_new (NULL);
      *con_cls = up;
      return MHD_YES;
    }
  if (*upload_data_size > 0)
    {
      if (up->body->len + *upload_data_size > BODY_MAX)
        return MHD_NO;
      g_string_append_len (up->body, upload_data, *upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }
  locker = g_mutex_locker_new (&fake->lock);
  fake->n_received++;
  if (fake->kind == CT_FAKE_ALIPAY)
    return alipay_handle (fake, connection, up->body->str);
  return wechat_handle (fake, connection, method, url, up->body->str);
}

static void
completed_cb (void                            *cls,
              struct MHD_Connection           *connection,
              void                           **con_cls,
              enum MHD_RequestTerminationCode  toe)
{
  Upload *up = *con_cls;

  if (up == NULL)
    return;
  g_string_free (up->body, TRUE);
  g_free (up);
  *con_cls = NULL;
}

CtFakeWallet *
ct_fake_wallet_new (CtFakeWalletKind  kind,
                    const char       *app_id,
                    const char       *client_public_key,
                    const char       *merchant_serial,
                    const char       *gateway_key,
                    const char       *platform_serial)
{
  CtFakeWallet *fake = g_new0 (CtFakeWallet, 1);
  g_autoptr(GError) error = NULL;

  fake->kind = kind;
  fake->app_id = g_strdup (app_id);
  fake->merchant_serial = g_strdup (merchant_serial);
  fake->platform_serial = g_strdup (platform_serial);
  fake->client_pub = ct_wallet_pubkey_load (client_public_key, &error);
  g_assert_no_error (error);
  fake->gateway_key = ct_wallet_key_load (gateway_key, &error);
  g_assert_no_error (error);
  g_mutex_init (&fake->lock);
  fake->refused_cards = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  fake->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  fake->opened = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  fake->applied = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_fake_wallet_record_free);
  return fake;
}

void
ct_fake_wallet_start (CtFakeWallet *fake)
{
  struct sockaddr_in addr = { 0 };

  g_assert_null (fake->daemon);
  addr.sin_family = AF_INET;
  addr.sin_port = htons (fake->port);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  /* Coming back on the port it had: a connection of the last life may
   * still be in TIME_WAIT, so the address is reused. */
  for (int attempt = 0; attempt < 200 && fake->daemon == NULL; attempt++)
    {
      fake->daemon = MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL,
                                       0, NULL, NULL, access_cb, fake,
                                       MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
                                       MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int) 1,
                                       MHD_OPTION_NOTIFY_COMPLETED, completed_cb, fake,
                                       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 30,
                                       MHD_OPTION_END);
      if (fake->daemon == NULL)
        g_usleep (50 * 1000);
    }
  g_assert_nonnull (fake->daemon);
  if (fake->port == 0)
    {
      const union MHD_DaemonInfo *info = MHD_get_daemon_info (fake->daemon, MHD_DAEMON_INFO_BIND_PORT);

      fake->port = info->port;
      fake->url = g_strdup_printf (fake->kind == CT_FAKE_ALIPAY ? "http://127.0.0.1:%u/gateway.do"
                                                                : "http://127.0.0.1:%u",
                                   fake->port);
    }
}

void
ct_fake_wallet_stop (CtFakeWallet *fake)
{
  if (fake->daemon != NULL)
    MHD_stop_daemon (g_steal_pointer (&fake->daemon));
}

const char *
ct_fake_wallet_url (CtFakeWallet *fake)
{
  return fake->url;
}

void
ct_fake_wallet_free (CtFakeWallet *fake)
{
  if (fake == NULL)
    return;
  ct_fake_wallet_stop (fake);
  g_free (fake->app_id);
  g_free (fake->merchant_serial);
  g_free (fake->platform_serial);
  g_free (fake->url);
  ct_wallet_pubkey_free (fake->client_pub);
  ct_wallet_key_free (fake->gateway_key);
  ct_wallet_key_free (fake->wrong_key);
  g_hash_table_unref (fake->refused_cards);
  g_hash_table_unref (fake->seen);
  g_hash_table_unref (fake->opened);
  g_ptr_array_unref (fake->applied);
  g_mutex_clear (&fake->lock);
  g_free (fake);
}

void
ct_fake_wallet_drop_every (CtFakeWallet *fake,
                           guint         n)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&fake->lock);

  fake->drop_every = n;
}

void
ct_fake_wallet_sign_with (CtFakeWallet *fake,
                          const char   *gateway_key)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&fake->lock);
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&fake->wrong_key, ct_wallet_key_free);
  if (gateway_key != NULL)
    {
      fake->wrong_key = ct_wallet_key_load (gateway_key, &error);
      g_assert_no_error (error);
    }
}

void
ct_fake_wallet_set_unsigned (CtFakeWallet *fake,
                             gboolean      unsigned_answers)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&fake->lock);

  fake->unsigned_answers = unsigned_answers;
}

void
ct_fake_wallet_refuse_card (CtFakeWallet *fake,
                            const char   *card_no)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&fake->lock);

  g_hash_table_add (fake->refused_cards, g_strdup (card_no));
}

guint
ct_fake_wallet_n_received (CtFakeWallet *fake)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&fake->lock);

  return fake->n_received;
}

guint
ct_fake_wallet_n_bad_signature (CtFakeWallet *fake)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&fake->lock);

  return fake->n_bad_signature;
}

GPtrArray *
ct_fake_wallet_applied (CtFakeWallet *fake)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&fake->lock);
  GPtrArray *copy = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_fake_wallet_record_free);

  for (guint i = 0; i < fake->applied->len; i++)
    {
      CtFakeWalletRecord *r = fake->applied->pdata[i];
      g_ptr_array_add (copy, record_new (r->method, r->request_no, r->card_no, r->content));
    }
  return copy;
}
