/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-import-e2e"
#include "config.h"

#include <check.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-c/json.h>
#include <signal.h>
#include <string.h>

#include "ct-test-service.h"

/* The legacy import end to end: the real cardtill-cli against a real
 * cardtill-service over HTTPS on 127.0.0.1. */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (json_object, json_object_put)

typedef struct
{
  CtTestService *svc;
  char          *dir;       /* files of this test */
  char          *data_dir;  /* the CLI's outbox */
  char          *pin_file;
} Fixture;

static Fixture f;

static void
setup (void)
{
  g_autoptr(GError) error = NULL;

  f.svc = ct_test_service_start (TRUE, &error);
  ck_assert_msg (f.svc != NULL, "service: %s", error ? error->message : "");
  f.dir = g_dir_make_tmp ("ct-import-e2e-XXXXXX", NULL);
  f.data_dir = g_build_filename (f.dir, "till", NULL);
  f.pin_file = g_build_filename (f.dir, "pin", NULL);
  ck_assert (g_file_set_contents (f.pin_file, CT_TEST_SERVICE_MANAGER_PIN "\n", -1, NULL));
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) d = g_dir_open (path, 0, NULL);
  const char *name;

  if (d != NULL)
    while ((name = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
          remove_tree (child);
        else
          g_unlink (child);
      }
  g_rmdir (path);
}

static void
teardown (void)
{
  g_clear_pointer (&f.svc, ct_test_service_free);
  if (f.dir != NULL)
    remove_tree (f.dir);
  g_clear_pointer (&f.dir, g_free);
  g_clear_pointer (&f.data_dir, g_free);
  g_clear_pointer (&f.pin_file, g_free);
}

static char *
cli_binary (void)
{
  const char *top = g_getenv ("CT_TOP_BUILDDIR");

  return g_build_filename (top != NULL ? top : ".", "src", "cli", "cardtill-cli", NULL);
}

static char *
fixture_path (const char *name)
{
  const char *top = g_getenv ("CT_TOP_SRCDIR");

  return g_build_filename (top != NULL ? top : ".", "tests", "fixtures", "import", name, NULL);
}

static GSubprocess *
spawn_cli (const char * const *args,
           GError            **error)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE
                               | G_SUBPROCESS_FLAGS_STDIN_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);

  g_subprocess_launcher_setenv (launcher, "CARDTILL_SERVICE", ct_test_service_get_url (f.svc), TRUE);
  g_subprocess_launcher_setenv (launcher, "CARDTILL_TOKEN", ct_test_service_get_token (f.svc), TRUE);
  g_subprocess_launcher_setenv (launcher, "CARDTILL_CA", ct_test_service_get_ca_file (f.svc), TRUE);
  g_subprocess_launcher_setenv (launcher, "CARDTILL_DATA_DIR", f.data_dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "CARDTILL_QUEUE_WAIT_MS", "3000", TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", f.dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  g_ptr_array_add (argv, cli_binary ());
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);
  return g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, error);
}

/* Runs cardtill-cli with @args; returns its exit status. */
static int
run_cli (char              **out_stdout,
         char              **out_stderr,
         const char * const *args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = spawn_cli (args, &error);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  ck_assert_msg (proc != NULL, "spawn: %s", error ? error->message : "");
  ck_assert (g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, &err, &error));
  ck_assert (g_subprocess_get_if_exited (proc));
  if (out_stdout != NULL)
    *out_stdout = g_steal_pointer (&out);
  if (out_stderr != NULL)
    *out_stderr = g_steal_pointer (&err);
  else
    g_printerr ("%s", err);
  return g_subprocess_get_exit_status (proc);
}

/* A file of @n good rows (cards LG<prefix><n>), plus @bad extra bad rows at
 * the end; returns its path, its total balance and total points. */
