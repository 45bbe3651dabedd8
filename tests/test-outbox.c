/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-outbox"
#include "config.h"

#include <check.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ct-member-cache.h"
#include "ct-test-tmpdir.h"
#include "ct-outbox.h"
#include "ct-sync.h"

static CtOutbox *
open_outbox (void)
{
  g_autofree char *path = g_build_filename (tmpdir, "outbox.db", NULL);
  g_autoptr(GError) error = NULL;
  CtOutbox *outbox = ct_outbox_open (path, &error);

  ck_assert_msg (outbox != NULL, "%s", error ? error->message : "");
  return outbox;
}

static gint64
add_for (CtOutbox *outbox, const char *service, const char *key, const char *card,
         CtOutboxKind kind, int64_t amount)
{
  g_autoptr(CtOutboxEntry) e = g_new0 (CtOutboxEntry, 1);
  g_autoptr(GError) error = NULL;
  static const char body[] = "{\"amount\":1}\0tail";

  e->idempotency_key = g_strdup (key);
  e->method = g_strdup ("POST");
  e->path = g_strdup_printf ("/v1/cards/%s/payments", card ? card : "X");
  /* Exact bytes, NUL included: the outbox must keep them byte for byte. */
  e->body = g_bytes_new (body, sizeof body - 1);
  e->service_url = g_strdup (service);
  e->till = g_strdup ("till");
  e->card_no = g_strdup (card);
  e->kind = kind;
  e->amount = amount;
  e->created_at = g_get_real_time ();
  e->next_attempt_at = e->created_at;
  e->state = CT_OUTBOX_STATE_PENDING;
  ck_assert (ct_outbox_add (outbox, e, &error));
  return e->id;
}

static gint64
add (CtOutbox *outbox, const char *key, const char *card, CtOutboxKind kind, int64_t amount)
{
  return add_for (outbox, "https://svc", key, card, kind, amount);
}

START_TEST (test_outbox_keeps_exact_bytes_across_reopen)
{
  CtOutbox *outbox = open_outbox ();
  gint64 id = add (outbox, "k1", "CARD1", CT_OUTBOX_KIND_PAYMENT, 100);
  g_autoptr(CtOutboxEntry) e = NULL;
  gsize len;
  const char *data;

  ct_outbox_close (outbox);
  outbox = open_outbox ();
  e = ct_outbox_get (outbox, id, NULL);
  ck_assert_ptr_nonnull (e);
  ck_assert_str_eq (e->idempotency_key, "k1");
  data = g_bytes_get_data (e->body, &len);
  ck_assert_uint_eq (len, sizeof ("{\"amount\":1}\0tail") - 1);
  ck_assert (memcmp (data, "{\"amount\":1}\0tail", len) == 0);
  ck_assert_int_eq (e->state, CT_OUTBOX_STATE_PENDING);
  ck_assert_uint_eq (ct_outbox_count (outbox, CT_OUTBOX_STATE_PENDING), 1);
  ct_outbox_close (outbox);
}
END_TEST

START_TEST (test_outbox_refuses_duplicate_key)
{
  CtOutbox *outbox = open_outbox ();
  g_autoptr(CtOutboxEntry) e = NULL;
  g_autoptr(GError) error = NULL;

  add (outbox, "same", "CARD1", CT_OUTBOX_KIND_PAYMENT, 100);
  e = ct_outbox_get (outbox, 1, NULL);
  ck_assert (!ct_outbox_add (outbox, e, &error));
  ck_assert (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_LOCAL));
  ct_outbox_close (outbox);
}
END_TEST

