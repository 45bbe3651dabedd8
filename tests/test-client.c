/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-client"
#include "config.h"

#include <check.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "ct-client.h"
#include "ct-fault-proxy.h"
#include "ct-test-service.h"

/* The client core against a real cardtill-service (plain HTTP on loopback)
 * behind the fault-injecting proxy. */

typedef struct
{
  CtTestService *svc;
  CtFaultProxy  *proxy;
  CtClient      *client;
  char          *data_dir;
  guint          request_timeout_ms;
} Fixture;

/* A client on @f's data directory, started; as a till restarted when
 * there was one: that one is shut down and its databases closed. */
static void
client_restart (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtClientConfig) config = ct_client_config_new ();

  if (f->client != NULL)
    ct_client_shutdown (f->client);
  g_clear_object (&f->client);
  config->service_url = g_strdup (ct_fault_proxy_get_url (f->proxy));
  config->token = g_strdup (ct_test_service_get_token (f->svc));
  config->data_dir = g_strdup (f->data_dir);
  config->operator_name = g_strdup ("tester");
  config->request_timeout_ms = f->request_timeout_ms;
  config->connect_timeout_ms = 1000;
  config->queue_wait_ms = 20000;
  f->client = ct_client_new (config, &error);
  ck_assert_msg (f->client != NULL, "%s", error ? error->message : "");
  ck_assert_msg (ct_client_start (f->client, NULL, NULL, NULL, &error), "%s",
                 error ? error->message : "");
}

/* @service_args (nullable): more arguments for the service's `serve`. */
static Fixture *
fixture_new_with (guint               request_timeout_ms,
                  const char * const *service_args)
{
  Fixture *f = g_new0 (Fixture, 1);
  g_autoptr(GError) error = NULL;

  f->svc = service_args != NULL ? ct_test_service_start_full (FALSE, service_args, &error)
                                : ct_test_service_start (FALSE, &error);
  ck_assert_msg (f->svc != NULL, "%s", error ? error->message : "");
  f->proxy = ct_fault_proxy_new (ct_test_service_get_url (f->svc), 4242, &error);
  ck_assert_ptr_nonnull (f->proxy);
  f->data_dir = g_dir_make_tmp ("ct-client-XXXXXX", NULL);
  f->request_timeout_ms = request_timeout_ms;
  client_restart (f);
  return f;
}

static Fixture *
fixture_new (guint request_timeout_ms)
{
  return fixture_new_with (request_timeout_ms, NULL);
}

static void
fixture_free (Fixture *f)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->data_dir);

  ct_client_shutdown (f->client);
  g_object_unref (f->client);
  ct_fault_proxy_free (f->proxy);
  ct_test_service_free (f->svc);
  ck_assert_int_eq (system (cmd), 0);
  g_free (f->data_dir);
  g_free (f);
}

/* Direct requests to the service, past the proxy, for setup and checks. */
static char *
direct (Fixture *f, const char *method, const char *path, const char *key, const char *body,
        long expect_status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtTestResponse) r = ct_test_http (f->svc, method, path, key, body, &error);

  ck_assert_msg (r != NULL, "%s", error ? error->message : "");
  ck_assert_msg (r->status == expect_status, "%s %s: %ld %s", method, path, r->status, r->body);
  return g_strndup (r->body, r->body_len);
}

static char *
issue_card (Fixture *f, const char *name, int topups_p200)
{
  g_autofree char *key = g_strdup_printf ("issue-%s", name);
  g_autofree char *body = g_strdup_printf ("{\"member\":{\"name\":\"%s\",\"phone\":\"1390000%04d\"},"
                                           "\"operator\":\"t\",\"manager\":{\"id\":\"m1\","
                                           "\"pin\":\"246813\"}}", name, g_random_int_range (0, 9999));
  g_autofree char *answer = direct (f, "POST", "/v1/cards", key, body, 201);
  g_autoptr(CtCard) card = ct_wire_decode_card (answer, strlen (answer), NULL);

  ck_assert_ptr_nonnull (card);
  for (int i = 0; i < topups_p200; i++)
    {
      g_autofree char *path = g_strdup_printf ("/v1/cards/%s/topups", card->card_no);
      g_autofree char *tkey = g_strdup_printf ("setup-topup-%s-%d", name, i);
      g_autofree char *r = direct (f, "POST", path, tkey,
                                   "{\"package_id\":\"p200\",\"operator\":\"t\"}", 201);
    }
  return g_strdup (card->card_no);
}

static CtCard *
fetch_card (Fixture *f, const char *card_no)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s", card_no);
  g_autofree char *body = direct (f, "GET", path, NULL, NULL, 200);

  return ct_wire_decode_card (body, strlen (body), NULL);
}

/* Every transaction of the card (all pages), counting payments and their
 * order references. */
static guint
count_payments (Fixture *f, const char *card_no, GHashTable *order_refs)
{
  g_autofree char *cursor = NULL;
  guint n = 0;

  do
    {
      g_autoptr(GString) path = g_string_new (NULL);
      g_autofree char *body = NULL;
      g_autoptr(CtHistoryPage) page = NULL;

      g_string_printf (path, "/v1/cards/%s/transactions?from=2000-01-01&to=2100-01-01&limit=500",
                       card_no);
      if (cursor)
        g_string_append_printf (path, "&cursor=%s", cursor);
      body = direct (f, "GET", path->str, NULL, NULL, 200);
      page = ct_wire_decode_history (body, strlen (body), NULL);
      ck_assert_ptr_nonnull (page);
      for (guint i = 0; i < page->transactions->len; i++)
        {
          CtTransaction *tx = g_ptr_array_index (page->transactions, i);

          if (tx->kind != CT_TRANSACTION_PAYMENT)
            continue;
          n++;
          if (order_refs && tx->order_ref)
            {
              ck_assert_msg (!g_hash_table_contains (order_refs, tx->order_ref),
                             "payment %s applied twice", tx->order_ref);
              g_hash_table_add (order_refs, g_strdup (tx->order_ref));
            }
        }
      g_free (cursor);
      cursor = g_strdup (page->next_cursor);
    }
  while (cursor != NULL);
  return n;
}

static void
assert_ledger_balanced (Fixture *f)
{
  g_autofree char *body = direct (f, "GET", "/v1/ledger/check", NULL, NULL, 200);
  CtLedgerCheck check;

  ck_assert (ct_wire_decode_ledger_check (body, strlen (body), &check, NULL));
  ck_assert_int_eq (check.sum, 0);
}

