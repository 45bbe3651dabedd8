/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-wallet-alipay"
#include "config.h"

#include <json-c/json.h>
#include <string.h>

#include "ct-strict-json.h"
#include "ct-wallet-alipay.h"
#include "ct-wire.h"

#define ALIPAY_SUCCESS "10000"
#define ALIPAY_BUSY    "20000"

static int
compare_keys (gconstpointer a,
              gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

char *
ct_alipay_sign_content (GHashTable *params)
{
  g_autoptr(GPtrArray) keys = g_ptr_array_new ();
  GString *out = g_string_new (NULL);
  GHashTableIter iter;
  gpointer key, value;

  g_return_val_if_fail (params != NULL, NULL);

  g_hash_table_iter_init (&iter, params);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (g_str_equal (key, "sign") || value == NULL || *(const char *) value == '\0')
        continue;
      g_ptr_array_add (keys, key);
    }
  /* Byte order of the keys, which for Alipay's ASCII keys is the SDK's
   * TreeMap order. */
  g_ptr_array_sort (keys, compare_keys);
  for (guint i = 0; i < keys->len; i++)
    {
      const char *k = keys->pdata[i];

      if (i > 0)
        g_string_append_c (out, '&');
      g_string_append_printf (out, "%s=%s", k, (const char *) g_hash_table_lookup (params, k));
    }
  return g_string_free (out, FALSE);
}

static void
append_param (GString    *out,
              const char *key,
              const char *value)
{
  g_autofree char *escaped = g_uri_escape_string (value, NULL, FALSE);

  if (out->len > 0)
    g_string_append_c (out, '&');
  g_string_append_printf (out, "%s=%s", key, escaped);
}

gboolean
ct_alipay_request (CtWalletKey  *key,
                   const char   *gateway,
                   const char   *app_id,
                   const char   *method,
                   const char   *biz_content,
                   int64_t       now_ms,
                   char        **out_url,
                   char        **out_body,
                   GError      **error)
{
  g_autoptr(GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *timestamp = ct_wallet_local_time (now_ms, NULL);
  g_autofree char *content = NULL;
  g_autofree char *sign = NULL;
  g_autoptr(GString) query = g_string_new (NULL);
  g_autoptr(GString) body = g_string_new (NULL);
  const char *system[] = { "app_id", "method", "format", "charset", "sign_type", "timestamp", "version" };

  g_return_val_if_fail (key != NULL && gateway != NULL && app_id != NULL, FALSE);
  g_return_val_if_fail (method != NULL && biz_content != NULL, FALSE);

  g_hash_table_insert (params, "app_id", (char *) app_id);
  g_hash_table_insert (params, "method", (char *) method);
  g_hash_table_insert (params, "format", "JSON");
  g_hash_table_insert (params, "charset", "utf-8");
  g_hash_table_insert (params, "sign_type", "RSA2");
  g_hash_table_insert (params, "timestamp", timestamp);
  g_hash_table_insert (params, "version", "1.0");
  g_hash_table_insert (params, "biz_content", (char *) biz_content);

  /* Our strings are UTF-8 already: they are the bytes of charset=utf-8. */
  content = ct_alipay_sign_content (params);
  sign = ct_wallet_sign (key, content, strlen (content), error);
  if (sign == NULL)
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (system); i++)
    append_param (query, system[i], g_hash_table_lookup (params, system[i]));
  append_param (query, "sign", sign);
  append_param (body, "biz_content", biz_content);
  *out_url = g_strdup_printf ("%s%c%s", gateway, strchr (gateway, '?') ? '&' : '?', query->str);
  *out_body = g_string_free (g_steal_pointer (&body), FALSE);
  return TRUE;
}

static gsize
skip_space (const char *s,
            gsize       len,
            gsize       i)
{
  while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
    i++;
  return i;
}

/* Index just past the JSON string that starts at @i (a '"'), or 0. */
static gsize
skip_string (const char *s,
             gsize       len,
             gsize       i)
{
  for (i++; i < len; i++)
    {
      if (s[i] == '\\')
        i++;
      else if (s[i] == '"')
        return i + 1;
    }
  return 0;
}

/* Index just past the JSON value that starts at @i, or 0. Strings are
 * skipped whole, so braces inside them do not count. */
static gsize
skip_value (const char *s,
            gsize       len,
            gsize       i)
{
  int depth = 0;

  if (i >= len)
    return 0;
  if (s[i] == '"')
    return skip_string (s, len, i);
  if (s[i] != '{' && s[i] != '[')
    {
      gsize start = i;

      while (i < len && s[i] != ',' && s[i] != '}' && s[i] != ']' && !g_ascii_isspace (s[i]))
        i++;
      return i > start ? i : 0;
    }
  while (i < len)
    {
      if (s[i] == '"')
        {
          i = skip_string (s, len, i);
          if (i == 0)
            return 0;
          continue;
        }
      if (s[i] == '{' || s[i] == '[')
        depth++;
      else if (s[i] == '}' || s[i] == ']')
        {
          depth--;
          if (depth == 0)
            return i + 1;
        }
      i++;
    }
  return 0;
}

