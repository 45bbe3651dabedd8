/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-test-ledger-fixture"

#include "config.h"

#include <json-c/json.h>
#include <string.h>
#include <unistd.h>

#include "ct-test-ledger-fixture.h"

CtTestService *svc;
CtTestClient *cl;

void
ledger_setup (void)
{
  g_autoptr(GError) error = NULL;

  svc = ct_test_service_start (TRUE, &error);
  ck_assert_msg (svc != NULL, "service did not start: %s", error ? error->message : "");
  cl = ct_test_client_new (svc);
}

void
ledger_teardown (void)
{
  g_autoptr(CtTestResponse) r = ct_test_client_request (cl, "GET", "/v1/ledger/check", NULL, NULL, NULL);

  ck_assert_ptr_nonnull (r);
  ck_assert_int_eq (r->status, 200);
  ck_assert_int_eq (ct_test_json_int (r->body, "sum"), 0);
  ck_assert_msg (strstr (r->body, "\"balanced\":true") != NULL, "ledger not balanced: %s", r->body);
  g_clear_pointer (&cl, ct_test_client_free);
  ck_assert_int_eq (ct_test_service_stop (svc), 0);
  g_clear_pointer (&svc, ct_test_service_free);
}

/* Unique in the service: loyalty's tests share one service and run each
 * in a process of its own, which starts from the same count. */
char *
new_key (void)
{
  static guint made;

  return g_strdup_printf ("key-%u-%u", (guint) getpid (), ++made);
}

CtTestResponse *
req_on (CtTestClient *client,
        const char   *method,
        const char   *path,
        const char   *key,
        const char   *body)
{
  g_autofree char *made = NULL;
  g_autoptr(GError) error = NULL;
  CtTestResponse *r;

  if (key == NULL && !g_str_equal (method, "GET"))
    key = made = new_key ();
  r = ct_test_client_request (client, method, path, key, body, &error);
  ck_assert_msg (r != NULL, "%s %s: %s", method, path, error ? error->message : "");
  return r;
}

CtTestResponse *
req (const char *method,
     const char *path,
     const char *body)
{
  return req_on (cl, method, path, NULL, body);
}

CtTestResponse *
card_req (const char *method,
          const char *card,
          const char *what,
          const char *body)
{
  g_autofree char *path = what ? g_strdup_printf ("/v1/cards/%s/%s", card, what)
                               : g_strdup_printf ("/v1/cards/%s", card);

  return req (method, path, body);
}

CtTestResponse *
card_post (const char *card,
           const char *what,
           const char *body)
{
  return card_req ("POST", card, what, body);
}

CtTestResponse *
topup_on (CtTestClient *client,
          const char   *card,
          const char   *tender,
          const char   *taken_at)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/topups", card);
  g_autofree char *t = tender ? g_strdup_printf (",\"tender\":\"%s\"", tender) : g_strdup ("");
  g_autofree char *w = taken_at ? g_strdup_printf (",\"taken_at\":\"%s\"", taken_at) : g_strdup ("");
  g_autofree char *body = g_strdup_printf ("{\"package_id\":\"p100\",\"operator\":\"op\"%s%s}", t, w);

  return req_on (client, "POST", path, NULL, body);
}

char *
topup (const char *card,
       const char *tender)
{
  g_autoptr(CtTestResponse) r = topup_on (cl, card, tender, NULL);

  expect (r, 201, NULL);
  return ct_test_json_str (r->body, "transaction.id");
}

char *
pay (const char *card,
     const char *body)
{
  g_autoptr(CtTestResponse) r = card_post (card, "payments", body);

  expect (r, 201, NULL);
  return ct_test_json_str (r->body, "transaction.id");
}

CtTestResponse *
refund (const char *card,
        const char *tx_id,
        int64_t     amount)
{
  g_autofree char *body = amount > 0
    ? g_strdup_printf ("{\"transaction_id\":\"%s\",\"amount\":%" G_GINT64_FORMAT ",\"operator\":\"op\"," MGR "}",
                       tx_id, amount)
    : g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\"," MGR "}", tx_id);

  return card_post (card, "refunds", body);
}

void
expect_at (CtTestResponse *r,
           long            status,
           const char     *code,
           int             line)
{
  g_autofree char *got = ct_test_response_error_code (r);

  ck_assert_msg (r->status == status, "line %d: status %ld, wanted %ld: %s", line, r->status, status, r->body);
  if (code != NULL)
    ck_assert_msg (g_strcmp0 (got, code) == 0, "line %d: code %s, wanted %s: %s", line, got, code, r->body);
  if (status >= 400)
    ck_assert_msg (strstr (r->body, "\"message\":\"") != NULL, "line %d: no message: %s", line, r->body);
}

void
assert_balanced (void)
{
  g_autoptr(CtTestResponse) check = req ("GET", "/v1/ledger/check", NULL);

  expect (check, 200, NULL);
  ck_assert_int_eq (json_int (check->body, "sum"), 0);
  ck_assert_int_eq (json_int (check->body, "postings_sum"), 0);
  ck_assert_msg (strstr (check->body, "\"balanced\":true") != NULL, "%s", check->body);
}

int64_t
ledger_figure (const char *name)
{
  g_autoptr(CtTestResponse) r = req ("GET", "/v1/ledger/check", NULL);

  expect (r, 200, NULL);
  ck_assert_int_eq (json_int (r->body, "sum"), 0);
  return json_int (r->body, name);
}

/* The value at @path, or NULL where a part of it is not there. */
static json_object *
json_find (json_object *root,
           const char  *path)
{
  g_auto(GStrv) parts = g_strsplit (path, ".", -1);
  json_object *v = root;

  for (guint i = 0; parts[i] != NULL && v != NULL; i++)
    if (!json_object_object_get_ex (v, parts[i], &v))
      v = NULL;
  return v;
}

int64_t
json_int (const char *body,
          const char *path)
{
  json_object *root = json_tokener_parse (body);
  json_object *v = json_find (root, path);
  int64_t out;

  ck_assert_msg (v != NULL && json_object_is_type (v, json_type_int), "%s in %s", path, body);
  out = json_object_get_int64 (v);
  json_object_put (root);
  return out;
}

char *
json_str (const char *body,
          const char *path)
{
  json_object *root = json_tokener_parse (body);
  json_object *v = json_find (root, path);
  char *out = NULL;

  if (v != NULL && json_object_is_type (v, json_type_string))
    out = g_strdup (json_object_get_string (v));
  json_object_put (root);
  return out;
}

void
expect_str (const char *body,
            const char *path,
            const char *want)
{
  g_autofree char *got = json_str (body, path);

  ck_assert_msg (g_strcmp0 (got, want) == 0, "%s is %s, wanted %s: %s", path, got, want, body);
}

char *
db_text (const char *sql)
{
  g_autoptr(CtTestDb) db = ct_test_db_open (ct_test_service_get_db_path (svc));
  g_autoptr(GPtrArray) rows = ct_test_db_query (db, sql);
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < rows->len; i++)
    for (char **col = rows->pdata[i]; *col != NULL; col++)
      g_string_append_printf (out, "%s|", *col);
  return g_string_free (out, FALSE);
}
