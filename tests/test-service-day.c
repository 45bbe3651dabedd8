/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-service-day"
#include "config.h"

#include <check.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ct-test-json.h"
#include "ct-test-ledger-fixture.h"

/* The cashier's day over real HTTPS: tenders kept apart in the ledger,
 * shifts with their reports, require_shift, the till's time of a request
 * (taken_at) and the day report. Each test gets a fresh service; the
 * teardown checks that the ledger still sums to zero. */

static char *
issue_card (void)
{
  g_autoptr(CtTestResponse) r = req ("POST", "/v1/cards",
                                     "{\"member\":{\"name\":\"Day\",\"phone\":null},\"operator\":\"op\"," MGR "}");

  expect (r, 201, NULL);
  return ct_test_json_str (r->body, "card_no");
}

static CtTestResponse *
void_tx (const char *card,
         const char *tx_id)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/refunds", card);
  g_autofree char *body = g_strdup_printf ("{\"transaction_id\":\"%s\",\"operator\":\"op\"," MGR "}", tx_id);

  return req ("POST", path, body);
}

static CtTestResponse *
pay_on (CtTestClient *client,
        const char   *card,
        int64_t       amount)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card);
  g_autofree char *body = g_strdup_printf ("{\"amount\":%" G_GINT64_FORMAT ",\"operator\":\"op\"}", amount);

  return req_on (client, "POST", path, NULL, body);
}

static char *
open_shift (int64_t float_amount)
{
  g_autofree char *body = g_strdup_printf ("{\"operator\":\"amy\",\"float\":%" G_GINT64_FORMAT "}", float_amount);
  g_autoptr(CtTestResponse) r = req ("POST", "/v1/shifts", body);

  expect (r, 201, NULL);
  return ct_test_json_str (r->body, "shift.id");
}

/* Tenders */

START_TEST (test_day_topup_tender_is_kept_in_its_own_account_and_a_void_gives_it_back)
{
  g_autofree char *card = issue_card ();
  g_autoptr(CtTestResponse) r = topup_on (cl, card, "wechat", NULL);
  g_autoptr(CtTestResponse) chk = NULL, chk2 = NULL, v = NULL, cash = NULL, bad = NULL, health = NULL;
  g_autofree char *tx = NULL, *tender = NULL, *vtender = NULL, *ctender = NULL;

  expect (r, 201, NULL);
  tender = ct_test_json_str (r->body, "transaction.tender");
  ck_assert_str_eq (tender, "wechat");
  tx = ct_test_json_str (r->body, "transaction.id");
  chk = req ("GET", "/v1/ledger/check", NULL);
  ck_assert_int_eq (ct_test_json_int (chk->body, "tenders.wechat"), -10000);
  ck_assert_int_eq (ct_test_json_int (chk->body, "cash"), 0);
  ck_assert_int_eq (ct_test_json_int (chk->body, "sum"), 0);

  /* The void gives the money back by WeChat, not from the drawer. */
  v = void_tx (card, tx);
  expect (v, 201, NULL);
  vtender = ct_test_json_str (v->body, "transaction.tender");
  ck_assert_str_eq (vtender, "wechat");
  chk2 = req ("GET", "/v1/ledger/check", NULL);
  ck_assert_int_eq (ct_test_json_int (chk2->body, "tenders.wechat"), 0);
  ck_assert_int_eq (ct_test_json_int (chk2->body, "cash"), 0);

  /* No tender said is cash. */
  cash = topup_on (cl, card, NULL, NULL);
  expect (cash, 201, NULL);
  ctender = ct_test_json_str (cash->body, "transaction.tender");
  ck_assert_str_eq (ctender, "cash");

  bad = topup_on (cl, card, "bitcoin", NULL);
  expect (bad, 400, "bad_request");
  ck_assert_msg (strstr (bad->body, "bitcoin") != NULL, "%s", bad->body);

  /* A till checks the service takes tenders before it offers them. */
  health = req ("GET", "/v1/health", NULL);
  ck_assert_msg (strstr (health->body, "\"tenders\"") != NULL && strstr (health->body, "\"shifts\"") != NULL,
                 "%s", health->body);
}
END_TEST