static CtAnswer *
pay (Fixture *f, const char *card_no, int64_t amount, const char *order_ref)
{
  g_autofree char *text = ct_wire_encode_payment (amount, order_ref, 0, NULL, NULL, "tester");
  g_autoptr(GBytes) body = g_bytes_new (text, strlen (text));
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card_no);
  CtRequestInfo info = { .kind = CT_OUTBOX_KIND_PAYMENT, .card_no = card_no, .amount = amount,
                         .order_ref = order_ref };
  g_autoptr(GError) error = NULL;
  CtAnswer *answer = ct_client_request (f->client, "POST", path, NULL, body, &info, NULL, &error);

  ck_assert_msg (answer != NULL, "%s", error ? error->message : "");
  return answer;
}

START_TEST (test_client_500_payments_through_faults_apply_exactly_once)
{
  Fixture *f = fixture_new (1000);
  g_autofree char *card_no = issue_card (f, "Fault", 3);   /* 3 x (200 + 30) = 690.00 */
  CtFaultWeights faults = { .pass = 83, .drop_answer = 4, .reset_before = 3, .stall = 2,
                            .cut_answer = 3, .html_502 = 3, .garbage_200 = 2,
                            .stall_ms = 1500 };
  g_autoptr(GHashTable) refs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(CtCard) card = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) pending = NULL;
  g_autoptr(GPtrArray) attention = NULL;
  guint done = 0, queued = 0;

  ct_fault_proxy_set_weights (f->proxy, &faults);
  for (int i = 0; i < 500; i++)
    {
      g_autofree char *ref = g_strdup_printf ("P-%03d", i);
      g_autoptr(CtAnswer) a = pay (f, card_no, 100, ref);

      /* Nothing was sent: the cashier takes the payment again. */
      if (a->not_sent)
        {
          i--;
          continue;
        }
      if (a->queued)
        queued++;
      else
        {
          ck_assert_msg (a->status == 201, "payment %d: status %d", i, a->status);
          done++;
        }
    }
  ck_assert_uint_gt (ct_fault_proxy_get_faults (f->proxy), 20);

  /* The outbox settles the rest with the same keys. */
  ck_assert (ct_client_sync (f->client, 90000, NULL, NULL, &error));
  pending = ct_client_outbox_list (f->client, CT_OUTBOX_STATE_PENDING, NULL);
  attention = ct_client_outbox_list (f->client, CT_OUTBOX_STATE_NEEDS_ATTENTION, NULL);
  ck_assert_uint_eq (pending->len, 0);
  ck_assert_uint_eq (attention->len, 0);

  ck_assert_uint_eq (count_payments (f, card_no, refs), 500);
  ck_assert_uint_eq (g_hash_table_size (refs), 500);
  card = fetch_card (f, card_no);
  ck_assert_int_eq (card->balance, 69000 - 50000);
  assert_ledger_balanced (f);
  g_print ("500 payments: %u answered at once, %u settled later, %u faults in %u requests\n",
           done, queued, ct_fault_proxy_get_faults (f->proxy),
           ct_fault_proxy_get_requests (f->proxy));
  fixture_free (f);
}
END_TEST

typedef struct
{
  GMainLoop    *loop;
  GAsyncResult *result;
} Wait;

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Wait *w = user_data;

  w->result = g_object_ref (result);
  g_main_loop_quit (w->loop);
}

static GAsyncResult *
wait_for (Wait *w)
{
  g_main_loop_run (w->loop);
  return w->result;
}

START_TEST (test_client_offline_topup_is_queued_and_applied_once)
{
  Fixture *f = fixture_new (2000);
  g_autofree char *card_no = issue_card (f, "Offline", 0);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(CtMerchant) merchant = ct_client_dup_merchant (f->client);
  const CtPackage *p100;
  g_autoptr(CtReceipt) receipt = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCard) card = NULL;
  g_autoptr(GPtrArray) pending = NULL;
  Wait w = { loop, NULL };
  guint settled = 0;

  ck_assert_ptr_nonnull (merchant);
  p100 = ct_merchant_find_package (merchant, "p100");
  ck_assert_ptr_nonnull (p100);

  ck_assert (ct_fault_proxy_set_offline (f->proxy, TRUE, NULL));
  ct_client_topup_package_async (f->client, card_no, p100, NULL, on_done, &w);
  receipt = ct_client_topup_finish (f->client, wait_for (&w), &error);
  g_clear_object (&w.result);
  ck_assert_ptr_null (receipt);
  ck_assert_msg (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_QUEUED), "%s",
                 error->message);
  ck_assert (strstr (error->message, "pending sync") != NULL);
  g_clear_error (&error);
  /* Let the property notification arrive in this context. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  ck_assert_uint_eq (ct_client_get_pending_count (f->client), 1);
  ck_assert_int_eq (ct_client_get_connection_state (f->client), CT_CONNECTION_OFFLINE);

  /* Still offline: sync settles nothing and keeps it. */
  ck_assert (ct_client_sync (f->client, 300, &settled, NULL, NULL));
  ck_assert_uint_eq (settled, 0);

  ck_assert (ct_fault_proxy_set_offline (f->proxy, FALSE, NULL));
  ck_assert (ct_client_sync (f->client, 10000, &settled, NULL, &error));
  ck_assert_uint_eq (settled, 1);
  ck_assert (ct_client_sync (f->client, 1000, &settled, NULL, &error));
  ck_assert_uint_eq (settled, 0);
  pending = ct_client_outbox_list (f->client, CT_OUTBOX_STATE_PENDING, NULL);
  ck_assert_uint_eq (pending->len, 0);

  card = fetch_card (f, card_no);
  ck_assert_int_eq (card->balance, 11000);
  assert_ledger_balanced (f);
  fixture_free (f);
}
END_TEST

/* An entry older than the service's key retention minus a day is never
 * sent on its own: not by a drain, and not to make way for a new request on
 * the same card either. It waits in needs attention for a manager. */
