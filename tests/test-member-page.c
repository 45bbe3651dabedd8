/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-member-page"

#include "config.h"

#include <check.h>
#include <json.h>
#include <stdlib.h>
#include <string.h>

#include "ct-member-code.h"
#include "ct-member-page.h"
#include "ct-store.h"
#include "ct-test-service.h"

#define MGR "\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"}"

/* The renderer alone */

static CtStoreTx *
tx_new (const char *kind,
        int64_t     delta,
        int64_t     after,
        int64_t     points_delta,
        int64_t     created_at)
{
  CtStoreTx *tx = g_new0 (CtStoreTx, 1);

  tx->kind = g_strdup (kind);
  tx->delta = delta;
  tx->balance_after = after;
  tx->points_delta = points_delta;
  tx->created_at = created_at;
  return tx;
}

static void
tx_free (gpointer data)
{
  CtStoreTx *tx = data;

  g_free (tx->kind);
  g_free (tx);
}

static CtMemberPageData
sample (GPtrArray *txs)
{
  CtMemberPageData d = { 0 };

  d.merchant_name = "Tea <House> & Co";
  d.currency = "CNY";
  d.minor_units = 2;
  d.timezone = "Asia/Shanghai";
  d.member_name = "<script>alert(1)</script>";
  d.card_no = "8888000000000000";
  d.level = "金卡";
  d.status = "active";
  d.balance = 123450;
  d.points = 88;
  d.code_payload = "CTP1:8888000000000000:12345678";
  d.code = "12345678";
  d.code_seconds_left = 17;
  d.code_url = "/m/abc/code";
  d.page_path = "/m/abc";
  d.day = "2026-03-04";
  d.prev_day = "2026-03-03";
  d.next_day = "2026-03-05";
  d.transactions = txs;
  return d;
}

START_TEST (test_member_page_language_follows_accept_language)
{
  ck_assert_int_eq (ct_member_page_language (NULL), CT_MEMBER_PAGE_ZH);
  ck_assert_int_eq (ct_member_page_language ("en-US,en;q=0.9"), CT_MEMBER_PAGE_EN);
  ck_assert_int_eq (ct_member_page_language ("zh-CN,zh;q=0.9,en;q=0.8"), CT_MEMBER_PAGE_ZH);
  ck_assert_int_eq (ct_member_page_language ("fr-FR, en;q=0.5, zh;q=0.3"), CT_MEMBER_PAGE_EN);
  ck_assert_int_eq (ct_member_page_language ("en;q=0.2, zh-TW;q=0.8"), CT_MEMBER_PAGE_ZH);
  ck_assert_int_eq (ct_member_page_language ("de, fr"), CT_MEMBER_PAGE_ZH);
  ck_assert_int_eq (ct_member_page_language ("english"), CT_MEMBER_PAGE_ZH);
}
END_TEST

START_TEST (test_member_page_shows_the_card_in_both_languages)
{
  g_autoptr(GPtrArray) txs = g_ptr_array_new_with_free_func (tx_free);
  CtMemberPageData d;
  g_autofree char *zh = NULL;
  g_autofree char *en = NULL;

  /* 2026-03-04 09:05 and 18:30 in Shanghai. */
  g_ptr_array_add (txs, tx_new ("payment", -2550, 123450, 25, G_GINT64_CONSTANT (1772620200000)));
  g_ptr_array_add (txs, tx_new ("topup", 11000, 126000, 0, G_GINT64_CONSTANT (1772586300000)));
  d = sample (txs);
  zh = ct_member_page_render (&d, CT_MEMBER_PAGE_ZH);
  en = ct_member_page_render (&d, CT_MEMBER_PAGE_EN);

  ck_assert (g_str_has_prefix (zh, "<!DOCTYPE html>"));
  ck_assert_msg (strstr (zh, "<html lang=\"zh-CN\">") && strstr (zh, "余额") && strstr (zh, "¥1,234.50")
                 && strstr (zh, "积分") && strstr (zh, ">88<") && strstr (zh, "金卡") && strstr (zh, "付款码")
                 && strstr (zh, "8888 0000 0000 0000") && strstr (zh, "1234 5678")
                 && strstr (zh, "2026-03-04 周三") && strstr (zh, "消费") && strstr (zh, "充值")
                 && strstr (zh, "18:30") && strstr (zh, "09:05") && strstr (zh, "-¥25.50")
                 && strstr (zh, "+¥110.00") && strstr (zh, "+25 积分"), "%s", zh);
  ck_assert_msg (strstr (en, "<html lang=\"en\">") && strstr (en, "Balance") && strstr (en, "Points")
                 && strstr (en, "Payment code") && strstr (en, "2026-03-04 Wed") && strstr (en, "Payment")
                 && strstr (en, "Top-up") && !strstr (en, "余额"), "%s", en);
  /* Newest first, as the history comes. */
  ck_assert (strstr (zh, "18:30") < strstr (zh, "09:05"));
}
END_TEST