START_TEST (test_day_payments_carry_no_tender_and_history_shows_it)
{
  g_autofree char *card = issue_card ();
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/transactions", card);
  g_autoptr(CtTestResponse) p = NULL, h = NULL;
  g_autofree char *t0 = NULL, *t1 = NULL;

  g_free (topup (card, "bank_card"));
  p = pay_on (cl, card, 500);
  expect (p, 201, NULL);
  ck_assert_msg (strstr (p->body, "\"tender\":null") != NULL, "%s", p->body);
  h = req ("GET", path, NULL);
  expect (h, 200, NULL);
  t0 = ct_test_json_str (h->body, "transactions.1.tender");
  ck_assert_str_eq (t0, "bank_card");
  t1 = ct_test_json_str (h->body, "transactions.0.taken_at");
  ck_assert_ptr_nonnull (t1);
}
END_TEST

/* Shifts */

START_TEST (test_day_shift_report_counts_kinds_tenders_and_cash_variance)
{
  g_autofree char *card = issue_card ();
  g_autofree char *shift = open_shift (20000);
  g_autofree char *close_path = g_strdup_printf ("/v1/shifts/%s/close", shift);
  g_autofree char *get_path = g_strdup_printf ("/v1/shifts/%s", shift);
  g_autofree char *void_me = NULL, *sid = NULL, *status = NULL;
  g_autoptr(CtTestResponse) again = NULL, p = NULL, v = NULL, c = NULL, g = NULL;

  again = req ("POST", "/v1/shifts", "{\"operator\":\"bob\",\"float\":0}");
  expect (again, 409, "shift_open");

  g_free (topup (card, "cash"));
  void_me = topup (card, "cash");
  g_free (topup (card, "alipay"));
  p = pay_on (cl, card, 1234);
  expect (p, 201, NULL);
  sid = ct_test_json_str (p->body, "transaction.shift_id");
  ck_assert_str_eq (sid, shift);
  v = void_tx (card, void_me);
  expect (v, 201, NULL);

  /* Float 200.00 + cash 200.00 - cash void 100.00 = 300.00 expected;
   * 299.50 counted is 0.50 short. */
  c = req ("POST", close_path, "{\"operator\":\"amy\",\"counted_cash\":29950}");
  expect (c, 201, NULL);
  status = ct_test_json_str (c->body, "shift.status");
  ck_assert_str_eq (status, "closed");
  ck_assert_int_eq (ct_test_json_int (c->body, "report.counts.topups"), 3);
  ck_assert_int_eq (ct_test_json_int (c->body, "report.topups"), 30000);
  ck_assert_int_eq (ct_test_json_int (c->body, "report.bonus"), 3000);
  ck_assert_int_eq (ct_test_json_int (c->body, "report.counts.payments"), 1);
  ck_assert_int_eq (ct_test_json_int (c->body, "report.payments"), 1234);
  ck_assert_int_eq (ct_test_json_int (c->body, "report.counts.voids"), 1);
  ck_assert_int_eq (ct_test_json_int (c->body, "report.voids"), 10000);
  ck_assert_int_eq (ct_test_json_int (c->body, "report.tenders.cash.taken"), 20000);
  ck_assert_int_eq (ct_test_json_int (c->body, "report.tenders.cash.given_back"), 10000);
  ck_assert_int_eq (ct_test_json_int (c->body, "report.tenders.alipay.taken"), 10000);
  ck_assert_int_eq (ct_test_json_int (c->body, "report.expected_cash"), 30000);
  ck_assert_int_eq (ct_test_json_int (c->body, "report.counted_cash"), 29950);
  ck_assert_int_eq (ct_test_json_int (c->body, "report.variance"), -50);

  g = req ("GET", get_path, NULL);
  expect (g, 200, NULL);
  ck_assert_int_eq (ct_test_json_int (g->body, "report.variance"), -50);
  ck_assert_int_eq (ct_test_json_int (g->body, "shift.float"), 20000);
}
END_TEST

