/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-wire"
#include "config.h"

#include <check.h>
#include <string.h>

#include "ct-wire.h"

#define CARD_JSON(balance) \
  "{\"card_no\":\"8888000000000001\",\"status\":\"active\",\"level\":null," \
  "\"member\":{\"name\":\"Alice\",\"phone\":\"13800000000\"},\"balance\":" balance "," \
  "\"points\":7,\"created_at\":\"2026-01-01T00:00:00.000Z\"," \
  "\"updated_at\":\"2026-01-02T00:00:00.000Z\"}"

#define TX_JSON \
  "{\"id\":\"42\",\"card_no\":\"8888000000000001\",\"kind\":\"payment\",\"delta\":-1250," \
  "\"bonus\":0,\"balance_after\":8750,\"points_delta\":12,\"points_after\":19," \
  "\"store\":\"s1\",\"till\":\"t1\",\"operator\":\"ann\",\"manager\":null,\"reason\":null," \
  "\"order_ref\":\"A-1\",\"refund_of\":null,\"created_at\":\"2026-01-02T00:00:00.000Z\"}"

static CtCard *
decode_card (const char *text, GError **error)
{
  return ct_wire_decode_card (text, strlen (text), error);
}

START_TEST (test_wire_decodes_card)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCard) card = decode_card (CARD_JSON ("10000"), &error);

  ck_assert_ptr_nonnull (card);
  ck_assert_str_eq (card->card_no, "8888000000000001");
  ck_assert_int_eq (card->status, CT_CARD_STATUS_ACTIVE);
  ck_assert_ptr_null (card->level);
  ck_assert_str_eq (card->member_name, "Alice");
  ck_assert_int_eq (card->balance, 10000);
  ck_assert_int_eq (card->points, 7);
  ck_assert (!card->from_cache);
}
END_TEST

START_TEST (test_wire_rejects_float_and_string_money)
{
  const char *bad[] = { "12.0", "1e3", "\"100\"", "-1", "true", "null",
                        "99999999999999999999", "10000000000001" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *text = g_strdup_printf (
        "{\"card_no\":\"X123\",\"status\":\"active\",\"level\":null,\"member\":null,"
        "\"balance\":%s,\"points\":0,\"created_at\":\"a\",\"updated_at\":\"b\"}", bad[i]);
      g_autoptr(CtCard) card = decode_card (text, &error);

      ck_assert_msg (card == NULL, "balance %s was accepted", bad[i]);
      ck_assert (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_BAD_ANSWER));
    }
}
END_TEST

START_TEST (test_wire_rejects_missing_field_and_unknown_status)
{
  g_autoptr(GError) e1 = NULL;
  g_autoptr(GError) e2 = NULL;
  g_autoptr(CtCard) c1 = decode_card ("{\"card_no\":\"X123\",\"status\":\"active\"}", &e1);
  g_autoptr(CtCard) c2 = decode_card ("{\"card_no\":\"X123\",\"status\":\"lost\",\"level\":null,"
                                      "\"member\":null,\"balance\":1,\"points\":0,"
                                      "\"created_at\":\"a\",\"updated_at\":\"b\"}", &e2);

  ck_assert_ptr_null (c1);
  ck_assert (strstr (e1->message, "missing field") != NULL);
  ck_assert_ptr_null (c2);
  ck_assert (strstr (e2->message, "lost") != NULL);
}
END_TEST

START_TEST (test_wire_ignores_unknown_fields)
{
  g_autoptr(CtCard) card = decode_card ("{\"new_thing\":[1,2,{\"x\":null}],"
                                        "\"card_no\":\"X123\",\"status\":\"frozen\","
                                        "\"level\":\"gold\",\"member\":null,\"balance\":5,"
                                        "\"points\":0,\"created_at\":\"a\",\"updated_at\":\"b\","
                                        "\"tier\":3}", NULL);

  ck_assert_ptr_nonnull (card);
  ck_assert_int_eq (card->status, CT_CARD_STATUS_FROZEN);
  ck_assert_str_eq (card->level, "gold");
}
END_TEST

START_TEST (test_wire_rejects_truncated_html_and_trailing_data)
{
  const char *bad[] = { "", "{", CARD_JSON ("1") "x", "<html><body>502</body></html>",
                        "[1,2]", "{\"card_no\":\"X123\"", CARD_JSON ("1") CARD_JSON ("1") };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(CtCard) card = decode_card (bad[i], &error);

      ck_assert_msg (card == NULL, "accepted %s", bad[i]);
      ck_assert (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_BAD_ANSWER));
      ck_assert (!ct_wire_check_object (bad[i], strlen (bad[i]), NULL));
    }
  {
    const char *ok = "{\"accepted\":3,\"rejected\":[]}\n";

    ck_assert (ct_wire_check_object (ok, strlen (ok), NULL));
  }
}
END_TEST