static char *
write_rows (const char *name,
            const char *prefix,
            guint       n,
            guint       bad,
            int64_t    *out_total,
            int64_t    *out_points)
{
  g_autofree char *path = g_build_filename (f.dir, name, NULL);
  g_autoptr(GString) data = g_string_new ("card_no,name,phone,balance,points,level\n");
  int64_t total = 0, points = 0;

  for (guint i = 0; i < n; i++)
    {
      guint fen = (i * 7919u) % 100000u;

      g_string_append_printf (data, "%s%07u,Member %u,138%08u,%u.%02u,%u,gold\n", prefix, i, i, i,
                              fen / 100, fen % 100, i % 50);
      total += fen;
      points += i % 50;
    }
  for (guint i = 0; i < bad; i++)
    g_string_append_printf (data, "%sBAD%u,Bad,,-1.00,0,\n", prefix, i);
  ck_assert (g_file_set_contents (path, data->str, data->len, NULL));
  if (out_total != NULL)
    *out_total = total;
  if (out_points != NULL)
    *out_points = points;
  return g_steal_pointer (&path);
}

static char *
file_sha256 (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len;

  ck_assert (g_file_get_contents (path, &contents, &len, NULL));
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, len);
}

static json_object *
get_json (const char *path,
          long        expect_status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtTestResponse) resp = ct_test_http (f.svc, "GET", path, NULL, NULL, &error);
  json_object *obj;

  ck_assert_msg (resp != NULL, "GET %s: %s", path, error ? error->message : "");
  ck_assert_msg (resp->status == expect_status, "GET %s: %ld %s", path, resp->status, resp->body);
  obj = json_tokener_parse (resp->body);
  ck_assert_ptr_nonnull (obj);
  return obj;
}

static int64_t
json_int (json_object *obj,
          const char  *key)
{
  json_object *v = NULL;

  ck_assert_msg (json_object_object_get_ex (obj, key, &v) && v != NULL, "no %s", key);
  return json_object_get_int64 (v);
}

static void
assert_ledger_balanced (int64_t expect_cards)
{
  g_autoptr(json_object) check = get_json ("/v1/ledger/check", 200);

  json_object *balanced = NULL;

  ck_assert_int_eq (json_int (check, "sum"), 0);
  ck_assert_int_eq (json_int (check, "cards"), expect_cards);
  ck_assert_int_eq (json_int (check, "legacy"), -expect_cards);
  /* Every account's balance equals the sum of its postings. */
  ck_assert (json_object_object_get_ex (check, "balanced", &balanced));
  ck_assert (json_object_get_boolean (balanced));
}

static int64_t
batch_accepted (const char *batch_id)
{
  g_autofree char *path = g_strdup_printf ("/v1/imports/%s", batch_id);
  g_autoptr(GError) error = NULL;
  g_autoptr(CtTestResponse) resp = ct_test_http (f.svc, "GET", path, NULL, NULL, &error);
  g_autoptr(json_object) obj = NULL;

  if (resp == NULL || resp->status != 200)
    return 0;
  obj = json_tokener_parse (resp->body);
  return obj != NULL ? json_int (obj, "rows_accepted") : 0;
}

static guint
count_lines_starting (const char *text,
                      const char *prefix)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      n++;
  return n;
}