START_TEST (test_outbox_due_list_keeps_card_order)
{
  CtOutbox *outbox = open_outbox ();
  gint64 a1 = add (outbox, "a1", "A", CT_OUTBOX_KIND_TOPUP, 100);
  gint64 b1 = add (outbox, "b1", "B", CT_OUTBOX_KIND_PAYMENT, 50);
  gint64 a2 = add (outbox, "a2", "A", CT_OUTBOX_KIND_PAYMENT, 30);
  g_autoptr(GPtrArray) due = ct_outbox_list_due (outbox, G_MAXINT64, NULL);
  g_autoptr(GPtrArray) due2 = NULL;
  g_autoptr(GPtrArray) due3 = NULL;

  /* Only the first of card A may go; B's goes in parallel. */
  ck_assert_uint_eq (due->len, 2);
  ck_assert_int_eq (((CtOutboxEntry *) g_ptr_array_index (due, 0))->id, a1);
  ck_assert_int_eq (((CtOutboxEntry *) g_ptr_array_index (due, 1))->id, b1);
  ck_assert_uint_eq (ct_outbox_count_before (outbox, "A", a2, NULL), 1);

  /* A failed first entry with a later retry time still blocks the second. */
  ck_assert (ct_outbox_record_attempt (outbox, a1, TRUE, g_get_real_time () + G_USEC_PER_SEC * 100,
                                       0, "timeout", NULL));
  due2 = ct_outbox_list_due (outbox, g_get_real_time (), NULL);
  ck_assert_uint_eq (due2->len, 1);
  ck_assert_int_eq (((CtOutboxEntry *) g_ptr_array_index (due2, 0))->id, b1);

  ck_assert (ct_outbox_remove (outbox, a1, NULL));
  due3 = ct_outbox_list_due (outbox, G_MAXINT64, NULL);
  ck_assert_uint_eq (due3->len, 2);
  ck_assert_int_eq (((CtOutboxEntry *) g_ptr_array_index (due3, 1))->id, a2);
  ct_outbox_close (outbox);
}
END_TEST

/* The counts the till shows after every request are kept, not counted
 * again each time: they follow this connection's changes and another
 * connection's (another till process on the same outbox). */
START_TEST (test_outbox_counts_follow_every_change)
{
  CtOutbox *outbox = open_outbox ();
  CtOutbox *other = open_outbox ();
  gint64 a1, a2, b1, c1;
  g_autoptr(CtOutboxEntry) first = NULL;

  ck_assert_uint_eq (ct_outbox_count (outbox, CT_OUTBOX_STATE_PENDING), 0);
  a1 = add (outbox, "a1", "A", CT_OUTBOX_KIND_TOPUP, 100);
  a2 = add (outbox, "a2", "A", CT_OUTBOX_KIND_TOPUP, 100);
  ck_assert_uint_eq (ct_outbox_count (outbox, CT_OUTBOX_STATE_PENDING), 2);
  b1 = add (other, "b1", "B", CT_OUTBOX_KIND_PAYMENT, 5);
  ck_assert_uint_eq (ct_outbox_count (outbox, CT_OUTBOX_STATE_PENDING), 3);
  ck_assert_uint_eq (ct_outbox_count (other, CT_OUTBOX_STATE_PENDING), 3);

  /* Queued offline: the attempt and the report in one commit. */
  ck_assert (ct_outbox_record_queued (outbox, a2, 42, "offline", NULL));
  first = ct_outbox_get (outbox, a2, NULL);
  ck_assert_int_eq (first->attempts, 1);
  ck_assert_int_eq (first->next_attempt_at, 42);
  ck_assert (first->reported_queued);
  ck_assert (!first->maybe_sent);
  ck_assert_str_eq (first->reason, "offline");
  g_clear_pointer (&first, ct_outbox_entry_free);

  /* The oldest entry of a card ahead of another. */
  first = ct_outbox_first_card_before (outbox, "A", a2, NULL);
  ck_assert_ptr_nonnull (first);
  ck_assert_int_eq (first->id, a1);
  g_clear_pointer (&first, ct_outbox_entry_free);
  ck_assert_ptr_null (ct_outbox_first_card_before (outbox, "A", a1, NULL));

  ck_assert (ct_outbox_set_state (other, b1, CT_OUTBOX_STATE_NEEDS_ATTENTION, 422, NULL,
                                  "refused", NULL));
  ck_assert_uint_eq (ct_outbox_count (outbox, CT_OUTBOX_STATE_PENDING), 2);
  ck_assert_uint_eq (ct_outbox_count (outbox, CT_OUTBOX_STATE_NEEDS_ATTENTION), 1);

  /* Removed together, or not at all. */
  c1 = add (outbox, "c1", "C", CT_OUTBOX_KIND_TOPUP, 100);
  ck_assert (ct_outbox_remove_many (outbox, (gint64[]) { a1, c1 }, 2, NULL));
  ck_assert_uint_eq (ct_outbox_count (outbox, CT_OUTBOX_STATE_PENDING), 1);
  ck_assert_uint_eq (ct_outbox_count (other, CT_OUTBOX_STATE_PENDING), 1);
  ck_assert (ct_outbox_remove (other, a2, NULL));
  ck_assert_uint_eq (ct_outbox_count (outbox, CT_OUTBOX_STATE_PENDING), 0);
  ck_assert_uint_eq (ct_outbox_count (outbox, CT_OUTBOX_STATE_NEEDS_ATTENTION), 1);
  ct_outbox_close (other);
  ct_outbox_close (outbox);
}
END_TEST