gboolean
ct_alipay_answer_split (const char   *raw,
                        gsize         len,
                        const char   *method,
                        const char  **out_member,
                        gsize        *out_member_len,
                        char        **out_sign,
                        GError      **error)
{
  g_autofree char *wanted = NULL;
  const char *member = NULL, *fallback = NULL, *sign = NULL;
  gsize member_len = 0, fallback_len = 0, sign_len = 0;
  gsize i;

  g_return_val_if_fail (raw != NULL && method != NULL, FALSE);

  /* The whole answer must be well-formed JSON without duplicate keys: a
   * second "sign" or response member could otherwise show one thing to
   * this scanner and another to the parser that reads the fields. */
  {
    g_autoptr(GError) local = NULL;

    /* Fractional numbers are fine in an answer (the strict parser is for
     * money in requests); duplicate keys and broken syntax are not. */
    if (!ct_strict_json_validate (raw, len, &local)
        && !g_error_matches (local, CT_STRICT_JSON_ERROR, CT_STRICT_JSON_ERROR_NUMBER))
      return ct_wallet_answer_error (error, "the answer is not well-formed JSON");
  }

  wanted = g_strdup_printf ("%s_response", method);
  for (char *p = wanted; *p; p++)
    if (*p == '.')
      *p = '_';

  i = skip_space (raw, len, 0);
  if (i >= len || raw[i] != '{')
    return ct_wallet_answer_error (error, "the answer is not a JSON object");
  i = skip_space (raw, len, i + 1);
  while (i < len && raw[i] != '}')
    {
      gsize key_start = i, key_end, value_start, value_end;

      if (raw[i] != '"' || (key_end = skip_string (raw, len, i)) == 0)
        return ct_wallet_answer_error (error, "the answer is not well-formed JSON");
      i = skip_space (raw, len, key_end);
      if (i >= len || raw[i] != ':')
        return ct_wallet_answer_error (error, "the answer is not well-formed JSON");
      value_start = skip_space (raw, len, i + 1);
      if ((value_end = skip_value (raw, len, value_start)) == 0)
        return ct_wallet_answer_error (error, "the answer is not well-formed JSON");

      {
        const char *key = raw + key_start + 1;
        gsize key_len = key_end - key_start - 2;

        if (key_len == strlen (wanted) && memcmp (key, wanted, key_len) == 0)
          {
            member = raw + value_start;
            member_len = value_end - value_start;
          }
        else if (key_len == strlen ("error_response") && memcmp (key, "error_response", key_len) == 0)
          {
            fallback = raw + value_start;
            fallback_len = value_end - value_start;
          }
        else if (key_len == 4 && memcmp (key, "sign", 4) == 0)
          {
            sign = raw + value_start;
            sign_len = value_end - value_start;
          }
      }
      i = skip_space (raw, len, value_end);
      if (i < len && raw[i] == ',')
        i = skip_space (raw, len, i + 1);
    }

  if (member == NULL)
    {
      member = fallback;
      member_len = fallback_len;
    }
  if (member == NULL || member[0] != '{')
    return ct_wallet_answer_error (error, "the answer has no response member");
  *out_member = member;
  *out_member_len = member_len;
  *out_sign = NULL;
  if (sign != NULL)
    {
      struct json_tokener *tok = json_tokener_new ();
      json_object *s = json_tokener_parse_ex (tok, sign, (int) sign_len);

      json_tokener_free (tok);
      if (s != NULL && json_object_is_type (s, json_type_string))
        *out_sign = g_strdup (json_object_get_string (s));
      json_object_put (s);
    }
  return TRUE;
}

static const char *
field (json_object *obj,
       const char  *key)
{
  json_object *v = NULL;

  if (!json_object_object_get_ex (obj, key, &v) || !json_object_is_type (v, json_type_string))
    return NULL;
  return json_object_get_string (v);
}

/* A refusal that a later attempt may not meet: the gateway or Alipay's
 * own systems failing, not the request. */
static gboolean
transient (const char *code,
           const char *sub_code)
{
  if (g_strcmp0 (code, ALIPAY_BUSY) == 0)
    return TRUE;
  if (sub_code == NULL)
    return FALSE;
  return g_str_has_prefix (sub_code, "isp.") || g_str_has_prefix (sub_code, "aop.")
         || strstr (sub_code, "SYSTEM_ERROR") != NULL;
}