START_TEST (test_import_e2e_cli_import_then_ledger_check)
{
  int64_t total, points;
  g_autofree char *csv = write_rows ("members.csv", "LG", 12345, 3, &total, &points);
  g_autofree char *report = g_build_filename (f.dir, "report.csv", NULL);
  g_autofree char *batch = file_sha256 (csv);
  g_autofree char *batch_path = g_strdup_printf ("/v1/imports/%s", batch);
  g_autofree char *out = NULL;
  g_autofree char *report_text = NULL;
  g_autofree char *total_line = NULL;
  g_autoptr(json_object) summary = NULL;
  g_autoptr(json_object) card = NULL;
  const char *args[] = { "import", csv, "--manager", CT_TEST_SERVICE_MANAGER_ID,
                         "--pin-file", f.pin_file, "--report", report, NULL };
  int status = run_cli (&out, NULL, args);

  /* Three rows were rejected, the rest went in: exit 2. */
  ck_assert_msg (status == 2, "exit %d\n%s", status, out);
  ck_assert_uint_eq (count_lines_starting (out, "line "), 3);
  ck_assert_msg (strstr (out, "line 12347: the balance “-1.00” is negative") != NULL, "%s", out);
  ck_assert_msg (strstr (out, "accepted 12345\n") != NULL, "%s", out);
  ck_assert_msg (strstr (out, "rejected 3\n") != NULL, "%s", out);
  total_line = g_strdup_printf ("total balance %" G_GINT64_FORMAT ".%02d\n", total / 100,
                                (int) (total % 100));
  ck_assert_msg (strstr (out, total_line) != NULL, "%s", out);

  summary = get_json (batch_path, 200);
  ck_assert_int_eq (json_int (summary, "rows_accepted"), 12345);
  ck_assert_int_eq (json_int (summary, "total_balance"), total);
  assert_ledger_balanced (total);

  card = get_json ("/v1/cards/LG0000007", 200);
  ck_assert_int_eq (json_int (card, "balance"), (7 * 7919) % 100000);
  ck_assert_int_eq (json_int (card, "points"), 7);

  ck_assert (g_file_get_contents (report, &report_text, NULL, NULL));
  ck_assert (g_str_has_prefix (report_text, "\xEF\xBB\xBF" "line,card_no,code,reason\r\n"));
  ck_assert_uint_eq (count_lines_starting (report_text, "1234"), 3);
  ck_assert_msg (strstr (report_text, "12347,LGBAD0,invalid_amount,") != NULL, "%s", report_text);
}
END_TEST

START_TEST (test_import_e2e_rerun_on_complete_batch_changes_nothing)
{
  int64_t total;
  g_autofree char *csv = write_rows ("members.csv", "RR", 7000, 0, &total, NULL);
  g_autofree char *batch = file_sha256 (csv);
  g_autofree char *out1 = NULL;
  g_autofree char *out2 = NULL;
  g_autofree char *err2 = NULL;
  g_autoptr(json_object) history = NULL;
  json_object *txs = NULL;
  const char *args[] = { "import", csv, "--manager", CT_TEST_SERVICE_MANAGER_ID,
                         "--pin-file", f.pin_file, NULL };

  ck_assert_int_eq (run_cli (&out1, NULL, args), 0);
  assert_ledger_balanced (total);
  ck_assert_int_eq (batch_accepted (batch), 7000);

  g_clear_pointer (&err2, g_free);
  ck_assert_int_eq (run_cli (&out2, &err2, args), 0);
  ck_assert_str_eq (out1, out2);
  ck_assert_msg (strstr (err2, "the service holds 7000 rows of this batch") != NULL, "%s", err2);
  assert_ledger_balanced (total);
  ck_assert_int_eq (batch_accepted (batch), 7000);

  history = get_json ("/v1/cards/RR0006999/transactions", 200);
  ck_assert (json_object_object_get_ex (history, "transactions", &txs));
  ck_assert_uint_eq (json_object_array_length (txs), 1);
  {
    json_object *tx = json_object_array_get_idx (txs, 0), *v = NULL;

    ck_assert (json_object_object_get_ex (tx, "kind", &v));
    ck_assert_str_eq (json_object_get_string (v), "import");
    ck_assert (json_object_object_get_ex (tx, "manager", &v));
    ck_assert_str_eq (json_object_get_string (v), CT_TEST_SERVICE_MANAGER_ID);
    ck_assert (json_object_object_get_ex (tx, "operator", &v));
    ck_assert_ptr_nonnull (v);
    ck_assert (json_object_object_get_ex (tx, "order_ref", &v));
    ck_assert_str_eq (json_object_get_string (v), batch);
  }
}
END_TEST

