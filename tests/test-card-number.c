/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-card-number"

#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "ct-card-number.h"

#define PREFIX "8888"

START_TEST (test_luhn_known_numbers)
{
  ck_assert (ct_luhn_valid ("79927398713"));
  ck_assert (!ct_luhn_valid ("79927398710"));
  ck_assert (ct_luhn_valid ("4111111111111111"));
  ck_assert (!ct_luhn_valid ("4111111111111112"));
  ck_assert (!ct_luhn_valid ("41111A1111111111"));
  ck_assert (!ct_luhn_valid (""));
  ck_assert_int_eq (ct_luhn_check_digit ("7992739871"), '3');
  ck_assert_int_eq (ct_luhn_check_digit ("411111111111111"), '1');
  ck_assert_int_eq (ct_luhn_check_digit ("12A"), '\0');
}
END_TEST

START_TEST (test_card_number_generate_is_issued_and_valid)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (int i = 0; i < 1000; i++)
    {
      g_autofree char *no = ct_card_number_generate (PREFIX, rand);
      g_autofree char *norm = NULL;
      CtCardNumberKind kind = CT_CARD_NUMBER_INVALID;

      ck_assert_int_eq (strlen (no), 16);
      ck_assert (g_str_has_prefix (no, PREFIX));
      ck_assert (ct_luhn_valid (no));
      norm = ct_card_number_normalize (no, PREFIX, &kind, NULL);
      ck_assert_str_eq (norm, no);
      ck_assert_int_eq (kind, CT_CARD_NUMBER_ISSUED);
      g_hash_table_add (seen, g_steal_pointer (&no));
    }
  /* chosen at random: a thousand draws of eleven digits do not collide */
  ck_assert_int_gt (g_hash_table_size (seen), 990);
}
END_TEST

START_TEST (test_card_number_issued_with_bad_check_digit_refused)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autofree char *no = ct_card_number_generate (PREFIX, rand);
  g_autoptr(GError) error = NULL;
  char *res;

  no[15] = no[15] == '9' ? '0' : no[15] + 1;
  res = ct_card_number_normalize (no, PREFIX, NULL, &error);
  ck_assert_ptr_null (res);
  ck_assert (g_error_matches (error, CT_CARD_NUMBER_ERROR, CT_CARD_NUMBER_ERROR_CHECK_DIGIT));
}
END_TEST

START_TEST (test_card_number_legacy_uppercased)
{
  CtCardNumberKind kind = CT_CARD_NUMBER_INVALID;
  g_autofree char *a = ct_card_number_normalize (" vip-00123 ", PREFIX, &kind, NULL);
  g_autofree char *b = ct_card_number_normalize ("ａｂ１２３４", PREFIX, NULL, NULL);
  /* 16 digits outside the prefix: legacy, no Luhn */
  g_autofree char *c = ct_card_number_normalize ("1234567812345678", PREFIX, &kind, NULL);

  /* ASCII and full-width forms in one number, and ASCII around an
   * ideographic space that is stripped. */
  g_autofree char *d = ct_card_number_normalize ("vip-１２３a", PREFIX, NULL, NULL);
  g_autofree char *e = ct_card_number_normalize ("\tm0001\xe3\x80\x80", PREFIX, NULL, NULL);
  g_autoptr(GError) error = NULL;

  ck_assert_str_eq (a, "VIP-00123");
  ck_assert_str_eq (b, "AB1234");
  ck_assert_str_eq (d, "VIP-123A");
  ck_assert_str_eq (e, "M0001");
  ck_assert_ptr_null (ct_card_number_normalize ("m0001\xff", PREFIX, NULL, &error));
  ck_assert (g_error_matches (error, CT_CARD_NUMBER_ERROR, CT_CARD_NUMBER_ERROR_SYNTAX));
  ck_assert_str_eq (c, "1234567812345678");
  ck_assert_int_eq (kind, CT_CARD_NUMBER_LEGACY);
}
END_TEST

START_TEST (test_card_number_syntax_errors)
{
  const char *bad[] = { "", "abc", "12 34", "1234_5678", "卡12345", "123456789012345678901234567890123", "a.b.c.d" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      char *res = ct_card_number_normalize (bad[i], PREFIX, NULL, &error);

      ck_assert_msg (res == NULL, "“%s” should be refused", bad[i]);
      ck_assert (g_error_matches (error, CT_CARD_NUMBER_ERROR, CT_CARD_NUMBER_ERROR_SYNTAX));
    }
}
END_TEST

START_TEST (test_card_number_issuer_range)
{
  ck_assert (ct_card_number_in_issuer_range ("888812", PREFIX));
  ck_assert (!ct_card_number_in_issuer_range ("8888AB", PREFIX));
  ck_assert (!ct_card_number_in_issuer_range ("123488881", PREFIX));
  ck_assert (!ct_card_number_in_issuer_range ("888812", NULL));
}
END_TEST

START_TEST (test_card_number_from_scan_plain_and_url)
{
  g_autofree char *a = ct_card_number_from_scan ("vip-777\r\n", PREFIX, NULL);
  g_autofree char *b = ct_card_number_from_scan ("https://shop.example/m/card/ab%2d99?x=1#top", PREFIX, NULL);
  g_autofree char *c = ct_card_number_from_scan ("HTTPS://shop.example/c/4111111111111111/", PREFIX, NULL);

  ck_assert_str_eq (a, "VIP-777");
  ck_assert_str_eq (b, "AB-99");
  ck_assert_str_eq (c, "4111111111111111");
}
END_TEST

START_TEST (test_card_number_from_scan_refuses_other_payloads)
{
  const char *bad[] = {
    "https://shop.example/",
    "https://shop.example",
    "https://shop.example/card/%zz",
    "http://shop.example/card/12345",
    "https://shop.example/card/has%20space",
    "WIFI:S:shop;T:WPA;P:secret;;",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      char *res = ct_card_number_from_scan (bad[i], PREFIX, &error);

      ck_assert_msg (res == NULL, "“%s” should be refused", bad[i]);
      ck_assert_ptr_nonnull (error);
    }
}
END_TEST

static Suite *
card_number_suite (void)
{
  Suite *s = suite_create ("card-number");
  TCase *tc = tcase_create ("card-number");

  tcase_add_test (tc, test_luhn_known_numbers);
  tcase_add_test (tc, test_card_number_generate_is_issued_and_valid);
  tcase_add_test (tc, test_card_number_issued_with_bad_check_digit_refused);
  tcase_add_test (tc, test_card_number_legacy_uppercased);
  tcase_add_test (tc, test_card_number_syntax_errors);
  tcase_add_test (tc, test_card_number_issuer_range);
  tcase_add_test (tc, test_card_number_from_scan_plain_and_url);
  tcase_add_test (tc, test_card_number_from_scan_refuses_other_payloads);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (card_number_suite ());
  int failed;

  srunner_run_all (sr, CK_VERBOSE);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