START_TEST (test_day_shift_closed_twice_replays_for_its_key_and_is_refused_for_a_new_one)
{
  g_autofree char *shift = open_shift (0);
  g_autofree char *close_path = g_strdup_printf ("/v1/shifts/%s/close", shift);
  const char *body = "{\"operator\":\"amy\",\"counted_cash\":0}";
  g_autoptr(CtTestResponse) first = req_on (cl, "POST", close_path, "close-once", body);
  g_autoptr(CtTestResponse) replay = req_on (cl, "POST", close_path, "close-once", body);
  g_autoptr(CtTestResponse) second = req ("POST", close_path, body);
  g_autoptr(CtTestResponse) bad = NULL, after = NULL;

  expect (first, 201, NULL);
  expect (replay, 201, NULL);
  ck_assert_str_eq (replay->body, first->body);
  ck_assert_str_eq (ct_test_response_header (replay, "idempotent-replayed"), "true");
  expect (second, 409, "shift_closed");

  /* A new shift opens once the old one is closed; a count that is not an
   * integer amount is refused with a sentence and leaves it open. */
  g_free (open_shift (100));
  bad = req ("POST", "/v1/shifts", "{\"operator\":\"amy\",\"float\":\"12.50\"}");
  expect (bad, 400, "bad_request");
  after = req ("POST", "/v1/shifts", "{\"operator\":\"amy\",\"float\":1}");
  expect (after, 409, "shift_open");
}
END_TEST

START_TEST (test_day_require_shift_refuses_money_without_an_open_shift)
{
  g_autofree char *card = issue_card ();
  g_autoptr(CtTestResponse) refused = NULL, taken = NULL, closed = NULL, after = NULL;
  g_autofree char *shift = NULL, *close_path = NULL;

  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "merchant", "set", "--require-shift", "yes", NULL), 0);
  refused = topup_on (cl, card, "cash", NULL);
  expect (refused, 409, "shift_required");
  shift = open_shift (0);
  taken = topup_on (cl, card, "cash", NULL);
  expect (taken, 201, NULL);
  close_path = g_strdup_printf ("/v1/shifts/%s/close", shift);
  closed = req ("POST", close_path, "{\"operator\":\"amy\",\"counted_cash\":10000}");
  expect (closed, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (closed->body, "report.variance"), 0);
  after = pay_on (cl, card, 100);
  expect (after, 409, "shift_required");
  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "merchant", "set", "--require-shift", "no", NULL), 0);
}
END_TEST

/* Time */

static char *
iso_offset (GTimeSpan from_now)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) t = g_date_time_add (now, from_now);

  return g_date_time_format (t, "%Y-%m-%dT%H:%M:%S%:z");
}

START_TEST (test_day_taken_at_in_the_future_or_past_the_horizon_is_refused)
{
  g_autofree char *card = issue_card ();
  g_autofree char *future = iso_offset (5 * G_TIME_SPAN_MINUTE);
  g_autofree char *ancient = iso_offset (-40 * G_TIME_SPAN_DAY);
  g_autofree char *skew = iso_offset (30 * G_TIME_SPAN_SECOND);
  g_autoptr(CtTestResponse) f = topup_on (cl, card, NULL, future);
  g_autoptr(CtTestResponse) a = topup_on (cl, card, NULL, ancient);
  g_autoptr(CtTestResponse) b = topup_on (cl, card, NULL, "yesterday");
  g_autoptr(CtTestResponse) ok = topup_on (cl, card, NULL, skew);

  expect (f, 422, "invalid_taken_at");
  ck_assert_msg (strstr (f->body, "clock") != NULL, "%s", f->body);
  expect (a, 422, "invalid_taken_at");
  expect (b, 400, "bad_request");
  expect (ok, 201, NULL);
}
END_TEST