START_TEST (test_client_old_entry_is_not_replayed_ahead_of_a_new_request)
{
  Fixture *f = fixture_new (2000);
  g_autofree char *card_no = issue_card (f, "Old", 0);
  g_autofree char *outbox_path = g_build_filename (f->data_dir, "outbox.db", NULL);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(CtMerchant) merchant = ct_client_dup_merchant (f->client);
  g_autoptr(CtReceipt) receipt = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCard) card = NULL;
  g_autoptr(GPtrArray) attention = NULL;
  g_autofree char *sql = NULL;
  const CtPackage *p100;
  sqlite3 *db = NULL;
  Wait w = { loop, NULL };

  p100 = ct_merchant_find_package (merchant, "p100");
  ck_assert_ptr_nonnull (p100);
  ck_assert (ct_fault_proxy_set_offline (f->proxy, TRUE, NULL));
  ct_client_topup_package_async (f->client, card_no, p100, NULL, on_done, &w);
  receipt = ct_client_topup_finish (f->client, wait_for (&w), &error);
  g_clear_object (&w.result);
  ck_assert (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_QUEUED));
  g_clear_error (&error);

  /* The queued top-up was taken 31 days ago. */
  sql = g_strdup_printf ("UPDATE outbox SET created_at = created_at - %" G_GINT64_FORMAT
                         ", next_attempt_at = 0", (gint64) 31 * 86400 * G_USEC_PER_SEC);
  ck_assert_int_eq (sqlite3_open (outbox_path, &db), SQLITE_OK);
  ck_assert_int_eq (sqlite3_exec (db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close (db);

  ck_assert (ct_fault_proxy_set_offline (f->proxy, FALSE, NULL));
  ct_client_topup_package_async (f->client, card_no, p100, NULL, on_done, &w);
  receipt = ct_client_topup_finish (f->client, wait_for (&w), &error);
  g_clear_object (&w.result);
  ck_assert_msg (receipt != NULL, "%s", error ? error->message : "");

  /* Only the new top-up reached the card; the old one waits for a manager. */
  card = fetch_card (f, card_no);
  ck_assert_int_eq (card->balance, 11000);
  attention = ct_client_outbox_list (f->client, CT_OUTBOX_STATE_NEEDS_ATTENTION, NULL);
  ck_assert_uint_eq (attention->len, 1);
  assert_ledger_balanced (f);
  fixture_free (f);
}
END_TEST

START_TEST (test_client_offline_payment_needs_caps)
{
  Fixture *f = fixture_new (2000);
  g_autofree char *card_no = issue_card (f, "Caps", 1);   /* 230.00 */
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCard) shown = NULL;
  g_autoptr(CtCard) cached = NULL;
  g_autoptr(CtCard) card = NULL;
  g_autoptr(CtMerchant) merchant = NULL;
  Wait w = { loop, NULL };
  gint64 t0;

  /* The till has seen the card. */
  ct_client_card_show_async (f->client, card_no, NULL, on_done, &w);
  shown = ct_client_card_show_finish (f->client, wait_for (&w), &error);
  g_clear_object (&w.result);
  ck_assert_ptr_nonnull (shown);
  t0 = g_get_monotonic_time ();
  cached = ct_client_cached_card (f->client, card_no);
  ck_assert_int_lt (g_get_monotonic_time () - t0, 5000);
  ck_assert_ptr_nonnull (cached);
  ck_assert (cached->from_cache);
  ck_assert_int_eq (cached->balance, 23000);

  /* Without caps (the default) an offline balance payment is refused. */
  ck_assert (ct_fault_proxy_set_offline (f->proxy, TRUE, NULL));
  {
    g_autoptr(CtAnswer) a = pay (f, card_no, 1000, "no-cap");

    ck_assert_msg (a->not_sent, "%s", a->reason);
    ck_assert_int_eq (a->reason_code, CT_CLIENT_ERROR_OFFLINE_REFUSED);
    ck_assert_uint_eq (ct_client_get_pending_count (f->client), 0);
  }

  /* The merchant allows 50.00 a payment, 80.00 a card. */
  ck_assert_int_eq (ct_test_service_admin (f->svc, NULL, "merchant", "set",
                                           "--offline-payment-cap", "50.00",
                                           "--offline-card-cap", "80.00", NULL), 0);
  ck_assert (ct_test_service_restart (f->svc, &error));
  ct_fault_proxy_set_upstream (f->proxy, ct_test_service_get_url (f->svc));
  ck_assert (ct_fault_proxy_set_offline (f->proxy, FALSE, NULL));
  ct_client_merchant_async (f->client, NULL, on_done, &w);
  merchant = ct_client_merchant_finish (f->client, wait_for (&w), &error);
  g_clear_object (&w.result);
  ck_assert_msg (merchant != NULL, "%s", error ? error->message : "");
  ck_assert_int_eq (merchant->offline_payment_cap, 5000);
  ck_assert_int_eq (merchant->offline_card_cap, 8000);

  ck_assert (ct_fault_proxy_set_offline (f->proxy, TRUE, NULL));
  {
    g_autoptr(CtAnswer) a1 = pay (f, card_no, 3000, "off-1");
    g_autoptr(CtAnswer) a2 = pay (f, card_no, 6000, "off-too-big");
    g_autoptr(CtAnswer) a3 = pay (f, card_no, 4000, "off-2");
    g_autoptr(CtAnswer) a4 = pay (f, card_no, 2000, "off-over-card-cap");

    ck_assert (a1->queued);
    ck_assert (a2->not_sent);
    ck_assert_int_eq (a2->reason_code, CT_CLIENT_ERROR_OFFLINE_REFUSED);
    ck_assert (a3->queued);
    ck_assert (a4->not_sent);
    ck_assert (strstr (a4->reason, "per card") != NULL);
  }
  ck_assert (ct_fault_proxy_set_offline (f->proxy, FALSE, NULL));
  ck_assert (ct_client_sync (f->client, 10000, NULL, NULL, &error));
  ck_assert_uint_eq (count_payments (f, card_no, NULL), 2);
  card = fetch_card (f, card_no);
  ck_assert_int_eq (card->balance, 23000 - 7000);
  assert_ledger_balanced (f);
  fixture_free (f);
}
END_TEST

