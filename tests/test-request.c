/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-request"

#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ct-request.h"

/* The body of @request as text (it is JSON, never NUL inside). */
static char *
body_text (const CtRequest *request)
{
  gsize len;
  const char *data;

  ck_assert_ptr_nonnull (request->body);
  data = g_bytes_get_data (request->body, &len);
  return g_strndup (data, len);
}

START_TEST (test_request_payment_is_one_post_on_the_normalised_card)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtRequest) request = ct_request_payment (" vip-00123 ", 1250, "A-17", 0, NULL, NULL,
                                                     "ann", &error);
  g_autofree char *body = NULL;
  g_autofree char *want = ct_wire_encode_payment (1250, "A-17", 0, NULL, NULL, "ann");

  ck_assert_msg (request != NULL, "%s", error ? error->message : "?");
  ck_assert_str_eq (request->method, "POST");
  ck_assert_str_eq (request->path, "/v1/cards/VIP-00123/payments");
  body = body_text (request);
  ck_assert_str_eq (body, want);
  ck_assert_ptr_null (request->idempotency_key);
  ck_assert_int_eq (request->info.kind, CT_OUTBOX_KIND_PAYMENT);
  ck_assert_str_eq (request->info.card_no, "VIP-00123");
  ck_assert_int_eq (request->info.amount, 1250);
  ck_assert_str_eq (request->info.order_ref, "A-17");
}
END_TEST

START_TEST (test_request_bad_card_number_builds_nothing)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtRequest) request = ct_request_refund ("", "tx-1", 0, "ann", "m1", "246813", &error);
  g_autoptr(GError) none = NULL;
  g_autoptr(CtRequest) nothing = ct_request_card_show (NULL, &none);

  ck_assert_ptr_null (request);
  ck_assert (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT));
  ck_assert_ptr_null (nothing);
  ck_assert (g_error_matches (none, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT));
}
END_TEST

START_TEST (test_request_topup_sends_the_terms_the_customer_was_shown)
{
  CtPackage shown = { .id = (char *) "p100", .amount = 10000, .bonus = 1500 };
  g_autoptr(CtRequest) package = ct_request_topup_package ("AB1234", "p100", &shown, "wechat",
                                                           "ann", NULL);
  g_autoptr(CtRequest) unknown = ct_request_topup_package ("AB1234", "p100", NULL, NULL, "ann",
                                                           NULL);
  g_autoptr(CtRequest) amount = ct_request_topup_amount ("AB1234", 5000, NULL, "ann", NULL);
  g_autofree char *package_body = body_text (package);
  g_autofree char *unknown_body = body_text (unknown);
  g_autofree char *amount_body = body_text (amount);
  g_autofree char *want_package = ct_wire_encode_topup_package ("p100", TRUE, 10000, 1500,
                                                                "wechat", "ann");
  g_autofree char *want_unknown = ct_wire_encode_topup_package ("p100", FALSE, 0, 0, NULL, "ann");
  g_autofree char *want_amount = ct_wire_encode_topup_amount (5000, NULL, "ann");

  ck_assert_str_eq (package->path, "/v1/cards/AB1234/topups");
  ck_assert_str_eq (package_body, want_package);
  ck_assert_int_eq (package->info.amount, 10000);
  /* Without stored terms the till cannot say what it showed. */
  ck_assert_str_eq (unknown_body, want_unknown);
  ck_assert_int_eq (unknown->info.amount, 0);
  ck_assert_str_eq (amount_body, want_amount);
  ck_assert_int_eq (amount->info.amount, 5000);
  ck_assert_int_eq (amount->info.kind, CT_OUTBOX_KIND_TOPUP);
}
END_TEST

START_TEST (test_request_manager_calls_carry_kind_and_amount)
{
  CtCardPatch patch = { .status = CT_CARD_STATUS_CHANGE_FREEZE };
  g_autoptr(CtRequest) adjust = ct_request_adjustment ("AB1234", -300, "typo", "ann", "m1",
                                                       "246813", NULL);
  g_autoptr(CtRequest) refund = ct_request_refund ("AB1234", "tx-9", 0, "ann", "m1", "246813", NULL);
  g_autoptr(CtRequest) part = ct_request_refund ("AB1234", "tx-9", 1250, "ann", "m1", "246813", NULL);
  g_autoptr(GError) negative = NULL;
  g_autoptr(CtRequest) none = ct_request_refund ("AB1234", "tx-9", -1, "ann", "m1", "246813", &negative);
  g_autoptr(CtRequest) freeze = ct_request_card_patch ("ab1234", &patch, "m1", "246813", NULL);
  g_autoptr(CtRequest) issue = ct_request_card_issue ("Li", "13800138000", NULL, NULL, NULL, "ann",
                                                      "m1", "246813", NULL);

  ck_assert_str_eq (adjust->path, "/v1/cards/AB1234/adjustments");
  ck_assert_int_eq (adjust->info.kind, CT_OUTBOX_KIND_ADJUSTMENT);
  ck_assert_int_eq (adjust->info.amount, -300);
  ck_assert_str_eq (refund->path, "/v1/cards/AB1234/refunds");
  ck_assert_int_eq (refund->info.kind, CT_OUTBOX_KIND_REFUND);
  /* A whole refund names no amount, a part names it; a negative one is
   * built into nothing. */
  {
    g_autofree char *whole = g_strndup (g_bytes_get_data (refund->body, NULL), g_bytes_get_size (refund->body));
    g_autofree char *some = g_strndup (g_bytes_get_data (part->body, NULL), g_bytes_get_size (part->body));

    ck_assert_msg (strstr (whole, "\"amount\"") == NULL, "%s", whole);
    ck_assert_msg (strstr (some, "\"amount\":1250") != NULL, "%s", some);
    ck_assert_int_eq (part->info.amount, 1250);
    ck_assert_ptr_null (none);
    ck_assert_ptr_nonnull (negative);
  }
  ck_assert_str_eq (freeze->method, "PATCH");
  ck_assert_str_eq (freeze->path, "/v1/cards/AB1234");
  ck_assert_int_eq (freeze->info.kind, CT_OUTBOX_KIND_CARD_PATCH);
  ck_assert_str_eq (issue->path, "/v1/cards");
  ck_assert_int_eq (issue->info.kind, CT_OUTBOX_KIND_CARD_ISSUE);
  /* The service issues the number: no card to keep in order behind. */
  ck_assert_ptr_null (issue->info.card_no);
}
END_TEST