START_TEST (test_import_e2e_killed_midway_then_rerun_imports_each_balance_once)
{
  const guint n = 150000;
  int64_t total;
  g_autofree char *csv = write_rows ("big.csv", "KL", n, 0, &total, NULL);
  g_autofree char *batch = file_sha256 (csv);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(json_object) history = NULL;
  json_object *txs = NULL;
  const char *args[] = { "import", csv, "--manager", CT_TEST_SERVICE_MANAGER_ID,
                         "--pin-file", f.pin_file, NULL };
  int64_t before_kill = 0;
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  proc = spawn_cli (args, &error);
  ck_assert_ptr_nonnull (proc);
  /* Kill it as soon as some chunks are in. */
  while ((before_kill = batch_accepted (batch)) == 0 && g_get_monotonic_time () < deadline)
    g_usleep (5000);
  g_subprocess_send_signal (proc, SIGKILL);
  ck_assert (g_subprocess_wait (proc, NULL, NULL));
  before_kill = batch_accepted (batch);
  ck_assert_msg (before_kill > 0 && before_kill < n,
                 "the import should have been cut midway: %" G_GINT64_FORMAT " of %u", before_kill, n);

  /* The rerun resumes: every balance exactly once. */
  ck_assert_int_eq (run_cli (NULL, NULL, args), 0);
  ck_assert_int_eq (batch_accepted (batch), n);
  assert_ledger_balanced (total);
  history = get_json ("/v1/cards/KL0000001/transactions", 200);
  ck_assert (json_object_object_get_ex (history, "transactions", &txs));
  ck_assert_uint_eq (json_object_array_length (txs), 1);
}
END_TEST

START_TEST (test_import_e2e_service_killed_midway_then_rerun_imports_each_balance_once)
{
  const guint n = 150000;
  int64_t total;
  g_autofree char *csv = write_rows ("big.csv", "SK", n, 0, &total, NULL);
  g_autofree char *batch = file_sha256 (csv);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  const char *args[] = { "import", csv, "--manager", CT_TEST_SERVICE_MANAGER_ID,
                         "--pin-file", f.pin_file, NULL };
  const char *json_args[] = { "--json", "import", csv, "--manager", CT_TEST_SERVICE_MANAGER_ID,
                              "--pin-file", f.pin_file, NULL };
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(json_object) last = NULL;
  json_object *v = NULL;
  int64_t before;
  int status;

  proc = spawn_cli (json_args, &error);
  ck_assert_ptr_nonnull (proc);
  while (batch_accepted (batch) == 0 && g_get_monotonic_time () < deadline)
    g_usleep (5000);
  /* The service dies mid-import: the till cannot settle the chunk in flight. */
  ct_test_service_kill (f.svc);
  ck_assert (g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL, NULL));
  status = g_subprocess_get_exit_status (proc);
  ck_assert_msg (status == 3 || status == 5, "exit %d", status);
  /* --json ends with the chunk that got no answer, as every command says it. */
  g_strstrip (out);
  lines = g_strsplit (out, "\n", -1);
  last = json_tokener_parse (lines[g_strv_length (lines) - 1]);
  ck_assert_msg (last != NULL, "%s", out);
  ck_assert (json_object_object_get_ex (last, "queued", &v));
  ck_assert (json_object_object_get_ex (last, "code", &v));

  ck_assert_msg (ct_test_service_restart (f.svc, &error), "%s", error ? error->message : "");
  before = batch_accepted (batch);
  ck_assert_msg (before > 0 && before < n, "%" G_GINT64_FORMAT, before);
  ck_assert_int_eq (run_cli (NULL, NULL, args), 0);
  ck_assert_int_eq (batch_accepted (batch), n);
  assert_ledger_balanced (total);
}
END_TEST

