/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-cli"
#include "config.h"

#include <check.h>
#include <poll.h>
#include <pty.h>
#include <json-c/json.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "ct-client.h"
#include "ct-fault-proxy.h"
#include "ct-test-service.h"
#include "ct-wire.h"

/* cardtill-cli, the real binary, against a real cardtill-service: every
 * command and exit status, offline queueing, kill -9 in a payment loop. */

typedef struct
{
  CtTestService *svc;
  CtFaultProxy  *proxy;     /* NULL: straight to the service over HTTPS */
  char          *dir;       /* data dir and config home */
  char          *pin_file;  /* the manager's PIN */
  char          *bad_pin_file;
  const char    *timeout_ms; /* CARDTILL_TIMEOUT_MS; NULL: 2000 */
} Till;

typedef struct
{
  int   status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *r)
{
  g_clear_pointer (&r->out, g_free);
  g_clear_pointer (&r->err, g_free);
}

static const char *
cli_binary (void)
{
  static char *path;

  if (path == NULL)
    path = g_build_filename (g_getenv ("CT_TOP_BUILDDIR"), "src", "cli", "cardtill-cli", NULL);
  return path;
}

static char **
till_env (Till *t)
{
  char **env = g_get_environ ();
  g_autofree char *data = g_build_filename (t->dir, "data", NULL);
  g_autofree char *config = g_build_filename (t->dir, "config", NULL);

  env = g_environ_unsetenv (env, "CARDTILL_SERVICE");
  env = g_environ_unsetenv (env, "CARDTILL_CA");
  env = g_environ_unsetenv (env, "CARDTILL_PIN_PUBKEY");
  env = g_environ_unsetenv (env, "CARDTILL_TOKEN");
  env = g_environ_setenv (env, "CARDTILL_DATA_DIR", data, TRUE);
  env = g_environ_setenv (env, "XDG_CONFIG_HOME", config, TRUE);
  env = g_environ_setenv (env, "CARDTILL_QUEUE_WAIT_MS", "3000", TRUE);
  env = g_environ_setenv (env, "CARDTILL_TIMEOUT_MS", t->timeout_ms ? t->timeout_ms : "2000", TRUE);
  if (t->svc != NULL)
    {
      env = g_environ_setenv (env, "CARDTILL_TOKEN", ct_test_service_get_token (t->svc), TRUE);
      if (t->proxy != NULL)
        env = g_environ_setenv (env, "CARDTILL_SERVICE", ct_fault_proxy_get_url (t->proxy), TRUE);
      else
        {
          env = g_environ_setenv (env, "CARDTILL_SERVICE", ct_test_service_get_url (t->svc), TRUE);
          env = g_environ_setenv (env, "CARDTILL_CA", ct_test_service_get_ca_file (t->svc), TRUE);
          env = g_environ_setenv (env, "CARDTILL_PIN_PUBKEY",
                                  ct_test_service_get_pin_pubkey (t->svc), TRUE);
        }
    }
  else
    env = g_environ_unsetenv (env, "CARDTILL_TOKEN");
  return env;
}

static gsize file_size_limit;

/* In the child: files may not grow past the limit (a full disk). */
static void
limit_file_size (gpointer data)
{
  struct rlimit rl = { file_size_limit, file_size_limit };

  signal (SIGXFSZ, SIG_IGN);
  setrlimit (RLIMIT_FSIZE, &rl);
}