START_TEST (test_request_queries_are_escaped_and_in_one_order)
{
  g_autoptr(CtRequest) history = ct_request_history ("AB1234", "2026-01-01", "2026-01-31",
                                                     "c&d=1", 500, NULL);
  g_autoptr(CtRequest) bare = ct_request_history ("AB1234", NULL, NULL, NULL, 0, NULL);
  g_autoptr(CtRequest) find = ct_request_card_find (NULL, "王 小明", NULL);
  g_autoptr(CtRequest) day = ct_request_day_transactions ("2026-02-03", "till 1", NULL);
  g_autoptr(CtRequest) summary = ct_request_day_summary (NULL);
  g_autoptr(CtRequest) shift = ct_request_shift_show ("current");
  g_autoptr(GError) error = NULL;
  g_autoptr(CtRequest) both = ct_request_card_find ("1234", "Li", &error);

  ck_assert_str_eq (history->method, "GET");
  ck_assert_ptr_null (history->body);
  ck_assert_str_eq (history->path, "/v1/cards/AB1234/transactions?from=2026-01-01&to=2026-01-31"
                                   "&limit=500&cursor=c%26d%3D1");
  ck_assert_str_eq (bare->path, "/v1/cards/AB1234/transactions");
  ck_assert_str_eq (find->path, "/v1/cards?name=%E7%8E%8B%20%E5%B0%8F%E6%98%8E");
  ck_assert_str_eq (day->path, "/v1/transactions?limit=500&date=2026-02-03&till=till%201");
  ck_assert_str_eq (summary->path, "/v1/reports/day");
  ck_assert_str_eq (shift->path, "/v1/shifts/current");
  ck_assert_ptr_null (both);
  ck_assert (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT));
}
END_TEST

START_TEST (test_request_shift_and_outcome_wait_behind_no_card)
{
  CtOutboxEntry entry = { .idempotency_key = (char *) "ct-1", .kind = CT_OUTBOX_KIND_PAYMENT };
  g_autoptr(CtRequest) open = ct_request_shift_open (20000, "ann");
  g_autoptr(CtRequest) close = ct_request_shift_close (NULL, 19950, "ann");
  g_autoptr(CtRequest) outcome = ct_request_outcome (&entry, "cash returned", 0, "m1", "246813");
  g_autoptr(CtRequest) cash = ct_request_outcome (&entry, "cash returned", 2500, "m1", "246813");
  g_autofree char *outcome_body = body_text (outcome);
  g_autofree char *cash_body = body_text (cash);
  g_autofree char *want = ct_wire_encode_outcome ("-", "ct-1", "payment", "cash returned", 0, "m1",
                                                  "246813");

  ck_assert_str_eq (open->path, "/v1/shifts");
  ck_assert_int_eq (open->info.kind, CT_OUTBOX_KIND_SHIFT);
  ck_assert_str_eq (close->path, "/v1/shifts/current/close");
  {
    g_autoptr(CtRequest) by_id = ct_request_shift_close ("42", 100, "ann");

    ck_assert_str_eq (by_id->path, "/v1/shifts/42/close");
  }
  ck_assert_ptr_null (close->info.card_no);
  ck_assert_str_eq (outcome->path, "/v1/outcomes");
  ck_assert_int_eq (outcome->info.kind, CT_OUTBOX_KIND_OTHER);
  ck_assert_ptr_null (outcome->info.card_no);
  ck_assert_str_eq (outcome_body, want);
  /* No cash handed back: the field is left out, as before it existed. */
  ck_assert_ptr_null (strstr (outcome_body, "cash_given_back"));
  ck_assert_msg (strstr (cash_body, "\"cash_given_back\":2500") != NULL, "%s", cash_body);
  ck_assert_int_eq (cash->info.amount, 2500);
  ck_assert_int_eq (cash->info.kind, CT_OUTBOX_KIND_OTHER);
}
END_TEST

static Suite *
request_suite (void)
{
  Suite *s = suite_create ("request");
  TCase *tc = tcase_create ("builders");

  tcase_add_test (tc, test_request_payment_is_one_post_on_the_normalised_card);
  tcase_add_test (tc, test_request_bad_card_number_builds_nothing);
  tcase_add_test (tc, test_request_topup_sends_the_terms_the_customer_was_shown);
  tcase_add_test (tc, test_request_manager_calls_carry_kind_and_amount);
  tcase_add_test (tc, test_request_queries_are_escaped_and_in_one_order);
  tcase_add_test (tc, test_request_shift_and_outcome_wait_behind_no_card);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (request_suite ());
  int failed;

  srunner_run_all (sr, CK_VERBOSE);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
