/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-phone"

#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ct-phone.h"

static void
assert_normal (const char *text,
               const char *want)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *got = ct_phone_normalize (text, &error);

  ck_assert_msg (got != NULL, "%s: %s", text, error ? error->message : "?");
  ck_assert_str_eq (got, want);
}

static void
assert_refused (const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *got = ct_phone_normalize (text, &error);

  ck_assert_msg (got == NULL, "%s became %s", text, got);
  ck_assert (g_error_matches (error, CT_PHONE_ERROR, CT_PHONE_ERROR_INVALID));
  ck_assert_msg (strstr (error->message, "5 to 15 digits") != NULL, "%s", error->message);
}

START_TEST (test_phone_separators_are_dropped)
{
  assert_normal ("13800138000", "13800138000");
  assert_normal ("138-0013-8000", "13800138000");
  assert_normal ("138 0013 8000", "13800138000");
  assert_normal ("138.0013.8000", "13800138000");
  assert_normal ("(010) 6552-9988", "01065529988");
  assert_normal ("１３８００１３８０００", "13800138000");
  assert_normal ("12345", "12345");
}
END_TEST

START_TEST (test_phone_mainland_country_code_is_dropped)
{
  assert_normal ("+86 138 0013 8000", "13800138000");
  assert_normal ("+8613800138000", "13800138000");
  assert_normal ("0086 13800138000", "13800138000");
  assert_normal ("0086-138-0013-8000", "13800138000");
  /* Not an 11-digit mainland mobile number: the digits stay whole. */
  assert_normal ("+86 10 6552 9988", "861065529988");
  assert_normal ("+1 415 555 0100", "14155550100");
  assert_normal ("8613800138000", "8613800138000");
}
END_TEST

START_TEST (test_phone_refuses_what_is_not_a_phone)
{
  assert_refused ("");
  assert_refused ("1234");
  assert_refused ("1234567890123456");
  assert_refused ("138-0013-800x");
  assert_refused ("138+0013");
  assert_refused ("++8613800138000");
  assert_refused ("phone");
  assert_refused ("\xff\xfe");
}
END_TEST

START_TEST (test_phone_search_takes_any_form_or_the_last_four)
{
  gboolean tail = TRUE;
  g_autofree char *whole = ct_phone_search_key ("+86 138-0013-8000", &tail);
  g_autofree char *last = NULL;
  g_autofree char *none = NULL;
  g_autofree char *three = NULL;

  ck_assert_str_eq (whole, "13800138000");
  ck_assert (!tail);
  last = ct_phone_search_key ("8000", &tail);
  ck_assert_str_eq (last, "8000");
  ck_assert (tail);
  none = ct_phone_search_key ("Wang", &tail);
  ck_assert_ptr_null (none);
  ck_assert (!tail);
  three = ct_phone_search_key ("800", NULL);
  ck_assert_ptr_null (three);
}
END_TEST

START_TEST (test_phone_mask_keeps_head_and_last_four)
{
  g_autofree char *mobile = ct_phone_mask ("13812345678");
  g_autofree char *shortish = ct_phone_mask ("1234567");
  g_autofree char *four = ct_phone_mask ("5678");
  g_autofree char *none = ct_phone_mask (NULL);

  ck_assert_str_eq (mobile, "138****5678");
  ck_assert_str_eq (shortish, "***4567");
  ck_assert_str_eq (four, "5678");
  ck_assert_str_eq (none, "");
}
END_TEST

static Suite *
phone_suite (void)
{
  Suite *s = suite_create ("phone");
  TCase *tc = tcase_create ("rule");

  tcase_add_test (tc, test_phone_separators_are_dropped);
  tcase_add_test (tc, test_phone_mainland_country_code_is_dropped);
  tcase_add_test (tc, test_phone_refuses_what_is_not_a_phone);
  tcase_add_test (tc, test_phone_search_takes_any_form_or_the_last_four);
  tcase_add_test (tc, test_phone_mask_keeps_head_and_last_four);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (phone_suite ());
  int failed;

  srunner_run_all (sr, CK_VERBOSE);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