START_TEST (test_outbox_entry_for_another_service_does_not_hold_a_card_back)
{
  CtOutbox *outbox = open_outbox ();
  gint64 old = add_for (outbox, "https://old-service", "o1", "A", CT_OUTBOX_KIND_PAYMENT, 10);
  gint64 a1 = add (outbox, "a1", "A", CT_OUTBOX_KIND_PAYMENT, 30);
  gint64 a2 = add (outbox, "a2", "A", CT_OUTBOX_KIND_PAYMENT, 40);
  g_autoptr(GPtrArray) due = ct_outbox_list_due (outbox, G_MAXINT64, NULL);
  g_autoptr(GPtrArray) before = ct_outbox_list_card_before (outbox, "A", a2, NULL);

  /* Each service's ledger keeps its own order for the card. */
  ck_assert_uint_eq (due->len, 2);
  ck_assert_int_eq (((CtOutboxEntry *) g_ptr_array_index (due, 0))->id, old);
  ck_assert_int_eq (((CtOutboxEntry *) g_ptr_array_index (due, 1))->id, a1);
  ck_assert_uint_eq (ct_outbox_count_before (outbox, "A", a1, NULL), 0);
  ck_assert_uint_eq (ct_outbox_count_before (outbox, "A", a2, NULL), 1);
  ck_assert_uint_eq (before->len, 1);
  ck_assert_int_eq (((CtOutboxEntry *) g_ptr_array_index (before, 0))->id, a1);
  ct_outbox_close (outbox);
}
END_TEST

START_TEST (test_outbox_refused_entry_goes_to_needs_attention_with_reason)
{
  CtOutbox *outbox = open_outbox ();
  gint64 id = add (outbox, "t1", "A", CT_OUTBOX_KIND_TOPUP, 100);
  g_autoptr(GBytes) answer = g_bytes_new_static ("{\"error\":{}}", 12);
  g_autoptr(GPtrArray) attention = NULL;
  CtOutboxEntry *e;

  ck_assert (ct_outbox_set_state (outbox, id, CT_OUTBOX_STATE_NEEDS_ATTENTION, 409, answer,
                                  "card_frozen: Card is frozen", NULL));
  attention = ct_outbox_list (outbox, CT_OUTBOX_STATE_NEEDS_ATTENTION, NULL);
  ck_assert_uint_eq (attention->len, 1);
  e = g_ptr_array_index (attention, 0);
  ck_assert_str_eq (e->reason, "card_frozen: Card is frozen");
  ck_assert_int_eq (e->last_status, 409);
  ck_assert_uint_eq (ct_outbox_count (outbox, CT_OUTBOX_STATE_PENDING), 0);

  /* Resolved by a manager: kept as a record, without the request body. */
  ck_assert (ct_outbox_set_state (outbox, id, CT_OUTBOX_STATE_RESOLVED, 409, NULL,
                                  "outcome recorded: cash returned", NULL));
  {
    g_autoptr(CtOutboxEntry) r = ct_outbox_get (outbox, id, NULL);

    ck_assert_int_eq (r->state, CT_OUTBOX_STATE_RESOLVED);
    ck_assert_uint_eq (g_bytes_get_size (r->body), 0);
    ck_assert_str_eq (r->reason, "outcome recorded: cash returned");
    ck_assert_int_eq (r->amount, 100);
  }
  ct_outbox_close (outbox);
}
END_TEST

