/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-service-split"
#include "config.h"

#include <check.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ct-test-json.h"
#include "ct-test-ledger-fixture.h"

/* Split payments over real HTTPS: a card short of the order pays what it
 * holds and another tender takes the rest ("rest": {"amount", "tender"}),
 * recorded on the same transaction, counted in the shift and day reports,
 * given back by its tender on a refund. Each test gets a fresh service;
 * the teardown checks that the ledger still sums to zero. */

static char *
issue_card (void)
{
  g_autoptr(CtTestResponse) r = req ("POST", "/v1/cards",
                                     "{\"member\":{\"name\":\"Split\",\"phone\":null},\"operator\":\"op\"," MGR "}");

  expect (r, 201, NULL);
  return ct_test_json_str (r->body, "card_no");
}

/* POST a payment of @amount on @card with @rest (JSON text of the "rest"
 * member, NULL for none) under @key (NULL: a new one). */
static CtTestResponse *
pay_split (const char *card,
           int64_t     amount,
           const char *rest,
           const char *key)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card);
  g_autofree char *r = rest ? g_strdup_printf (",\"rest\":%s", rest) : g_strdup ("");
  g_autofree char *body = g_strdup_printf ("{\"amount\":%" G_GINT64_FORMAT ",\"operator\":\"op\"%s}", amount, r);

  return req_on (cl, "POST", path, key, body);
}

static char *
open_shift (int64_t float_amount)
{
  g_autofree char *body = g_strdup_printf ("{\"operator\":\"amy\",\"float\":%" G_GINT64_FORMAT "}", float_amount);
  g_autoptr(CtTestResponse) r = req ("POST", "/v1/shifts", body);

  expect (r, 201, NULL);
  return ct_test_json_str (r->body, "shift.id");
}

static int64_t
balance_of (const char *card)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s", card);
  g_autoptr(CtTestResponse) r = req ("GET", path, NULL);

  expect (r, 200, NULL);
  return ct_test_json_int (r->body, "balance");
}

/* Refunds the whole of payment @tx on @card and checks that the card
 * gets @delta back and the customer @rest by @tender; returns the answer. */
static CtTestResponse *
refund_split (const char *card,
              const char *tx,
              int64_t     delta,
              int64_t     rest,
              const char *tender)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/refunds", card);
  g_autofree char *body = g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\"," MGR "}", tx);
  g_autofree char *given_by = NULL;
  CtTestResponse *r = req ("POST", path, body);

  expect (r, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.delta"), delta);
  ck_assert_int_eq (ct_test_json_int (r->body, "transaction.rest.amount"), rest);
  given_by = ct_test_json_str (r->body, "transaction.rest.tender");
  ck_assert_str_eq (given_by, tender);
  return r;
}