START_TEST (test_import_e2e_card_from_another_batch_is_card_exists)
{
  int64_t total_a;
  g_autofree char *a = write_rows ("a.csv", "CE", 10, 0, &total_a, NULL);
  g_autofree char *batch_a = file_sha256 (a);
  g_autofree char *b = g_build_filename (f.dir, "b.csv", NULL);
  g_autofree char *report = g_build_filename (f.dir, "report.csv", NULL);
  g_autofree char *out = NULL;
  g_autofree char *report_text = NULL;
  g_autofree char *expected = NULL;
  const char *args_a[] = { "import", a, "--manager", CT_TEST_SERVICE_MANAGER_ID,
                           "--pin-file", f.pin_file, NULL };
  const char *args_b[] = { "import", b, "--manager", CT_TEST_SERVICE_MANAGER_ID,
                           "--pin-file", f.pin_file, "--report", report, NULL };

  ck_assert_int_eq (run_cli (NULL, NULL, args_a), 0);
  ck_assert (g_file_set_contents (b, "卡号,余额\nCE0000003,5.00\nNEW00001,2.50\n", -1, NULL));
  ck_assert_int_eq (run_cli (&out, NULL, args_b), 2);
  expected = g_strdup_printf ("line 2: Card CE0000003 already exists: batch %s imported it", batch_a);
  ck_assert_msg (strstr (out, expected) != NULL, "%s", out);
  ck_assert_msg (strstr (out, "accepted 1\n") != NULL, "%s", out);
  assert_ledger_balanced (total_a + 250);
  ck_assert (g_file_get_contents (report, &report_text, NULL, NULL));
  ck_assert_msg (strstr (report_text, "2,CE0000003,card_exists,") != NULL, "%s", report_text);
}
END_TEST

START_TEST (test_import_e2e_dry_run_sends_nothing)
{
  g_autofree char *csv = fixture_path ("bad-rows.csv");
  g_autofree char *expected_path = fixture_path ("bad-rows.csv.dry-run");
  g_autofree char *expected = NULL;
  g_autofree char *batch = file_sha256 (csv);
  g_autofree char *batch_path = g_strdup_printf ("/v1/imports/%s", batch);
  g_autofree char *out = NULL;
  g_autoptr(json_object) missing = NULL;
  const char *args[] = { "import", csv, "--dry-run", NULL };

  ck_assert (g_file_get_contents (expected_path, &expected, NULL, NULL));
  ck_assert_int_eq (run_cli (&out, NULL, args), 2);
  ck_assert_str_eq (out, expected);
  missing = get_json (batch_path, 404);
  assert_ledger_balanced (0);
}
END_TEST

START_TEST (test_import_e2e_gb18030_names_arrive_intact)
{
  g_autofree char *csv = fixture_path ("gb18030-chinese.csv");
  g_autofree char *out = NULL;
  g_autoptr(json_object) card = NULL;
  json_object *member = NULL, *name = NULL;
  const char *args[] = { "import", csv, "--manager", CT_TEST_SERVICE_MANAGER_ID,
                         "--pin-file", f.pin_file, NULL };

  ck_assert_int_eq (run_cli (&out, NULL, args), 0);
  card = get_json ("/v1/cards/G3002", 200);
  ck_assert (json_object_object_get_ex (card, "member", &member));
  ck_assert (json_object_object_get_ex (member, "name", &name));
  ck_assert_str_eq (json_object_get_string (name), "欧阳娜娜");
  ck_assert_int_eq (json_int (card, "balance"), 120000);
  assert_ledger_balanced (125750);
}
END_TEST

