/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-member-code"

#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ct-card-number.h"
#include "ct-member-code.h"

/* RFC 6238 appendix B, the SHA-1 column: the 20-byte ASCII secret. */
static const guint8 rfc_secret[] = "12345678901234567890";
#define RFC_LEN 20

START_TEST (test_member_code_matches_rfc6238_vectors)
{
  static const struct { gint64 time; const char *code; } vectors[] = {
    { 59, "94287082" },
    { 1111111109, "07081804" },
    { 1111111111, "14050471" },
    { 1234567890, "89005924" },
    { 2000000000, "69279037" },
    { G_GINT64_CONSTANT (20000000000), "65353130" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autofree char *code = ct_member_code_at (rfc_secret, RFC_LEN, vectors[i].time, 8);

      ck_assert_msg (strcmp (code, vectors[i].code) == 0, "T=%" G_GINT64_FORMAT ": %s, wanted %s",
                     vectors[i].time, code, vectors[i].code);
    }
}
END_TEST

START_TEST (test_member_code_accepts_one_step_of_skew_only)
{
  const gint64 now = 1234567890;
  g_autofree char *current = ct_member_code_at (rfc_secret, RFC_LEN, now, 8);
  g_autofree char *before = ct_member_code_at (rfc_secret, RFC_LEN, now - 30, 8);
  g_autofree char *after = ct_member_code_at (rfc_secret, RFC_LEN, now + 30, 8);
  g_autofree char *too_old = ct_member_code_at (rfc_secret, RFC_LEN, now - 60, 8);
  g_autofree char *too_new = ct_member_code_at (rfc_secret, RFC_LEN, now + 60, 8);
  static const guint8 other_secret[] = "abcdefghijabcdefghij";
  gint64 step = 0;

  ck_assert (ct_member_code_verify (rfc_secret, RFC_LEN, current, now, &step));
  ck_assert_int_eq (step, now / 30);
  ck_assert (ct_member_code_verify (rfc_secret, RFC_LEN, before, now, &step));
  ck_assert_int_eq (step, now / 30 - 1);
  ck_assert (ct_member_code_verify (rfc_secret, RFC_LEN, after, now, &step));
  ck_assert_int_eq (step, now / 30 + 1);
  ck_assert (!ct_member_code_verify (rfc_secret, RFC_LEN, too_old, now, NULL));
  ck_assert (!ct_member_code_verify (rfc_secret, RFC_LEN, too_new, now, NULL));
  /* Another card's secret, a short code, letters: no. */
  ck_assert (!ct_member_code_verify (other_secret, RFC_LEN, current, now, NULL));
  ck_assert (!ct_member_code_verify (rfc_secret, RFC_LEN, "9005924", now, NULL));
  ck_assert (!ct_member_code_verify (rfc_secret, RFC_LEN, "8900592a", now, NULL));
  ck_assert (!ct_member_code_verify (rfc_secret, RFC_LEN, NULL, now, NULL));
}
END_TEST

START_TEST (test_member_code_payload_round_trips)
{
  g_autofree char *payload = ct_member_code_payload ("8888000000000000", "07081804");
  g_autofree char *card = NULL;
  g_autofree char *code = NULL;
  g_autoptr(GError) error = NULL;

  ck_assert_str_eq (payload, "CTP1:8888000000000000:07081804");
  ck_assert (ct_member_code_parse (payload, CT_CARD_NUMBER_DEFAULT_PREFIX, &card, &code, &error));
  ck_assert_str_eq (card, "8888000000000000");
  ck_assert_str_eq (code, "07081804");
  g_clear_pointer (&card, g_free);
  g_clear_pointer (&code, g_free);
  /* A legacy card number, lower-cased by the phone's QR library: upper-cased. */
  ck_assert (ct_member_code_parse ("ctp1:vip-007:12345678\n", CT_CARD_NUMBER_DEFAULT_PREFIX, &card, &code, NULL));
  ck_assert_str_eq (card, "VIP-007");
  ck_assert_str_eq (code, "12345678");
}
END_TEST

START_TEST (test_member_code_damaged_payloads_are_refused)
{
  static const char * const bad[] = {
    "CTP1:8888000000000000:1234567",    /* 7 digits */
    "CTP1:8888000000000000",            /* no code */
    "CTP1::12345678",                   /* no card */
    "CTP1:8888000000000008:12345678",   /* issuer number, bad check digit */
    "CTP1:88 88:12345678",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *card = NULL;
      g_autofree char *code = NULL;
      g_autoptr(GError) error = NULL;

      ck_assert_msg (!ct_member_code_parse (bad[i], CT_CARD_NUMBER_DEFAULT_PREFIX, &card, &code, &error),
                     "%s", bad[i]);
      ck_assert (error != NULL && error->domain == CT_CARD_NUMBER_ERROR);
      ck_assert_ptr_null (card);
      ck_assert_ptr_null (code);
    }
}
END_TEST

START_TEST (test_member_code_scan_names_its_card)
{
  g_autofree char *card = ct_card_number_from_scan (" CTP1:8888000000000000:07081804 ",
                                                    CT_CARD_NUMBER_DEFAULT_PREFIX, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *none = ct_card_number_from_scan ("CTP1:8888000000000000:0708",
                                                    CT_CARD_NUMBER_DEFAULT_PREFIX, &error);

  ck_assert_str_eq (card, "8888000000000000");
  ck_assert_ptr_null (none);
  ck_assert (g_error_matches (error, CT_CARD_NUMBER_ERROR, CT_CARD_NUMBER_ERROR_PAYLOAD));
}
END_TEST

static Suite *
member_code_suite (void)
{
  Suite *s = suite_create ("member-code");
  TCase *tc = tcase_create ("totp");

  tcase_add_test (tc, test_member_code_matches_rfc6238_vectors);
  tcase_add_test (tc, test_member_code_accepts_one_step_of_skew_only);
  tcase_add_test (tc, test_member_code_payload_round_trips);
  tcase_add_test (tc, test_member_code_damaged_payloads_are_refused);
  tcase_add_test (tc, test_member_code_scan_names_its_card);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (member_code_suite ());
  int failed;

  srunner_run_all (sr, CK_VERBOSE);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
