/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-money"

#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "ct-money.h"

static int64_t
parse_ok (const char *text, CtMoneyParseFlags flags)
{
  g_autoptr(GError) error = NULL;
  int64_t v = -1;

  ck_assert_msg (ct_money_parse (text, 2, flags, &v, &error),
                 "“%s” should parse: %s", text, error ? error->message : "");
  ck_assert_ptr_null (error);
  return v;
}

static void
parse_fails (const char *text, CtMoneyParseFlags flags, CtMoneyError code)
{
  g_autoptr(GError) error = NULL;
  int64_t v = 42;

  ck_assert_msg (!ct_money_parse (text, 2, flags, &v, &error), "“%s” should not parse", text);
  ck_assert_msg (g_error_matches (error, CT_MONEY_ERROR, code),
                 "“%s”: expected code %d, got %s", text, code, error ? error->message : "none");
  ck_assert_int_eq (v, 42);
  ck_assert_ptr_nonnull (strstr (error->message, "is not an amount"));
}

START_TEST (test_money_parse_accepts_plain_and_decimals)
{
  ck_assert_int_eq (parse_ok ("12", 0), 1200);
  ck_assert_int_eq (parse_ok ("12.3", 0), 1230);
  ck_assert_int_eq (parse_ok ("12.30", 0), 1230);
  ck_assert_int_eq (parse_ok ("0", 0), 0);
  ck_assert_int_eq (parse_ok ("0.01", 0), 1);
  ck_assert_int_eq (parse_ok ("  7.5 ", 0), 750);
}
END_TEST

START_TEST (test_money_parse_accepts_grouping_and_symbols)
{
  ck_assert_int_eq (parse_ok ("1,234.50", 0), 123450);
  ck_assert_int_eq (parse_ok ("1,234,567", 0), 123456700);
  ck_assert_int_eq (parse_ok ("¥12", 0), 1200);
  ck_assert_int_eq (parse_ok ("￥1,000.5", 0), 100050);
}
END_TEST

START_TEST (test_money_parse_accepts_full_width)
{
  ck_assert_int_eq (parse_ok ("１２．５", 0), 1250);
  ck_assert_int_eq (parse_ok ("１，２３４．５０", 0), 123450);
  ck_assert_int_eq (parse_ok ("－１０", CT_MONEY_PARSE_SIGNED), -1000);
}
END_TEST

START_TEST (test_money_parse_rejects_three_decimals)
{
  parse_fails ("12.345", 0, CT_MONEY_ERROR_TOO_MANY_DECIMALS);
  parse_fails ("0.001", 0, CT_MONEY_ERROR_TOO_MANY_DECIMALS);
}
END_TEST

START_TEST (test_money_parse_rejects_bad_grouping)
{
  parse_fails ("1,23", 0, CT_MONEY_ERROR_GROUPING);
  parse_fails ("1,2345", 0, CT_MONEY_ERROR_GROUPING);
  parse_fails ("1234,567", 0, CT_MONEY_ERROR_GROUPING);
  parse_fails ("1,,234", 0, CT_MONEY_ERROR_GROUPING);
  parse_fails ("1,234,", 0, CT_MONEY_ERROR_GROUPING);
}
END_TEST

START_TEST (test_money_parse_rejects_garbage)
{
  parse_fails (".5", 0, CT_MONEY_ERROR_SYNTAX);
  parse_fails ("5.", 0, CT_MONEY_ERROR_SYNTAX);
  parse_fails ("1e3", 0, CT_MONEY_ERROR_SYNTAX);
  parse_fails ("12abc", 0, CT_MONEY_ERROR_SYNTAX);
  parse_fails ("$12", 0, CT_MONEY_ERROR_SYNTAX);
  parse_fails ("1 000", 0, CT_MONEY_ERROR_SYNTAX);
  parse_fails ("0x10", 0, CT_MONEY_ERROR_SYNTAX);
  parse_fails ("", 0, CT_MONEY_ERROR_EMPTY);
  parse_fails ("   ", 0, CT_MONEY_ERROR_EMPTY);
  parse_fails ("-", CT_MONEY_PARSE_SIGNED, CT_MONEY_ERROR_EMPTY);
  parse_fails ("¥", 0, CT_MONEY_ERROR_EMPTY);
}
END_TEST