START_TEST (test_day_offline_sale_before_midnight_lands_on_the_earlier_day)
{
  g_autofree char *card = issue_card ();
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier ("Asia/Shanghai");
  g_autoptr(GDateTime) now = g_date_time_new_now (tz);
  g_autoptr(GDateTime) yesterday = g_date_time_add_days (now, -1);
  g_autoptr(GDateTime) late = g_date_time_new (tz, g_date_time_get_year (yesterday),
                                               g_date_time_get_month (yesterday),
                                               g_date_time_get_day_of_month (yesterday), 23, 59, 30);
  g_autofree char *taken = g_date_time_format (late, "%Y-%m-%dT%H:%M:%S%:z");
  g_autofree char *day = g_date_time_format (late, "%Y-%m-%d");
  g_autofree char *today = g_date_time_format (now, "%Y-%m-%d");
  g_autofree char *p_day = g_strdup_printf ("/v1/transactions?date=%s", day);
  g_autofree char *p_today = g_strdup_printf ("/v1/transactions?date=%s", today);
  g_autofree char *h_day = g_strdup_printf ("/v1/cards/%s/transactions?from=%s&to=%s", card, day, day);
  g_autofree char *r_day = g_strdup_printf ("/v1/reports/day?date=%s", day);
  g_autoptr(CtTestResponse) t = NULL, d = NULL, n = NULL, h = NULL, rep = NULL;
  g_autofree char *taken_back = NULL, *created = NULL;

  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "merchant", "set", "--timezone", "Asia/Shanghai", NULL), 0);
  t = topup_on (cl, card, "cash", taken);
  expect (t, 201, NULL);
  taken_back = ct_test_json_str (t->body, "transaction.taken_at");
  created = ct_test_json_str (t->body, "transaction.created_at");
  ck_assert_msg (taken_back != NULL && strcmp (taken_back, created) != 0, "%s", t->body);
  d = req ("GET", p_day, NULL);
  n = req ("GET", p_today, NULL);
  ck_assert_msg (strstr (d->body, card) != NULL, "not on %s: %s", day, d->body);
  ck_assert_msg (strstr (n->body, card) == NULL, "on %s too: %s", today, n->body);
  ck_assert_int_eq (ct_test_json_int (d->body, "totals.topups"), 10000);
  h = req ("GET", h_day, NULL);
  ck_assert_msg (strstr (h->body, "\"topup\"") != NULL, "history of %s: %s", day, h->body);
  rep = req ("GET", r_day, NULL);
  ck_assert_int_eq (ct_test_json_int (rep->body, "totals.topups"), 10000);
}
END_TEST

/* The day report */

START_TEST (test_day_report_has_tills_stores_tenders_and_shifts)
{
  g_autofree char *card = issue_card ();
  g_autofree char *out = NULL, *token = NULL, *shift = NULL, *close_path = NULL;
  g_autoptr(CtTestClient) t2 = NULL;
  g_autoptr(CtTestResponse) a = NULL, b = NULL, c = NULL, closed = NULL, rep = NULL, list = NULL, imp = NULL;
  g_autofree char *till0 = NULL, *till1 = NULL, *store0 = NULL, *sh_till = NULL;
  char **lines;

  ck_assert_int_eq (ct_test_service_admin (svc, &out, "till", "add", "--store", "s1", "--name", "t2", NULL), 0);
  lines = g_strsplit (g_strstrip (out), "\n", -1);
  token = g_strdup (lines[g_strv_length (lines) - 1]);
  g_strfreev (lines);
  t2 = ct_test_client_new_for_token (svc, token);

  shift = open_shift (5000);
  a = topup_on (cl, card, "cash", NULL);
  expect (a, 201, NULL);
  b = topup_on (t2, card, "wechat", NULL);
  expect (b, 201, NULL);
  c = pay_on (t2, card, 700);
  expect (c, 201, NULL);
  close_path = g_strdup_printf ("/v1/shifts/%s/close", shift);
  closed = req ("POST", close_path, "{\"operator\":\"amy\",\"counted_cash\":15100}");
  expect (closed, 201, NULL);

  imp = req ("POST", "/v1/imports",
             "{\"batch_id\":\"day-1\",\"rows\":[{\"line\":2,\"card_no\":\"OLD-0001\",\"name\":\"Old\","
             "\"phone\":null,\"balance\":4200,\"points\":0,\"level\":null}]," MGR "}");
  expect (imp, 200, NULL);

  rep = req ("GET", "/v1/reports/day", NULL);
  expect (rep, 200, NULL);
  /* An imported opening balance belongs to the day it was imported. */
  ck_assert_int_eq (ct_test_json_int (rep->body, "totals.imports"), 4200);
  store0 = ct_test_json_str (rep->body, "stores.0.store");
  ck_assert_str_eq (store0, "s1");
  till0 = ct_test_json_str (rep->body, "stores.0.tills.0.till");
  till1 = ct_test_json_str (rep->body, "stores.0.tills.1.till");
  ck_assert_str_eq (till0, "t1");
  ck_assert_str_eq (till1, "t2");
  ck_assert_int_eq (ct_test_json_int (rep->body, "stores.0.tills.0.totals.tenders.cash.taken"), 10000);
  ck_assert_int_eq (ct_test_json_int (rep->body, "stores.0.tills.0.totals.tenders.wechat.taken"), 0);
  ck_assert_int_eq (ct_test_json_int (rep->body, "stores.0.tills.1.totals.tenders.wechat.taken"), 10000);
  ck_assert_int_eq (ct_test_json_int (rep->body, "stores.0.tills.1.totals.payments"), 700);
  ck_assert_int_eq (ct_test_json_int (rep->body, "stores.0.totals.counts.topups"), 2);
  ck_assert_int_eq (ct_test_json_int (rep->body, "totals.bonus"), 2000);
  sh_till = ct_test_json_str (rep->body, "shifts.0.till");
  ck_assert_str_eq (sh_till, "t1");
  ck_assert_int_eq (ct_test_json_int (rep->body, "shifts.0.report.variance"), 100);

  list = req ("GET", "/v1/shifts?till=t1", NULL);
  expect (list, 200, NULL);
  ck_assert_int_eq (ct_test_json_int (list->body, "shifts.0.report.expected_cash"), 15000);
}
END_TEST