START_TEST (test_outbox_pending_payment_sum_per_card)
{
  CtOutbox *outbox = open_outbox ();
  int64_t sum = -1;

  add (outbox, "p1", "A", CT_OUTBOX_KIND_PAYMENT, 100);
  add (outbox, "p2", "A", CT_OUTBOX_KIND_PAYMENT, 250);
  add (outbox, "t1", "A", CT_OUTBOX_KIND_TOPUP, 10000);
  add (outbox, "p3", "B", CT_OUTBOX_KIND_PAYMENT, 999);
  ck_assert (ct_outbox_pending_payments (outbox, "A", &sum, NULL));
  ck_assert_int_eq (sum, 350);
  ct_outbox_close (outbox);
}
END_TEST

START_TEST (test_outbox_old_entries_need_attention)
{
  CtOutbox *outbox = open_outbox ();

  add (outbox, "old", "A", CT_OUTBOX_KIND_PAYMENT, 100);
  ck_assert_uint_eq (ct_outbox_expire (outbox, g_get_real_time () - G_USEC_PER_SEC, NULL), 0);
  ck_assert_uint_eq (ct_outbox_expire (outbox, g_get_real_time () + G_USEC_PER_SEC, NULL), 1);
  ck_assert_uint_eq (ct_outbox_count (outbox, CT_OUTBOX_STATE_NEEDS_ATTENTION), 1);
  ct_outbox_close (outbox);
}
END_TEST

START_TEST (test_outbox_backoff_grows_with_jitter_and_caps_at_60s)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  gint64 prev_max = 0;

  for (int attempts = 1; attempts <= 40; attempts++)
    {
      gint64 d = ct_outbox_backoff (attempts, rand);
      gint64 nominal = MIN ((gint64) (G_USEC_PER_SEC / 2) << MIN (attempts - 1, 20),
                            60 * G_USEC_PER_SEC);

      ck_assert_int_ge (d, nominal / 2);
      ck_assert_int_le (d, nominal);
      ck_assert_int_le (d, 60 * G_USEC_PER_SEC);
      ck_assert_int_ge (nominal, prev_max);
      prev_max = nominal;
    }
}
END_TEST

static CtCard *
cached_card (int64_t balance, gint64 age, CtCardStatus status)
{
  CtCard *c = g_new0 (CtCard, 1);

  c->card_no = g_strdup ("A");
  c->balance = balance;
  c->status = status;
  c->fetched_at = g_get_real_time () - age;
  return c;
}

START_TEST (test_offline_payment_rules)
{
  g_autoptr(CtMerchant) m = g_new0 (CtMerchant, 1);
  g_autoptr(CtCard) fresh = cached_card (10000, 0, CT_CARD_STATUS_ACTIVE);
  g_autoptr(CtCard) stale = cached_card (10000, (gint64) 25 * 3600 * G_USEC_PER_SEC, CT_CARD_STATUS_ACTIVE);
  g_autoptr(CtCard) frozen = cached_card (10000, 0, CT_CARD_STATUS_FROZEN);
  gint64 now = g_get_real_time ();
  char *reason = NULL;

  /* No caps: no balance payment offline. */
  ck_assert (!ct_sync_offline_payment_allowed (m, fresh, 100, 0, now, &reason));
  g_clear_pointer (&reason, g_free);
  ck_assert (!ct_sync_offline_payment_allowed (NULL, fresh, 100, 0, now, &reason));
  g_clear_pointer (&reason, g_free);

  m->offline_payment_cap = 5000;
  m->offline_card_cap = 8000;
  ck_assert (ct_sync_offline_payment_allowed (m, fresh, 5000, 0, now, &reason));
  ck_assert (!ct_sync_offline_payment_allowed (m, fresh, 5001, 0, now, &reason));
  g_clear_pointer (&reason, g_free);
  /* Per card: this till's unsynced payments count. */
  ck_assert (ct_sync_offline_payment_allowed (m, fresh, 3000, 5000, now, &reason));
  ck_assert (!ct_sync_offline_payment_allowed (m, fresh, 3001, 5000, now, &reason));
  g_clear_pointer (&reason, g_free);
  /* Cached balance minus pending debits. */
  {
    g_autoptr(CtCard) poor = cached_card (4000, 0, CT_CARD_STATUS_ACTIVE);

    ck_assert (ct_sync_offline_payment_allowed (m, poor, 1000, 3000, now, &reason));
    ck_assert (!ct_sync_offline_payment_allowed (m, poor, 1001, 3000, now, &reason));
    g_clear_pointer (&reason, g_free);
  }
  ck_assert (!ct_sync_offline_payment_allowed (m, stale, 100, 0, now, &reason));
  ck_assert (strstr (reason, "24 hours") != NULL);
  g_clear_pointer (&reason, g_free);
  ck_assert (!ct_sync_offline_payment_allowed (m, frozen, 100, 0, now, &reason));
  ck_assert (strstr (reason, "frozen") != NULL);
  g_clear_pointer (&reason, g_free);
  ck_assert (!ct_sync_offline_payment_allowed (m, NULL, 100, 0, now, &reason));
  g_clear_pointer (&reason, g_free);
  /* Above the merchant's consent limit the member's PIN or code is the
   * service's to check: never taken offline. */
  m->consent_over = 2000;
  ck_assert (ct_sync_offline_payment_allowed (m, fresh, 2000, 0, now, &reason));
  ck_assert (!ct_sync_offline_payment_allowed (m, fresh, 2001, 0, now, &reason));
  ck_assert_msg (strstr (reason, "PIN or payment code") != NULL, "%s", reason);
  g_clear_pointer (&reason, g_free);
}
END_TEST