START_TEST (test_import_e2e_wrong_pin_then_right_pin_imports)
{
  int64_t total;
  g_autofree char *csv = write_rows ("members.csv", "WP", 20, 0, &total, NULL);
  g_autofree char *wrong = g_build_filename (f.dir, "wrong-pin", NULL);
  g_autofree char *err = NULL;
  const char *bad_args[] = { "import", csv, "--manager", CT_TEST_SERVICE_MANAGER_ID,
                             "--pin-file", wrong, NULL };
  const char *good_args[] = { "import", csv, "--manager", CT_TEST_SERVICE_MANAGER_ID,
                              "--pin-file", f.pin_file, NULL };

  ck_assert (g_file_set_contents (wrong, "0000\n", -1, NULL));
  ck_assert_int_eq (run_cli (NULL, &err, bad_args), 2);
  ck_assert_msg (strstr (err, "forbidden") != NULL, "%s", err);
  assert_ledger_balanced (0);
  /* Another wrong PIN: the first key's stored refusal is passed over,
   * the next key is refused anew. */
  g_clear_pointer (&err, g_free);
  ck_assert (g_file_set_contents (wrong, "1111\n", -1, NULL));
  ck_assert_int_eq (run_cli (NULL, &err, bad_args), 2);
  ck_assert_msg (strstr (err, "forbidden") != NULL, "%s", err);
  assert_ledger_balanced (0);
  /* The service leaves the PIN out of a request's identity, so the chunk
   * keys now hold the refusals; the corrected PIN still imports, once,
   * under the next key. */
  ck_assert_int_eq (run_cli (NULL, NULL, good_args), 0);
  assert_ledger_balanced (total);
  ck_assert_int_eq (run_cli (NULL, NULL, good_args), 0);
  assert_ledger_balanced (total);
  /* One chunk, three keys, none derived from a PIN. */
  {
    g_autoptr(CtTestDb) db = ct_test_db_open (ct_test_service_get_db_path (f.svc));
    g_autoptr(GPtrArray) keys = ct_test_db_query (db, "SELECT key FROM idempotency WHERE key LIKE 'import:%' "
                                                      "ORDER BY length(key), key");

    ck_assert (keys != NULL);
    ck_assert_int_eq (keys->len, 3);
    ck_assert (g_str_has_suffix (((char **) keys->pdata[0])[0], ":1"));
    ck_assert (g_str_has_suffix (((char **) keys->pdata[1])[0], ":1:2"));
    ck_assert (g_str_has_suffix (((char **) keys->pdata[2])[0], ":1:3"));
  }
}
END_TEST

START_TEST (test_import_e2e_bad_files_are_refused_before_sending)
{
  const char *fixtures[] = { "binary.csv", "unclosed-quote.csv", "missing-balance.csv",
                             "header-only.csv", "neither-encoding.csv" };

  for (guint i = 0; i < G_N_ELEMENTS (fixtures); i++)
    {
      g_autofree char *csv = fixture_path (fixtures[i]);
      g_autofree char *err = NULL;
      const char *args[] = { "import", csv, "--manager", CT_TEST_SERVICE_MANAGER_ID,
                             "--pin-file", f.pin_file, NULL };

      ck_assert_msg (run_cli (NULL, &err, args) == 1, "%s: %s", fixtures[i], err);
      ck_assert_msg (g_str_has_prefix (err, "cardtill-cli: "), "%s: %s", fixtures[i], err);
    }
  assert_ledger_balanced (0);
}
END_TEST

START_TEST (test_import_e2e_map_option_and_json_answers)
{
  g_autofree char *csv = fixture_path ("custom-headers.csv");
  g_autofree char *out = NULL;
  g_autoptr(json_object) card = NULL;
  g_autoptr(json_object) answer = NULL;
  const char *args[] = { "--json", "import", csv, "--map", "Member ID=card_no", "--map", "Full Name=name",
                         "--map", "Stored Value=balance", "--map", "Pts=points",
                         "--manager", CT_TEST_SERVICE_MANAGER_ID, "--pin-file", f.pin_file, NULL };
  const char *unmapped[] = { "import", csv, "--dry-run", NULL };
  g_autofree char *err = NULL;

  /* Without the mapping the file has no card number column: refused before sending. */
  ck_assert_int_eq (run_cli (NULL, &err, unmapped), 1);
  ck_assert_msg (strstr (err, "card_no") != NULL, "%s", err);

  /* --json prints each chunk's answer exactly as the service sent it. */
  ck_assert_int_eq (run_cli (&out, NULL, args), 0);
  g_strstrip (out);
  answer = json_tokener_parse (out);
  ck_assert_msg (answer != NULL, "%s", out);
  ck_assert_int_eq (json_int (answer, "accepted"), 1);
  card = get_json ("/v1/cards/KAY1", 200);
  ck_assert_int_eq (json_int (card, "balance"), 990);
  ck_assert_int_eq (json_int (card, "points"), 4);
  assert_ledger_balanced (990);
}
END_TEST