/* POST /v1/outcomes with @cash handed back (-1: not said), under @key. */
static CtTestResponse *
outcome (const char *key,
         int64_t     cash)
{
  g_autofree char *c = cash >= 0 ? g_strdup_printf (",\"cash_given_back\":%" G_GINT64_FORMAT, cash) : g_strdup ("");
  g_autofree char *body = g_strdup_printf ("{\"card_no\":\"C-1\",\"idempotency_key\":\"refused-1\","
                                           "\"kind\":\"topup\",\"outcome\":\"cash returned\"%s," MGR "}", c);

  return req_on (cl, "POST", "/v1/outcomes", key, body);
}

START_TEST (test_day_outcome_cash_leaves_the_expected_cash_of_the_open_shift)
{
  g_autofree char *card = issue_card ();
  g_autofree char *shift = NULL, *close_path = NULL, *get_path = NULL, *sid = NULL, *none = NULL;
  g_autoptr(CtTestResponse) before = NULL, plain = NULL, bad = NULL, o = NULL, again = NULL, c = NULL;
  g_autoptr(CtTestResponse) late = NULL, g = NULL;

  /* Without a shift open, the note is kept and belongs to no shift. */
  before = outcome (NULL, 500);
  expect (before, 201, NULL);
  ck_assert_msg (strstr (before->body, "\"shift_id\":null") != NULL, "%s", before->body);
  plain = outcome (NULL, -1);
  expect (plain, 201, NULL);
  bad = req ("POST", "/v1/outcomes",
             "{\"card_no\":\"C-1\",\"idempotency_key\":\"k\",\"kind\":\"topup\",\"outcome\":\"x\","
             "\"cash_given_back\":-5," MGR "}");
  expect (bad, 422, "invalid_amount");

  /* Float 200.00 + a cash top-up of 100.00 - 25.00 handed back = 275.00;
   * the same outcome sent again (its key) is not counted twice. */
  shift = open_shift (20000);
  g_free (topup (card, "cash"));
  o = outcome ("outcome-cash-1", 2500);
  expect (o, 201, NULL);
  sid = ct_test_json_str (o->body, "shift_id");
  ck_assert_str_eq (sid, shift);
  again = outcome ("outcome-cash-1", 2500);
  expect (again, 201, NULL);
  close_path = g_strdup_printf ("/v1/shifts/%s/close", shift);
  c = req ("POST", close_path, "{\"operator\":\"amy\",\"counted_cash\":27500}");
  expect (c, 201, NULL);
  ck_assert_int_eq (ct_test_json_int (c->body, "report.outcome_cash"), 2500);
  ck_assert_int_eq (ct_test_json_int (c->body, "report.expected_cash"), 27500);
  ck_assert_int_eq (ct_test_json_int (c->body, "report.variance"), 0);

  /* After the close, cash handed back is no longer the closed shift's. */
  late = outcome (NULL, 1000);
  expect (late, 201, NULL);
  none = ct_test_json_str (late->body, "shift_id");
  ck_assert_ptr_null (none);
  get_path = g_strdup_printf ("/v1/shifts/%s", shift);
  g = req ("GET", get_path, NULL);
  expect (g, 200, NULL);
  ck_assert_int_eq (ct_test_json_int (g->body, "report.expected_cash"), 27500);
}
END_TEST