START_TEST (test_outbox_and_cache_files_are_private)
{
  g_autofree char *outbox_path = g_build_filename (tmpdir, "private-outbox.db", NULL);
  g_autofree char *cache_path = g_build_filename (tmpdir, "private-cache.db", NULL);
  g_autofree char *wal = g_strconcat (outbox_path, "-wal", NULL);
  g_autoptr(GError) error = NULL;
  CtOutbox *outbox;
  CtMemberCache *cache;
  struct stat st;

  umask (022);
  /* One left world-readable by an older version is tightened too. */
  ck_assert (g_file_set_contents_full (cache_path, "", 0, G_FILE_SET_CONTENTS_NONE, 0644, NULL));
  outbox = ct_outbox_open (outbox_path, &error);
  ck_assert_msg (outbox != NULL, "%s", error ? error->message : "");
  cache = ct_member_cache_open (cache_path, &error);
  ck_assert_msg (cache != NULL, "%s", error ? error->message : "");
  ck_assert_int_eq (stat (outbox_path, &st), 0);
  ck_assert_int_eq (st.st_mode & 0777, 0600);
  if (stat (wal, &st) == 0)
    ck_assert_int_eq (st.st_mode & 0777, 0600);
  ck_assert_int_eq (stat (cache_path, &st), 0);
  ck_assert_int_eq (st.st_mode & 0777, 0600);
  ct_member_cache_close (cache);
  ct_outbox_close (outbox);
}
END_TEST

static Suite *
outbox_suite (void)
{
  Suite *s = suite_create ("outbox");
  TCase *tc = tcase_create ("outbox");

  tcase_add_checked_fixture (tc, tmpdir_setup, tmpdir_teardown);
  tcase_add_test (tc, test_outbox_keeps_exact_bytes_across_reopen);
  tcase_add_test (tc, test_outbox_refuses_duplicate_key);
  tcase_add_test (tc, test_outbox_due_list_keeps_card_order);
  tcase_add_test (tc, test_outbox_counts_follow_every_change);
  tcase_add_test (tc, test_outbox_entry_for_another_service_does_not_hold_a_card_back);
  tcase_add_test (tc, test_outbox_refused_entry_goes_to_needs_attention_with_reason);
  tcase_add_test (tc, test_outbox_pending_payment_sum_per_card);
  tcase_add_test (tc, test_outbox_old_entries_need_attention);
  tcase_add_test (tc, test_outbox_backoff_grows_with_jitter_and_caps_at_60s);
  tcase_add_test (tc, test_offline_payment_rules);
  tcase_add_test (tc, test_outbox_and_cache_files_are_private);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (outbox_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