START_TEST (test_money_parse_sign_only_where_signed)
{
  parse_fails ("-10", 0, CT_MONEY_ERROR_SIGN);
  parse_fails ("+10", 0, CT_MONEY_ERROR_SIGN);
  ck_assert_int_eq (parse_ok ("-10.00", CT_MONEY_PARSE_SIGNED), -1000);
  ck_assert_int_eq (parse_ok ("+10", CT_MONEY_PARSE_SIGNED), 1000);
  ck_assert_int_eq (parse_ok ("-¥1,000.00", CT_MONEY_PARSE_SIGNED), -100000);
  parse_fails ("-0", CT_MONEY_PARSE_SIGNED, CT_MONEY_ERROR_ZERO);
  parse_fails ("+0.00", CT_MONEY_PARSE_SIGNED, CT_MONEY_ERROR_ZERO);
  parse_fails ("--1", CT_MONEY_PARSE_SIGNED, CT_MONEY_ERROR_SYNTAX);
}
END_TEST

START_TEST (test_money_parse_rejects_overflow)
{
  /* 10^11 major units = 10^13 minor units is the largest amount allowed. */
  ck_assert_int_eq (parse_ok ("100000000000", 0), CT_MONEY_MAX);
  parse_fails ("100000000000.01", 0, CT_MONEY_ERROR_OVERFLOW);
  parse_fails ("99999999999999999999999999", 0, CT_MONEY_ERROR_OVERFLOW);
  parse_fails ("9223372036854775807", 0, CT_MONEY_ERROR_OVERFLOW);
}
END_TEST

START_TEST (test_money_parse_respects_minor_units)
{
  g_autoptr(GError) error = NULL;
  int64_t v = 0;

  ck_assert (ct_money_parse ("12", 0, 0, &v, &error));
  ck_assert_int_eq (v, 12);
  ck_assert (!ct_money_parse ("12.5", 0, 0, &v, &error));
  g_clear_error (&error);
  ck_assert (ct_money_parse ("1.005", 3, 0, &v, &error));
  ck_assert_int_eq (v, 1005);
}
END_TEST

START_TEST (test_money_format_plain)
{
  g_autofree char *a = ct_money_format_plain (123450, 2);
  g_autofree char *b = ct_money_format_plain (-1000, 2);
  g_autofree char *c = ct_money_format_plain (5, 2);
  g_autofree char *d = ct_money_format_plain (0, 2);
  g_autofree char *e = ct_money_format_plain (1234, 0);
  g_autofree char *f = ct_money_format_plain (G_MININT64, 2);

  ck_assert_str_eq (a, "1234.50");
  ck_assert_str_eq (b, "-10.00");
  ck_assert_str_eq (c, "0.05");
  ck_assert_str_eq (d, "0.00");
  ck_assert_str_eq (e, "1234");
  ck_assert_str_eq (f, "-92233720368547758.08");
}
END_TEST

START_TEST (test_money_format_display_groups)
{
  g_autofree char *a = ct_money_format_display (123450, 2, "¥", NULL);
  g_autofree char *b = ct_money_format_display (-123456789, 2, "¥", ",");
  g_autofree char *c = ct_money_format_display (99, 2, "¥", NULL);
  g_autofree char *d = ct_money_format_display (100000000, 2, "€", ".");

  ck_assert_str_eq (a, "¥1,234.50");
  ck_assert_str_eq (b, "-¥1,234,567.89");
  ck_assert_str_eq (c, "¥0.99");
  ck_assert_str_eq (d, "€1.000.000.00");
}
END_TEST

START_TEST (test_money_format_parse_round_trip)
{
  const int64_t values[] = { 0, 1, 99, 100, 123456, 999999999, CT_MONEY_MAX };

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autofree char *plain = ct_money_format_plain (values[i], 2);
      g_autofree char *shown = ct_money_format_display (values[i], 2, "¥", NULL);

      ck_assert_int_eq (parse_ok (plain, 0), values[i]);
      ck_assert_int_eq (parse_ok (shown, 0), values[i]);
    }
}
END_TEST