START_TEST (test_client_refused_queued_request_needs_attention)
{
  Fixture *f = fixture_new (2000);
  g_autofree char *card_no = issue_card (f, "Frozen", 0);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s", card_no);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) attention = NULL;
  g_autoptr(GPtrArray) after = NULL;
  Wait w = { loop, NULL };
  CtOutboxEntry *e;
  g_autofree char *unused = NULL;

  ck_assert (ct_fault_proxy_set_offline (f->proxy, TRUE, NULL));
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *text = ct_wire_encode_topup_package ("p100", TRUE, 10000, 1000, NULL, "tester");
      g_autoptr(GBytes) body = g_bytes_new (text, strlen (text));
      g_autofree char *tpath = g_strdup_printf ("/v1/cards/%s/topups", card_no);
      CtRequestInfo info = { .kind = CT_OUTBOX_KIND_TOPUP, .card_no = card_no, .amount = 10000 };
      g_autoptr(CtAnswer) a = ct_client_request (f->client, "POST", tpath, NULL, body, &info,
                                                 NULL, NULL);

      ck_assert (a->queued);
    }
  /* Meanwhile a manager froze the card. */
  unused = direct (f, "PATCH", path, "freeze-1",
                   "{\"status\":\"frozen\",\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"}}", 200);
  ck_assert (ct_fault_proxy_set_offline (f->proxy, FALSE, NULL));
  ck_assert (ct_client_sync (f->client, 10000, NULL, NULL, &error));

  attention = ct_client_outbox_list (f->client, CT_OUTBOX_STATE_NEEDS_ATTENTION, NULL);
  ck_assert_uint_eq (attention->len, 2);
  e = g_ptr_array_index (attention, 0);
  ck_assert_msg (strstr (e->reason, "card_frozen") != NULL, "%s", e->reason);
  ck_assert_uint_eq (ct_client_get_attention_count (f->client), 2);

  /* Unfrozen, the second is re-sent as a new request by a manager. */
  {
    g_autofree char *unfreeze = direct (f, "PATCH", path, "unfreeze-1",
                                        "{\"status\":\"active\",\"manager\":{\"id\":\"m1\","
                                        "\"pin\":\"246813\"}}", 200);
    CtOutboxEntry *second = g_ptr_array_index (attention, 1);
    g_autoptr(CtReceipt) receipt = NULL;
    g_autoptr(CtCard) card = NULL;

    ct_client_resend_as_new_async (f->client, second->id, "m1", "246813", NULL, on_done, &w);
    receipt = ct_client_resend_as_new_finish (f->client, wait_for (&w), &error);
    g_clear_object (&w.result);
    ck_assert_msg (receipt != NULL, "%s", error ? error->message : "");
    ck_assert_int_eq (receipt->card->balance, 11000);
    ck_assert_str_ne (receipt->idempotency_key, second->idempotency_key);
    card = fetch_card (f, card_no);
    ck_assert_int_eq (card->balance, 11000);
  }

  ct_client_record_outcome_async (f->client, e->id, "m1", "cash returned to customer", NULL,
                                  on_done, &w);
  ck_assert (ct_client_record_outcome_finish (f->client, wait_for (&w), &error));
  g_clear_object (&w.result);
  after = ct_client_outbox_list (f->client, CT_OUTBOX_STATE_NEEDS_ATTENTION, NULL);
  ck_assert_uint_eq (after->len, 0);
  {
    g_autoptr(GPtrArray) resolved = ct_client_outbox_list (f->client, CT_OUTBOX_STATE_RESOLVED,
                                                           NULL);
    ck_assert_uint_eq (resolved->len, 2);
    ck_assert (strstr (((CtOutboxEntry *) g_ptr_array_index (resolved, 0))->reason,
                       "cash returned") != NULL);
    ck_assert (strstr (((CtOutboxEntry *) g_ptr_array_index (resolved, 1))->reason,
                       "re-sent as a new request") != NULL);
  }
  fixture_free (f);
}
END_TEST

START_TEST (test_client_typed_calls_report_service_refusals)
{
  Fixture *f = fixture_new (2000);
  g_autofree char *card_no = issue_card (f, "Typed", 0);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(CtReceipt) r = NULL;
  g_autoptr(CtReceipt) adj = NULL;
  g_autoptr(CtHistoryPage) page = NULL;
  g_autoptr(GPtrArray) found = NULL;
  Wait w = { loop, NULL };

  ct_client_pay_async (f->client, card_no, 100, NULL, NULL, on_done, &w);
  r = ct_client_pay_finish (f->client, wait_for (&w), &error);
  g_clear_object (&w.result);
  ck_assert_ptr_null (r);
  ck_assert (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INSUFFICIENT_BALANCE));
  g_clear_error (&error);

  ct_client_adjust_async (f->client, card_no, 500, "goodwill", "m1", "9999", NULL, on_done, &w);
  adj = ct_client_adjust_finish (f->client, wait_for (&w), &error);
  g_clear_object (&w.result);
  ck_assert_ptr_null (adj);
  ck_assert (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_FORBIDDEN));
  g_clear_error (&error);

  ct_client_card_find_async (f->client, NULL, "typ", NULL, on_done, &w);
  found = ct_client_card_find_finish (f->client, wait_for (&w), &error);
  g_clear_object (&w.result);
  ck_assert_ptr_nonnull (found);
  ck_assert_uint_eq (found->len, 1);

  ct_client_history_async (f->client, card_no, NULL, NULL, NULL, 0, NULL, on_done, &w);
  page = ct_client_history_finish (f->client, wait_for (&w), &error);
  g_clear_object (&w.result);
  ck_assert_ptr_nonnull (page);
  ck_assert_uint_eq (page->transactions->len, 0);

  ct_client_card_show_async (f->client, "12", NULL, on_done, &w);
  ck_assert_ptr_null (ct_client_card_show_finish (f->client, wait_for (&w), &error));
  g_clear_object (&w.result);
  ck_assert (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT));
  fixture_free (f);
}
END_TEST

START_TEST (test_client_same_key_again_settles_the_queued_entry)
{
  Fixture *f = fixture_new (2000);
  g_autofree char *card_no = issue_card (f, "Again", 1);
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card_no);
  const char *text = "{\"amount\":100,\"operator\":\"tester\"}";
  g_autoptr(GBytes) body = g_bytes_new_static (text, strlen (text));
  g_autoptr(GBytes) other = g_bytes_new_static ("{\"amount\":200,\"operator\":\"tester\"}", 34);
  CtRequestInfo info = { .kind = CT_OUTBOX_KIND_PAYMENT, .card_no = card_no, .amount = 100 };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtAnswer) first = NULL;
  g_autoptr(CtAnswer) again = NULL;
  g_autoptr(CtAnswer) reused = NULL;
  g_autoptr(CtCard) card = NULL;

  /* The first run dies with the request unsettled (here: a stalled answer
   * and a short patience), the rerun takes the same intent with its key. */
  {
    CtFaultWeights stall = { .stall = 1, .stall_ms = 2500 };
    CtRequestInfo quick = info;

    quick.wait_ms = 1;
    ct_fault_proxy_set_weights (f->proxy, &stall);
    first = ct_client_request (f->client, "POST", path, "run-1:pay", body, &quick, NULL, &error);
    ck_assert_ptr_nonnull (first);
    ck_assert (first->queued);
  }
  {
    CtFaultWeights pass = { .pass = 1 };

    ct_fault_proxy_set_weights (f->proxy, &pass);
  }
  reused = ct_client_request (f->client, "POST", path, "run-1:pay", other, &info, NULL, &error);
  ck_assert_ptr_null (reused);
  ck_assert (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT));
  g_clear_error (&error);
  again = ct_client_request (f->client, "POST", path, "run-1:pay", body, &info, NULL, &error);
  ck_assert_ptr_nonnull (again);
  ck_assert_int_eq (again->status, 201);
  ck_assert_uint_eq (count_payments (f, card_no, NULL), 1);
  card = fetch_card (f, card_no);
  ck_assert_int_eq (card->balance, 23000 - 100);
  fixture_free (f);
}
END_TEST

