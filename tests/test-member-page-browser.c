/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-member-page-browser"

#include "config.h"

#include <check.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct-barcode.h"
#include "ct-member-code.h"
#include "ct-test-service.h"

/* The member's page in a real browser (headless Chromium): the page as a
 * phone shows it, in Chinese and in English, with its payment QR code read
 * back from the screenshot, its script allowed by the page's own policy,
 * and a replaced link refused. Skipped (exit 77) only where no Chromium is
 * installed. */

#define MGR "\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"}"

static char *chromium;
static CtTestService *svc;
static CtTestClient *client;

static char *
screenshot_path (const char *name)
{
  const char *builddir = g_getenv ("CT_TOP_BUILDDIR");
  g_autofree char *dir = g_build_filename (builddir ? builddir : ".", "screenshots", NULL);
  g_autofree char *file = g_strdup_printf ("member-page-%s.png", name);

  g_mkdir_with_parents (dir, 0755);
  return g_build_filename (dir, file, NULL);
}

/* Runs headless Chromium on @url with @lang; @mode is "--dump-dom" or
 * "--screenshot=FILE". Returns its standard output. */
static char *
browse (const char *url,
        const char *lang,
        const char *mode)
{
  g_autofree char *profile = g_dir_make_tmp ("ct-chromium-XXXXXX", NULL);
  g_autofree char *lang_arg = g_strdup_printf ("--lang=%s", lang);
  g_autofree char *accept_arg = g_strdup_printf ("--accept-lang=%s", lang);
  g_autofree char *profile_arg = g_strdup_printf ("--user-data-dir=%s", profile);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;
  const char *argv[] = {
    "timeout", "120", chromium, "--headless", "--no-sandbox", "--disable-gpu",
    "--disable-background-networking", "--no-first-run", "--hide-scrollbars",
    "--disable-dev-shm-usage", "--window-size=390,844", "--force-device-scale-factor=1",
    /* lets the page's timers and its first fetch run before the dump */
    "--virtual-time-budget=3000",
    lang_arg, accept_arg, profile_arg, mode, url, NULL
  };

  ck_assert (profile != NULL);
  ck_assert_msg (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               &out, &err, &status, &error), "%s", error ? error->message : "?");
  ck_assert_msg (g_spawn_check_wait_status (status, NULL), "chromium failed: %s", err);
  /* A page that broke its own policy would say so on the console. */
  ck_assert_msg (strstr (err, "Content Security Policy") == NULL, "%s", err);
  {
    const char *rm[] = { "rm", "-rf", profile, NULL };

    g_spawn_sync (NULL, (char **) rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  }
  return g_steal_pointer (&out);
}