START_TEST (test_wire_decodes_receipt_and_history)
{
  const char *receipt_text = "{\"transaction\":" TX_JSON ",\"card\":" CARD_JSON ("8750") "}";
  const char *history_text = "{\"transactions\":[" TX_JSON "," TX_JSON "],\"next_cursor\":\"c2\"}";
  g_autoptr(GError) error = NULL;
  g_autoptr(CtReceipt) r = ct_wire_decode_receipt (receipt_text, strlen (receipt_text), &error);
  g_autoptr(CtHistoryPage) page = ct_wire_decode_history (history_text, strlen (history_text),
                                                          &error);

  ck_assert_ptr_nonnull (r);
  ck_assert_str_eq (r->transaction->id, "42");
  ck_assert_int_eq (r->transaction->kind, CT_TRANSACTION_PAYMENT);
  ck_assert_int_eq (r->transaction->delta, -1250);
  ck_assert_str_eq (r->transaction->order_ref, "A-1");
  ck_assert_ptr_null (r->transaction->manager);
  ck_assert_int_eq (r->card->balance, 8750);
  ck_assert_ptr_nonnull (page);
  ck_assert_uint_eq (page->transactions->len, 2);
  ck_assert_str_eq (page->next_cursor, "c2");
}
END_TEST

START_TEST (test_wire_decodes_merchant_packages)
{
  const char *text = "{\"name\":\"S\",\"currency\":\"CNY\",\"minor_units\":2,"
                     "\"topup_mode\":\"fixed\",\"topup_packages\":[{\"id\":\"p100\","
                     "\"amount\":10000,\"bonus\":1000},{\"id\":\"p200\",\"amount\":20000,"
                     "\"bonus\":3000}],\"topup_min\":100,\"topup_max\":100000,"
                     "\"points_per_unit\":1,\"timezone\":\"Asia/Shanghai\","
                     "\"offline_payment_cap\":5000,\"offline_card_cap\":20000,"
                     "\"pool_balance\":0}";
  g_autoptr(GError) error = NULL;
  g_autoptr(CtMerchant) m = ct_wire_decode_merchant (text, strlen (text), &error);
  g_autoptr(CtMerchant) copy = NULL;

  ck_assert_ptr_nonnull (m);
  ck_assert_int_eq (m->topup_mode, CT_TOPUP_MODE_FIXED);
  ck_assert_uint_eq (m->packages->len, 2);
  ck_assert_int_eq (ct_merchant_find_package (m, "p200")->bonus, 3000);
  ck_assert_ptr_null (ct_merchant_find_package (m, "p300"));
  ck_assert_int_eq (m->offline_card_cap, 20000);
  copy = ct_merchant_copy (m);
  ck_assert_int_eq (ct_merchant_find_package (copy, "p100")->amount, 10000);
}
END_TEST

START_TEST (test_wire_error_carries_service_code_and_message)
{
  const char *text = "{\"error\":{\"code\":\"insufficient_balance\",\"message\":\"Card holds only 1.00\"}}";
  const char *future = "{\"error\":{\"code\":\"new_rule\",\"message\":\"Something new\"}}";
  g_autoptr(GError) e1 = NULL;
  g_autoptr(GError) e2 = NULL;
  g_autoptr(GError) e3 = NULL;

  ck_assert (!ct_wire_decode_error (409, text, strlen (text), &e1));
  ck_assert (g_error_matches (e1, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INSUFFICIENT_BALANCE));
  ck_assert_str_eq (e1->message, "Card holds only 1.00");
  ck_assert (ct_client_error_is_refusal (e1));
  ck_assert (!ct_wire_decode_error (409, future, strlen (future), &e2));
  ck_assert (g_error_matches (e2, CT_CLIENT_ERROR, CT_CLIENT_ERROR_OTHER_REFUSAL));
  ck_assert (!ct_wire_decode_error (502, "<html>bad gateway</html>", 24, &e3));
  ck_assert (g_error_matches (e3, CT_CLIENT_ERROR, CT_CLIENT_ERROR_BAD_ANSWER));
  ck_assert (!ct_client_error_is_refusal (e3));
  ck_assert_str_eq (ct_client_error_code_to_string (CT_CLIENT_ERROR_PIN_LOCKED), "pin_locked");
  ck_assert_int_eq (ct_client_error_code_from_string ("card_frozen"), CT_CLIENT_ERROR_CARD_FROZEN);
  ck_assert_int_eq (ct_client_error_code_from_string ("queued"), CT_CLIENT_ERROR_OTHER_REFUSAL);
}
END_TEST

START_TEST (test_wire_encodes_exact_bodies)
{
  g_autofree char *pay = ct_wire_encode_payment (1250, "A-1", 0, NULL, NULL, "ann");
  g_autofree char *pay2 = ct_wire_encode_payment (1250, NULL, 0, NULL, NULL, "ann");
  g_autofree char *topup = ct_wire_encode_topup_package ("p100", TRUE, 10000, 1000, NULL, "ann");
  g_autofree char *adjust = ct_wire_encode_adjustment (-1000, "broken \"card\"", "ann", "m1", "2468");
  CtCardPatch patch = { .status = CT_CARD_STATUS_CHANGE_FREEZE };
  g_autofree char *freeze = ct_wire_encode_card_patch (&patch, "m1", "2468");

  ck_assert_str_eq (pay, "{\"amount\":1250,\"order_ref\":\"A-1\",\"operator\":\"ann\"}");
  ck_assert_str_eq (pay2, "{\"amount\":1250,\"operator\":\"ann\"}");
  ck_assert_str_eq (topup, "{\"package_id\":\"p100\",\"expect\":{\"amount\":10000,\"bonus\":1000},"
                           "\"operator\":\"ann\"}");
  ck_assert_str_eq (adjust, "{\"delta\":-1000,\"reason\":\"broken \\\"card\\\"\",\"operator\":\"ann\","
                            "\"manager\":{\"id\":\"m1\",\"pin\":\"2468\"}}");
  ck_assert_str_eq (freeze, "{\"status\":\"frozen\",\"manager\":{\"id\":\"m1\",\"pin\":\"2468\"}}");
}
END_TEST