START_TEST (test_client_rate_limit_is_waited_out)
{
  const char * const serve_args[] = { "--rate-limit", "5", NULL };
  g_autoptr(GError) error = NULL;
  CtTestService *svc = ct_test_service_start_full (TRUE, serve_args, &error);
  g_autoptr(CtClientConfig) config = ct_client_config_new ();
  g_autofree char *dir = g_dir_make_tmp ("ct-client-XXXXXX", NULL);
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
  CtClient *client;
  guint ok = 0;
  gint64 t0;

  ck_assert_msg (svc != NULL, "%s", error ? error->message : "");
  config->service_url = g_strdup (ct_test_service_get_url (svc));
  config->token = g_strdup (ct_test_service_get_token (svc));
  config->ca_file = g_strdup (ct_test_service_get_ca_file (svc));
  config->pin_pubkey = g_strdup (ct_test_service_get_pin_pubkey (svc));
  config->data_dir = g_strdup (dir);
  client = ct_client_new (config, &error);
  ck_assert (ct_client_start (client, NULL, NULL, NULL, &error));

  /* Well over 5 requests a second: the 429s are waited out, each request
   * ends with the service's own answer (here: no such card). */
  t0 = g_get_monotonic_time ();
  for (int i = 0; i < 15; i++)
    {
      g_autoptr(CtAnswer) a = NULL;
      g_autofree char *text = ct_wire_encode_payment (100, NULL, 0, NULL, NULL, "t");
      g_autoptr(GBytes) body = g_bytes_new (text, strlen (text));
      CtRequestInfo info = { .kind = CT_OUTBOX_KIND_PAYMENT, .card_no = "NOPE1", .amount = 100 };

      a = ct_client_request (client, "POST", "/v1/cards/NOPE1/payments", NULL, body, &info, NULL,
                             &error);
      ck_assert_ptr_nonnull (a);
      ck_assert_msg (a->status == 404, "request %d: status %d %s", i, a->status,
                     a->reason ? a->reason : "");
      ok++;
    }
  ck_assert_uint_eq (ok, 15);
  /* 15 requests at 5 a second: the limit was met and waited for. */
  ck_assert_int_ge (g_get_monotonic_time () - t0, G_USEC_PER_SEC);
  ck_assert_uint_eq (ct_client_get_pending_count (client), 0);
  ct_client_shutdown (client);
  g_object_unref (client);
  ct_test_service_free (svc);
  ck_assert_int_eq (system (cmd), 0);
}
END_TEST

/* A second till on the same service: its own data directory. */
static CtClient *
second_till (Fixture *f, char **out_dir)
{
  g_autoptr(CtClientConfig) config = ct_client_config_new ();
  g_autoptr(GError) error = NULL;
  CtClient *client;

  *out_dir = g_dir_make_tmp ("ct-client-XXXXXX", NULL);
  config->service_url = g_strdup (ct_fault_proxy_get_url (f->proxy));
  config->token = g_strdup (ct_test_service_get_token (f->svc));
  config->data_dir = g_strdup (*out_dir);
  config->operator_name = g_strdup ("second");
  config->queue_wait_ms = 5000;
  client = ct_client_new (config, &error);
  ck_assert_msg (client != NULL, "%s", error ? error->message : "");
  ck_assert (ct_client_start (client, NULL, NULL, NULL, &error));
  return client;
}

static CtAnswer *
pay_on (CtClient *client, const char *card_no, int64_t amount)
{
  g_autofree char *text = ct_wire_encode_payment (amount, NULL, 0, NULL, NULL, "t");
  g_autoptr(GBytes) body = g_bytes_new (text, strlen (text));
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/payments", card_no);
  CtRequestInfo info = { .kind = CT_OUTBOX_KIND_PAYMENT, .card_no = card_no, .amount = amount };

  return ct_client_request (client, "POST", path, NULL, body, &info, NULL, NULL);
}

START_TEST (test_client_two_offline_tills_can_spend_the_same_balance)
{
  Fixture *f = fixture_new (2000);
  g_autofree char *card_no = NULL;
  g_autofree char *dir2 = NULL;
  g_autofree char *cmd = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCard) card = NULL;
  g_autoptr(GPtrArray) attention = NULL;
  CtClient *till2;

  ck_assert_int_eq (ct_test_service_admin (f->svc, NULL, "merchant", "set",
                                           "--offline-payment-cap", "200.00",
                                           "--offline-card-cap", "200.00", NULL), 0);
  ck_assert (ct_test_service_restart (f->svc, &error));
  ct_fault_proxy_set_upstream (f->proxy, ct_test_service_get_url (f->svc));
  card_no = issue_card (f, "Shared", 1);   /* 230.00 */
  till2 = second_till (f, &dir2);
  ck_assert (ct_client_start (f->client, NULL, NULL, NULL, &error));

  /* Both tills have seen the card (230.00) and the caps. */
  {
    g_autoptr(CtMerchant) m1 = ct_client_dup_merchant (f->client);
    g_autoptr(CtMerchant) m2 = ct_client_dup_merchant (till2);
    g_autoptr(CtAnswer) p1 = pay_on (f->client, card_no, 100);
    g_autoptr(CtAnswer) p2 = pay_on (till2, card_no, 100);

    ck_assert_int_eq (m1->offline_card_cap, 20000);
    ck_assert_int_eq (m2->offline_card_cap, 20000);
    ck_assert_int_eq (p1->status, 201);
    ck_assert_int_eq (p2->status, 201);
  }

  /* Offline, each till takes 150.00 from the 228.00 it knows. */
  ck_assert (ct_fault_proxy_set_offline (f->proxy, TRUE, NULL));
  {
    g_autoptr(CtAnswer) a1 = pay_on (f->client, card_no, 15000);
    g_autoptr(CtAnswer) a2 = pay_on (till2, card_no, 15000);

    ck_assert (a1->queued);
    ck_assert (a2->queued);
  }
  ck_assert (ct_fault_proxy_set_offline (f->proxy, FALSE, NULL));
  ck_assert (ct_client_sync (f->client, 10000, NULL, NULL, &error));
  ck_assert (ct_client_sync (till2, 10000, NULL, NULL, &error));

  /* The balance covered one: the other needs a manager. Never below zero. */
  card = fetch_card (f, card_no);
  ck_assert_int_eq (card->balance, 23000 - 200 - 15000);
  attention = ct_client_outbox_list (till2, CT_OUTBOX_STATE_NEEDS_ATTENTION, NULL);
  ck_assert_uint_eq (attention->len, 1);
  ck_assert (strstr (((CtOutboxEntry *) g_ptr_array_index (attention, 0))->reason,
                     "insufficient_balance") != NULL);
  assert_ledger_balanced (f);

  ct_client_shutdown (till2);
  g_object_unref (till2);
  cmd = g_strdup_printf ("rm -rf '%s'", dir2);
  ck_assert_int_eq (system (cmd), 0);
  fixture_free (f);
}
END_TEST