START_TEST (test_member_page_escapes_what_people_typed)
{
  CtMemberPageData d = sample (NULL);
  g_autofree char *html = ct_member_page_render (&d, CT_MEMBER_PAGE_EN);

  ck_assert_msg (strstr (html, "<script>alert") == NULL, "%s", html);
  ck_assert (strstr (html, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
  ck_assert (strstr (html, "Tea &lt;House&gt; &amp; Co") != NULL);
}
END_TEST

START_TEST (test_member_page_links_the_previous_and_next_day)
{
  CtMemberPageData d = sample (NULL);
  g_autofree char *middle = ct_member_page_render (&d, CT_MEMBER_PAGE_ZH);
  g_autofree char *today = NULL;
  g_autofree char *frozen = NULL;

  ck_assert (strstr (middle, "href=\"/m/abc?date=2026-03-03\"") != NULL);
  ck_assert (strstr (middle, "href=\"/m/abc?date=2026-03-05\"") != NULL);
  ck_assert (strstr (middle, "这一天没有交易") != NULL);
  ck_assert (strstr (middle, "今天") == NULL);
  d.next_day = NULL;
  d.prev_day = NULL;
  today = ct_member_page_render (&d, CT_MEMBER_PAGE_ZH);
  ck_assert (strstr (today, "?date=") == NULL);
  ck_assert (strstr (today, "今天") != NULL);
  /* A frozen card says so and shows no code to pay with. */
  d.status = "frozen";
  d.code_payload = NULL;
  frozen = ct_member_page_render (&d, CT_MEMBER_PAGE_ZH);
  ck_assert (strstr (frozen, "此卡已冻结") != NULL);
  ck_assert (strstr (frozen, "id=\"qr\"") == NULL);
}
END_TEST

/* The hash of every inline style and script is in the policy, and the
 * policy allows nothing else. */
START_TEST (test_member_page_policy_allows_only_its_own_inline_code)
{
  CtMemberPageData d = sample (NULL);
  g_autofree char *html = ct_member_page_render (&d, CT_MEMBER_PAGE_ZH);
  g_autofree char *csp = ct_member_page_csp ();
  const char *tags[] = { "style", "script" };

  ck_assert (strstr (csp, "default-src 'none'") != NULL);
  ck_assert (strstr (csp, "img-src data:;") != NULL);
  ck_assert (strstr (csp, "unsafe-inline") == NULL);
  for (guint i = 0; i < G_N_ELEMENTS (tags); i++)
    {
      g_autofree char *open = g_strdup_printf ("<%s>", tags[i]);
      g_autofree char *close = g_strdup_printf ("</%s>", tags[i]);
      const char *start = strstr (html, open);
      const char *end = start != NULL ? strstr (start, close) : NULL;
      g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
      guint8 digest[32];
      gsize len = sizeof digest;
      g_autofree char *b64 = NULL;
      g_autofree char *source = NULL;

      ck_assert (start != NULL && end != NULL);
      start += strlen (open);
      g_checksum_update (sum, (const guchar *) start, end - start);
      g_checksum_get_digest (sum, digest, &len);
      b64 = g_base64_encode (digest, len);
      source = g_strdup_printf ("%s-src 'sha256-%s'", tags[i], b64);
      ck_assert_msg (strstr (csp, source) != NULL, "%s not in %s", source, csp);
      /* one of each */
      ck_assert (strstr (end, open) == NULL);
    }
  /* No external asset: no http(s) URL in the page at all. */
  ck_assert (strstr (html, "http://") == NULL || strstr (html, "http://www.w3.org/2000/svg") != NULL);
  ck_assert (strstr (html, "https://") == NULL);
  ck_assert (strstr (html, "src=\"data:image/svg+xml;base64,") != NULL);
}
END_TEST

/* Through the service */

static CtTestService *svc;
static CtTestClient *client;

static void
service_setup (void)
{
  g_autoptr(GError) error = NULL;

  svc = ct_test_service_start (TRUE, &error);
  ck_assert_msg (svc != NULL, "%s", error ? error->message : "?");
  client = ct_test_client_new (svc);
}

static void
service_teardown (void)
{
  g_clear_pointer (&client, ct_test_client_free);
  g_clear_pointer (&svc, ct_test_service_free);
}

static char *key_counter_text (void)
{
  static guint n;

  return g_strdup_printf ("mp-%u-%" G_GINT64_FORMAT, ++n, g_get_real_time ());
}

static CtTestResponse *
req (const char *method,
     const char *path,
     const char *body)
{
  g_autofree char *key = g_str_equal (method, "GET") ? NULL : key_counter_text ();
  g_autoptr(GError) error = NULL;
  CtTestResponse *r = ct_test_client_request (client, method, path, key, body, &error);

  ck_assert_msg (r != NULL, "%s %s: %s", method, path, error ? error->message : "?");
  return r;
}

static char *
json_string (const char *body,
             const char *key)
{
  json_object *root = json_tokener_parse (body);
  json_object *v = NULL;
  char *out = NULL;

  if (root != NULL && json_object_object_get_ex (root, key, &v) && json_object_is_type (v, json_type_string))
    out = g_strdup (json_object_get_string (v));
  json_object_put (root);
  return out;
}

/* The path of a member URL: "/m/TOKEN". */
static char *
url_path (const char *url)
{
  const char *p = strstr (url, "/m/");

  ck_assert_msg (p != NULL, "%s", url);
  return g_strdup (p);
}

START_TEST (test_member_page_issue_answers_a_link_that_shows_the_card)
{
  g_autoptr(CtTestResponse) issued = req ("POST", "/v1/cards",
                                          "{\"member\":{\"name\":\"王芳\",\"phone\":\"13800138000\"},"
                                          "\"operator\":\"op\"," MGR "}");
  g_autofree char *card = json_string (issued->body, "card_no");
  g_autofree char *url = json_string (issued->body, "member_url");
  g_autofree char *path = NULL;
  g_autofree char *topup_path = NULL;
  g_autoptr(CtTestResponse) topup = NULL;
  g_autoptr(CtTestResponse) page = NULL;
  g_autoptr(CtTestResponse) code = NULL;
  const char *token;

  ck_assert_int_eq (issued->status, 201);
  ck_assert_msg (url != NULL && g_str_has_prefix (url, ct_test_service_get_url (svc)), "%s", issued->body);
  {
    g_autoptr(CtTestResponse) health = ct_test_http (svc, "GET", "/v1/health", NULL, NULL, NULL);

    ck_assert_msg (strstr (health->body, "\"member_page\"") != NULL, "%s", health->body);
  }
  path = url_path (url);
  token = path + 3;
  /* 128 random bits */
  ck_assert_int_eq (strlen (token), 32);
  topup_path = g_strdup_printf ("/v1/cards/%s/topups", card);
  topup = req ("POST", topup_path, "{\"package_id\":\"p100\",\"operator\":\"op\"}");
  ck_assert_int_eq (topup->status, 201);

  /* The page needs no till token. */
  page = ct_test_http (svc, "GET", path, NULL, NULL, NULL);
  ck_assert_int_eq (page->status, 200);
  ck_assert_str_eq (ct_test_response_header (page, "content-type"), "text/html; charset=utf-8");
  ck_assert (g_str_has_prefix (ct_test_response_header (page, "content-security-policy"), "default-src 'none'"));
  ck_assert_str_eq (ct_test_response_header (page, "referrer-policy"), "no-referrer");
  ck_assert_msg (strstr (page->body, "王芳") && strstr (page->body, "¥110.00") && strstr (page->body, "充值"),
                 "%s", page->body);

  /* The code the page refreshes with is the card's own. */
  {
    g_autofree char *code_path = g_strconcat (path, "/code", NULL);
    g_autofree char *text = NULL;

    code = ct_test_http (svc, "GET", code_path, NULL, NULL, NULL);
    ck_assert_int_eq (code->status, 200);
    text = json_string (code->body, "code");
    ck_assert (text != NULL && strlen (text) == 9 && text[4] == ' ');
    ck_assert (strstr (code->body, "\"qr\":\"data:image/svg+xml;base64,") != NULL);
  }

  /* The database keeps only the token's hash. */
  {
    g_autofree char *db = NULL;

    ck_assert (g_file_get_contents (ct_test_service_get_db_path (svc), &db, NULL, NULL));
    ck_assert (g_strstr_len (db, -1, token) == NULL);
  }
}
END_TEST

START_TEST (test_member_page_reissued_link_replaces_the_old_one)
{
  g_autoptr(CtTestResponse) issued = req ("POST", "/v1/cards",
                                          "{\"member\":{\"name\":\"Li\",\"phone\":\"13900000000\"},"
                                          "\"operator\":\"op\"," MGR "}");
  g_autofree char *card = json_string (issued->body, "card_no");
  g_autofree char *old_url = json_string (issued->body, "member_url");
  g_autofree char *old_path = url_path (old_url);
  g_autofree char *link_path = g_strdup_printf ("/v1/cards/%s/member-link", card);
  g_autoptr(CtTestResponse) no_manager = req ("POST", link_path, "{}");
  g_autoptr(CtTestResponse) wrong_pin = req ("POST", link_path, "{\"manager\":{\"id\":\"m1\",\"pin\":\"0000\"}}");
  g_autoptr(CtTestResponse) unknown = req ("POST", "/v1/cards/NOPE-1/member-link", "{" MGR "}");
  g_autoptr(CtTestResponse) still = ct_test_http (svc, "GET", old_path, NULL, NULL, NULL);
  g_autoptr(CtTestResponse) reissued = req ("POST", link_path, "{" MGR "}");
  g_autofree char *new_url = json_string (reissued->body, "member_url");
  g_autofree char *new_path = NULL;
  g_autoptr(CtTestResponse) old_page = NULL;
  g_autoptr(CtTestResponse) new_page = NULL;
  g_autoptr(CtTestResponse) old_code = NULL;
  g_autoptr(CtTestResponse) junk = NULL;
  g_autofree char *old_code_path = g_strconcat (old_path, "/code", NULL);

  ck_assert_int_eq (no_manager->status, 400);
  ck_assert_int_eq (wrong_pin->status, 403);
  ck_assert_int_eq (unknown->status, 404);
  ck_assert_int_eq (still->status, 200);
  ck_assert_int_eq (reissued->status, 201);
  ck_assert (new_url != NULL && strcmp (new_url, old_url) != 0);
  new_path = url_path (new_url);
  old_page = ct_test_http (svc, "GET", old_path, NULL, NULL, NULL);
  new_page = ct_test_http (svc, "GET", new_path, NULL, NULL, NULL);
  old_code = ct_test_http (svc, "GET", old_code_path, NULL, NULL, NULL);
  junk = ct_test_http (svc, "GET", "/m/not-a-token", NULL, NULL, NULL);
  ck_assert_int_eq (old_page->status, 404);
  ck_assert (strstr (old_page->body, "链接已失效") != NULL && strstr (old_page->body, "Li") == NULL);
  ck_assert_int_eq (old_code->status, 404);
  ck_assert_int_eq (new_page->status, 200);
  ck_assert (strstr (new_page->body, "Li") != NULL);
  ck_assert_int_eq (junk->status, 404);
}
END_TEST

START_TEST (test_member_page_pages_history_by_day)
{
  g_autoptr(CtTestResponse) issued = req ("POST", "/v1/cards",
                                          "{\"member\":{\"name\":\"Day\",\"phone\":\"13700000000\"},"
                                          "\"operator\":\"op\"," MGR "}");
  g_autofree char *url = json_string (issued->body, "member_url");
  g_autofree char *path = url_path (url);
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier ("Asia/Shanghai");
  g_autoptr(GDateTime) now = g_date_time_new_now (tz);
  g_autoptr(GDateTime) yesterday = g_date_time_add_days (now, -1);
  g_autofree char *today_text = g_date_time_format (now, "%Y-%m-%d");
  g_autofree char *yesterday_text = g_date_time_format (yesterday, "%Y-%m-%d");
  g_autofree char *prev_link = g_strdup_printf ("%s?date=%s", path, yesterday_text);
  g_autofree char *next_link = g_strdup_printf ("%s?date=%s", path, today_text);
  g_autoptr(CtTestResponse) today = ct_test_http (svc, "GET", path, NULL, NULL, NULL);
  g_autoptr(CtTestResponse) before = ct_test_http (svc, "GET", prev_link, NULL, NULL, NULL);
  g_autofree char *future_path = g_strdup_printf ("%s?date=2999-01-01", path);
  g_autoptr(CtTestResponse) future = ct_test_http (svc, "GET", future_path, NULL, NULL, NULL);

  ck_assert_int_eq (today->status, 200);
  ck_assert_msg (strstr (today->body, prev_link) != NULL, "%s", today->body);
  ck_assert (strstr (today->body, "今天") != NULL);
  ck_assert_int_eq (before->status, 200);
  ck_assert (strstr (before->body, next_link) != NULL);
  ck_assert (strstr (before->body, "这一天没有交易") != NULL);
  /* A day in the future shows today. */
  ck_assert (strstr (future->body, "今天") != NULL);
}
END_TEST

static Suite *
member_page_suite (void)
{
  Suite *s = suite_create ("member-page");
  TCase *render = tcase_create ("render");
  TCase *service = tcase_create ("service");

  tcase_add_test (render, test_member_page_language_follows_accept_language);
  tcase_add_test (render, test_member_page_shows_the_card_in_both_languages);
  tcase_add_test (render, test_member_page_escapes_what_people_typed);
  tcase_add_test (render, test_member_page_links_the_previous_and_next_day);
  tcase_add_test (render, test_member_page_policy_allows_only_its_own_inline_code);
  suite_add_tcase (s, render);

  tcase_add_unchecked_fixture (service, service_setup, service_teardown);
  tcase_set_timeout (service, 120);
  tcase_add_test (service, test_member_page_issue_answers_a_link_that_shows_the_card);
  tcase_add_test (service, test_member_page_reissued_link_replaces_the_old_one);
  tcase_add_test (service, test_member_page_pages_history_by_day);
  suite_add_tcase (s, service);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (member_page_suite ());
  int failed;

  srunner_set_fork_status (sr, CK_NOFORK);
  srunner_run_all (sr, CK_VERBOSE);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