/* Runs cardtill-cli with the arguments (NULL-terminated). */
static int
cli (Till *t, Run *r, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_auto(GStrv) env = till_env (t);
  g_autoptr(GError) error = NULL;
  int wait_status = 0;
  const char *a;
  va_list args;

  run_clear (r);
  g_ptr_array_add (argv, (char *) cli_binary ());
  va_start (args, r);
  while ((a = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  ck_assert_msg (g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_DEFAULT,
                               file_size_limit ? limit_file_size : NULL, NULL,
                               &r->out, &r->err, &wait_status, &error),
                 "%s", error ? error->message : "");
  ck_assert (WIFEXITED (wait_status));
  r->status = WEXITSTATUS (wait_status);
  return r->status;
}

/* Runs cardtill-cli with @input on its standard input (not a terminal). */
static int
cli_in (Till       *t,
        Run        *r,
        const char *input,
        ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_auto(GStrv) env = till_env (t);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  const char *a;
  va_list args;

  run_clear (r);
  g_ptr_array_add (argv, (char *) cli_binary ());
  va_start (args, input);
  while ((a = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_environ (launcher, env);
  proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  ck_assert_msg (proc != NULL, "%s", error ? error->message : "");
  ck_assert_msg (g_subprocess_communicate_utf8 (proc, input, NULL, &r->out, &r->err, &error),
                 "%s", error ? error->message : "");
  ck_assert (g_subprocess_get_if_exited (proc));
  r->status = g_subprocess_get_exit_status (proc);
  return r->status;
}

static const char *
last_line (const char *text)
{
  static char line[256];
  const char *end = text + strlen (text);
  const char *start;

  while (end > text && end[-1] == '\n')
    end--;
  start = end;
  while (start > text && start[-1] != '\n')
    start--;
  g_strlcpy (line, start, MIN ((gsize) (end - start) + 1, sizeof line));
  return line;
}

static Till *
till_new (gboolean through_proxy)
{
  Till *t = g_new0 (Till, 1);
  g_autoptr(GError) error = NULL;

  t->svc = ct_test_service_start (!through_proxy, &error);
  ck_assert_msg (t->svc != NULL, "%s", error ? error->message : "");
  if (through_proxy)
    {
      t->proxy = ct_fault_proxy_new (ct_test_service_get_url (t->svc), 99, &error);
      ck_assert_ptr_nonnull (t->proxy);
    }
  t->dir = g_dir_make_tmp ("ct-cli-XXXXXX", NULL);
  t->pin_file = g_build_filename (t->dir, "pin", NULL);
  t->bad_pin_file = g_build_filename (t->dir, "bad-pin", NULL);
  ck_assert (g_file_set_contents (t->pin_file, CT_TEST_SERVICE_MANAGER_PIN "\n", -1, NULL));
  ck_assert (g_file_set_contents (t->bad_pin_file, "0000\n", -1, NULL));
  return t;
}

static void
till_free (Till *t)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", t->dir);

  g_clear_pointer (&t->proxy, ct_fault_proxy_free);
  g_clear_pointer (&t->svc, ct_test_service_free);
  ck_assert_int_eq (system (cmd), 0);
  g_free (t->dir);
  g_free (t->pin_file);
  g_free (t->bad_pin_file);
  g_free (t);
}

static char *
issue (Till *t, const char *name, const char *phone)
{
  Run r = { 0 };
  char *card_no;

  ck_assert_msg (cli (t, &r, "card", "issue", "--name", name, "--phone", phone, "--manager",
                      "m1", "--pin-file", t->pin_file, NULL) == 0, "%s", r.err);
  card_no = g_strdup (last_line (r.out));
  ck_assert_int_eq (strlen (card_no), 16);
  run_clear (&r);
  return card_no;
}

static json_object *
parse_json (const char *text)
{
  json_object *o = json_tokener_parse (text);

  ck_assert_msg (o != NULL, "not JSON: %s", text);
  return o;
}

/* The transaction id in the --json answer of a money command. */
static char *
answer_tx_id (const char *out)
{
  json_object *o = parse_json (out);
  json_object *txo, *id;
  char *tx;

  ck_assert (json_object_object_get_ex (o, "transaction", &txo));
  ck_assert (json_object_object_get_ex (txo, "id", &id));
  tx = g_strdup (json_object_get_string (id));
  json_object_put (o);
  return tx;
}

START_TEST (test_cli_usage_and_version)
{
  Till *t = till_new (FALSE);
  Run r = { 0 };

  ck_assert_int_eq (cli (t, &r, "--version", NULL), 0);
  ck_assert (g_str_has_prefix (r.out, "cardtill-cli " PACKAGE_VERSION));
  ck_assert_int_eq (cli (t, &r, NULL), 1);
  ck_assert_int_eq (cli (t, &r, "frobnicate", NULL), 1);
  ck_assert (strstr (r.err, "unknown command") != NULL);
  ck_assert_int_eq (cli (t, &r, "pay", "8888000000000001", NULL), 1);
  ck_assert_int_eq (cli (t, &r, "pay", "8888000000000001", "12.345", NULL), 1);
  ck_assert (strstr (r.err, "cardtill-cli: ") == r.err);
  ck_assert_int_eq (cli (t, &r, "card", "show", "ab", NULL), 1);
  ck_assert_int_eq (cli (t, &r, "refund", "8888000000000001", "1", NULL), 1);
  ck_assert_int_eq (cli (t, &r, "history", "8888000000000001", "--date", "2026-13-01", NULL), 1);
  /* A refused token and a certificate that does not match the pin. */
  ck_assert_int_eq (cli (t, &r, "--token", "wrong-token", "card", "show", "8888000000000001",
                         NULL), 2);
  ck_assert_msg (strstr (r.err, "\ncardtill-cli: unauthorized: ") != NULL, "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "--pin-pubkey", "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                         "pay", "8888000000000001", "1.00", NULL), 5);
  ck_assert_msg (g_str_has_prefix (r.err, "cardtill-cli: tls: "), "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "--service", "http://192.0.2.1:80", "card", "show",
                         "8888000000000001", NULL), 1);
  ck_assert_msg (g_str_has_prefix (r.err, "cardtill-cli: config: "), "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "--help", NULL), 0);
  ck_assert (strstr (r.out, "Exit status") != NULL);
  run_clear (&r);
  till_free (t);
}
END_TEST

START_TEST (test_cli_card_commands)
{
  Till *t = till_new (FALSE);
  g_autofree char *no = issue (t, "Alice", "13800000001");
  Run r = { 0 };

  ck_assert_int_eq (cli (t, &r, "card", "show", no, NULL), 0);
  ck_assert (strstr (r.out, "Balance   0.00") != NULL);
  ck_assert (strstr (r.out, "Alice") != NULL);
  ck_assert_int_eq (cli (t, &r, "--json", "card", "show", no, NULL), 0);
  {
    json_object *o = parse_json (r.out);
    json_object *v;

    ck_assert (json_object_object_get_ex (o, "card_no", &v));
    ck_assert_str_eq (json_object_get_string (v), no);
    json_object_put (o);
  }
  ck_assert_int_eq (cli (t, &r, "card", "show", "8888000000000000", NULL), 2);
  ck_assert (g_str_has_prefix (r.err, "cardtill-cli: card_not_found: "));
  ck_assert_int_eq (cli (t, &r, "card", "edit", no, "--level", "gold", "--manager", "m1",
                         "--pin-file", t->pin_file, NULL), 0);
  ck_assert (strstr (r.out, "gold") != NULL);
  ck_assert_int_eq (cli (t, &r, "card", "freeze", no, "--manager", "m1", "--pin-file",
                         t->bad_pin_file, NULL), 2);
  ck_assert (g_str_has_prefix (r.err, "cardtill-cli: forbidden: "));
  ck_assert_int_eq (cli (t, &r, "card", "freeze", no, "--manager", "m1", "--pin-file",
                         t->pin_file, NULL), 0);
  ck_assert (strstr (r.out, "frozen") != NULL);
  ck_assert_int_eq (cli (t, &r, "topup", no, "--package", "p100", NULL), 2);
  ck_assert (g_str_has_prefix (r.err, "cardtill-cli: card_frozen: "));
  ck_assert_int_eq (cli (t, &r, "card", "unfreeze", no, "--manager", "m1", "--pin-file",
                         t->pin_file, NULL), 0);
  /* A manager command without a PIN source on a non-terminal is usage. */
  ck_assert_int_eq (cli (t, &r, "card", "freeze", no, "--manager", "m1", NULL), 1);
  ck_assert_int_eq (cli (t, &r, "find", "--phone", "13800000001", NULL), 0);
  ck_assert (strstr (r.out, no) != NULL);
  ck_assert_int_eq (cli (t, &r, "find", "--name", "alic", NULL), 0);
  ck_assert (strstr (r.out, no) != NULL);
  ck_assert_int_eq (cli (t, &r, "find", "--phone", "+86 138-0000-0001", NULL), 0);
  ck_assert (strstr (r.out, no) != NULL && strstr (r.out, "13800000001") != NULL);
  ck_assert_int_eq (cli (t, &r, "find", "--phone", "0001", NULL), 0);
  ck_assert_msg (strstr (r.out, no) != NULL && strstr (r.out, "138****0001") != NULL, "%s", r.out);
  ck_assert_int_eq (cli (t, &r, "find", "--phone", "call me", NULL), 1);
  ck_assert_int_eq (cli (t, &r, "card", "issue", "--name", "Short", "--phone", "12", "--manager", "m1",
                         "--pin-file", t->pin_file, NULL), 1);
  ck_assert_msg (strstr (r.err, "5 to 15 digits") != NULL, "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "find", "--phone", "19999999999", NULL), 0);
  ck_assert (strstr (r.out, "No card found") != NULL);
  ck_assert_int_eq (cli (t, &r, "find", NULL), 1);
  run_clear (&r);
  till_free (t);
}
END_TEST

/* A payment refunded in parts with --amount: each part says what is left,
 * the history shows how much of the payment is refunded, and a part too
 * large or a refund of a payment refunded in full is refused. */
START_TEST (test_cli_refund_a_part_of_a_payment)
{
  Till *t = till_new (TRUE);
  g_autofree char *no = issue (t, "Part", "13800000031");
  g_autofree char *tx = NULL;
  Run r = { 0 };

  ck_assert_int_eq (cli (t, &r, "topup", no, "--package", "p100", NULL), 0);
  ck_assert_int_eq (cli (t, &r, "--json", "pay", no, "50.00", NULL), 0);
  tx = answer_tx_id (r.out);
  /* Amounts that are no part are refused before anything is sent. */
  ck_assert_int_eq (cli (t, &r, "refund", no, tx, "--amount", "0", "--manager", "m1", "--pin-file", t->pin_file,
                         NULL), 1);
  ck_assert_int_eq (cli (t, &r, "refund", no, tx, "--amount", "1.234", "--manager", "m1", "--pin-file",
                         t->pin_file, NULL), 1);
  ck_assert_int_eq (cli (t, &r, "refund", no, tx, "--amount", "12.50", "--manager", "m1", "--pin-file",
                         t->pin_file, NULL), 0);
  ck_assert_msg (strstr (r.out, "refund 12.50 on card") != NULL && strstr (r.out, "balance 72.50") != NULL,
                 "%s", r.out);
  ck_assert_msg (strstr (r.out, "refunded 12.50 of 50.00; 37.50 left to refund") != NULL, "%s", r.out);
  ck_assert_int_eq (cli (t, &r, "history", no, NULL), 0);
  ck_assert_msg (strstr (r.out, "refunded 12.50 of 50.00") != NULL, "%s", r.out);
  /* More than is left: refused by the service, which says what is left. */
  ck_assert_int_eq (cli (t, &r, "refund", no, tx, "--amount", "40.00", "--manager", "m1", "--pin-file",
                         t->pin_file, NULL), 2);
  ck_assert_msg (g_str_has_prefix (r.err, "cardtill-cli: invalid_amount: ") && strstr (r.err, "37.50") != NULL,
                 "%s", r.err);
  /* Without --amount: all that is left. */
  ck_assert_int_eq (cli (t, &r, "refund", no, tx, "--manager", "m1", "--pin-file", t->pin_file, NULL), 0);
  ck_assert_msg (strstr (r.out, "refund 37.50 on card") != NULL && strstr (r.out, "balance 110.00") != NULL,
                 "%s", r.out);
  ck_assert_msg (strstr (r.out, "refunded 50.00 of 50.00 in full") != NULL, "%s", r.out);
  ck_assert_int_eq (cli (t, &r, "refund", no, tx, "--amount", "1.00", "--manager", "m1", "--pin-file",
                         t->pin_file, NULL), 2);
  ck_assert (g_str_has_prefix (r.err, "cardtill-cli: already_refunded: "));
  run_clear (&r);
  till_free (t);
}
END_TEST

/* A service from before partial refunds (the test service behind a proxy
 * that leaves "partial_refund" out of its health answer) would give back
 * the whole payment for any --amount: the CLI asks first and refuses a
 * part with a sentence; all of it is still refunded. */
START_TEST (test_cli_refund_a_part_refused_by_an_older_service)
{
  Till *t = till_new (TRUE);
  g_autofree char *no = issue (t, "Older", "13800000032");
  g_autofree char *tx = NULL;
  CtFaultWeights weights = { .pass = 1, .hide_feature = "partial_refund" };
  Run r = { 0 };

  ck_assert_int_eq (cli (t, &r, "topup", no, "--package", "p100", NULL), 0);
  ck_assert_int_eq (cli (t, &r, "--json", "pay", no, "50.00", NULL), 0);
  tx = answer_tx_id (r.out);
  ct_fault_proxy_set_weights (t->proxy, &weights);
  ck_assert_int_eq (cli (t, &r, "refund", no, tx, "--amount", "12.50", "--manager", "m1", "--pin-file",
                         t->pin_file, NULL), 1);
  ck_assert_msg (strstr (r.err, "This card service is older and refunds a payment only in full") != NULL, "%s",
                 r.err);
  ck_assert_int_eq (cli (t, &r, "card", "show", no, NULL), 0);
  ck_assert_msg (strstr (r.out, "60.00") != NULL, "%s", r.out);
  ck_assert_int_eq (cli (t, &r, "refund", no, tx, "--manager", "m1", "--pin-file", t->pin_file, NULL), 0);
  ck_assert_msg (strstr (r.out, "refund 50.00 on card") != NULL && strstr (r.out, "balance 110.00") != NULL,
                 "%s", r.out);
  run_clear (&r);
  till_free (t);
}
END_TEST

START_TEST (test_cli_money_commands)
{
  Till *t = till_new (FALSE);
  g_autofree char *no = issue (t, "Bob", "13800000002");
  g_autofree char *tx = NULL;
  g_autofree char *today = NULL;
  Run r = { 0 };

  ck_assert_int_eq (cli (t, &r, "topup", no, "--package", "p100", NULL), 0);
  ck_assert (strstr (r.out, "balance 110.00") != NULL);
  ck_assert (strstr (r.out, "bonus 10.00") != NULL);
  ck_assert_int_eq (cli (t, &r, "topup", no, "--package", "p999", NULL), 1);
  /* Fixed mode: an amount alone is refused before it is sent. */
  ck_assert_int_eq (cli (t, &r, "topup", no, "50.00", NULL), 1);
  ck_assert (g_str_has_prefix (r.err, "cardtill-cli: invalid_input: "));

  ck_assert_int_eq (cli (t, &r, "--json", "pay", no, "10.00", "--order", "O-1", NULL), 0);
  tx = answer_tx_id (r.out);
  ck_assert_int_eq (cli (t, &r, "--json", "pay", no, "1,000.00", NULL), 2);
  ck_assert (strstr (r.out, "\"insufficient_balance\"") != NULL);
  ck_assert (g_str_has_prefix (r.err, "cardtill-cli: insufficient_balance: "));
  ck_assert_int_eq (cli (t, &r, "pay", no, "¥5", NULL), 0);
  ck_assert (strstr (r.out, "balance 95.00") != NULL);

  ck_assert_int_eq (cli (t, &r, "refund", no, tx, "--manager", "m1", "--pin-file", t->pin_file,
                         NULL), 0);
  ck_assert (strstr (r.out, "balance 105.00") != NULL);
  ck_assert_int_eq (cli (t, &r, "refund", no, tx, "--manager", "m1", "--pin-file", t->pin_file,
                         NULL), 2);
  ck_assert (g_str_has_prefix (r.err, "cardtill-cli: already_refunded: "));

  /* A leading minus is a value, with or without --delta=. */
  ck_assert_int_eq (cli (t, &r, "adjust", no, "-2.00", "--reason", "damaged", "--manager", "m1",
                         "--pin-file", t->pin_file, NULL), 0);
  ck_assert (strstr (r.out, "balance 103.00") != NULL);
  ck_assert_int_eq (cli (t, &r, "adjust", no, "--delta=-1.00", "--reason", "damaged",
                         "--manager", "m1", "--pin-file", t->pin_file, NULL), 0);
  ck_assert (strstr (r.out, "balance 102.00") != NULL);
  ck_assert_int_eq (cli (t, &r, "adjust", no, "+1000.00", "--reason", "gift", "--manager", "m1",
                         "--pin-file", t->pin_file, NULL), 2);
  ck_assert (g_str_has_prefix (r.err, "cardtill-cli: insufficient_pool: "));
  ck_assert_int_eq (cli (t, &r, "adjust", no, "0.00", "--reason", "x", "--manager", "m1",
                         "--pin-file", t->pin_file, NULL), 1);
  ck_assert_int_eq (cli (t, &r, "adjust", no, "-1.00", "--manager", "m1", "--pin-file",
                         t->pin_file, NULL), 1);

  today = g_date_time_format (g_date_time_new_now_utc (), "%Y-%m-%d");
  ck_assert_int_eq (cli (t, &r, "history", no, "--from", "2000-01-01", "--to", "2100-01-01",
                         NULL), 0);
  ck_assert (strstr (r.out, "topup") != NULL);
  ck_assert (strstr (r.out, "refund") != NULL);
  ck_assert (strstr (r.out, "order O-1") != NULL);
  ck_assert_int_eq (cli (t, &r, "--json", "history", no, "--from", "2000-01-01", "--to",
                         "2100-01-01", NULL), 0);
  {
    json_object *o = parse_json (r.out);
    json_object *list;

    ck_assert (json_object_object_get_ex (o, "transactions", &list));
    ck_assert_int_eq (json_object_array_length (list), 6);
    json_object_put (o);
  }
  ck_assert_int_eq (cli (t, &r, "sync", "--status", NULL), 0);
  ck_assert (strstr (r.out, "Pending: 0") != NULL);
  ck_assert_int_eq (cli (t, &r, "sync", NULL), 0);
  run_clear (&r);
  till_free (t);
}
END_TEST

/* The member's side of a payment: points that pay part of it, and the
 * member's payment code as consent (typed, or scanned as CTP1:…). */
START_TEST (test_cli_pay_with_points_and_the_members_code)
{
  Till *t = till_new (FALSE);
  g_autofree char *no = issue (t, "Dora", "13800000009");
  g_autoptr(CtTestClient) http = ct_test_client_new (t->svc);
  g_autofree char *link_path = g_strdup_printf ("/v1/cards/%s/member-link", no);
  g_autoptr(CtTestResponse) link = NULL;
  g_autoptr(CtTestResponse) code_answer = NULL;
  g_autofree char *code_path = NULL;
  g_autofree char *payload = NULL;
  json_object *o, *v;
  Run r = { 0 };

  ck_assert_int_eq (ct_test_service_admin (t->svc, NULL, "merchant", "set", "--points-redeem-rate", "100",
                                           "--points-redeem-max-bp", "5000", "--consent-over", "50.00",
                                           NULL), 0);
  ck_assert_int_eq (cli (t, &r, "topup", no, "--package", "p200", NULL), 0);
  ck_assert_int_eq (cli (t, &r, "pay", no, "50.00", NULL), 0);
  ck_assert_int_eq (cli (t, &r, "pay", no, "50.00", NULL), 0);
  ck_assert (strstr (r.out, "points 100") != NULL);

  ck_assert_int_eq (cli (t, &r, "pay", no, "10.00", "--redeem-points", "100", NULL), 0);
  ck_assert_msg (strstr (r.out, "100 points paid 1.00") && strstr (r.out, "balance 121.00")
                 && strstr (r.out, "points 9 (-91)"), "%s", r.out);
  ck_assert_int_eq (cli (t, &r, "pay", no, "10.00", "--redeem-points", "abc", NULL), 1);
  ck_assert_int_eq (cli (t, &r, "pay", no, "10.00", "--redeem-points", "100", NULL), 2);
  ck_assert_msg (g_str_has_prefix (r.err, "cardtill-cli: insufficient_points: "), "%s", r.err);

  /* Over 50.00 the member's code is needed. */
  ck_assert_int_eq (cli (t, &r, "pay", no, "60.00", NULL), 2);
  ck_assert (g_str_has_prefix (r.err, "cardtill-cli: member_consent_required: "));
  ck_assert_int_eq (cli (t, &r, "pay", no, "60.00", "--member-code", "12ab", NULL), 1);

  link = ct_test_client_request (http, "POST", link_path, "cli-link-1",
                                 "{\"manager\":{\"id\":\"m1\",\"pin\":\"246813\"}}", NULL);
  ck_assert (link != NULL && link->status == 201);
  o = parse_json (link->body);
  ck_assert (json_object_object_get_ex (o, "member_url", &v));
  code_path = g_strconcat (strstr (json_object_get_string (v), "/m/"), "/code", NULL);
  json_object_put (o);
  code_answer = ct_test_http (t->svc, "GET", code_path, NULL, NULL, NULL);
  ck_assert (code_answer != NULL && code_answer->status == 200);
  o = parse_json (code_answer->body);
  ck_assert (json_object_object_get_ex (o, "code", &v));
  /* "1234 5678" on the page; the QR code holds the 8 digits. */
  payload = g_strdup_printf ("CTP1:%s:%.4s%s", no, json_object_get_string (v), json_object_get_string (v) + 5);
  json_object_put (o);

  ck_assert_int_eq (cli (t, &r, "pay", payload, "60.00", NULL), 0);
  ck_assert_msg (strstr (r.out, "member consent: payment code") && strstr (r.out, "balance 61.00"), "%s", r.out);
  /* A code pays once. */
  ck_assert_int_eq (cli (t, &r, "pay", payload, "60.00", NULL), 2);
  ck_assert (g_str_has_prefix (r.err, "cardtill-cli: member_consent_required: "));
  ck_assert_int_eq (cli (t, &r, "pay", "CTP1:12", "60.00", NULL), 1);
  run_clear (&r);
  till_free (t);
}
END_TEST

/* The level's lines, as the service booked them, in what `pay` prints and
 * in `receipt TX` afterwards: the move up with the payment that earns it,
 * then the discount and the points that paid on the next one. The service
 * keeps the move up with its payment, so `receipt TX` shows it too. */
START_TEST (test_cli_pay_and_receipt_show_the_level_and_points_used)
{
  Till *t = till_new (FALSE);
  g_autofree char *no = issue (t, "Edith", "13800000011");
  g_autofree char *tx = NULL;
  g_autofree char *up_tx = NULL;
  Run r = { 0 };

  ck_assert_int_eq (ct_test_service_admin (t->svc, NULL, "level", "add", "--id", "silver", "--name", "Silver",
                                           "--min-spend", "50", "--discount-bp", "1000", NULL), 0);
  ck_assert_int_eq (ct_test_service_admin (t->svc, NULL, "merchant", "set", "--points-redeem-rate", "100",
                                           "--points-redeem-max-bp", "5000", NULL), 0);
  ck_assert_int_eq (cli (t, &r, "topup", no, "--package", "p200", NULL), 0);

  /* 100.00 spent reaches Silver (and earns 100 points): the payment that
   * earns it says so. */
  ck_assert_int_eq (cli (t, &r, "pay", no, "100.00", NULL), 0);
  ck_assert_msg (strstr (r.out, "moved up to level Silver\n") != NULL && strstr (r.out, "discount") == NULL,
                 "%s", r.out);
  up_tx = g_strdup (last_line (r.out) + strlen ("transaction "));
  ck_assert_int_eq (cli (t, &r, "receipt", up_tx, NULL), 0);
  ck_assert_msg (strstr (r.out, "New level: Silver\n") != NULL, "%s", r.out);

  /* A 20.00 order: Silver takes 2.00 off, 100 points pay 1.00, the
   * balance 17.00. */
  ck_assert_int_eq (cli (t, &r, "pay", no, "20.00", "--redeem-points", "100", NULL), 0);
  ck_assert_msg (strstr (r.out, "payment -17.00 on card ") != NULL
                 && strstr (r.out, "100 points paid 1.00\n") != NULL
                 && strstr (r.out, "level Silver: discount 2.00 off the order of 20.00\n") != NULL
                 && strstr (r.out, "moved up") == NULL, "%s", r.out);
  tx = g_strdup (last_line (r.out) + strlen ("transaction "));
  ck_assert_int_eq (cli (t, &r, "receipt", tx, NULL), 0);
  ck_assert_msg (strstr (r.out, "Order total: ¥20.00\n") != NULL
                 && strstr (r.out, "Level discount (Silver): -¥2.00\n") != NULL
                 && strstr (r.out, "Points redeemed: 100 points pay ¥1.00\n") != NULL
                 && strstr (r.out, "Paid from card: ¥17.00\n") != NULL
                 && strstr (r.out, "New level") == NULL, "%s", r.out);
  run_clear (&r);
  till_free (t);
}
END_TEST

/* A split payment: a card short of the order pays what it holds and the
 * rest is taken by another tender, said on the answer, the receipt, the
 * history, the day report and the refund. */
START_TEST (test_cli_pay_split_takes_the_rest_by_another_tender)
{
  Till *t = till_new (FALSE);
  g_autofree char *no = issue (t, "Fay", "13800000021");
  g_autofree char *tx = NULL;
  Run r = { 0 };

  ck_assert_int_eq (cli (t, &r, "topup", no, "--package", "p100", NULL), 0);
  /* Mistakes are said before anything is sent. */
  ck_assert_int_eq (cli (t, &r, "pay", no, "150.00", "--rest", "40.00", NULL), 1);
  ck_assert_msg (strstr (r.err, "--rest-tender") != NULL, "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "pay", no, "150.00", "--rest-tender", "bitcoin", NULL), 1);
  ck_assert_msg (strstr (r.err, "bitcoin") != NULL, "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "pay", no, "150.00", "--rest-tender", "cash", "--rest", "150.00", NULL), 1);
  ck_assert_int_eq (cli (t, &r, "pay", no, "150.00", "--rest-tender", "cash", "--rest", "0", NULL), 1);
  ck_assert_int_eq (cli (t, &r, "pay", no, "150.00", "--rest-tender", "cash", "--rest", "4.005", NULL), 1);

  /* A 150.00 order on 110.00: the card pays it all, 40.00 in cash. */
  ck_assert_int_eq (cli (t, &r, "pay", no, "150.00", "--rest-tender", "cash", NULL), 0);
  ck_assert_msg (strstr (r.out, "payment -110.00 on card ") != NULL && strstr (r.out, "balance 0.00") != NULL
                 && strstr (r.out, "take the rest 40.00 by Cash\n") != NULL, "%s", r.out);
  tx = g_strdup (last_line (r.out) + strlen ("transaction "));
  ck_assert_int_eq (cli (t, &r, "receipt", tx, NULL), 0);
  ck_assert_msg (strstr (r.out, "Order total: ¥150.00\n") != NULL && strstr (r.out, "Paid from card: ¥110.00\n") != NULL
                 && strstr (r.out, "Rest paid by Cash: ¥40.00\n") != NULL, "%s", r.out);

  /* An empty card has nothing to pay with. */
  ck_assert_int_eq (cli (t, &r, "pay", no, "10.00", "--rest-tender", "cash", NULL), 1);
  ck_assert_msg (strstr (r.err, "holds nothing") != NULL, "%s", r.err);

  /* The rest said: the card pays the order less it. */
  ck_assert_int_eq (cli (t, &r, "topup", no, "--package", "p100", NULL), 0);
  ck_assert_int_eq (cli (t, &r, "pay", no, "50.00", "--rest-tender", "wechat", "--rest", "20.00", NULL), 0);
  ck_assert_msg (strstr (r.out, "payment -30.00 on card ") != NULL
                 && strstr (r.out, "take the rest 20.00 by WeChat Pay\n") != NULL, "%s", r.out);

  ck_assert_int_eq (cli (t, &r, "history", no, NULL), 0);
  ck_assert_msg (strstr (r.out, "rest 40.00 paid by Cash") != NULL
                 && strstr (r.out, "rest 20.00 paid by WeChat Pay") != NULL, "%s", r.out);
  ck_assert_int_eq (cli (t, &r, "report", "day", NULL), 0);
  ck_assert_msg (strstr (r.out, "Split rest · Cash") != NULL && strstr (r.out, "Split rest · WeChat Pay") != NULL,
                 "%s", r.out);
  /* The CSV adds the rests' net by tender after the columns it had. */
  ck_assert_int_eq (cli (t, &r, "report", "day", "--csv", NULL), 0);
  ck_assert_msg (strstr (r.out, ",rest_cash_net,rest_wechat_net,rest_alipay_net,rest_bank_card_net,rest_other_net\n")
                 != NULL && strstr (r.out, ",40.00,20.00,0.00,0.00,0.00\n") != NULL, "%s", r.out);

  /* Its refund: the card's part back on the card, the rest back in cash. */
  ck_assert_int_eq (cli (t, &r, "refund", no, tx, "--manager", "m1", "--pin-file", t->pin_file, NULL), 0);
  ck_assert_msg (strstr (r.out, "refund 110.00 on card ") != NULL
                 && strstr (r.out, "give back the rest 40.00 by Cash\n") != NULL, "%s", r.out);
  run_clear (&r);
  till_free (t);
}
END_TEST

/* A payment is one request: the merchant's settings stored within the
 * hour do for its amount (minor units) and, offline, its rules; older ones
 * are fetched again first. */
START_TEST (test_cli_pay_spares_the_merchant_round_trip)
{
  Till *t = till_new (TRUE);
  g_autofree char *no = issue (t, "Dora", "13800000009");
  g_autofree char *cache = g_build_filename (t->dir, "data", "cache.db", NULL);
  Run r = { 0 };
  guint before;

  ck_assert_int_eq (cli (t, &r, "topup", no, "--package", "p100", NULL), 0);
  before = ct_fault_proxy_get_requests (t->proxy);
  ck_assert_int_eq (cli (t, &r, "pay", no, "1.50", NULL), 0);
  ck_assert_msg (strstr (r.out, "balance 108.50") != NULL, "%s", r.out);
  ck_assert_uint_eq (ct_fault_proxy_get_requests (t->proxy) - before, 1);

  /* Settings two hours old: fetched again before the payment. */
  {
    g_autoptr(CtTestDb) db = ct_test_db_open (cache);
    g_autofree char *sql = g_strdup_printf ("UPDATE merchant SET fetched_at = %" G_GINT64_FORMAT,
                                            g_get_real_time () - (gint64) 2 * 3600 * G_USEC_PER_SEC);

    ck_assert_int_eq (ct_test_db_exec (db, sql), 1);
  }
  before = ct_fault_proxy_get_requests (t->proxy);
  ck_assert_int_eq (cli (t, &r, "pay", no, "1.50", NULL), 0);
  ck_assert_msg (strstr (r.out, "balance 107.00") != NULL, "%s", r.out);
  ck_assert_uint_eq (ct_fault_proxy_get_requests (t->proxy) - before, 2);
  run_clear (&r);
  till_free (t);
}
END_TEST

/* The member's PIN: set at issue and by a manager, typed by the member
 * (standard input here, a prompt without echo on a terminal), never an
 * argument; wrong, right, and locked. */
START_TEST (test_cli_pay_with_the_members_pin)
{
  Till *t = till_new (FALSE);
  g_autofree char *no = NULL;
  Run r = { 0 };

  ck_assert_int_eq (ct_test_service_admin (t->svc, NULL, "merchant", "set", "--consent-over", "50.00", NULL), 0);
  ck_assert_msg (cli_in (t, &r, "482916\n", "card", "issue", "--name", "Eve", "--phone", "13800000011",
                         "--manager", "m1", "--pin-file", t->pin_file, "--member-pin", NULL) == 0, "%s", r.err);
  no = g_strdup (last_line (r.out));
  ck_assert_int_eq (cli (t, &r, "topup", no, "--package", "p200", NULL), 0);

  /* Not a PIN, or a PIN given as an argument: nothing is sent. */
  ck_assert_int_eq (cli_in (t, &r, "12ab\n", "pay", no, "60.00", "--member-pin", NULL), 1);
  ck_assert_msg (strstr (r.err, "digits") != NULL, "%s", r.err);
  ck_assert_int_eq (cli_in (t, &r, "", "pay", no, "60.00", "--member-pin", "482916", NULL), 1);

  ck_assert_int_eq (cli_in (t, &r, "111111\n", "pay", no, "60.00", "--member-pin", NULL), 2);
  ck_assert_msg (g_str_has_prefix (r.err, "cardtill-cli: member_pin_wrong: ") && strstr (r.err, "1 of 5"),
                 "%s", r.err);
  ck_assert_int_eq (cli_in (t, &r, "482916\n", "pay", no, "60.00", "--member-pin", NULL), 0);
  ck_assert_msg (strstr (r.out, "member consent: member PIN") && strstr (r.out, "balance 170.00"), "%s", r.out);

  /* Five wrong lock it; then the right one is refused too. */
  for (int i = 0; i < 5; i++)
    ck_assert_int_eq (cli_in (t, &r, "975310\n", "pay", no, "60.00", "--member-pin", NULL), 2);
  ck_assert_msg (strstr (r.err, "locked for 5 minutes") != NULL, "%s", r.err);
  ck_assert_int_eq (cli_in (t, &r, "482916\n", "pay", no, "60.00", "--member-pin", NULL), 2);
  ck_assert_msg (g_str_has_prefix (r.err, "cardtill-cli: member_pin_locked: "), "%s", r.err);

  /* A manager sets the PIN the member chose; it pays at once. */
  ck_assert_msg (cli_in (t, &r, "739150\n", "card", "member-pin", no, "--manager", "m1", "--pin-file",
                         t->pin_file, NULL) == 0, "%s", r.err);
  ck_assert_int_eq (cli_in (t, &r, "739150\n", "pay", no, "60.00", "--member-pin", NULL), 0);
  ck_assert_msg (strstr (r.out, "balance 110.00"), "%s", r.out);
  ck_assert_int_eq (cli (t, &r, "sync", "--status", NULL), 0);
  ck_assert_msg (strstr (r.out, "Pending: 0") != NULL, "%s", r.out);
  run_clear (&r);
  till_free (t);
}
END_TEST

/* An import sends its next chunk while the service still holds the one
 * before (a proxy holds every answer for a while): both cores work, the
 * client's and the service's. Each chunk still settles once. */
START_TEST (test_cli_import_sends_the_next_chunk_while_one_commits)
{
  Till *t = till_new (TRUE);
  g_autofree char *csv = g_build_filename (t->dir, "members.csv", NULL);
  g_autoptr(GString) rows = g_string_new ("card_no,name,phone,balance,points,level\n");
  CtFaultWeights busy = { .pass = 1, .busy_ms = 600 };
  Run r = { 0 };

  /* Three chunks: 5,000 + 5,000 + 2,000 rows. */
  for (guint i = 0; i < 12000; i++)
    g_string_append_printf (rows, "PL%07u,Member %u,139%08u,1.00,0,\n", i, i, i);
  ck_assert (g_file_set_contents (csv, rows->str, rows->len, NULL));
  t->timeout_ms = "30000";
  ct_fault_proxy_set_weights (t->proxy, &busy);
  ck_assert_msg (cli (t, &r, "import", csv, "--manager", "m1", "--pin-file", t->pin_file,
                      NULL) == 0, "%s", r.err);
  ck_assert_uint_ge (ct_fault_proxy_get_max_in_flight (t->proxy), 2);
  {
    g_autoptr(CtTestResponse) resp = ct_test_http (t->svc, "GET", "/v1/ledger/check", NULL,
                                                   NULL, NULL);
    CtLedgerCheck check;

    ck_assert (resp != NULL && resp->status == 200);
    ck_assert (ct_wire_decode_ledger_check (resp->body, resp->body_len, &check, NULL));
    ck_assert_int_eq (check.sum, 0);
    /* Every row's 1.00 once. */
    ck_assert_int_eq (check.cards, 12000 * 100);
  }
  run_clear (&r);
  till_free (t);
}
END_TEST

START_TEST (test_cli_offline_topup_queued_then_synced)
{
  Till *t = till_new (TRUE);
  g_autofree char *no = issue (t, "Carol", "13800000003");
  Run r = { 0 };

  ck_assert (ct_fault_proxy_set_offline (t->proxy, TRUE, NULL));
  ck_assert_int_eq (cli (t, &r, "--json", "topup", no, "--package", "p100", NULL), 3);
  {
    json_object *o = parse_json (r.out);
    json_object *v;

    ck_assert (json_object_object_get_ex (o, "queued", &v));
    ck_assert (json_object_get_boolean (v));
    ck_assert (json_object_object_get_ex (o, "idempotency_key", &v));
    ck_assert (json_object_is_type (v, json_type_string));
    json_object_put (o);
  }
  /* Offline, and no caps: no balance payment, and the exit status says the
   * customer did not pay (5), unlike the queued top-up (3). */
  ck_assert_int_eq (cli (t, &r, "--json", "pay", no, "1.00", NULL), 5);
  ck_assert (strstr (r.out, "\"queued\": false") != NULL);
  ck_assert (strstr (r.err, "offline_refused") != NULL);
  {
    /* Whatever the reason's text, the answer is JSON a script can read. */
    json_object *o = parse_json (r.out);
    json_object *v;

    ck_assert (json_object_object_get_ex (o, "code", &v));
    ck_assert_str_eq (json_object_get_string (v), "offline_refused");
    ck_assert (json_object_object_get_ex (o, "reason", &v));
    ck_assert_ptr_nonnull (strstr (json_object_get_string (v), "offline"));
    ck_assert (json_object_object_get_ex (o, "idempotency_key", &v));
    json_object_put (o);
  }
  /* A payment with the member's code (or points) is the service's to
   * decide: not done offline, whatever the caps. */
  ck_assert_int_eq (cli (t, &r, "pay", no, "1.00", "--member-code", "12345678", NULL), 5);
  ck_assert_msg (strstr (r.err, "member's payment code needs the service") != NULL, "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "pay", no, "1.00", "--redeem-points", "100", NULL), 5);
  ck_assert_msg (strstr (r.err, "a payment with points, the member's PIN or the member's payment code needs "
                                "the service") != NULL, "%s", r.err);
  /* Needs the service: not done. */
  ck_assert_int_eq (cli (t, &r, "adjust", no, "+1.00", "--reason", "x", "--manager", "m1",
                         "--pin-file", t->pin_file, NULL), 5);
  ck_assert (strstr (r.err, "unreachable") != NULL);
  ck_assert_int_eq (cli (t, &r, "card", "show", no, NULL), 5);
  ck_assert_msg (strstr (r.out, "last known state") != NULL, "%s", r.out);
  ck_assert (strstr (r.out, "Balance   0.00") != NULL);

  ck_assert_int_eq (cli (t, &r, "--json", "sync", "--status", NULL), 0);
  {
    json_object *o = parse_json (r.out);
    json_object *pending, *e, *v;

    ck_assert (json_object_object_get_ex (o, "pending", &pending));
    ck_assert_int_eq (json_object_array_length (pending), 1);
    e = json_object_array_get_idx (pending, 0);
    ck_assert (json_object_object_get_ex (e, "kind", &v));
    ck_assert_str_eq (json_object_get_string (v), "topup");
    ck_assert (json_object_object_get_ex (e, "card", &v));
    ck_assert_str_eq (json_object_get_string (v), no);
    ck_assert (json_object_object_get_ex (e, "amount", &v));
    ck_assert_int_eq (json_object_get_int64 (v), 10000);
    ck_assert (json_object_object_get_ex (o, "needs_attention", &v));
    ck_assert_int_eq (json_object_array_length (v), 0);
    json_object_put (o);
  }
  ck_assert_int_eq (cli (t, &r, "sync", NULL), 3);

  /* A full disk: the next request cannot be taken (exit 4, said clearly),
   * and the queued top-up is still there. */
  file_size_limit = 1;
  ck_assert_int_eq (cli (t, &r, "topup", no, "--package", "p100", NULL), 4);
  file_size_limit = 0;
  ck_assert_msg (g_str_has_prefix (r.err, "cardtill-cli: local: "), "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "--json", "sync", "--status", NULL), 0);
  ck_assert (strstr (r.out, "\"kind\":\"topup\"") != NULL);

  ck_assert (ct_fault_proxy_set_offline (t->proxy, FALSE, NULL));
  ck_assert_int_eq (cli (t, &r, "sync", NULL), 0);
  ck_assert (strstr (r.out, "Settled 1") != NULL);
  ck_assert_int_eq (cli (t, &r, "sync", NULL), 0);
  ck_assert (strstr (r.out, "Settled 0") != NULL);
  ck_assert_int_eq (cli (t, &r, "card", "show", no, NULL), 0);
  ck_assert (strstr (r.out, "Balance   110.00") != NULL);
  run_clear (&r);
  till_free (t);
}
END_TEST

static void
collect_refs (Till *t, const char *no, GHashTable *refs, guint *out_payments)
{
  Run r = { 0 };
  g_auto(GStrv) lines = NULL;

  *out_payments = 0;
  ck_assert_int_eq (cli (t, &r, "--json", "history", no, "--from", "2000-01-01", "--to",
                         "2100-01-01", NULL), 0);
  /* One page per line. */
  lines = g_strsplit (r.out, "\n", -1);
  for (guint l = 0; lines[l] != NULL; l++)
    {
      g_autoptr(CtHistoryPage) page = NULL;

      if (*lines[l] == '\0')
        continue;
      page = ct_wire_decode_history (lines[l], strlen (lines[l]), NULL);
      ck_assert_ptr_nonnull (page);
      for (guint i = 0; i < page->transactions->len; i++)
        {
          CtTransaction *tx = g_ptr_array_index (page->transactions, i);

          if (tx->kind != CT_TRANSACTION_PAYMENT)
            continue;
          (*out_payments)++;
          ck_assert_msg (!g_hash_table_contains (refs, tx->order_ref), "%s applied twice",
                         tx->order_ref);
          g_hash_table_add (refs, g_strdup (tx->order_ref));
        }
    }
  run_clear (&r);
}

START_TEST (test_cli_kill9_in_payment_loop_loses_nothing_doubles_nothing)
{
  Till *t = till_new (TRUE);
  g_autofree char *no = issue (t, "Dave", "13800000004");
  g_autoptr(GHashTable) ok_refs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) pending_refs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) before = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) after = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261122);
  g_auto(GStrv) env = till_env (t);
  GHashTableIter iter;
  gpointer key;
  Run r = { 0 };
  guint kills = 0, n_before, n_after;
  const int runs = 40;

  CtFaultWeights slow = { .pass = 1, .delay_ms = 40 };

  ck_assert_int_eq (cli (t, &r, "topup", no, "--package", "p200", NULL), 0);
  /* A slow link widens the window between the outbox write and the answer. */
  ct_fault_proxy_set_weights (t->proxy, &slow);

  for (int i = 0; i < runs; i++)
    {
      g_autofree char *ref = g_strdup_printf ("K-%02d", i);
      char *argv[] = { (char *) cli_binary (), "pay", no, "1.00", "--order", ref, NULL };
      g_autoptr(GError) error = NULL;
      GPid pid;
      int status = 0;

      ck_assert (g_spawn_async (NULL, argv, env, G_SPAWN_DO_NOT_REAP_CHILD
                                | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                                NULL, NULL, &pid, &error));
      /* Anywhere from before the outbox write to after the answer. */
      g_usleep (g_rand_int_range (rand, 0, 260) * 1000);
      kill (pid, SIGKILL);
      ck_assert_int_eq (waitpid (pid, &status, 0), pid);
      if (WIFSIGNALED (status))
        kills++;
      if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
        g_hash_table_add (ok_refs, g_strdup (ref));
      else if (WIFEXITED (status))
        ck_abort_msg ("payment %s exited %d", ref, WEXITSTATUS (status));
    }

  /* What the outbox holds now must all be applied, once. */
  ck_assert_int_eq (cli (t, &r, "--json", "sync", "--status", NULL), 0);
  {
    json_object *o = parse_json (r.out);
    json_object *pending;

    ck_assert (json_object_object_get_ex (o, "pending", &pending));
    for (size_t i = 0; i < json_object_array_length (pending); i++)
      {
        json_object *v;

        ck_assert (json_object_object_get_ex (json_object_array_get_idx (pending, i),
                                              "order_ref", &v));
        g_hash_table_add (pending_refs, g_strdup (json_object_get_string (v)));
      }
    json_object_put (o);
  }
  collect_refs (t, no, before, &n_before);
  ck_assert_msg (cli (t, &r, "sync", NULL) == 0, "%s", r.err);
  collect_refs (t, no, after, &n_after);

  g_hash_table_iter_init (&iter, ok_refs);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    ck_assert_msg (g_hash_table_contains (after, key), "acknowledged %s lost", (char *) key);
  g_hash_table_iter_init (&iter, pending_refs);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    ck_assert_msg (g_hash_table_contains (after, key), "queued %s lost", (char *) key);
  g_hash_table_iter_init (&iter, before);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    ck_assert (g_hash_table_contains (after, key));
  /* Nothing else appeared: every payment came from the loop, once. */
  ck_assert_uint_le (n_after, runs);
  ck_assert_uint_eq (n_after, g_hash_table_size (after));
  ck_assert_int_eq (cli (t, &r, "card", "show", no, NULL), 0);
  {
    g_autofree char *expect = g_strdup_printf ("Balance   %u.00", 230 - n_after);

    ck_assert_msg (strstr (r.out, expect) != NULL, "%s vs %s", r.out, expect);
  }
  {
    g_autoptr(CtTestResponse) check = ct_test_http (t->svc, "GET", "/v1/ledger/check", NULL,
                                                    NULL, NULL);
    CtLedgerCheck lc;

    ck_assert (ct_wire_decode_ledger_check (check->body, check->body_len, &lc, NULL));
    ck_assert_int_eq (lc.sum, 0);
  }
  g_print ("kill -9: %u kills in %d runs; %u acknowledged, %u pending before sync, "
           "%u applied before sync, %u after\n", kills, runs, g_hash_table_size (ok_refs),
           g_hash_table_size (pending_refs), n_before, n_after);
  run_clear (&r);
  till_free (t);
}
END_TEST

START_TEST (test_cli_embedded_service_first_run_and_stop)
{
  Till *t = till_new (FALSE);
  g_autofree char *state = NULL;
  g_autofree char *first_pin = g_build_filename (t->dir, "first-pin", NULL);
  g_autofree char *no = NULL;
  Run r = { 0 };

  /* No service configured: the till's own one. */
  g_clear_pointer (&t->svc, ct_test_service_free);
  ck_assert (g_file_set_contents (first_pin, "135790\n", -1, NULL));
  ck_assert_int_eq (cli (t, &r, "--manager-pin-file", first_pin, "card", "issue", "--name",
                         "Erin", "--phone", "13800000005", "--manager", "manager", "--pin-file",
                         first_pin, NULL), 0);
  ck_assert_msg (strstr (r.err, "created the built-in card service") != NULL, "%s", r.err);
  no = g_strdup (last_line (r.out));
  state = g_build_filename (t->dir, "data", "service", "state.ini", NULL);
  /* The last client stopped it. */
  ck_assert (!g_file_test (state, G_FILE_TEST_EXISTS));

  ck_assert_int_eq (cli (t, &r, "topup", no, "--package", "p500", NULL), 0);
  ck_assert (strstr (r.out, "balance 600.00") != NULL);
  ck_assert (strstr (r.err, "created") == NULL);
  ck_assert_int_eq (cli (t, &r, "pay", no, "0.50", NULL), 0);
  ck_assert (strstr (r.out, "balance 599.50") != NULL);
  ck_assert (!g_file_test (state, G_FILE_TEST_EXISTS));
  run_clear (&r);
  till_free (t);
}
END_TEST

START_TEST (test_cli_garbage_answers_are_not_results)
{
  Till *t = till_new (TRUE);
  g_autofree char *no = issue (t, "Hal", "13800000008");
  CtFaultWeights garbage = { .garbage_200 = 1 };
  CtFaultWeights html = { .html_502 = 1 };
  CtFaultWeights pass = { .pass = 1 };
  Run r = { 0 };

  ck_assert_int_eq (cli (t, &r, "topup", no, "--package", "p100", NULL), 0);

  /* A "200" with cut JSON: a lookup shows nothing and says why. */
  ct_fault_proxy_set_weights (t->proxy, &garbage);
  ck_assert_int_eq (cli (t, &r, "find", "--phone", "13800000008", NULL), 5);
  ck_assert_msg (g_str_has_prefix (r.err, "cardtill-cli: bad_answer: "), "%s", r.err);
  /* An HTML error page from a gateway. */
  ct_fault_proxy_set_weights (t->proxy, &html);
  ck_assert_int_eq (cli (t, &r, "history", no, NULL), 5);
  ck_assert_msg (strstr (r.err, "bad_answer") != NULL, "%s", r.err);

  /* A payment answered with garbage is not taken as done: it stays queued
   * with its key, and is applied once when the service answers properly. */
  ct_fault_proxy_set_weights (t->proxy, &garbage);
  ck_assert_int_eq (cli (t, &r, "--json", "pay", no, "3.00", "--order", "G-1", NULL), 3);
  ck_assert (strstr (r.out, "\"queued\": true") != NULL);
  ct_fault_proxy_set_weights (t->proxy, &pass);
  ck_assert_int_eq (cli (t, &r, "sync", NULL), 0);
  ck_assert_int_eq (cli (t, &r, "card", "show", no, NULL), 0);
  ck_assert_msg (strstr (r.out, "Balance   107.00") != NULL, "%s", r.out);
  run_clear (&r);
  till_free (t);
}
END_TEST

START_TEST (test_cli_locked_pin_is_reported_at_once)
{
  Till *t = till_new (FALSE);
  g_autofree char *no = issue (t, "Ivy", "13800000009");
  gint64 t0;
  Run r = { 0 };

  for (int i = 0; i < 5; i++)
    {
      ck_assert_int_eq (cli (t, &r, "adjust", no, "+1.00", "--reason", "x", "--manager", "m1",
                             "--pin-file", t->bad_pin_file, NULL), 2);
      ck_assert_msg (g_str_has_prefix (r.err, "cardtill-cli: forbidden: "), "%s", r.err);
    }
  /* Locked: said at once, nothing queued for later. */
  t0 = g_get_monotonic_time ();
  ck_assert_int_eq (cli (t, &r, "adjust", no, "+1.00", "--reason", "x", "--manager", "m1",
                         "--pin-file", t->pin_file, NULL), 2);
  ck_assert_msg (g_str_has_prefix (r.err, "cardtill-cli: pin_locked: "), "%s", r.err);
  ck_assert_int_lt (g_get_monotonic_time () - t0, 2 * G_USEC_PER_SEC);
  ck_assert_int_eq (cli (t, &r, "sync", "--status", NULL), 0);
  ck_assert (strstr (r.out, "Pending: 0") != NULL);
  run_clear (&r);
  till_free (t);
}
END_TEST

static int pty_slave_fd = -1;

static void
stdin_from_pty (gpointer data)
{
  dup2 (pty_slave_fd, 0);
}

/* Reads from @fd until @needle appears (or 10 s pass); returns what came. */
static char *
read_until (int fd, const char *needle)
{
  GString *got = g_string_new (NULL);
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (strstr (got->str, needle) == NULL && g_get_monotonic_time () < deadline)
    {
      struct pollfd p = { fd, POLLIN, 0 };
      char buf[256];
      ssize_t n;

      if (poll (&p, 1, 100) <= 0)
        continue;
      n = read (fd, buf, sizeof buf);
      if (n <= 0)
        break;
      g_string_append_len (got, buf, n);
    }
  return g_string_free (got, FALSE);
}

START_TEST (test_cli_pin_prompt_on_a_terminal_does_not_echo)
{
  Till *t = till_new (FALSE);
  g_autofree char *no = issue (t, "Jo", "13800000010");
  g_auto(GStrv) env = till_env (t);
  char *argv[] = { (char *) cli_binary (), "card", "freeze", no, "--manager", "m1", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *prompt = NULL;
  g_autofree char *echoed = NULL;
  g_autofree char *rest = NULL;
  int master, err_fd, status = 0;
  GPid pid;

  ck_assert_int_eq (openpty (&master, &pty_slave_fd, NULL, NULL, NULL), 0);

  ck_assert (g_spawn_async_with_pipes (NULL, argv, env, G_SPAWN_DO_NOT_REAP_CHILD
                                       | G_SPAWN_STDOUT_TO_DEV_NULL, stdin_from_pty, NULL,
                                       &pid, NULL, NULL, &err_fd, &error));
  close (pty_slave_fd);
  pty_slave_fd = -1;

  prompt = read_until (err_fd, "Manager PIN: ");
  ck_assert_msg (strstr (prompt, "Manager PIN: ") != NULL, "%s", prompt);
  /* The PIN typed must not come back: type it once the CLI has turned
   * the terminal's echo off (the master reads the terminal's settings). */
  {
    gint64 echo_deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
    struct termios tio;

    while (tcgetattr (master, &tio) == 0 && (tio.c_lflag & ECHO) != 0)
      {
        ck_assert_msg (g_get_monotonic_time () < echo_deadline, "the PIN prompt left the echo on");
        g_usleep (2000);
      }
  }
  ck_assert_int_eq (write (master, CT_TEST_SERVICE_MANAGER_PIN "\n", 7), 7);
  rest = read_until (err_fd, "\n");
  ck_assert_int_eq (waitpid (pid, &status, 0), pid);
  ck_assert (WIFEXITED (status));
  ck_assert_int_eq (WEXITSTATUS (status), 0);
  {
    struct pollfd p = { master, POLLIN, 0 };

    echoed = g_strdup ("");
    if (poll (&p, 1, 200) > 0)
      {
        char buf[256] = { 0 };
        ssize_t n = read (master, buf, sizeof buf - 1);

        if (n > 0)
          {
            g_free (echoed);
            echoed = g_strndup (buf, n);
          }
      }
  }
  ck_assert_msg (strstr (echoed, CT_TEST_SERVICE_MANAGER_PIN) == NULL, "echoed: %s", echoed);
  close (err_fd);
  close (master);
  till_free (t);
}
END_TEST

static gint64
first_attention_id (Till *t)
{
  Run r = { 0 };
  json_object *o, *list, *v;
  gint64 id;

  ck_assert_int_eq (cli (t, &r, "--json", "sync", "--status", NULL), 0);
  o = parse_json (r.out);
  ck_assert (json_object_object_get_ex (o, "needs_attention", &list));
  ck_assert_int_ge (json_object_array_length (list), 1);
  ck_assert (json_object_object_get_ex (json_object_array_get_idx (list, 0), "id", &v));
  id = json_object_get_int64 (v);
  json_object_put (o);
  run_clear (&r);
  return id;
}

START_TEST (test_cli_needs_attention_resend_and_resolve)
{
  Till *t = till_new (TRUE);
  g_autofree char *no = issue (t, "Fay", "13800000006");
  g_autofree char *id1 = NULL;
  g_autofree char *id2 = NULL;
  Run r = { 0 };

  ck_assert (ct_fault_proxy_set_offline (t->proxy, TRUE, NULL));
  ck_assert_int_eq (cli (t, &r, "topup", no, "--package", "p100", NULL), 3);
  ck_assert_int_eq (cli (t, &r, "topup", no, "--package", "p200", NULL), 3);
  ck_assert (ct_fault_proxy_set_offline (t->proxy, FALSE, NULL));
  /* Another till freezes the card meanwhile. */
  {
    g_autofree char *path = g_strdup_printf ("/v1/cards/%s", no);
    g_autoptr(CtTestResponse) frozen = ct_test_http (t->svc, "PATCH", path, "other-till-freeze",
                                                     "{\"status\":\"frozen\",\"manager\":"
                                                     "{\"id\":\"m1\",\"pin\":\"246813\"}}",
                                                     NULL);
    ck_assert_int_eq (frozen->status, 200);
  }
  /* Both queued top-ups are refused now: sync says so, nothing is dropped. */
  ck_assert_int_eq (cli (t, &r, "sync", NULL), 2);
  ck_assert (strstr (r.out, "needs attention 2") != NULL);
  ck_assert_int_eq (cli (t, &r, "sync", "--status", NULL), 0);
  ck_assert (strstr (r.out, "Needs attention: 2") != NULL);
  ck_assert (strstr (r.out, "card_frozen") != NULL);

  id1 = g_strdup_printf ("%" G_GINT64_FORMAT, first_attention_id (t));
  /* Recording what was done needs the manager's PIN, and reaches the
   * service's audit log; a wrong PIN leaves the entry as it was. */
  ck_assert_int_eq (cli (t, &r, "sync", "--resolve", id1, "--note", "cash returned",
                         "--manager", "m1", NULL), 1);
  ck_assert_int_eq (cli (t, &r, "sync", "--resolve", id1, "--note", "cash returned",
                         "--manager", "m1", "--pin-file", t->bad_pin_file, NULL), 2);
  ck_assert_msg (g_str_has_prefix (r.err, "cardtill-cli: forbidden: "), "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "sync", "--status", NULL), 0);
  ck_assert (strstr (r.out, "Needs attention: 2") != NULL);
  ck_assert_int_eq (cli (t, &r, "sync", "--resolve", id1, "--note", "cash returned",
                         "--manager", "m1", "--pin-file", t->pin_file, NULL), 0);
  {
    g_autofree char *audit = NULL;

    ck_assert_int_eq (ct_test_service_admin (t->svc, &audit, "audit", NULL), 0);
    ck_assert_msg (strstr (audit, "cash returned") != NULL, "%s", audit);
  }
  ck_assert_int_eq (cli (t, &r, "card", "unfreeze", no, "--manager", "m1", "--pin-file",
                         t->pin_file, NULL), 0);
  id2 = g_strdup_printf ("%" G_GINT64_FORMAT, first_attention_id (t));
  ck_assert_str_ne (id1, id2);
  ck_assert_int_eq (cli (t, &r, "sync", "--resend", id2, "--manager", "m1", "--pin-file",
                         t->pin_file, NULL), 0);
  ck_assert (strstr (r.out, "Re-sent as a new request") != NULL);
  ck_assert_int_eq (cli (t, &r, "sync", "--status", NULL), 0);
  ck_assert (strstr (r.out, "Needs attention: 0") != NULL);
  ck_assert_int_eq (cli (t, &r, "card", "show", no, NULL), 0);
  ck_assert (strstr (r.out, "Balance   230.00") != NULL);
  ck_assert_int_eq (cli (t, &r, "sync", "--resolve", "999", "--note", "x", "--manager", "m1",
                         "--pin-file", t->pin_file, NULL), 1);
  ck_assert_int_eq (cli (t, &r, "sync", "--resolve", id1, "--note", "again", "--manager", "m1",
                         "--pin-file", t->pin_file, NULL), 1);
  run_clear (&r);
  till_free (t);
}
END_TEST

START_TEST (test_cli_embedded_service_shared_by_two_clients)
{
  Till *t = till_new (FALSE);
  g_autofree char *data = g_build_filename (t->dir, "data", NULL);
  g_autofree char *state = g_build_filename (data, "service", "state.ini", NULL);
  g_autofree char *pin = NULL;
  g_autoptr(CtClientConfig) config = ct_client_config_new ();
  g_autoptr(GError) error = NULL;
  CtClient *app;
  Run r = { 0 };

  g_clear_pointer (&t->svc, ct_test_service_free);
  /* In process, the service binary is not next to this test program. */
  g_setenv ("CARDTILL_SERVICE_BIN", ct_test_service_get_binary (), TRUE);
  config->data_dir = g_strdup (data);
  config->first_manager_pin = g_strdup ("864209");
  app = ct_client_new (config, &error);
  ck_assert_ptr_nonnull (app);
  ck_assert (ct_client_is_embedded (app));
  ck_assert (ct_client_needs_first_run (app));
  ck_assert_msg (ct_client_start (app, NULL, &pin, NULL, &error), "%s",
                 error ? error->message : "");
  ck_assert_str_eq (pin, "864209");
  ck_assert (!ct_client_needs_first_run (app));
  ck_assert (g_file_test (state, G_FILE_TEST_EXISTS));

  /* The CLI joins the running one and leaves it running. */
  ck_assert (g_file_set_contents (t->pin_file, "864209\n", -1, NULL));
  ck_assert_int_eq (cli (t, &r, "card", "issue", "--name", "Gus", "--phone", "13800000007",
                         "--manager", "manager", "--pin-file", t->pin_file, NULL), 0);
  ck_assert (strstr (r.err, "created") == NULL);
  ck_assert (g_file_test (state, G_FILE_TEST_EXISTS));

  /* The last one to leave stops it. */
  ct_client_shutdown (app);
  ck_assert (!g_file_test (state, G_FILE_TEST_EXISTS));
  g_object_unref (app);
  run_clear (&r);
  till_free (t);
}
END_TEST

START_TEST (test_cli_online_only_behind_unsettled_request_is_not_queued)
{
  Till *t = till_new (TRUE);
  g_autofree char *no = issue (t, "Kim", "13800000011");
  CtFaultWeights drop = { .drop_answer = 1 };
  CtFaultWeights pass = { .pass = 1 };
  Run r = { 0 };

  ck_assert_int_eq (cli (t, &r, "topup", no, "--package", "p100", NULL), 0);
  /* The payment reaches the service but its answer is lost: queued. */
  ct_fault_proxy_set_weights (t->proxy, &drop);
  ck_assert_int_eq (cli (t, &r, "pay", no, "5.00", NULL), 3);
  /* A manager action on that card cannot go before it settles: not done,
   * said why, and nothing waits in the outbox for later. */
  ck_assert_int_eq (cli (t, &r, "adjust", no, "+1.00", "--reason", "x", "--manager", "m1",
                         "--pin-file", t->pin_file, NULL), 5);
  ck_assert_msg (g_str_has_prefix (r.err, "cardtill-cli: earlier_pending: "), "%s", r.err);
  ck_assert_msg (strstr (r.err, "earlier request on this card") != NULL, "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "card", "freeze", no, "--manager", "m1", "--pin-file",
                         t->pin_file, NULL), 5);
  ck_assert_msg (strstr (r.err, "earlier_pending") != NULL, "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "--json", "sync", "--status", NULL), 0);
  {
    json_object *o = parse_json (r.out);
    json_object *pending, *v;

    ck_assert (json_object_object_get_ex (o, "pending", &pending));
    ck_assert_int_eq (json_object_array_length (pending), 1);
    ck_assert (json_object_object_get_ex (json_object_array_get_idx (pending, 0), "kind", &v));
    ck_assert_str_eq (json_object_get_string (v), "payment");
    json_object_put (o);
  }
  /* Back online, the sync settles the payment alone. */
  ct_fault_proxy_set_weights (t->proxy, &pass);
  ck_assert_int_eq (cli (t, &r, "sync", NULL), 0);
  ck_assert_int_eq (cli (t, &r, "card", "show", no, NULL), 0);
  ck_assert_msg (strstr (r.out, "Balance   105.00") != NULL, "%s", r.out);
  ck_assert_msg (strstr (r.out, "active") != NULL, "%s", r.out);
  run_clear (&r);
  till_free (t);
}
END_TEST

/* An offline top-up of @package on @no that the service refuses on sync
 * (after @change ran): it needs attention; returns its id. */
static char *
topup_needing_attention (Till *t, const char *no, const char *package, void (*change) (Till *, const char *))
{
  Run r = { 0 };

  ck_assert (ct_fault_proxy_set_offline (t->proxy, TRUE, NULL));
  ck_assert_int_eq (cli (t, &r, "topup", no, "--package", package, NULL), 3);
  ck_assert (ct_fault_proxy_set_offline (t->proxy, FALSE, NULL));
  change (t, no);
  ck_assert_int_eq (cli (t, &r, "sync", NULL), 2);
  run_clear (&r);
  return g_strdup_printf ("%" G_GINT64_FORMAT, first_attention_id (t));
}

static void
freeze_elsewhere (Till *t, const char *no)
{
  g_autofree char *path = g_strdup_printf ("/v1/cards/%s", no);
  g_autoptr(CtTestResponse) frozen = ct_test_http (t->svc, "PATCH", path, NULL,
                                                   "{\"status\":\"frozen\",\"manager\":"
                                                   "{\"id\":\"m1\",\"pin\":\""
                                                   CT_TEST_SERVICE_MANAGER_PIN "\"}}",
                                                   NULL);

  ck_assert_int_eq (frozen->status, 200);
}

static void
raise_p100_bonus (Till *t, const char *no)
{
  ck_assert_int_eq (ct_test_service_admin (t->svc, NULL, "package", "add", "--id", "p100",
                                           "--amount", "100.00", "--bonus", "20.00", NULL), 0);
}

/* A manager hands cash back from the drawer for a refused request: the
 * amount reaches the service with the outcome and leaves the expected cash
 * of the till's open shift; an amount that does not parse sends nothing. */
START_TEST (test_cli_resolve_with_cash_given_back_leaves_the_shift)
{
  Till *t = till_new (TRUE);
  g_autofree char *no = issue (t, "Ivy", "13800000015");
  g_autofree char *id = NULL;
  Run r = { 0 };

  ck_assert_msg (cli (t, &r, "--operator", "amy", "shift", "open", "--float", "200.00", NULL) == 0, "%s", r.err);
  ck_assert_msg (cli (t, &r, "topup", no, "--package", "p100", NULL) == 0, "%s", r.err);
  id = topup_needing_attention (t, no, "p100", freeze_elsewhere);
  ck_assert_int_eq (cli (t, &r, "shift", "report", NULL), 0);
  ck_assert_msg (strstr (r.out, "Expected cash: ¥300.00\n") != NULL, "%s", r.out);

  ck_assert_int_eq (cli (t, &r, "sync", "--resolve", id, "--note", "cash returned", "--manager", "m1",
                         "--pin-file", t->pin_file, "--cash-given-back", "12.3.4", NULL), 1);
  ck_assert_msg (strstr (r.err, "--cash-given-back:") != NULL, "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "sync", "--resend", id, "--manager", "m1", "--pin-file", t->pin_file,
                         "--cash-given-back", "1.00", NULL), 1);
  ck_assert_int_eq (cli (t, &r, "sync", "--status", NULL), 0);
  ck_assert_msg (strstr (r.out, "Needs attention: 1") != NULL, "%s", r.out);

  ck_assert_msg (cli (t, &r, "sync", "--resolve", id, "--note", "cash returned", "--manager", "m1",
                      "--pin-file", t->pin_file, "--cash-given-back", "25.00", NULL) == 0, "%s", r.err);
  ck_assert_msg (strstr (r.out, "25.00 cash handed back, out of shift ") != NULL, "%s", r.out);
  ck_assert_int_eq (cli (t, &r, "shift", "report", NULL), 0);
  ck_assert_msg (strstr (r.out, "Cash handed back (outcomes): -¥25.00\n") != NULL, "%s", r.out);
  ck_assert_msg (strstr (r.out, "Expected cash: ¥275.00\n") != NULL, "%s", r.out);
  {
    g_autofree char *audit = NULL;

    ck_assert_int_eq (ct_test_service_admin (t->svc, &audit, "audit", NULL), 0);
    ck_assert_msg (strstr (audit, "\"cash_given_back\":2500") != NULL, "%s", audit);
  }
  run_clear (&r);
  till_free (t);
}
END_TEST

START_TEST (test_cli_resend_refused_again_stays_in_view)
{
  Till *t = till_new (TRUE);
  g_autofree char *no = issue (t, "Lin", "13800000012");
  g_autofree char *id = topup_needing_attention (t, no, "p100", freeze_elsewhere);
  Run r = { 0 };

  /* Still frozen: the re-send is refused too, and the entry comes back. */
  ck_assert_int_eq (cli (t, &r, "sync", "--resend", id, "--manager", "m1", "--pin-file",
                         t->pin_file, NULL), 2);
  ck_assert_msg (g_str_has_prefix (r.err, "cardtill-cli: card_frozen: "), "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "sync", "--status", NULL), 0);
  ck_assert_msg (strstr (r.out, "Needs attention: 1") != NULL, "%s", r.out);
  ck_assert_msg (strstr (r.out, "refused again") != NULL, "%s", r.out);
  {
    /* Both refusals are in its reason. */
    const char *first = strstr (r.out, "card_frozen");

    ck_assert_ptr_nonnull (first);
    ck_assert_msg (strstr (first + 1, "card_frozen") != NULL, "%s", r.out);
  }
  ck_assert_int_eq (cli (t, &r, "sync", "--resolve", id, "--note", "cash returned",
                         "--manager", "m1", "--pin-file", t->pin_file, NULL), 0);
  /* Resolved entries stay in view on request, with their outcome. */
  ck_assert_int_eq (cli (t, &r, "sync", "--status", NULL), 0);
  ck_assert (strstr (r.out, "Resolved") == NULL);
  ck_assert_int_eq (cli (t, &r, "sync", "--status", "--all", NULL), 0);
  ck_assert_msg (strstr (r.out, "Resolved: 1") != NULL, "%s", r.out);
  ck_assert_msg (strstr (r.out, "cash returned") != NULL, "%s", r.out);
  ck_assert_int_eq (cli (t, &r, "--json", "sync", "--status", "--all", NULL), 0);
  {
    json_object *o = parse_json (r.out);
    json_object *list, *v;

    ck_assert (json_object_object_get_ex (o, "resolved", &list));
    ck_assert_int_eq (json_object_array_length (list), 1);
    ck_assert (json_object_object_get_ex (json_object_array_get_idx (list, 0), "reason", &v));
    ck_assert_ptr_nonnull (strstr (json_object_get_string (v), "cash returned"));
    json_object_put (o);
  }
  run_clear (&r);
  till_free (t);
}
END_TEST

START_TEST (test_cli_resend_of_changed_package_quotes_the_new_bonus)
{
  Till *t = till_new (TRUE);
  g_autofree char *no = issue (t, "Mo", "13800000013");
  g_autofree char *id = topup_needing_attention (t, no, "p100", raise_p100_bonus);
  Run r = { 0 };

  ck_assert_int_eq (cli (t, &r, "sync", "--status", NULL), 0);
  ck_assert_msg (strstr (r.out, "package_changed") != NULL, "%s", r.out);
  /* The terms now are quoted; nothing is sent without the confirmation. */
  ck_assert_int_eq (cli (t, &r, "sync", "--resend", id, "--manager", "m1", "--pin-file",
                         t->pin_file, NULL), 1);
  ck_assert_msg (strstr (r.err, "100.00 with a bonus of 20.00") != NULL, "%s", r.err);
  ck_assert_msg (strstr (r.err, "--accept-package") != NULL, "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "sync", "--status", NULL), 0);
  ck_assert_msg (strstr (r.out, "Needs attention: 1") != NULL, "%s", r.out);
  ck_assert_int_eq (cli (t, &r, "sync", "--resend", id, "--manager", "m1", "--pin-file",
                         t->pin_file, "--accept-package", NULL), 0);
  ck_assert_msg (strstr (r.err, "bonus of 20.00") != NULL, "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "card", "show", no, NULL), 0);
  ck_assert_msg (strstr (r.out, "Balance   120.00") != NULL, "%s", r.out);
  ck_assert_int_eq (cli (t, &r, "sync", "--status", "--all", NULL), 0);
  ck_assert_msg (strstr (r.out, "Needs attention: 0") != NULL, "%s", r.out);
  ck_assert_msg (strstr (r.out, "Resolved: 1") != NULL, "%s", r.out);
  run_clear (&r);
  till_free (t);
}
END_TEST

START_TEST (test_cli_show_and_find_refresh_the_member_cache)
{
  Till *t = till_new (TRUE);
  g_autofree char *other = g_build_filename (t->dir, "other-till", NULL);
  g_autofree char *shown = NULL;
  g_autofree char *found = NULL;
  Run r = { 0 };

  ck_assert_int_eq (ct_test_service_admin (t->svc, NULL, "merchant", "set",
                                           "--offline-payment-cap", "50.00",
                                           "--offline-card-cap", "100.00", NULL), 0);
  ck_assert (ct_test_service_restart (t->svc, NULL));
  ct_fault_proxy_set_upstream (t->proxy, ct_test_service_get_url (t->svc));
  /* Two cards this till never took money on: another till issued them. */
  ck_assert_int_eq (cli (t, &r, "--data-dir", other, "card", "issue", "--name", "Ned",
                         "--phone", "13800000014", "--manager", "m1", "--pin-file", t->pin_file,
                         NULL), 0);
  shown = g_strdup (last_line (r.out));
  ck_assert_int_eq (cli (t, &r, "--data-dir", other, "card", "issue", "--name", "Olga",
                         "--phone", "13800000015", "--manager", "m1", "--pin-file", t->pin_file,
                         NULL), 0);
  found = g_strdup (last_line (r.out));
  ck_assert_int_eq (cli (t, &r, "--data-dir", other, "topup", shown, "--package", "p100", NULL), 0);
  ck_assert_int_eq (cli (t, &r, "--data-dir", other, "topup", found, "--package", "p100", NULL), 0);

  /* This till looks them up, then loses the service. */
  ck_assert_int_eq (cli (t, &r, "card", "show", shown, NULL), 0);
  ck_assert_int_eq (cli (t, &r, "find", "--phone", "13800000015", NULL), 0);
  ck_assert (ct_fault_proxy_set_offline (t->proxy, TRUE, NULL));
  /* The offline rules know both cards and their balances. */
  ck_assert_int_eq (cli (t, &r, "pay", shown, "5.00", NULL), 3);
  ck_assert_int_eq (cli (t, &r, "pay", found, "5.00", NULL), 3);
  ck_assert_int_eq (cli (t, &r, "card", "show", found, NULL), 5);
  ck_assert_msg (strstr (r.out, "Balance   110.00") != NULL, "%s", r.out);
  run_clear (&r);
  till_free (t);
}
END_TEST

static guint
count_of (const char *text, const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (text, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

START_TEST (test_cli_card_replace_moves_the_money_and_the_old_card_names_the_new)
{
  Till *t = till_new (TRUE);
  g_autofree char *old = NULL;
  g_autofree char *new_no = NULL;
  g_autofree char *wanted = NULL;
  Run r = { 0 };

  ck_assert_int_eq (ct_test_service_admin (t->svc, NULL, "merchant", "set",
                                           "--offline-payment-cap", "50.00",
                                           "--offline-card-cap", "100.00", NULL), 0);
  ck_assert (ct_test_service_restart (t->svc, NULL));
  ct_fault_proxy_set_upstream (t->proxy, ct_test_service_get_url (t->svc));
  old = issue (t, "Lost", "13800000031");
  ck_assert_int_eq (cli (t, &r, "topup", old, "--package", "p100", NULL), 0);
  ck_assert_int_eq (cli (t, &r, "pay", old, "10.00", NULL), 0);

  /* Usage, a wrong PIN and a bad new number send nothing that changes. */
  ck_assert_int_eq (cli (t, &r, "card", "replace", old, NULL), 1);
  ck_assert_int_eq (cli (t, &r, "card", "replace", old, "--manager", "m1", "--pin-file", t->bad_pin_file, NULL), 2);
  ck_assert_msg (g_str_has_prefix (r.err, "cardtill-cli: forbidden: "), "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "card", "replace", old, "--new", "8888000000000001", "--manager", "m1",
                         "--pin-file", t->pin_file, NULL), 2);
  ck_assert_msg (g_str_has_prefix (r.err, "cardtill-cli: invalid_card_no: "), "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "card", "replace", old, "--new", "no", "--manager", "m1",
                         "--pin-file", t->pin_file, NULL), 1);

  /* The new card, with the money, printed; its number on the last line. */
  ck_assert_msg (cli (t, &r, "card", "replace", old, "--new", "lost-2", "--manager", "m1",
                      "--pin-file", t->pin_file, NULL) == 0, "%d %s %s", r.status, r.out, r.err);
  new_no = g_strdup (last_line (r.out));
  ck_assert_str_eq (new_no, "LOST-2");
  ck_assert_msg (strstr (r.out, "Card      LOST-2") != NULL && strstr (r.out, "Balance   100.00") != NULL
                 && strstr (r.out, "Points    10") != NULL && strstr (r.out, "Lost (13800000031)") != NULL, "%s", r.out);
  wanted = g_strdup_printf ("Replaces lost card %s, now closed: moved 100.00 and 10 points", old);
  ck_assert_msg (strstr (r.out, wanted) != NULL, "%s", r.out);
  /* The till that replaced it knows at once, offline, that the lost card
   * is closed: the answer's closed card went to its member cache. */
  ck_assert (ct_fault_proxy_set_offline (t->proxy, TRUE, NULL));
  ck_assert_int_eq (cli (t, &r, "pay", old, "1.00", NULL), 5);
  ck_assert_msg (strstr (r.err, "replaced by card LOST-2") != NULL, "%s", r.err);
  ck_assert (ct_fault_proxy_set_offline (t->proxy, FALSE, NULL));

  /* The lost card: shown as closed, naming the new card; refused with a
   * sentence naming it. */
  ck_assert_int_eq (cli (t, &r, "card", "show", old, NULL), 0);
  ck_assert_msg (strstr (r.out, "Status    closed") != NULL
                 && strstr (r.out, "Replaced  by card LOST-2: use the new card") != NULL, "%s", r.out);
  ck_assert_int_eq (cli (t, &r, "pay", old, "1.00", NULL), 2);
  ck_assert_msg (strstr (r.err, "cardtill-cli: card_closed: This card was replaced by card LOST-2: use the new card")
                 != NULL, "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "card", "replace", old, "--manager", "m1", "--pin-file", t->pin_file, NULL), 2);
  ck_assert_msg (strstr (r.err, "card_closed") != NULL && strstr (r.err, "LOST-2") != NULL, "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "history", old, NULL), 0);
  ck_assert_msg (strstr (r.out, "replacement") != NULL || strstr (r.out, "Lost card replacement") != NULL, "%s", r.out);
  ck_assert_int_eq (cli (t, &r, "pay", new_no, "1.00", NULL), 0);
  ck_assert_msg (strstr (r.out, "99.00") != NULL, "%s", r.out);

  /* Offline the till knows the lost card is closed. */
  ck_assert (ct_fault_proxy_set_offline (t->proxy, TRUE, NULL));
  ck_assert_int_eq (cli (t, &r, "pay", old, "1.00", NULL), 5);
  ck_assert_msg (strstr (r.err, "replaced by card LOST-2") != NULL, "%s", r.err);
  run_clear (&r);
  till_free (t);
}
END_TEST

/* A payment and a top-up taken on a card that was then lost: refunded on
 * the card that replaced it, in parts, once; the lost card names it. */
START_TEST (test_cli_refund_of_a_lost_cards_payment_goes_onto_the_new_card)
{
  Till *t = till_new (FALSE);
  g_autofree char *old = issue (t, "Lost", "13800000032");
  g_autofree char *topup_tx = NULL, *tx = NULL;
  g_autofree char *wanted = NULL;
  Run r = { 0 };

  ck_assert_int_eq (cli (t, &r, "--json", "topup", old, "--package", "p100", NULL), 0);
  topup_tx = answer_tx_id (r.out);
  ck_assert_int_eq (cli (t, &r, "--json", "pay", old, "50.00", NULL), 0);
  tx = answer_tx_id (r.out);
  ck_assert_msg (cli (t, &r, "card", "replace", old, "--new", "lost-3", "--manager", "m1",
                      "--pin-file", t->pin_file, NULL) == 0, "%d %s %s", r.status, r.out, r.err);

  /* On the lost card: refused, naming the card to refund on. */
  ck_assert_int_eq (cli (t, &r, "refund", old, tx, "--manager", "m1", "--pin-file", t->pin_file, NULL), 2);
  ck_assert_msg (strstr (r.err, "card_closed") != NULL && strstr (r.err, "LOST-3") != NULL, "%s", r.err);

  /* On the new card: a part, the rest, then nothing is left. */
  ck_assert_int_eq (cli (t, &r, "refund", "LOST-3", tx, "--amount", "20.00", "--manager", "m1", "--pin-file",
                         t->pin_file, NULL), 0);
  ck_assert_msg (strstr (r.out, "refund 20.00 on card LOST-3") != NULL && strstr (r.out, "balance 80.00") != NULL,
                 "%s", r.out);
  ck_assert_msg (strstr (r.out, "refunded 20.00 of 50.00; 30.00 left to refund") != NULL, "%s", r.out);
  ck_assert_int_eq (cli (t, &r, "refund", "LOST-3", tx, "--manager", "m1", "--pin-file", t->pin_file, NULL), 0);
  ck_assert_msg (strstr (r.out, "refund 30.00 on card LOST-3") != NULL && strstr (r.out, "balance 110.00") != NULL,
                 "%s", r.out);
  ck_assert_int_eq (cli (t, &r, "refund", "LOST-3", tx, "--manager", "m1", "--pin-file", t->pin_file, NULL), 2);
  ck_assert_msg (g_str_has_prefix (r.err, "cardtill-cli: already_refunded: "), "%s", r.err);

  /* The lost card's top-up is voided from the new card: the cash to hand
   * back and the bonus, though the top-up is not in its history. */
  ck_assert_int_eq (cli (t, &r, "refund", "LOST-3", topup_tx, "--manager", "m1", "--pin-file", t->pin_file,
                         NULL), 0);
  ck_assert_msg (strstr (r.out, "top-up voided on card LOST-3: hand back 100.00 in cash") != NULL
                 && strstr (r.out, "bonus 10.00 taken back") != NULL && strstr (r.out, "balance 0.00") != NULL,
                 "%s", r.out);

  /* The new card's history lists the refunds and what they gave back. */
  ck_assert_int_eq (cli (t, &r, "history", "LOST-3", NULL), 0);
  wanted = g_strdup_printf ("refund of %s\n", tx);
  ck_assert_msg (strstr (r.out, wanted) != NULL, "%s", r.out);
  g_free (wanted);
  wanted = g_strdup_printf ("refund of %s\n", topup_tx);
  ck_assert_msg (strstr (r.out, wanted) != NULL, "%s", r.out);
  ck_assert_int_eq (cli (t, &r, "history", old, NULL), 0);
  ck_assert_msg (strstr (r.out, "refunded 50.00 of 50.00") != NULL, "%s", r.out);
  run_clear (&r);
  till_free (t);
}
END_TEST

START_TEST (test_cli_secrets_stay_private_and_readable_ones_are_warned)
{
  Till *t = till_new (FALSE);
  g_autofree char *ini_dir = g_build_filename (t->dir, "config", "cardtill", NULL);
  g_autofree char *ini = g_build_filename (ini_dir, "till.ini", NULL);
  g_autofree char *token_file = g_build_filename (t->dir, "token", NULL);
  g_autofree char *outbox = g_build_filename (t->dir, "data", "outbox.db", NULL);
  g_autofree char *text = NULL;
  g_autofree char *no = issue (t, "Pat", "13800000016");
  g_autofree char *token = g_strdup (ct_test_service_get_token (t->svc));
  struct stat st;
  Run r = { 0 };

  /* The outbox holds manager PINs while their requests are pending. */
  ck_assert_int_eq (stat (outbox, &st), 0);
  ck_assert_int_eq (st.st_mode & 0777, 0600);

  /* The token from a file, the environment's left out. */
  g_unsetenv ("CARDTILL_TOKEN_FILE");
  ck_assert (g_file_set_contents_full (token_file, token, -1, G_FILE_SET_CONTENTS_NONE, 0600,
                                       NULL));
  ck_assert_int_eq (cli (t, &r, "--token", "wrong", "--token-file", token_file, "card", "show",
                         no, NULL), 2);
  ck_assert_msg (strstr (r.err, "--token shows the till token") != NULL, "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "--token-file", token_file, "card", "show", no, NULL), 0);
  ck_assert_msg (strstr (r.err, "warning") == NULL, "%s", r.err);
  /* Others may read it: said once. */
  ck_assert_int_eq (chmod (token_file, 0644), 0);
  ck_assert_int_eq (cli (t, &r, "--token-file", token_file, "card", "show", no, NULL), 0);
  ck_assert_msg (count_of (r.err, "others can read it") == 1, "%s", r.err);

  /* A world-readable till.ini with the token in it. */
  ck_assert_int_eq (g_mkdir_with_parents (ini_dir, 0700), 0);
  text = g_strdup_printf ("[till]\ntoken=%s\n", token);
  ck_assert (g_file_set_contents_full (ini, text, -1, G_FILE_SET_CONTENTS_NONE, 0644, NULL));
  ck_assert_int_eq (cli (t, &r, "card", "show", no, NULL), 0);
  ck_assert_msg (count_of (r.err, "others can read it") == 1, "%s", r.err);
  ck_assert_msg (strstr (r.err, "till.ini") != NULL, "%s", r.err);
  /* A mistyped key stops the till, naming the line. */
  ck_assert (g_file_set_contents (ini, "[till]\n# the shop's service\nservise=https://x\n", -1,
                                  NULL));
  ck_assert_int_eq (cli (t, &r, "card", "show", no, NULL), 1);
  ck_assert_msg (strstr (r.err, "line 3") != NULL && strstr (r.err, "servise") != NULL, "%s",
                 r.err);
  run_clear (&r);
  till_free (t);
}
END_TEST

START_TEST (test_cli_messages_a_cashier_can_act_on)
{
  Till *t = till_new (TRUE);
  g_autofree char *no = issue (t, "Eve\033[2J", "13800000017");
  g_autofree char *tx = NULL;
  Run r = { 0 };

  /* Usage errors name what is missing. */
  ck_assert_int_eq (cli (t, &r, "adjust", no, "-1.00", "--manager", "m1", "--pin-file",
                         t->pin_file, NULL), 1);
  ck_assert_msg (strstr (r.err, "--reason is missing") != NULL, "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "refund", no, "--manager", "m1", NULL), 1);
  ck_assert_msg (strstr (r.err, "TX_ID is missing") != NULL, "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "card", "issue", "--name", "A", "--manager", "m1", NULL), 1);
  ck_assert_msg (strstr (r.err, "--phone is missing") != NULL, "%s", r.err);
  ck_assert_int_eq (cli (t, &r, "sync", "--resolve", "1", "--manager", "m1", NULL), 1);
  ck_assert_msg (strstr (r.err, "--note is missing") != NULL, "%s", r.err);

  /* An amount in a shop of packages: said before sending, no field names. */
  ck_assert_int_eq (cli (t, &r, "topup", no, "50.00", NULL), 1);
  ck_assert_msg (strstr (r.err, "--package") != NULL && strstr (r.err, "p100") != NULL, "%s",
                 r.err);
  ck_assert_msg (strstr (r.err, "package_id") == NULL, "%s", r.err);

  /* A void: the cash to hand back and the bonus taken back. */
  ck_assert_int_eq (cli (t, &r, "--json", "topup", no, "--package", "p100", NULL), 0);
  tx = answer_tx_id (r.out);
  ck_assert_int_eq (cli (t, &r, "refund", no, tx, "--manager", "m1", "--pin-file", t->pin_file,
                         NULL), 0);
  ck_assert_msg (strstr (r.out, "hand back 100.00 in cash") != NULL, "%s", r.out);
  ck_assert_msg (strstr (r.out, "bonus 10.00 taken back") != NULL, "%s", r.out);
  ck_assert_msg (strstr (r.out, "-110.00") == NULL, "%s", r.out);

  /* A refused increase says how much the store's card account holds. */
  ck_assert_int_eq (cli (t, &r, "adjust", no, "+1000.00", "--reason", "gift", "--manager", "m1",
                         "--pin-file", t->pin_file, NULL), 2);
  ck_assert_msg (strstr (r.err, "card account holds 0.00") != NULL, "%s", r.err);

  /* What people typed never drives the terminal. */
  ck_assert_int_eq (cli (t, &r, "topup", no, "--package", "p100", NULL), 0);
  ck_assert_int_eq (cli (t, &r, "pay", no, "1.00", "--order", "O-1\r\033[2KPAID 9999.00", NULL), 0);
  ck_assert_int_eq (cli (t, &r, "card", "show", no, NULL), 0);
  ck_assert_msg (strchr (r.out, '\033') == NULL && strstr (r.out, "Eve\\x1b[2J") != NULL, "%s",
                 r.out);
  ck_assert_int_eq (cli (t, &r, "find", "--phone", "13800000017", NULL), 0);
  ck_assert_msg (strchr (r.out, '\033') == NULL, "%s", r.out);
  ck_assert_int_eq (cli (t, &r, "history", no, NULL), 0);
  ck_assert_msg (strchr (r.out, '\033') == NULL && strchr (r.out, '\r') == NULL, "%s", r.out);
  ck_assert_msg (strstr (r.out, "O-1\\x0d\\x1b[2KPAID") != NULL, "%s", r.out);

  /* No libcurl text when the service is away. */
  ck_assert (ct_fault_proxy_set_offline (t->proxy, TRUE, NULL));
  ck_assert_int_eq (cli (t, &r, "find", "--phone", "13800000017", NULL), 5);
  ck_assert_msg (strstr (r.err, "does not answer") != NULL, "%s", r.err);
  ck_assert_msg (strstr (r.err, "Failed to connect") == NULL, "%s", r.err);
  run_clear (&r);
  till_free (t);
}
END_TEST

/* Alive and not a zombie. */
static gboolean
process_alive (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *stat = NULL;
  const char *close_paren;

  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return FALSE;
  close_paren = strrchr (stat, ')');
  return close_paren != NULL && close_paren[1] == ' ' && close_paren[2] != 'Z'
         && close_paren[2] != 'X';
}

START_TEST (test_cli_orphaned_builtin_service_stops_by_itself)
{
  Till *t = till_new (FALSE);
  g_autofree char *first_pin = g_build_filename (t->dir, "first-pin", NULL);
  g_autofree char *state = g_build_filename (t->dir, "data", "service", "state.ini", NULL);
  g_autofree char *prompt = NULL;
  g_auto(GStrv) env = NULL;
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  char *argv[] = { (char *) cli_binary (), "sync", "--resend", "1", "--manager", "manager", NULL };
  gint64 deadline;
  int master, err_fd, service_pid, status = 0;
  GPid pid;
  Run r = { 0 };

  g_clear_pointer (&t->svc, ct_test_service_free);
  ck_assert (g_file_set_contents (first_pin, "135790\n", -1, NULL));
  ck_assert_int_eq (cli (t, &r, "--manager-pin-file", first_pin, "sync", "--status", NULL), 0);
  ck_assert_int_eq (cli (t, &r, "--manager-pin-file", first_pin, "sync", NULL), 0);

  /* A client that holds the built-in service (it waits at the PIN prompt)
   * is killed with -9: nobody tells the service to stop. */
  env = till_env (t);
  env = g_environ_setenv (env, "CARDTILL_CLIENT_POLL_MS", "200", TRUE);
  ck_assert_int_eq (openpty (&master, &pty_slave_fd, NULL, NULL, NULL), 0);
  ck_assert (g_spawn_async_with_pipes (NULL, argv, env, G_SPAWN_DO_NOT_REAP_CHILD
                                       | G_SPAWN_STDOUT_TO_DEV_NULL, stdin_from_pty, NULL,
                                       &pid, NULL, NULL, &err_fd, &error));
  close (pty_slave_fd);
  pty_slave_fd = -1;
  prompt = read_until (err_fd, "Manager PIN: ");
  ck_assert_msg (strstr (prompt, "Manager PIN: ") != NULL, "%s", prompt);
  ck_assert (g_key_file_load_from_file (kf, state, G_KEY_FILE_NONE, NULL));
  service_pid = g_key_file_get_integer (kf, "service", "pid", NULL);
  ck_assert_int_gt (service_pid, 0);
  ck_assert (process_alive (service_pid));
  kill (pid, SIGKILL);
  ck_assert_int_eq (waitpid (pid, &status, 0), pid);

  /* It notices that no client holds its lock, and stops. */
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (process_alive (service_pid) && g_get_monotonic_time () < deadline)
    g_usleep (50 * 1000);
  if (process_alive (service_pid))
    {
      kill (service_pid, SIGKILL);
      ck_abort_msg ("the orphaned built-in service still runs");
    }
  ck_assert (!g_file_test (state, G_FILE_TEST_EXISTS));
  /* The next client starts it again. */
  ck_assert_int_eq (cli (t, &r, "sync", NULL), 0);
  close (err_fd);
  close (master);
  run_clear (&r);
  till_free (t);
}
END_TEST

START_TEST (test_cli_topup_is_queued_when_the_network_cuts_the_handshake)
{
  Till *t = till_new (TRUE);
  g_autofree char *no = issue (t, "Quinn", "13800000018");
  /* The same address, spoken to over TLS. */
  g_autofree char *https_url = g_strconcat ("https", ct_fault_proxy_get_url (t->proxy)
                                                     + strlen ("http"), NULL);
  CtFaultWeights cut = { .cut_on_accept = TRUE };
  Run r = { 0 };

  /* The network drops every connection at once, in the middle of the TLS
   * handshake: unreachable, not a certificate problem, so the top-up is
   * taken and queued. */
  ct_fault_proxy_set_weights (t->proxy, &cut);
  ck_assert_int_eq (cli (t, &r, "--service", https_url, "topup", no, "--package", "p100", NULL),
                    3);
  ck_assert_msg (strstr (r.err, "queued") != NULL, "%s", r.err);
  ck_assert_msg (strstr (r.err, "certificate") == NULL, "%s", r.err);
  ck_assert_uint_ge (ct_fault_proxy_get_connections (t->proxy), 1);
  ck_assert_int_eq (cli (t, &r, "--service", https_url, "sync", "--status", NULL), 0);
  ck_assert_msg (strstr (r.out, "Pending: 1") != NULL, "%s", r.out);
  run_clear (&r);
  till_free (t);
}
END_TEST

START_TEST (test_app_sigterm_stops_its_builtin_service)
{
  Till *t = till_new (FALSE);
  g_autofree char *first_pin = g_build_filename (t->dir, "first-pin", NULL);
  g_autofree char *state = g_build_filename (t->dir, "data", "service", "state.ini", NULL);
  g_autofree char *app = g_build_filename (g_getenv ("CT_TOP_BUILDDIR"), "src", "app", "cardtill",
                                           NULL);
  g_autofree char *display = g_strdup_printf (":%d", 40 + getpid () % 50);
  g_autofree char *socket = g_strdup_printf ("/tmp/.X11-unix/X%s", display + 1);
  g_auto(GStrv) env = NULL;
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  char *xvfb_argv[] = { "Xvfb", display, "-nolisten", "tcp", "-screen", "0", "1024x768x24", NULL };
  char *app_argv[] = { app, NULL };
  gint64 deadline;
  GPid xvfb, pid;
  int service_pid, status = 0;
  Run r = { 0 };

  if (!g_file_test (app, G_FILE_TEST_IS_EXECUTABLE) || g_find_program_in_path ("Xvfb") == NULL)
    {
      till_free (t);
      return;
    }
  g_clear_pointer (&t->svc, ct_test_service_free);
  ck_assert (g_file_set_contents (first_pin, "135790\n", -1, NULL));
  ck_assert_int_eq (cli (t, &r, "--manager-pin-file", first_pin, "sync", NULL), 0);

  ck_assert (g_spawn_async (NULL, xvfb_argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD
                            | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                            NULL, NULL, &xvfb, NULL));
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (!g_file_test (socket, G_FILE_TEST_EXISTS) && g_get_monotonic_time () < deadline)
    g_usleep (50 * 1000);

  /* The app joins the built-in service; only a clean leave can stop it
   * (the service's own check for orphans is made too slow to matter). */
  env = till_env (t);
  env = g_environ_setenv (env, "DISPLAY", display, TRUE);
  env = g_environ_setenv (env, "CARDTILL_CLIENT_POLL_MS", "600000", TRUE);
  ck_assert (g_spawn_async (NULL, app_argv, env, G_SPAWN_DO_NOT_REAP_CHILD
                            | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, &pid, NULL));
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (!g_key_file_load_from_file (kf, state, G_KEY_FILE_NONE, NULL)
         && g_get_monotonic_time () < deadline)
    g_usleep (50 * 1000);
  service_pid = g_key_file_get_integer (kf, "service", "pid", NULL);
  ck_assert_int_gt (service_pid, 0);
  ck_assert (process_alive (service_pid));

  kill (pid, SIGTERM);
  ck_assert_int_eq (waitpid (pid, &status, 0), pid);
  kill (xvfb, SIGTERM);
  waitpid (xvfb, NULL, 0);
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (process_alive (service_pid) && g_get_monotonic_time () < deadline)
    g_usleep (50 * 1000);
  if (process_alive (service_pid))
    {
      /* Not left behind by a failing test either. */
      kill (service_pid, SIGKILL);
      ck_abort_msg ("the app left its built-in service running");
    }
  ck_assert (!g_file_test (state, G_FILE_TEST_EXISTS));
  run_clear (&r);
  till_free (t);
}
END_TEST

static Suite *
cli_suite (void)
{
  Suite *s = suite_create ("cli");
  TCase *tc = tcase_create ("cli");

  tcase_set_timeout (tc, 240);
  tcase_add_test (tc, test_cli_usage_and_version);
  tcase_add_test (tc, test_cli_card_commands);
  tcase_add_test (tc, test_cli_money_commands);
  tcase_add_test (tc, test_cli_refund_a_part_of_a_payment);
  tcase_add_test (tc, test_cli_refund_a_part_refused_by_an_older_service);
  tcase_add_test (tc, test_cli_pay_with_points_and_the_members_code);
  tcase_add_test (tc, test_cli_pay_and_receipt_show_the_level_and_points_used);
  tcase_add_test (tc, test_cli_pay_split_takes_the_rest_by_another_tender);
  tcase_add_test (tc, test_cli_pay_with_the_members_pin);
  tcase_add_test (tc, test_cli_offline_topup_queued_then_synced);
  tcase_add_test (tc, test_cli_pay_spares_the_merchant_round_trip);
  tcase_add_test (tc, test_cli_import_sends_the_next_chunk_while_one_commits);
  tcase_add_test (tc, test_cli_kill9_in_payment_loop_loses_nothing_doubles_nothing);
  tcase_add_test (tc, test_cli_embedded_service_first_run_and_stop);
  tcase_add_test (tc, test_cli_needs_attention_resend_and_resolve);
  tcase_add_test (tc, test_cli_resolve_with_cash_given_back_leaves_the_shift);
  tcase_add_test (tc, test_cli_garbage_answers_are_not_results);
  tcase_add_test (tc, test_cli_locked_pin_is_reported_at_once);
  tcase_add_test (tc, test_cli_pin_prompt_on_a_terminal_does_not_echo);
  tcase_add_test (tc, test_cli_embedded_service_shared_by_two_clients);
  suite_add_tcase (s, tc);
  /* What an attacker, a hostile network and a careful manager found. */
  tc = tcase_create ("hardening");
  tcase_set_timeout (tc, 240);
  tcase_add_test (tc, test_cli_online_only_behind_unsettled_request_is_not_queued);
  tcase_add_test (tc, test_cli_resend_refused_again_stays_in_view);
  tcase_add_test (tc, test_cli_resend_of_changed_package_quotes_the_new_bonus);
  tcase_add_test (tc, test_cli_show_and_find_refresh_the_member_cache);
  tcase_add_test (tc, test_cli_card_replace_moves_the_money_and_the_old_card_names_the_new);
  tcase_add_test (tc, test_cli_refund_of_a_lost_cards_payment_goes_onto_the_new_card);
  tcase_add_test (tc, test_cli_secrets_stay_private_and_readable_ones_are_warned);
  tcase_add_test (tc, test_cli_messages_a_cashier_can_act_on);
  tcase_add_test (tc, test_cli_orphaned_builtin_service_stops_by_itself);
  tcase_add_test (tc, test_cli_topup_is_queued_when_the_network_cuts_the_handshake);
  tcase_add_test (tc, test_app_sigterm_stops_its_builtin_service);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (cli_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