/* Cashiers */

static CtCashier *
sign_in (Fixture    *f,
         const char *id,
         const char *pin,
         GError    **error)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Wait w = { loop, NULL };
  CtCashier *cashier;

  ct_client_cashier_sign_in_async (f->client, id, pin, NULL, on_done, &w);
  cashier = ct_client_cashier_sign_in_finish (f->client, wait_for (&w), error);
  g_clear_object (&w.result);
  return cashier;
}

START_TEST (test_client_cashier_signs_in_online_then_offline_from_a_slow_hash)
{
  Fixture *f = fixture_new (2000);
  g_autofree char *pin_path = g_build_filename (f->data_dir, "c1.pin", NULL);
  g_autofree char *book_path = g_build_filename (f->data_dir, "cashiers.ini", NULL);
  g_autofree char *book = NULL;
  g_autoptr(CtCashier) online = NULL, offline = NULL;
  g_autoptr(CtMerchant) before = NULL, after = NULL;
  g_autoptr(GError) error = NULL;
  CtCashier *none;

  before = ct_client_dup_merchant (f->client);
  ck_assert (!before->cashier_sign_in);
  ck_assert (g_file_set_contents (pin_path, "135790\n", -1, NULL));
  ck_assert_int_eq (ct_test_service_admin (f->svc, NULL, "cashier", "add", "--id", "c1", "--name", "李娜",
                                           "--pin-file", pin_path, NULL), 0);
  {
    g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
    Wait w = { loop, NULL };

    ct_client_merchant_async (f->client, NULL, on_done, &w);
    after = ct_client_merchant_finish (f->client, wait_for (&w), &error);
    g_clear_object (&w.result);
    ck_assert_ptr_nonnull (after);
    ck_assert (after->cashier_sign_in);
  }

  /* Offline before any sign-in here: the till knows nobody. */
  ck_assert (ct_fault_proxy_set_offline (f->proxy, TRUE, NULL));
  none = sign_in (f, "c1", "135790", &error);
  ck_assert_ptr_null (none);
  ck_assert_msg (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_UNREACHABLE), "%s", error->message);
  g_clear_error (&error);
  ck_assert (ct_fault_proxy_set_offline (f->proxy, FALSE, NULL));

  none = sign_in (f, "c1", "000000", &error);
  ck_assert_ptr_null (none);
  ck_assert (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_FORBIDDEN));
  g_clear_error (&error);
  online = sign_in (f, "c1", "135790", &error);
  ck_assert_msg (online != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (online->name, "李娜");
  ck_assert (!online->offline);
  /* The till keeps a salted slow hash, never the PIN. */
  ck_assert (g_file_get_contents (book_path, &book, NULL, NULL));
  ck_assert_msg (strstr (book, "pbkdf2-sha256$60000$") != NULL && strstr (book, "135790") == NULL, "%s", book);

  ck_assert (ct_fault_proxy_set_offline (f->proxy, TRUE, NULL));
  offline = sign_in (f, "c1", "135790", &error);
  ck_assert_msg (offline != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (offline->name, "李娜");
  ck_assert (offline->offline);
  none = sign_in (f, "nobody", "135790", &error);
  ck_assert (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_UNREACHABLE));
  g_clear_error (&error);
  /* Wrong PINs offline lock the cashier as the service would. */
  for (int i = 0; i < CT_CASHIER_BOOK_MAX_FAILURES; i++)
    {
      none = sign_in (f, "c1", "111111", &error);
      ck_assert_ptr_null (none);
      ck_assert (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_FORBIDDEN));
      g_clear_error (&error);
    }
  none = sign_in (f, "c1", "135790", &error);
  ck_assert_ptr_null (none);
  ck_assert_msg (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_PIN_LOCKED), "%s", error->message);
  g_clear_error (&error);

  /* A cashier removed at the service is forgotten at the next online try. */
  ck_assert (ct_fault_proxy_set_offline (f->proxy, FALSE, NULL));
  ck_assert_int_eq (ct_test_service_admin (f->svc, NULL, "cashier", "remove", "--id", "c1", NULL), 0);
  none = sign_in (f, "c1", "135790", &error);
  ck_assert (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_FORBIDDEN));
  g_clear_error (&error);
  ck_assert (ct_fault_proxy_set_offline (f->proxy, TRUE, NULL));
  none = sign_in (f, "c1", "135790", &error);
  ck_assert (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_UNREACHABLE));
  fixture_free (f);
}
END_TEST

/* A service that takes the connection and never answers (frozen) is known
 * as offline within a few seconds, not at the request's ten-second timeout:
 * the top-up is queued and the look-up comes from the cache. A service that
 * is only slow (its health check quick) still answers online. */