START_TEST (test_wire_card_round_trips_for_the_cache)
{
  g_autoptr(CtCard) card = decode_card (CARD_JSON ("123"), NULL);
  g_autofree char *text = ct_wire_encode_card (card);
  g_autoptr(CtCard) again = decode_card (text, NULL);

  ck_assert_ptr_nonnull (again);
  ck_assert_str_eq (again->card_no, card->card_no);
  ck_assert_int_eq (again->balance, 123);
  ck_assert_str_eq (again->member_phone, "13800000000");
  ck_assert_str_eq (again->updated_at, card->updated_at);
}
END_TEST

START_TEST (test_wire_closed_card_names_the_card_that_replaced_it)
{
  const char *closed = "{\"card_no\":\"8888000000000001\",\"status\":\"closed\",\"level\":null,"
                       "\"member\":{\"name\":\"Alice\",\"phone\":null},\"balance\":0,\"points\":0,"
                       "\"created_at\":\"2026-01-01T00:00:00.000Z\",\"updated_at\":\"2026-01-02T00:00:00.000Z\","
                       "\"replaced_by\":\"NEW-1\"}";
  const char *nameless = "{\"card_no\":\"8888000000000001\",\"status\":\"closed\",\"level\":null,"
                         "\"member\":null,\"balance\":0,\"points\":0,"
                         "\"created_at\":\"2026-01-01T00:00:00.000Z\",\"updated_at\":\"2026-01-02T00:00:00.000Z\","
                         "\"replaced_by\":null}";
  const char *refusal = "{\"error\":{\"code\":\"card_closed\",\"message\":\"Card 8888000000000001 was replaced\","
                        "\"replaced_by\":\"NEW-1\"}}";
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCard) card = decode_card (closed, &error);
  g_autoptr(CtCard) none = NULL;
  g_autoptr(CtCard) again = NULL;
  g_autofree char *text = NULL;
  g_autofree char *body = ct_wire_encode_card_replace ("NEW-1", "ann", "m1", "2468");

  ck_assert_ptr_nonnull (card);
  ck_assert_int_eq (card->status, CT_CARD_STATUS_CLOSED);
  ck_assert_str_eq (card->replaced_by, "NEW-1");
  ck_assert_str_eq (ct_card_status_to_string (card->status), "closed");
  /* The member cache keeps it closed, with the new number. */
  text = ct_wire_encode_card (card);
  again = decode_card (text, NULL);
  ck_assert_ptr_nonnull (again);
  ck_assert_int_eq (again->status, CT_CARD_STATUS_CLOSED);
  ck_assert_str_eq (again->replaced_by, "NEW-1");
  /* A closed card that names no new card is no valid answer. */
  none = decode_card (nameless, &error);
  ck_assert_ptr_null (none);
  ck_assert (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_BAD_ANSWER));
  g_clear_error (&error);
  /* A refusal on it is a sentence naming the new card. */
  ck_assert (!ct_wire_decode_error (409, refusal, strlen (refusal), &error));
  ck_assert (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CARD_CLOSED));
  ck_assert_str_eq (error->message, "This card was replaced by card NEW-1: use the new card");
  ck_assert_str_eq (body, "{\"new_card_no\":\"NEW-1\",\"operator\":\"ann\",\"manager\":{\"id\":\"m1\",\"pin\":\"2468\"}}");
}
END_TEST

static Suite *
wire_suite (void)
{
  Suite *s = suite_create ("wire");
  TCase *tc = tcase_create ("codec");

  tcase_add_test (tc, test_wire_decodes_card);
  tcase_add_test (tc, test_wire_rejects_float_and_string_money);
  tcase_add_test (tc, test_wire_rejects_missing_field_and_unknown_status);
  tcase_add_test (tc, test_wire_ignores_unknown_fields);
  tcase_add_test (tc, test_wire_rejects_truncated_html_and_trailing_data);
  tcase_add_test (tc, test_wire_decodes_receipt_and_history);
  tcase_add_test (tc, test_wire_decodes_merchant_packages);
  tcase_add_test (tc, test_wire_error_carries_service_code_and_message);
  tcase_add_test (tc, test_wire_encodes_exact_bodies);
  tcase_add_test (tc, test_wire_card_round_trips_for_the_cache);
  tcase_add_test (tc, test_wire_closed_card_names_the_card_that_replaced_it);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (wire_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