START_TEST (test_money_arithmetic_is_checked)
{
  g_autoptr(GError) error = NULL;
  int64_t r = 0;

  ck_assert (ct_money_add (100, 250, &r, NULL));
  ck_assert_int_eq (r, 350);
  ck_assert (ct_money_sub (100, 250, &r, NULL));
  ck_assert_int_eq (r, -150);
  ck_assert (ct_money_mul (250, 4, &r, NULL));
  ck_assert_int_eq (r, 1000);

  r = 7;
  ck_assert (!ct_money_add (CT_MONEY_MAX, 1, &r, &error));
  ck_assert (g_error_matches (error, CT_MONEY_ERROR, CT_MONEY_ERROR_OVERFLOW));
  ck_assert_int_eq (r, 7);
  g_clear_error (&error);
  ck_assert (!ct_money_sub (-CT_MONEY_MAX, 1, &r, &error));
  g_clear_error (&error);
  ck_assert (!ct_money_mul (G_MAXINT64 / 2, 3, &r, &error));
  g_clear_error (&error);
  ck_assert (!ct_money_add (G_MAXINT64, G_MAXINT64, &r, &error));
}
END_TEST

START_TEST (test_bonus_ratio_floors)
{
  int64_t bonus = -1;

  /* 15 % of 100.00 is 15.00 */
  ck_assert (ct_bonus_from_ratio (10000, 1500, &bonus, NULL));
  ck_assert_int_eq (bonus, 1500);
  /* 3.33 % of 0.99 is 0.032967: floor to 0.03 */
  ck_assert (ct_bonus_from_ratio (99, 333, &bonus, NULL));
  ck_assert_int_eq (bonus, 3);
  /* 0.01 % of 99.99 = 0.009999: floor to 0 */
  ck_assert (ct_bonus_from_ratio (9999, 1, &bonus, NULL));
  ck_assert_int_eq (bonus, 0);
  ck_assert (ct_bonus_from_ratio (0, 1500, &bonus, NULL));
  ck_assert_int_eq (bonus, 0);
}
END_TEST

START_TEST (test_bonus_ratio_overflow_and_negative)
{
  g_autoptr(GError) error = NULL;
  int64_t bonus = 5;

  ck_assert (!ct_bonus_from_ratio (CT_MONEY_MAX, G_MAXINT64 / 2, &bonus, &error));
  ck_assert (g_error_matches (error, CT_MONEY_ERROR, CT_MONEY_ERROR_OVERFLOW));
  g_clear_error (&error);
  /* a 200 % bonus on the largest amount leaves the allowed range */
  ck_assert (!ct_bonus_from_ratio (CT_MONEY_MAX, 20000, &bonus, &error));
  g_clear_error (&error);
  ck_assert (!ct_bonus_from_ratio (-100, 1500, &bonus, &error));
  ck_assert_int_eq (bonus, 5);
}
END_TEST

START_TEST (test_points_earned_for_whole_units)
{
  ck_assert_int_eq (ct_points_for_payment (12345, 2, 1), 123);
  ck_assert_int_eq (ct_points_for_payment (99, 2, 1), 0);
  ck_assert_int_eq (ct_points_for_payment (10000, 2, 3), 300);
  ck_assert_int_eq (ct_points_for_payment (10000, 2, 0), 0);
  ck_assert_int_eq (ct_points_for_payment (500, 0, 2), 1000);
  ck_assert_int_eq (ct_points_for_payment (CT_MONEY_MAX, 0, G_MAXINT64), G_MAXINT64);
}
END_TEST

START_TEST (test_points_refund_never_below_zero)
{
  ck_assert_int_eq (ct_points_for_refund (123, 500), 123);
  ck_assert_int_eq (ct_points_for_refund (123, 100), 100);
  ck_assert_int_eq (ct_points_for_refund (123, 0), 0);
  ck_assert_int_eq (ct_points_for_refund (0, 50), 0);
}
END_TEST