START_TEST (test_split_payment_records_the_rest_by_its_tender_in_the_shift_and_day)
{
  g_autofree char *card = issue_card ();
  g_autofree char *shift = open_shift (5000);
  g_autofree char *close_path = g_strdup_printf ("/v1/shifts/%s/close", shift);
  g_autofree char *hist_path = g_strdup_printf ("/v1/cards/%s/transactions", card);
  g_autofree char *tender = NULL, *htender = NULL, *kind = NULL;
  g_autoptr(CtTestResponse) p = NULL, p2 = NULL, plain = NULL, hist = NULL, closed = NULL, rep = NULL, health = NULL;

  /* 110.00 on the card (100.00 + 10.00 bonus, cash); the order is 150.00. */
  g_free (topup (card, "cash"));
  p = pay_split (card, 11000, "{\"amount\":4000,\"tender\":\"cash\"}", NULL);
  expect (p, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (p->body, "transaction.delta"), -11000);
  ck_assert_int_eq (ct_test_json_int (p->body, "transaction.rest.amount"), 4000);
  tender = ct_test_json_str (p->body, "transaction.rest.tender");
  ck_assert_str_eq (tender, "cash");
  ck_assert_int_eq (ct_test_json_int (p->body, "card.balance"), 0);
  /* Points are earned on what the card paid. */
  ck_assert_int_eq (ct_test_json_int (p->body, "transaction.points_delta"), 110);

  /* A second one taken by Alipay, and a plain payment with no rest. */
  g_free (topup (card, "wechat"));
  p2 = pay_split (card, 5000, "{\"amount\":2500,\"tender\":\"alipay\"}", NULL);
  expect (p2, 201, NULL);
  plain = pay_split (card, 1000, NULL, NULL);
  expect (plain, 201, NULL);
  ck_assert_msg (strstr (plain->body, "\"rest\":null") != NULL, "%s", plain->body);

  /* History shows the rest with its tender (newest first). */
  hist = req ("GET", hist_path, NULL);
  expect (hist, 200, NULL);
  kind = ct_test_json_str (hist->body, "transactions.1.kind");
  ck_assert_str_eq (kind, "payment");
  htender = ct_test_json_str (hist->body, "transactions.1.rest.tender");
  ck_assert_str_eq (htender, "alipay");
  ck_assert_int_eq (ct_test_json_int (hist->body, "transactions.1.rest.amount"), 2500);

  /* The drawer: float 50.00 + cash top-up 100.00 + cash rest 40.00. */
  closed = req ("POST", close_path, "{\"operator\":\"amy\",\"counted_cash\":19000}");
  expect (closed, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (closed->body, "report.payments"), 17000);
  ck_assert_int_eq (ct_test_json_int (closed->body, "report.counts.payments"), 3);
  ck_assert_int_eq (ct_test_json_int (closed->body, "report.rests.cash.taken"), 4000);
  ck_assert_int_eq (ct_test_json_int (closed->body, "report.rests.alipay.taken"), 2500);
  ck_assert_int_eq (ct_test_json_int (closed->body, "report.rests.wechat.taken"), 0);
  ck_assert_int_eq (ct_test_json_int (closed->body, "report.tenders.cash.taken"), 10000);
  ck_assert_int_eq (ct_test_json_int (closed->body, "report.expected_cash"), 19000);
  ck_assert_int_eq (ct_test_json_int (closed->body, "report.variance"), 0);

  rep = req ("GET", "/v1/reports/day", NULL);
  expect (rep, 200, NULL);
  ck_assert_int_eq (ct_test_json_int (rep->body, "totals.rests.cash.taken"), 4000);
  ck_assert_int_eq (ct_test_json_int (rep->body, "totals.rests.alipay.net"), 2500);
  ck_assert_int_eq (ct_test_json_int (rep->body, "stores.0.tills.0.totals.rests.cash.taken"), 4000);

  /* A till checks the service takes split payments before it offers them. */
  health = req ("GET", "/v1/health", NULL);
  ck_assert_msg (strstr (health->body, "\"split_payment\"") != NULL, "%s", health->body);
}
END_TEST

START_TEST (test_split_payment_retried_with_its_key_is_replayed_and_taken_once)
{
  g_autofree char *card = issue_card ();
  g_autofree char *key = g_strdup_printf ("split-retry-%u", (guint) getpid ());
  g_autoptr(CtTestResponse) a = NULL, b = NULL, other = NULL, rep = NULL;

  g_free (topup (card, "cash"));
  a = pay_split (card, 11000, "{\"amount\":900,\"tender\":\"bank_card\"}", key);
  expect (a, 201, NULL);
  b = pay_split (card, 11000, "{\"amount\":900,\"tender\":\"bank_card\"}", key);
  expect (b, 201, NULL);
  ck_assert_str_eq (ct_test_response_header (b, "Idempotent-Replayed"), "true");
  ck_assert_str_eq (a->body, b->body);
  /* The same key with another rest is another intent: refused. */
  other = pay_split (card, 11000, "{\"amount\":901,\"tender\":\"bank_card\"}", key);
  expect (other, 422, "idempotency_key_reused");

  ck_assert_int_eq (balance_of (card), 0);
  rep = req ("GET", "/v1/reports/day", NULL);
  expect (rep, 200, NULL);
  ck_assert_int_eq (ct_test_json_int (rep->body, "totals.rests.bank_card.taken"), 900);
  ck_assert_int_eq (ct_test_json_int (rep->body, "totals.counts.payments"), 1);
}
END_TEST