START_TEST (test_client_hung_service_is_offline_quickly_a_slow_one_answers)
{
  Fixture *f = fixture_new (10000);
  g_autofree char *card_no = issue_card (f, "Hung", 0);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(CtMerchant) merchant = ct_client_dup_merchant (f->client);
  CtFaultWeights hang = { .pass = 1, .hang = TRUE };
  CtFaultWeights busy = { .pass = 1, .busy_ms = 3000 };
  CtFaultWeights pass = { .pass = 1 };
  const CtPackage *p100;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtReceipt) queued = NULL;
  g_autoptr(CtReceipt) slow = NULL;
  g_autoptr(CtCard) card = NULL;
  Wait w = { loop, NULL };
  guint settled = 0;
  gint64 t0, took;

  ck_assert_ptr_nonnull (merchant);
  p100 = ct_merchant_find_package (merchant, "p100");
  ck_assert_ptr_nonnull (p100);
  /* A warm keep-alive connection: the frozen service holds it open. */
  {
    g_autoptr(CtAnswer) a = ct_client_card_lookup (f->client, card_no, NULL, &error);

    ck_assert_msg (a != NULL && a->status == 200, "%s", error ? error->message : "");
  }

  ct_fault_proxy_set_weights (f->proxy, &hang);
  t0 = g_get_monotonic_time ();
  ct_client_topup_package_async (f->client, card_no, p100, NULL, on_done, &w);
  queued = ct_client_topup_finish (f->client, wait_for (&w), &error);
  took = (g_get_monotonic_time () - t0) / 1000;
  g_clear_object (&w.result);
  ck_assert_ptr_null (queued);
  ck_assert_msg (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_QUEUED), "%s",
                 error->message);
  g_clear_error (&error);
  /* About two seconds; the request's own timeout is ten. */
  ck_assert_msg (took < 6000, "the hung service took %" G_GINT64_FORMAT " ms to decide", took);
  {
    g_autoptr(CtAnswer) a = NULL;

    t0 = g_get_monotonic_time ();
    a = ct_client_card_lookup (f->client, card_no, NULL, &error);
    took = (g_get_monotonic_time () - t0) / 1000;
    ck_assert_msg (a != NULL && a->not_sent, "%s", error ? error->message : "");
    ck_assert_msg (took < 6000, "the look-up took %" G_GINT64_FORMAT " ms", took);
  }

  /* Slow but alive: the answer comes after three seconds, online. */
  ct_fault_proxy_set_weights (f->proxy, &busy);
  ck_assert (ct_client_sync (f->client, 20000, &settled, NULL, &error));
  ck_assert_uint_eq (settled, 1);
  ct_client_topup_package_async (f->client, card_no, p100, NULL, on_done, &w);
  slow = ct_client_topup_finish (f->client, wait_for (&w), &error);
  g_clear_object (&w.result);
  ck_assert_msg (slow != NULL, "%s", error ? error->message : "");

  ct_fault_proxy_set_weights (f->proxy, &pass);
  card = fetch_card (f, card_no);
  ck_assert_int_eq (card->balance, 22000);
  assert_ledger_balanced (f);
  fixture_free (f);
}
END_TEST

static gint
compare_taken_at (gconstpointer a,
                  gconstpointer b)
{
  const CtTransaction *x = *(CtTransaction * const *) a, *y = *(CtTransaction * const *) b;

  return g_strcmp0 (x->taken_at, y->taken_at);
}

/* A p100 top-up (10,000 and a 1,000 bonus) of @card_no through the
 * client core: queued when the service cannot be reached. */
static CtAnswer *
topup_p100 (Fixture *f, const char *card_no)
{
  static const char text[] = "{\"package_id\":\"p100\",\"operator\":\"tester\"}";
  g_autoptr(GBytes) body = g_bytes_new_static (text, strlen (text));
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/topups", card_no);
  CtRequestInfo info = { .kind = CT_OUTBOX_KIND_TOPUP, .card_no = card_no, .amount = 10000 };
  g_autoptr(GError) error = NULL;
  CtAnswer *answer = ct_client_request (f->client, "POST", path, NULL, body, &info, NULL, &error);

  ck_assert_msg (answer != NULL, "%s", error ? error->message : "");
  return answer;
}

/* The top-ups of @card_no, oldest taken first (element-type CtTransaction). */
static GPtrArray *
card_topups (Fixture *f, const char *card_no)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s/transactions?from=2000-01-01"
                                           "&to=2100-01-01&limit=500", card_no);
  g_autofree char *body = direct (f, "GET", path, NULL, NULL, 200);
  g_autoptr(CtHistoryPage) page = ct_wire_decode_history (body, strlen (body), NULL);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_transaction_free);

  ck_assert_ptr_nonnull (page);
  ck_assert_ptr_null (page->next_cursor);
  for (guint i = 0; i < page->transactions->len; i++)
    {
      CtTransaction *tx = g_ptr_array_index (page->transactions, i);

      if (tx->kind == CT_TRANSACTION_TOPUP)
        g_ptr_array_add (out, ct_transaction_copy (tx));
    }
  g_ptr_array_sort (out, compare_taken_at);
  return out;
}

static void
copy_file (const char *from,
           const char *to)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;

  ck_assert_msg (g_file_get_contents (from, &data, &len, &error), "%s", error->message);
  ck_assert_msg (g_file_set_contents (to, data, (gssize) len, &error), "%s", error->message);
}

/* A drain writes the removals of settled entries in batches, and sends a
 * card's next entry before its predecessor's removal is on the disk. A
 * crash (or a power cut) after the service settled them and before any
 * removal was written leaves every entry pending: they are sent again
 * with their own keys, the service answers what it stored, and nothing is
 * applied twice. */
START_TEST (test_client_lost_acknowledgements_replay_with_the_same_keys)
{
  enum { CARDS = 3, PER_CARD = 30 };  /* 90 entries: more than one batch */
  /* Two drains of 90 and the checks are more than a till's 50 requests a
   * second; the limit is not what this is about. */
  Fixture *f = fixture_new_with (2000, (const char * const[]) { "--rate-limit", "0", NULL });
  g_autofree char *outbox = g_build_filename (f->data_dir, "outbox.db", NULL);
  g_autofree char *wal = g_strconcat (outbox, "-wal", NULL);
  g_autofree char *shm = g_strconcat (outbox, "-shm", NULL);
  g_autofree char *saved = g_strconcat (outbox, ".saved", NULL);
  g_autofree char *saved_wal = g_strconcat (wal, ".saved", NULL);
  char *cards[CARDS];
  g_autoptr(GError) error = NULL;
  guint settled = 0;

  for (int c = 0; c < CARDS; c++)
    {
      g_autofree char *name = g_strdup_printf ("Acked%d", c);

      cards[c] = issue_card (f, name, 0);
    }
  ck_assert (ct_fault_proxy_set_offline (f->proxy, TRUE, NULL));
  for (int n = 0; n < PER_CARD; n++)
    for (int c = 0; c < CARDS; c++)
      {
        g_autoptr(CtAnswer) a = topup_p100 (f, cards[c]);

        ck_assert (a->queued);
      }
  ck_assert_uint_eq (ct_client_get_pending_count (f->client), CARDS * PER_CARD);

  /* The outbox as the till leaves it with everything queued. */
  client_restart (f);
  copy_file (outbox, saved);
  copy_file (wal, saved_wal);

  ck_assert (ct_fault_proxy_set_offline (f->proxy, FALSE, NULL));
  ck_assert_msg (ct_client_sync (f->client, 30000, &settled, NULL, &error), "%s",
                 error ? error->message : "");
  ck_assert_uint_eq (settled, CARDS * PER_CARD);
  ck_assert_uint_eq (ct_client_get_pending_count (f->client), 0);

  /* The crash: every removal lost. */
  ct_client_shutdown (f->client);
  g_clear_object (&f->client);
  copy_file (saved, outbox);
  copy_file (saved_wal, wal);
  ck_assert (g_unlink (shm) == 0 || errno == ENOENT);
  client_restart (f);
  ck_assert_uint_eq (ct_client_get_pending_count (f->client), CARDS * PER_CARD);

  ck_assert_msg (ct_client_sync (f->client, 30000, &settled, NULL, &error), "%s",
                 error ? error->message : "");
  ck_assert_uint_eq (settled, CARDS * PER_CARD);
  ck_assert_uint_eq (ct_client_get_pending_count (f->client), 0);
  for (int c = 0; c < CARDS; c++)
    {
      g_autoptr(CtCard) card = fetch_card (f, cards[c]);
      g_autoptr(GPtrArray) topups = card_topups (f, cards[c]);

      ck_assert_int_eq (card->balance, PER_CARD * 11000);
      ck_assert_uint_eq (topups->len, PER_CARD);
      g_free (cards[c]);
    }
  assert_ledger_balanced (f);
  fixture_free (f);
}
END_TEST