/* The endpoint itself, without the CLI. */
START_TEST (test_import_e2e_api_checks_requests_and_rows)
{
  g_autoptr(CtTestClient) client = ct_test_client_new (f.svc);
  g_autoptr(GError) error = NULL;
  const char *good =
    "{\"batch_id\":\"b1\",\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"},\"rows\":["
    "{\"line\":2,\"card_no\":\"api001\",\"name\":\"A\",\"phone\":\"13800138000\",\"balance\":1000,\"points\":5,\"level\":null},"
    "{\"line\":3,\"card_no\":\"8888123456789015\",\"balance\":5},"
    "{\"line\":4,\"card_no\":\"DUPL\",\"balance\":1},{\"line\":5,\"card_no\":\"dupl\",\"balance\":2},"
    "{\"line\":6,\"card_no\":\"NEGA\",\"balance\":-1}]}";
  struct { const char *body; long status; const char *code; } refusals[] = {
    { "{\"batch_id\":\"b2\",\"rows\":[{\"line\":2,\"card_no\":\"ZZZZ1\",\"balance\":1}]}", 400, "bad_request" },
    { "{\"batch_id\":\"b2\",\"manager\":{\"id\":\"m1\",\"pin\":\"0000\"},\"rows\":[{\"line\":2,\"card_no\":\"ZZZZ1\",\"balance\":1}]}", 403, "forbidden" },
    { "{\"batch_id\":\"b2\",\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"},\"rows\":[{\"line\":2,\"card_no\":\"ZZZZ1\",\"balance\":\"100\"}]}", 400, "bad_request" },
    { "{\"batch_id\":\"b2\",\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"},\"rows\":[{\"line\":2,\"card_no\":\"ZZZZ1\",\"balance\":1e3}]}", 400, "bad_request" },
    { "{\"batch_id\":\"b2\",\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"},\"rows\":[{\"line\":2,\"card_no\":\"ZZZZ1\",\"balance\":1,\"bonus\":1}]}", 400, "bad_request" },
    { "{\"batch_id\":\"b2\",\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"},\"rows\":[]}", 400, "bad_request" },
    { "{\"batch_id\":\"b 2\",\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"},\"rows\":[{\"line\":2,\"card_no\":\"ZZZZ1\",\"balance\":1}]}", 400, "bad_request" },
  };
  g_autoptr(CtTestResponse) first = NULL;
  g_autoptr(CtTestResponse) replay = NULL;
  g_autoptr(json_object) answer = NULL;
  g_autoptr(json_object) summary = NULL;
  g_autoptr(json_object) missing = NULL;
  json_object *rejected;
  const char *codes[] = { "invalid_card_no", "duplicate_card_no", "duplicate_card_no", "invalid_amount" };

  first = ct_test_client_request (client, "POST", "/v1/imports", "api-1", good, &error);
  ck_assert_ptr_nonnull (first);
  ck_assert_msg (first->status == 200, "%ld %s", first->status, first->body);
  answer = json_tokener_parse (first->body);
  ck_assert_int_eq (json_int (answer, "accepted"), 1);
  ck_assert (json_object_object_get_ex (answer, "rejected", &rejected));
  ck_assert_uint_eq (json_object_array_length (rejected), 4);
  for (guint i = 0; i < 4; i++)
    {
      json_object *code = NULL;

      json_object_object_get_ex (json_object_array_get_idx (rejected, i), "code", &code);
      ck_assert_str_eq (json_object_get_string (code), codes[i]);
    }

  replay = ct_test_client_request (client, "POST", "/v1/imports", "api-1", good, &error);
  ck_assert_str_eq (replay->body, first->body);
  ck_assert_str_eq (ct_test_response_header (replay, "idempotent-replayed"), "true");

  for (guint i = 0; i < G_N_ELEMENTS (refusals); i++)
    {
      g_autofree char *key = g_strdup_printf ("api-r%u", i);
      g_autoptr(CtTestResponse) r = ct_test_client_request (client, "POST", "/v1/imports", key,
                                                            refusals[i].body, &error);
      g_autofree char *code = NULL;

      ck_assert_ptr_nonnull (r);
      code = ct_test_response_error_code (r);
      ck_assert_msg (r->status == refusals[i].status && g_strcmp0 (code, refusals[i].code) == 0,
                     "case %u: %ld %s", i, r->status, r->body);
    }

  summary = get_json ("/v1/imports/b1", 200);
  ck_assert_int_eq (json_int (summary, "rows_accepted"), 1);
  ck_assert_int_eq (json_int (summary, "rows_rejected"), 4);
  ck_assert_int_eq (json_int (summary, "total_balance"), 1000);
  missing = get_json ("/v1/imports/never", 404);
  assert_ledger_balanced (1000);
}
END_TEST