START_TEST (test_split_payment_refund_gives_the_rest_back_by_its_tender)
{
  g_autofree char *card = issue_card ();
  g_autofree char *shift = open_shift (0);
  g_autofree char *shift_path = g_strdup_printf ("/v1/shifts/%s", shift);
  g_autofree char *tx = NULL, *wtx = NULL;
  g_autoptr(CtTestResponse) p = NULL, w = NULL, rf = NULL, rf2 = NULL, sh = NULL;

  g_free (topup (card, "alipay"));
  p = pay_split (card, 6000, "{\"amount\":3000,\"tender\":\"cash\"}", NULL);
  expect (p, 201, NULL);
  tx = ct_test_json_str (p->body, "transaction.id");
  w = pay_split (card, 5000, "{\"amount\":700,\"tender\":\"wechat\"}", NULL);
  expect (w, 201, NULL);
  ck_assert_int_eq (balance_of (card), 0);

  /* The card gets its part back; the rest goes back in cash. */
  rf = refund_split (card, tx, 6000, 3000, "cash");
  ck_assert_int_eq (ct_test_json_int (rf->body, "card.balance"), 6000);

  wtx = ct_test_json_str (w->body, "transaction.id");
  rf2 = refund_split (card, wtx, 5000, 700, "wechat");

  sh = req ("GET", shift_path, NULL);
  expect (sh, 200, NULL);
  ck_assert_int_eq (ct_test_json_int (sh->body, "report.rests.cash.taken"), 3000);
  ck_assert_int_eq (ct_test_json_int (sh->body, "report.rests.cash.given_back"), 3000);
  ck_assert_int_eq (ct_test_json_int (sh->body, "report.rests.cash.net"), 0);
  ck_assert_int_eq (ct_test_json_int (sh->body, "report.rests.wechat.given_back"), 700);
  ck_assert_int_eq (ct_test_json_int (sh->body, "report.refunds"), 11000);
  /* Float 0 + no cash top-up + 30.00 cash rest − 30.00 given back. */
  ck_assert_int_eq (ct_test_json_int (sh->body, "report.expected_cash"), 0);
}
END_TEST

/* Points and a rest in one payment: the points pay part of the card's
 * share, the balance the rest of that share, another tender the rest of
 * the order; a refund gives each part back its own way. */
START_TEST (test_split_payment_with_points_takes_them_off_the_cards_part)
{
  g_autofree char *card = issue_card ();
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card);
  g_autofree char *tx = NULL;
  g_autoptr(CtTestResponse) first = NULL, p = NULL, over = NULL, rf = NULL;

  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "merchant", "set", "--points-redeem-rate", "10",
                                           "--points-redeem-max-bp", "5000", NULL), 0);
  /* 110.00, then 50.00 paid: 60.00 and 50 points. */
  g_free (topup (card, "cash"));
  first = pay_split (card, 5000, NULL, NULL);
  expect (first, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (first->body, "card.points"), 50);

  /* An 80.00 order: 50 points pay 5.00 of the card's 65.00, the balance
   * 60.00, cash the other 15.00. */
  p = req_on (cl, "POST", path, NULL,
              "{\"amount\":6500,\"redeem_points\":50,\"rest\":{\"amount\":1500,\"tender\":\"cash\"},"
              "\"operator\":\"op\"}");
  expect (p, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (p->body, "transaction.delta"), -6000);
  ck_assert_int_eq (ct_test_json_int (p->body, "transaction.redeemed_value"), 500);
  ck_assert_int_eq (ct_test_json_int (p->body, "transaction.rest.amount"), 1500);
  ck_assert_int_eq (ct_test_json_int (p->body, "card.balance"), 0);
  /* 50 - 50 redeemed + 60 earned on the balance's part. */
  ck_assert_int_eq (ct_test_json_int (p->body, "card.points"), 60);
  assert_balanced ();

  /* Points are capped at half of the card's part, not of the order. */
  g_free (topup (card, "cash"));
  over = req_on (cl, "POST", path, NULL,
                 "{\"amount\":1000,\"redeem_points\":60,\"rest\":{\"amount\":9000,\"tender\":\"cash\"},"
                 "\"operator\":\"op\"}");
  expect (over, 422, "invalid_amount");

  tx = ct_test_json_str (p->body, "transaction.id");
  rf = refund_split (card, tx, 6000, 1500, "cash");
  /* 110.00 topped up again, 60.00 back; the 50 points back less the 60 earned. */
  ck_assert_int_eq (ct_test_json_int (rf->body, "card.balance"), 17000);
  ck_assert_int_eq (ct_test_json_int (rf->body, "card.points"), 50);
}
END_TEST