START_TEST (test_refund_parts_add_up_to_the_whole_refund)
{
  /* 10.00 paid: 9.00 from the balance, 1.00 by 100 points, 9 earned, and
   * 5.00 more by another tender (a split payment). In
   * three uneven parts, then whole: the same totals either way. */
  const int64_t parts[] = { 333, 1, 666 };
  int64_t before = 0, to_card = 0, to_promo = 0, back = 0, taken = 0, rest = 0;
  CtRefundSplit whole;

  for (gsize i = 0; i < G_N_ELEMENTS (parts); i++)
    {
      CtRefundSplit split;

      ct_refund_split_compute (1000, 100, 100, 9, 500, before, parts[i], &split);
      ck_assert_int_eq (split.to_card + split.to_promo, parts[i]);
      ck_assert_int_ge (split.to_promo, 0);
      before += parts[i];
      to_card += split.to_card;
      to_promo += split.to_promo;
      back += split.points_back;
      taken += split.points_taken;
      rest += split.rest_back;
    }
  ct_refund_split_compute (1000, 100, 100, 9, 500, 0, 1000, &whole);
  ck_assert_int_eq (to_card, whole.to_card);
  ck_assert_int_eq (to_card, 900);
  ck_assert_int_eq (to_promo, 100);
  ck_assert_int_eq (back, 100);
  ck_assert_int_eq (taken, 9);
  ck_assert_int_eq (whole.points_taken, 9);
  ck_assert_int_eq (rest, 500);
  ck_assert_int_eq (whole.rest_back, 500);

  /* A third of 50 points earned: floor (50 × 1000 / 3000) = 16. */
  ct_refund_split_compute (3000, 0, 0, 50, 0, 0, 1000, &whole);
  ck_assert_int_eq (whole.to_card, 1000);
  ck_assert_int_eq (whole.points_taken, 16);
  /* The largest amounts do not overflow. */
  ct_refund_split_compute (CT_MONEY_MAX, CT_MONEY_MAX / 2, CT_MONEY_MAX, CT_MONEY_MAX, 0, 0, CT_MONEY_MAX / 3,
                           &whole);
  ck_assert_int_eq (whole.points_taken, CT_MONEY_MAX / 3);
  ck_assert_int_eq (whole.to_promo, CT_MONEY_MAX / 6);
}
END_TEST

/* A split payment: the card's share is the most of the order its balance
 * pays in full after the level's discount; the rest is another tender's. */
START_TEST (test_split_card_share_is_what_the_balance_pays_in_full)
{
  /* No discount: the balance, or the whole order when it holds enough. */
  ck_assert_int_eq (ct_pay_split_card_share (15000, 11000, 0), 11000);
  ck_assert_int_eq (ct_pay_split_card_share (9000, 11000, 0), 9000);
  ck_assert_int_eq (ct_pay_split_card_share (15000, 0, 0), 0);
  /* 10 % off: a share of 10000 is due 9000, of 10001 due 9001; with
   * 90.05 held the share is 100.05 (discount 10.00, due 90.05). */
  ck_assert_int_eq (ct_pay_split_card_share (20000, 9000, 1000), 10000);
  ck_assert_int_eq (ct_pay_split_card_share (20000, 9005, 1000), 10005);
  {
    int64_t share = ct_pay_split_card_share (20000, 9000, 1000);

    ck_assert_int_le (share - ct_money_share_bp (share, 1000), 9000);
    ck_assert_int_gt (share + 1 - ct_money_share_bp (share + 1, 1000), 9000);
  }
  ck_assert_int_eq (ct_pay_split_card_share (CT_MONEY_MAX, CT_MONEY_MAX - 1, 0), CT_MONEY_MAX - 1);
}
END_TEST

static Suite *
money_suite (void)
{
  Suite *s = suite_create ("money");
  TCase *tc = tcase_create ("money");

  tcase_add_test (tc, test_money_parse_accepts_plain_and_decimals);
  tcase_add_test (tc, test_money_parse_accepts_grouping_and_symbols);
  tcase_add_test (tc, test_money_parse_accepts_full_width);
  tcase_add_test (tc, test_money_parse_rejects_three_decimals);
  tcase_add_test (tc, test_money_parse_rejects_bad_grouping);
  tcase_add_test (tc, test_money_parse_rejects_garbage);
  tcase_add_test (tc, test_money_parse_sign_only_where_signed);
  tcase_add_test (tc, test_money_parse_rejects_overflow);
  tcase_add_test (tc, test_money_parse_respects_minor_units);
  tcase_add_test (tc, test_money_format_plain);
  tcase_add_test (tc, test_money_format_display_groups);
  tcase_add_test (tc, test_money_format_parse_round_trip);
  tcase_add_test (tc, test_money_arithmetic_is_checked);
  tcase_add_test (tc, test_bonus_ratio_floors);
  tcase_add_test (tc, test_bonus_ratio_overflow_and_negative);
  tcase_add_test (tc, test_points_earned_for_whole_units);
  tcase_add_test (tc, test_points_refund_never_below_zero);
  tcase_add_test (tc, test_refund_parts_add_up_to_the_whole_refund);
  tcase_add_test (tc, test_split_card_share_is_what_the_balance_pays_in_full);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (money_suite ());
  int failed;

  srunner_run_all (sr, CK_VERBOSE);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
