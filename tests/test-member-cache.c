/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-member-cache"
#include "config.h"

#include <check.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct-member-cache.h"
#include "ct-test-tmpdir.h"

/* The till's member cache: what it keeps across a restart and how fast a
 * scan finds a member. (The cache file's mode: test-outbox.) */

START_TEST (test_member_cache_survives_restart_and_keeps_newest)
{
  g_autofree char *path = g_build_filename (tmpdir, "cache.db", NULL);
  CtMemberCache *cache = ct_member_cache_open (path, NULL);
  g_autoptr(CtCard) card = g_new0 (CtCard, 1);
  g_autoptr(CtCard) older = NULL;
  g_autoptr(CtCard) got = NULL;
  gint64 t0;

  card->card_no = g_strdup ("A");
  card->balance = 500;
  card->status = CT_CARD_STATUS_ACTIVE;
  card->fetched_at = g_get_real_time ();
  card->created_at = g_strdup ("2026-01-01T00:00:00.000Z");
  card->updated_at = g_strdup ("2026-01-02T00:00:00.000Z");
  ck_assert (ct_member_cache_store (cache, card, NULL));
  older = ct_card_copy (card);
  older->balance = 1;
  g_free (older->updated_at);
  older->updated_at = g_strdup ("2026-01-01T00:00:00.000Z");
  ck_assert (ct_member_cache_store (cache, older, NULL));
  ct_member_cache_close (cache);

  cache = ct_member_cache_open (path, NULL);
  t0 = g_get_monotonic_time ();
  got = ct_member_cache_lookup (cache, "A");
  /* Scan to member: well under 5 ms. */
  ck_assert_int_lt (g_get_monotonic_time () - t0, 5000);
  ck_assert_ptr_nonnull (got);
  ck_assert (got->from_cache);
  ck_assert_int_eq (got->balance, 500);
  ck_assert_ptr_null (ct_member_cache_lookup (cache, "NOPE"));
  ct_member_cache_close (cache);
}
END_TEST

static Suite *
member_cache_suite (void)
{
  Suite *s = suite_create ("member-cache");
  TCase *tc = tcase_create ("member-cache");

  tcase_add_checked_fixture (tc, tmpdir_setup, tmpdir_teardown);
  tcase_add_test (tc, test_member_cache_survives_restart_and_keeps_newest);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (member_cache_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