START_TEST (test_split_payment_with_a_bad_rest_is_refused_and_takes_nothing)
{
  g_autofree char *card = issue_card ();
  const struct
  {
    const char *rest;
    long        status;
    const char *code;
    const char *says;
  } bad[] = {
    { "4000", 400, "bad_request", "rest" },
    { "\"cash\"", 400, "bad_request", "rest" },
    { "{\"amount\":4000}", 400, "bad_request", "rest.tender" },
    { "{\"tender\":\"cash\"}", 400, "bad_request", "rest.amount" },
    { "{\"amount\":4000,\"tender\":\"bitcoin\"}", 400, "bad_request", "bitcoin" },
    { "{\"amount\":4000,\"tender\":\"cash\",\"change\":100}", 400, "bad_request", "change" },
    { "{\"amount\":\"4000\",\"tender\":\"cash\"}", 400, "bad_request", "amount" },
    { "{\"amount\":40.5,\"tender\":\"cash\"}", 400, "bad_request", NULL },
    { "{\"amount\":1e3,\"tender\":\"cash\"}", 400, "bad_request", NULL },
    { "{\"amount\":99999999999999999999,\"tender\":\"cash\"}", 400, "bad_request", NULL },
    { "{\"amount\":0,\"tender\":\"cash\"}", 422, "invalid_amount", "rest.amount" },
    { "{\"amount\":-100,\"tender\":\"cash\"}", 422, "invalid_amount", "rest.amount" },
    { "{\"amount\":9223372036854775807,\"tender\":\"cash\"}", 422, "invalid_amount", NULL },
  };
  g_autoptr(CtTestResponse) short_card = NULL, rep = NULL;

  g_free (topup (card, "cash"));
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(CtTestResponse) r = pay_split (card, 11000, bad[i].rest, NULL);

      ck_assert_msg (r->status == bad[i].status, "%s: %ld %s", bad[i].rest, r->status, r->body);
      ck_assert_msg (strstr (r->body, bad[i].code) != NULL, "%s: %s", bad[i].rest, r->body);
      if (bad[i].says != NULL)
        ck_assert_msg (strstr (r->body, bad[i].says) != NULL, "%s: %s", bad[i].rest, r->body);
    }
  /* The card's part must still be what it holds. */
  short_card = pay_split (card, 11001, "{\"amount\":100,\"tender\":\"cash\"}", NULL);
  expect (short_card, 409, "insufficient_balance");

  ck_assert_int_eq (balance_of (card), 11000);
  rep = req ("GET", "/v1/reports/day", NULL);
  expect (rep, 200, NULL);
  ck_assert_int_eq (ct_test_json_int (rep->body, "totals.counts.payments"), 0);
  ck_assert_int_eq (ct_test_json_int (rep->body, "totals.rests.cash.taken"), 0);
}
END_TEST

static Suite *
split_suite (void)
{
  Suite *s = suite_create ("service-split");
  TCase *tc = tcase_create ("split");

  tcase_add_checked_fixture (tc, ledger_setup, ledger_teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_split_payment_records_the_rest_by_its_tender_in_the_shift_and_day);
  tcase_add_test (tc, test_split_payment_retried_with_its_key_is_replayed_and_taken_once);
  tcase_add_test (tc, test_split_payment_refund_gives_the_rest_back_by_its_tender);
  tcase_add_test (tc, test_split_payment_with_a_bad_rest_is_refused_and_takes_nothing);
  tcase_add_test (tc, test_split_payment_with_points_takes_them_off_the_cards_part);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (split_suite ());
  int failed;

  curl_global_init (CURL_GLOBAL_DEFAULT);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