/* A card's entries taken after a shift was opened offline wait for the
 * opening, as the first entry of every card does: the service books each
 * top-up into the shift open on the till when it was taken. (The drain
 * sent a card's next entry as soon as the one before settled, ahead of
 * the shift's opening taken between them.) */
START_TEST (test_client_drain_keeps_a_cards_entries_behind_a_shift_taken_before_them)
{
  Fixture *f = fixture_new (2000);
  g_autofree char *card_no = issue_card (f, "Shifted", 0);
  g_autoptr(CtRequest) open = ct_request_shift_open (0, "tester");
  g_autoptr(CtAnswer) before = NULL;
  g_autoptr(CtAnswer) opened = NULL;
  g_autoptr(CtAnswer) after = NULL;
  g_autoptr(GPtrArray) topups = NULL;
  g_autoptr(GError) error = NULL;
  guint settled = 0;
  CtTransaction *first, *second;

  ck_assert (ct_fault_proxy_set_offline (f->proxy, TRUE, NULL));
  before = topup_p100 (f, card_no);
  ck_assert (before->queued);
  opened = ct_client_send (f->client, open, NULL, &error);
  ck_assert_msg (opened != NULL && opened->queued, "%s", error ? error->message : "not queued");
  after = topup_p100 (f, card_no);
  ck_assert (after->queued);

  ck_assert (ct_fault_proxy_set_offline (f->proxy, FALSE, NULL));
  ck_assert_msg (ct_client_sync (f->client, 30000, &settled, NULL, &error), "%s",
                 error ? error->message : "");
  ck_assert_uint_eq (settled, 3);

  topups = card_topups (f, card_no);
  ck_assert_uint_eq (topups->len, 2);
  first = g_ptr_array_index (topups, 0);
  second = g_ptr_array_index (topups, 1);
  ck_assert_ptr_null (first->shift_id);
  ck_assert_msg (second->shift_id != NULL, "the top-up taken after the shift opened was booked "
                 "outside it");
  assert_ledger_balanced (f);
  fixture_free (f);
}
END_TEST

/* Who heard the client's card-updated signal, and in which thread. */
typedef struct
{
  GThread *main;
  guint    in_main;
  guint    elsewhere;
} Heard;

static void
card_heard (CtClient *client,
            CtCard   *card,
            gpointer  data)
{
  Heard *heard = data;

  if (g_thread_self () == heard->main)
    heard->in_main++;
  else
    heard->elsewhere++;
}

typedef struct
{
  CtClient   *client;
  const char *card_no;
} Lookup;

static gpointer
lookup_thread (gpointer data)
{
  Lookup *lookup = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtAnswer) answer = ct_client_card_lookup (lookup->client, lookup->card_no, NULL, &error);

  ck_assert_msg (answer != NULL && answer->status == 200, "%s", error ? error->message : "no answer");
  return NULL;
}

/* A worker learns a card while the thread of the client's context does
 * not iterate it (a till's main thread between two iterations, busy with
 * a screen): the news waits for that thread. Emitted in the worker, the
 * screens listening would change there, beside the main thread. */
START_TEST (test_client_signals_come_in_the_thread_of_its_context)
{
  Fixture *f = fixture_new (5000);
  g_autofree char *card_no = issue_card (f, "Signals", 0);
  Heard heard = { .main = g_thread_self () };
  Lookup lookup = { f->client, card_no };

  g_signal_connect (f->client, "card-updated", G_CALLBACK (card_heard), &heard);
  g_thread_join (g_thread_new ("lookup", lookup_thread, &lookup));
  ck_assert_uint_eq (heard.elsewhere, 0);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  ck_assert_uint_eq (heard.elsewhere, 0);
  ck_assert_uint_ge (heard.in_main, 1);
  g_signal_handlers_disconnect_by_data (f->client, &heard);
  fixture_free (f);
}
END_TEST

static Suite *
client_suite (void)
{
  Suite *s = suite_create ("client");
  TCase *tc = tcase_create ("client");

  tcase_set_timeout (tc, 240);
  tcase_add_test (tc, test_client_offline_topup_is_queued_and_applied_once);
  tcase_add_test (tc, test_client_hung_service_is_offline_quickly_a_slow_one_answers);
  tcase_add_test (tc, test_client_old_entry_is_not_replayed_ahead_of_a_new_request);
  tcase_add_test (tc, test_client_offline_payment_needs_caps);
  tcase_add_test (tc, test_client_refused_queued_request_needs_attention);
  tcase_add_test (tc, test_client_typed_calls_report_service_refusals);
  tcase_add_test (tc, test_client_same_key_again_settles_the_queued_entry);
  tcase_add_test (tc, test_client_rate_limit_is_waited_out);
  tcase_add_test (tc, test_client_two_offline_tills_can_spend_the_same_balance);
  tcase_add_test (tc, test_client_500_payments_through_faults_apply_exactly_once);
  tcase_add_test (tc, test_client_cashier_signs_in_online_then_offline_from_a_slow_hash);
  tcase_add_test (tc, test_client_lost_acknowledgements_replay_with_the_same_keys);
  tcase_add_test (tc, test_client_drain_keeps_a_cards_entries_behind_a_shift_taken_before_them);
  suite_add_tcase (s, tc);

  tc = tcase_create ("signals");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_client_signals_come_in_the_thread_of_its_context);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (client_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