static CtTestResponse *
req (const char *method,
     const char *path,
     const char *body)
{
  static guint n;
  g_autofree char *key = g_strdup_printf ("mpb-%u-%" G_GINT64_FORMAT, ++n, g_get_real_time ());
  g_autoptr(GError) error = NULL;
  CtTestResponse *r = ct_test_client_request (client, method, path, key, body, &error);

  ck_assert_msg (r != NULL, "%s", error ? error->message : "?");
  ck_assert_msg (r->status == 201, "%s %s: %ld %s", method, path, r->status, r->body);
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

static void
setup (void)
{
  g_autoptr(GError) error = NULL;

  /* Plain HTTP on loopback: the browser needs no certificate exception. */
  svc = ct_test_service_start (FALSE, &error);
  ck_assert_msg (svc != NULL, "%s", error ? error->message : "?");
  client = ct_test_client_new (svc);
}

static void
teardown (void)
{
  g_clear_pointer (&client, ct_test_client_free);
  g_clear_pointer (&svc, ct_test_service_free);
}

START_TEST (test_member_page_in_chromium)
{
  g_autoptr(CtTestResponse) issued = req ("POST", "/v1/cards",
                                          "{\"member\":{\"name\":\"王芳\",\"phone\":\"13800138000\"},"
                                          "\"level\":\"金卡\",\"operator\":\"op\"," MGR "}");
  g_autofree char *card = json_string (issued->body, "card_no");
  g_autofree char *url = json_string (issued->body, "member_url");
  g_autofree char *topup_path = g_strdup_printf ("/v1/cards/%s/topups", card);
  g_autofree char *pay_path = g_strdup_printf ("/v1/cards/%s/payments", card);
  g_autofree char *link_path = g_strdup_printf ("/v1/cards/%s/member-link", card);
  g_autoptr(CtTestResponse) topup = req ("POST", topup_path, "{\"package_id\":\"p100\",\"operator\":\"op\"}");
  g_autoptr(CtTestResponse) pay = req ("POST", pay_path, "{\"amount\":2550,\"operator\":\"op\"}");
  g_autofree char *zh_png = screenshot_path ("zh");
  g_autofree char *en_png = screenshot_path ("en");
  g_autofree char *zh_shot = g_strdup_printf ("--screenshot=%s", zh_png);
  g_autofree char *en_shot = g_strdup_printf ("--screenshot=%s", en_png);
  g_autofree char *zh_dom = NULL;
  g_autofree char *en_dom = NULL;
  g_autofree char *shot_out = NULL;
  g_autofree char *shot_out_en = NULL;
  g_autoptr(GPtrArray) codes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *payload_prefix = g_strdup_printf ("CTP1:%s:", card);

  ck_assert (url != NULL && g_str_has_prefix (url, "http://127.0.0.1:"));

  /* What the member reads, in Chinese. */
  zh_dom = browse (url, "zh-CN", "--dump-dom");
  ck_assert_msg (strstr (zh_dom, "王芳") && strstr (zh_dom, "¥84.50") && strstr (zh_dom, "金卡")
                 && strstr (zh_dom, "余额") && strstr (zh_dom, "积分") && strstr (zh_dom, "付款码")
                 && strstr (zh_dom, "消费") && strstr (zh_dom, "充值") && strstr (zh_dom, "-¥25.50")
                 && strstr (zh_dom, "+¥110.00") && strstr (zh_dom, "前一天") && strstr (zh_dom, "今天"),
                 "%s", zh_dom);
  /* The refresh script ran: the policy allowed it by its hash. */
  ck_assert_msg (strstr (zh_dom, "<body class=\"js\">") != NULL, "%s", zh_dom);

  /* And in English. */
  en_dom = browse (url, "en-US", "--dump-dom");
  ck_assert_msg (strstr (en_dom, "Balance") && strstr (en_dom, "¥84.50") && strstr (en_dom, "Payment code")
                 && strstr (en_dom, "Payment") && strstr (en_dom, "Top-up") && !strstr (en_dom, "余额"),
                 "%s", en_dom);

  /* Phone-sized screenshots, looked at by people; the QR code on them is
   * the card's payment code and reads back with the till's own decoder. */
  shot_out = browse (url, "zh-CN", zh_shot);
  shot_out_en = browse (url, "en-US", en_shot);
  ck_assert (g_file_test (zh_png, G_FILE_TEST_IS_REGULAR));
  ck_assert (g_file_test (en_png, G_FILE_TEST_IS_REGULAR));
  codes = ct_barcode_decode_file (zh_png, &error);
  ck_assert_msg (codes != NULL && codes->len == 1, "%s", error ? error->message : "no code");
  {
    CtBarcode *code = g_ptr_array_index (codes, 0);
    g_autofree char *scanned_card = NULL;
    g_autofree char *scanned_code = NULL;

    ck_assert_str_eq (code->format, "QRCode");
    ck_assert_msg (g_str_has_prefix (code->text, payload_prefix), "%s", code->text);
    ck_assert (ct_member_code_parse (code->text, "8888", &scanned_card, &scanned_code, NULL));
    ck_assert_str_eq (scanned_card, card);
    ck_assert_int_eq (strlen (scanned_code), CT_MEMBER_CODE_DIGITS);
  }

  /* A reissued link: the old one is refused and shows nothing of the card. */
  {
    g_autoptr(CtTestResponse) reissued = req ("POST", link_path, "{" MGR "}");
    g_autofree char *new_url = json_string (reissued->body, "member_url");
    g_autofree char *old_dom = browse (url, "zh-CN", "--dump-dom");
    g_autofree char *new_dom = browse (new_url, "zh-CN", "--dump-dom");
    g_autofree char *refused_png = screenshot_path ("refused");
    g_autofree char *refused_shot = g_strdup_printf ("--screenshot=%s", refused_png);
    g_autofree char *refused_out = browse (url, "zh-CN", refused_shot);

    ck_assert_msg (strstr (old_dom, "链接已失效") && !strstr (old_dom, "王芳") && !strstr (old_dom, "84.50"),
                   "%s", old_dom);
    ck_assert_msg (strstr (new_dom, "王芳") != NULL, "%s", new_dom);
  }
}
END_TEST

static Suite *
browser_suite (void)
{
  Suite *s = suite_create ("member-page-browser");
  TCase *tc = tcase_create ("chromium");

  tcase_add_unchecked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_member_page_in_chromium);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr;
  int failed;

  chromium = g_find_program_in_path ("chromium");
  if (chromium == NULL)
    chromium = g_find_program_in_path ("chromium-browser");
  if (chromium == NULL)
    {
      printf ("chromium is not installed: the member page's browser test is skipped\n");
      return 77;
    }
  sr = srunner_create (browser_suite ());
  srunner_set_fork_status (sr, CK_NOFORK);
  srunner_run_all (sr, CK_VERBOSE);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  g_free (chromium);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