START_TEST (test_import_e2e_api_refuses_more_than_5000_rows)
{
  g_autoptr(CtTestClient) client = ct_test_client_new (f.svc);
  g_autoptr(GString) body = g_string_new ("{\"batch_id\":\"big\",\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"},\"rows\":[");
  g_autoptr(CtTestResponse) r = NULL;
  g_autofree char *code = NULL;

  for (guint i = 0; i < 5001; i++)
    g_string_append_printf (body, "%s{\"line\":%u,\"card_no\":\"BIG%05u\",\"balance\":1}",
                            i ? "," : "", i + 2, i);
  g_string_append (body, "]}");
  r = ct_test_client_request (client, "POST", "/v1/imports", "big-1", body->str, NULL);
  ck_assert_ptr_nonnull (r);
  code = ct_test_response_error_code (r);
  ck_assert_int_eq (r->status, 400);
  ck_assert_str_eq (code, "bad_request");
  assert_ledger_balanced (0);
}
END_TEST

static Suite *
import_e2e_suite (void)
{
  Suite *s = suite_create ("import-e2e");
  TCase *tc = tcase_create ("api");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_import_e2e_api_checks_requests_and_rows);
  tcase_add_test (tc, test_import_e2e_api_refuses_more_than_5000_rows);
  suite_add_tcase (s, tc);

  tc = tcase_create ("cli");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 180);
  tcase_add_test (tc, test_import_e2e_cli_import_then_ledger_check);
  tcase_add_test (tc, test_import_e2e_rerun_on_complete_batch_changes_nothing);
  tcase_add_test (tc, test_import_e2e_killed_midway_then_rerun_imports_each_balance_once);
  tcase_add_test (tc, test_import_e2e_service_killed_midway_then_rerun_imports_each_balance_once);
  tcase_add_test (tc, test_import_e2e_card_from_another_batch_is_card_exists);
  tcase_add_test (tc, test_import_e2e_dry_run_sends_nothing);
  tcase_add_test (tc, test_import_e2e_gb18030_names_arrive_intact);
  tcase_add_test (tc, test_import_e2e_wrong_pin_then_right_pin_imports);
  tcase_add_test (tc, test_import_e2e_bad_files_are_refused_before_sending);
  tcase_add_test (tc, test_import_e2e_map_option_and_json_answers);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *runner = srunner_create (import_e2e_suite ());
  int failed;

  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