START_TEST (test_day_reports_count_points_redeemed)
{
  g_autofree char *card = issue_card ();
  g_autofree char *shift = NULL, *path = NULL, *get_path = NULL;
  g_autoptr(CtTestResponse) earn = NULL, redeem = NULL, g = NULL, rep = NULL;

  ck_assert_int_eq (ct_test_service_admin (svc, NULL, "merchant", "set", "--points-redeem-rate", "100",
                                           "--points-redeem-max-bp", "5000", NULL), 0);
  shift = open_shift (0);
  g_free (topup (card, "cash"));
  path = g_strdup_printf ("/v1/cards/%s/payments", card);
  /* 100.00 paid earns 100 points; 100 of them pay 1.00 of the next 10.00. */
  earn = req ("POST", path, "{\"amount\":10000,\"operator\":\"op\"}");
  expect (earn, 201, NULL);
  g_free (topup (card, "cash"));
  redeem = req ("POST", path, "{\"amount\":1000,\"redeem_points\":100,\"operator\":\"op\"}");
  expect (redeem, 201, NULL);

  get_path = g_strdup_printf ("/v1/shifts/%s", shift);
  g = req ("GET", get_path, NULL);
  expect (g, 200, NULL);
  ck_assert_int_eq (ct_test_json_int (g->body, "report.counts.points_redeemed"), 1);
  ck_assert_int_eq (ct_test_json_int (g->body, "report.points_redeemed"), 100);
  ck_assert_int_eq (ct_test_json_int (g->body, "report.redeemed_value"), 100);
  ck_assert_int_eq (ct_test_json_int (g->body, "report.counts.payments"), 2);

  rep = req ("GET", "/v1/reports/day", NULL);
  expect (rep, 200, NULL);
  ck_assert_int_eq (ct_test_json_int (rep->body, "totals.points_redeemed"), 100);
  ck_assert_int_eq (ct_test_json_int (rep->body, "stores.0.tills.0.totals.counts.points_redeemed"), 1);
  ck_assert_int_eq (ct_test_json_int (rep->body, "shifts.0.report.redeemed_value"), 100);
}
END_TEST

static Suite *
day_suite (void)
{
  Suite *s = suite_create ("service-day");
  struct
  {
    const char *name;
    const TTest *tests[8];
  } cases[] = {
    { "tenders", { test_day_topup_tender_is_kept_in_its_own_account_and_a_void_gives_it_back,
                   test_day_payments_carry_no_tender_and_history_shows_it } },
    { "shifts", { test_day_shift_report_counts_kinds_tenders_and_cash_variance,
                  test_day_shift_closed_twice_replays_for_its_key_and_is_refused_for_a_new_one,
                  test_day_require_shift_refuses_money_without_an_open_shift,
                  test_day_outcome_cash_leaves_the_expected_cash_of_the_open_shift } },
    { "time", { test_day_taken_at_in_the_future_or_past_the_horizon_is_refused,
                test_day_offline_sale_before_midnight_lands_on_the_earlier_day } },
    { "report", { test_day_report_has_tills_stores_tenders_and_shifts, test_day_reports_count_points_redeemed } },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TCase *tc = tcase_create (cases[i].name);

      tcase_add_checked_fixture (tc, ledger_setup, ledger_teardown);
      tcase_set_timeout (tc, 60);
      for (int j = 0; cases[i].tests[j] != NULL; j++)
        _tcase_add_test (tc, cases[i].tests[j], 0, 0, 0, 1);
      suite_add_tcase (s, tc);
    }
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (day_suite ());
  int failed;

  curl_global_init (CURL_GLOBAL_DEFAULT);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