CtWalletOutcome
ct_alipay_judge (CtWalletPubkey  *alipay_public_key,
                 const char      *method,
                 const char      *raw,
                 gsize            len,
                 char           **out_biz_card_no,
                 char           **out_reason)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sign = NULL;
  const char *member = NULL;
  gsize member_len = 0;
  json_object *obj;
  const char *code, *sub_code, *msg, *sub_msg;
  CtWalletOutcome outcome;

  g_return_val_if_fail (alipay_public_key != NULL && method != NULL, CT_WALLET_RETRY);

  *out_reason = NULL;
  if (out_biz_card_no != NULL)
    *out_biz_card_no = NULL;
  if (!ct_alipay_answer_split (raw, len, method, &member, &member_len, &sign, &error))
    {
      *out_reason = g_strdup_printf ("Alipay's answer could not be read: %s", error->message);
      return CT_WALLET_RETRY;
    }
  /* An answer is only believed when Alipay signed these very bytes. */
  if (sign == NULL)
    {
      *out_reason = g_strdup ("Alipay's answer is not signed; it is not taken as delivered");
      return CT_WALLET_RETRY;
    }
  if (!ct_wallet_verify (alipay_public_key, member, member_len, sign, &error))
    {
      *out_reason = g_strdup_printf ("Alipay's answer was not taken: %s", error->message);
      return CT_WALLET_RETRY;
    }

  {
    struct json_tokener *tok = json_tokener_new ();

    obj = json_tokener_parse_ex (tok, member, (int) member_len);
    json_tokener_free (tok);
  }
  code = field (obj, "code");
  sub_code = field (obj, "sub_code");
  msg = field (obj, "msg");
  sub_msg = field (obj, "sub_msg");
  if (g_strcmp0 (code, ALIPAY_SUCCESS) == 0)
    {
      json_object *info = NULL;
      const char *biz = NULL;

      outcome = CT_WALLET_DELIVERED;
      if (json_object_object_get_ex (obj, "card_info", &info))
        biz = field (info, "biz_card_no");
      if (g_str_equal (method, CT_WALLET_METHOD_OPEN) && (biz == NULL || *biz == '\0'))
        {
          outcome = CT_WALLET_REFUSED;
          *out_reason = g_strdup ("Alipay opened the card but gave no card number (biz_card_no)");
        }
      else if (out_biz_card_no != NULL && biz != NULL)
        *out_biz_card_no = g_strdup (biz);
    }
  else
    {
      outcome = transient (code, sub_code) ? CT_WALLET_RETRY : CT_WALLET_REFUSED;
      *out_reason = g_strdup_printf ("Alipay %s %s: %s", code ? code : "(no code)",
                                     sub_code ? sub_code : "-",
                                     sub_msg ? sub_msg : msg ? msg : "no message");
    }
  json_object_put (obj);
  return outcome;
}

char *
ct_alipay_biz_content (const char  *method,
                       const char  *payload,
                       const char  *biz_card_no,
                       GError     **error)
{
  json_object *obj;

  if (g_str_equal (method, CT_WALLET_METHOD_OPEN))
    return g_strdup (payload);
  if (biz_card_no == NULL)
    {
      g_set_error (error, CT_WALLET_ERROR, CT_WALLET_ERROR_FAILED,
                   "the card is not open in Alipay yet");
      return NULL;
    }
  obj = json_tokener_parse (payload);
  if (obj == NULL || !json_object_is_type (obj, json_type_object))
    {
      json_object_put (obj);
      g_set_error (error, CT_WALLET_ERROR, CT_WALLET_ERROR_FAILED, "the stored message is not JSON");
      return NULL;
    }
  json_object_object_add (obj, "target_card_no", json_object_new_string (biz_card_no));
  json_object_object_add (obj, "target_card_no_type", json_object_new_string ("BIZ_CARD"));
  return ct_wire_json_take_text (obj);
}

char *
ct_alipay_biz_open_for (const char  *template_id,
                        const char  *card_no,
                        const char  *payload,
                        int64_t      now_ms,
                        GError     **error)
{
  json_object *obj = json_tokener_parse (payload);
  json_object *info = NULL;
  json_object *root, *ext;

  if (obj == NULL || !json_object_object_get_ex (obj, "card_info", &info)
      || !json_object_is_type (info, json_type_object))
    {
      json_object_put (obj);
      g_set_error (error, CT_WALLET_ERROR, CT_WALLET_ERROR_FAILED,
                   "the stored message has no card_info to open the card with");
      return NULL;
    }
  root = json_object_new_object ();
  if (json_object_deep_copy (info, &ext, NULL) != 0)
    ext = json_object_new_object ();
  {
    g_autofree char *serial = ct_wallet_open_serial (card_no);
    json_object_object_add (root, "out_serial_no", json_object_new_string (serial));
  }
  json_object_object_add (root, "card_template_id", json_object_new_string (template_id));
  json_object_object_add (ext, "external_card_no", json_object_new_string (card_no));
  {
    g_autofree char *open_date = ct_wallet_local_time (now_ms, NULL);
    json_object_object_add (ext, "open_date", json_object_new_string (open_date));
  }
  json_object_object_add (ext, "valid_date", json_object_new_string (CT_WALLET_VALID_DATE));
  json_object_object_add (root, "card_ext_info", ext);
  json_object_put (obj);
  return ct_wire_json_take_text (root);
}
