/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-test-service"
#include "config.h"

#include <curl/curl.h>
#include <gio/gio.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "ct-test-service.h"
#include "ct-test-json.h"

struct _CtTestService
{
  gboolean  https;
  char     *dir;
  char     *db;
  char     *cert;
  char     *key;
  char     *pin_file;
  char     *url;
  char     *token;
  char     *pubkey;
  GStrv     serve_args;
  GPid      pid;
  guint     port;
  pid_t     owner;     /* the process that started it */
};

struct _CtTestClient
{
  guint  connects;
  CURL  *curl;
  char  *base;
  char  *ca;
  char  *token;
};

const char *
ct_test_service_get_binary (void)
{
  static char *path;

  if (path == NULL)
    {
      const char *top = g_getenv ("CT_TOP_BUILDDIR");
      path = g_build_filename (top ? top : ".", "src", "service", "cardtill-service", NULL);
    }
  return path;
}

static gboolean
run_admin_v (CtTestService  *svc,
             GPtrArray      *args,
             char          **out_stdout,
             char          **out_stderr,
             int            *out_status,
             GError        **error)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int wait_status = 0;

  g_ptr_array_insert (args, 0, g_strdup (ct_test_service_get_binary ()));
  if (svc != NULL)
    {
      g_ptr_array_add (args, g_strdup ("--db"));
      g_ptr_array_add (args, g_strdup (svc->db));
    }
  g_ptr_array_add (args, NULL);
  if (!g_spawn_sync (NULL, (char **) args->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                     &out, &err, &wait_status, error))
    return FALSE;
  if (err != NULL && *err != '\0')
    g_test_message ("cardtill-service: %s", err);
  *out_status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : 128;
  if (out_stdout != NULL)
    *out_stdout = g_steal_pointer (&out);
  if (out_stderr != NULL)
    *out_stderr = g_steal_pointer (&err);
  return TRUE;
}

static int
admin_va (CtTestService  *svc,
          char          **out_stdout,
          char          **out_stderr,
          const char     *first_arg,
          va_list         ap)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  int status = -1;

  for (const char *a = first_arg; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, g_strdup (a));
  if (!run_admin_v (svc, args, out_stdout, out_stderr, &status, &error))
    {
      g_warning ("cannot run cardtill-service: %s", error->message);
      return -1;
    }
  return status;
}

int
ct_test_service_admin (CtTestService  *svc,
                       char          **out_stdout,
                       const char     *first_arg,
                       ...)
{
  va_list ap;
  int status;

  va_start (ap, first_arg);
  status = admin_va (svc, out_stdout, NULL, first_arg, ap);
  va_end (ap);
  return status;
}

int
ct_test_service_admin_full (CtTestService  *svc,
                            char          **out_stdout,
                            char          **out_stderr,
                            const char     *first_arg,
                            ...)
{
  va_list ap;
  int status;

  va_start (ap, first_arg);
  status = admin_va (svc, out_stdout, out_stderr, first_arg, ap);
  va_end (ap);
  return status;
}

char *
ct_test_last_line (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text ? text : "", "\n", -1);
  guint n = g_strv_length (lines);

  while (n > 0 && lines[n - 1][0] == '\0')
    n--;
  return n > 0 ? g_strdup (lines[n - 1]) : NULL;
}

static gboolean
admin_checked (CtTestService  *svc,
               char          **out,
               GError        **error,
               const char     *first,
               ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  const char *a;
  va_list ap;
  int status = -1;

  va_start (ap, first);
  for (a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, g_strdup (a));
  va_end (ap);
  if (!run_admin_v (svc, args, out, NULL, &status, error))
    return FALSE;
  if (status != 0)
    {
      g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "cardtill-service %s exited with %d", first, status);
      return FALSE;
    }
  return TRUE;
}

/* The store under test */

gboolean
ct_test_store_is_pg (void)
{
  const char *pg = g_getenv ("CT_TEST_PG");

  return pg != NULL && *pg != '\0';
}

gboolean
ct_test_store_new (const char  *dir,
                   char       **out_location,
                   GError     **error)
{
  static guint counter;
  g_autofree char *name = NULL;
  g_autofree char *sql = NULL;
  PQconninfoOption *opts;
  const char *host = NULL, *port = NULL, *user = NULL;
  PGconn *pg;
  PGresult *res;
  gboolean ok;

  if (!ct_test_store_is_pg ())
    {
      *out_location = g_build_filename (dir, "service.db", NULL);
      return TRUE;
    }
  /* The pid keeps the names of forked test processes apart. */
  name = g_strdup_printf ("ct_%d_%u", (int) getpid (), ++counter);
  pg = PQconnectdb (g_getenv ("CT_TEST_PG"));
  sql = g_strdup_printf ("CREATE DATABASE %s", name);
  res = PQexec (pg, sql);
  ok = PQresultStatus (res) == PGRES_COMMAND_OK;
  if (!ok)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot create the test database: %s",
                 PQerrorMessage (pg));
  PQclear (res);
  PQfinish (pg);
  if (!ok)
    return FALSE;
  opts = PQconninfoParse (g_getenv ("CT_TEST_PG"), NULL);
  for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++)
    {
      if (o->val == NULL)
        continue;
      if (g_str_equal (o->keyword, "host"))
        host = o->val;
      else if (g_str_equal (o->keyword, "port"))
        port = o->val;
      else if (g_str_equal (o->keyword, "user"))
        user = o->val;
    }
  *out_location = g_strdup_printf ("postgresql:///%s?host=%s&port=%s&user=%s", name, host, port, user);
  PQconninfoFree (opts);
  return TRUE;
}

struct _CtTestDb
{
  sqlite3 *lite;
  PGconn  *pg;
};

CtTestDb *
ct_test_db_open (const char *location)
{
  CtTestDb *db = g_new0 (CtTestDb, 1);

  if (g_str_has_prefix (location, "postgresql://"))
    {
      db->pg = PQconnectdb (location);
      g_assert (PQstatus (db->pg) == CONNECTION_OK);
    }
  else
    {
      g_assert (sqlite3_open (location, &db->lite) == SQLITE_OK);
      sqlite3_busy_timeout (db->lite, 5000);
    }
  return db;
}

void
ct_test_db_close (CtTestDb *db)
{
  if (db->pg != NULL)
    PQfinish (db->pg);
  if (db->lite != NULL)
    sqlite3_close (db->lite);
  g_free (db);
}

int64_t
ct_test_db_exec (CtTestDb   *db,
                 const char *sql)
{
  int64_t n = -1;

  if (db->pg != NULL)
    {
      PGresult *res = PQexec (db->pg, sql);

      if (PQresultStatus (res) == PGRES_COMMAND_OK || PQresultStatus (res) == PGRES_TUPLES_OK)
        n = g_ascii_strtoll (PQcmdTuples (res), NULL, 10);
      else
        g_test_message ("%s: %s", sql, PQerrorMessage (db->pg));
      PQclear (res);
    }
  else if (sqlite3_exec (db->lite, sql, NULL, NULL, NULL) == SQLITE_OK)
    n = sqlite3_changes (db->lite);
  else
    g_test_message ("%s: %s", sql, sqlite3_errmsg (db->lite));
  return n;
}

GPtrArray *
ct_test_db_query (CtTestDb   *db,
                  const char *sql)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);

  if (db->pg != NULL)
    {
      PGresult *res = PQexec (db->pg, sql);

      g_assert (PQresultStatus (res) == PGRES_TUPLES_OK);
      for (int i = 0; i < PQntuples (res); i++)
        {
          char **row = g_new0 (char *, PQnfields (res) + 1);

          for (int j = 0; j < PQnfields (res); j++)
            row[j] = g_strdup (PQgetvalue (res, i, j));
          g_ptr_array_add (rows, row);
        }
      PQclear (res);
    }
  else
    {
      sqlite3_stmt *st = NULL;

      g_assert (sqlite3_prepare_v2 (db->lite, sql, -1, &st, NULL) == SQLITE_OK);
      while (sqlite3_step (st) == SQLITE_ROW)
        {
          int n = sqlite3_column_count (st);
          char **row = g_new0 (char *, n + 1);

          for (int j = 0; j < n; j++)
            row[j] = g_strdup (sqlite3_column_text (st, j) ? (const char *) sqlite3_column_text (st, j) : "");
          g_ptr_array_add (rows, row);
        }
      sqlite3_finalize (st);
    }
  return rows;
}

void
ct_test_db_hold_writes (CtTestDb *db)
{
  /* SQLite: the one write lock. PostgreSQL: every request these tests
   * send locks its card's row right after claiming its key (in the same
   * round trip), so holding every card's row keeps it waiting there with
   * its key claimed, as another request on the same card would. */
  if (db->pg != NULL)
    g_assert (ct_test_db_exec (db, "BEGIN; SELECT 1 FROM cards FOR UPDATE") >= 0);
  else
    g_assert (ct_test_db_exec (db, "BEGIN IMMEDIATE") >= 0);
}

void
ct_test_db_release (CtTestDb *db)
{
  ct_test_db_exec (db, "ROLLBACK");
}

/* How many of the database's sessions wait for a lock (PostgreSQL). */
static guint64
lock_waiters (CtTestDb *watch)
{
  g_autoptr(GPtrArray) rows = ct_test_db_query (watch, "SELECT count(*) FROM pg_stat_activity"
                                                       " WHERE datname = current_database()"
                                                       " AND wait_event_type = 'Lock'");

  g_assert (rows->len == 1);
  return g_ascii_strtoull (((char **) rows->pdata[0])[0], NULL, 10);
}

gboolean
ct_test_service_wait_for_held_writes (CtTestService *svc,
                                      guint          n)
{
  g_autoptr(CtTestClient) c = ct_test_client_new (svc);
  g_autoptr(CtTestDb) watch = NULL;
  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;

  if (ct_test_store_is_pg ())
    watch = ct_test_db_open (ct_test_service_get_db_path (svc));
  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr(CtTestResponse) r = ct_test_client_request (c, "GET", "/v1/health", NULL, NULL, NULL);

      if (r != NULL && r->status == 200 && ct_test_json_int (r->body, "writes_waiting") >= n
          && (watch == NULL || lock_waiters (watch) >= n))
        return TRUE;
      g_usleep (10 * 1000);
    }
  return FALSE;
}

/* A service must not outlive a test that failed before stopping it. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static gboolean
spawn_serve (CtTestService  *svc,
             guint           port,
             GError        **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) line = g_string_new (NULL);
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  int out_fd = -1;

  g_ptr_array_add (argv, g_strdup (ct_test_service_get_binary ()));
  g_ptr_array_add (argv, g_strdup ("serve"));
  g_ptr_array_add (argv, g_strdup ("--db"));
  g_ptr_array_add (argv, g_strdup (svc->db));
  g_ptr_array_add (argv, g_strdup ("--listen"));
  g_ptr_array_add (argv, g_strdup_printf ("127.0.0.1:%u", port));
  if (svc->https)
    {
      g_ptr_array_add (argv, g_strdup ("--cert"));
      g_ptr_array_add (argv, g_strdup (svc->cert));
      g_ptr_array_add (argv, g_strdup ("--key"));
      g_ptr_array_add (argv, g_strdup (svc->key));
    }
  else
    g_ptr_array_add (argv, g_strdup ("--insecure-http"));
  for (guint i = 0; svc->serve_args && svc->serve_args[i]; i++)
    g_ptr_array_add (argv, g_strdup (svc->serve_args[i]));
  g_ptr_array_add (argv, NULL);

  if (!g_spawn_async_with_pipes (NULL, (char **) argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                 die_with_parent, NULL, &svc->pid, NULL, &out_fd, NULL, error))
    return FALSE;

  /* The first line is "listening on URL", printed once the port is bound. */
  while (!strchr (line->str, '\n'))
    {
      struct pollfd pfd = { out_fd, POLLIN, 0 };
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      char buf[256];
      ssize_t n;

      if (left <= 0 || poll (&pfd, 1, (int) left) <= 0)
        break;
      n = read (out_fd, buf, sizeof buf);
      if (n <= 0)
        break;
      g_string_append_len (line, buf, n);
    }
  close (out_fd);
  if (!g_str_has_prefix (line->str, "listening on ") || !strchr (line->str, '\n'))
    {
      int st;
      kill (svc->pid, SIGKILL);
      waitpid (svc->pid, &st, 0);
      g_spawn_close_pid (svc->pid);
      svc->pid = 0;
      g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "cardtill-service serve did not start: %s", line->str);
      return FALSE;
    }
  *strchr (line->str, '\n') = '\0';
  g_free (svc->url);
  svc->url = g_strdup (line->str + strlen ("listening on "));
  svc->port = (guint) g_ascii_strtoull (strrchr (svc->url, ':') + 1, NULL, 10);
  return TRUE;
}

/* A Check test that fails exits its process without the teardown; the
 * services and directories still alive then are cleaned up here. */
static GMutex live_lock;
static GList *live;

static void remove_tree (const char *dir);

static void
cleanup_at_exit (void)
{
  g_mutex_lock (&live_lock);
  for (GList *l = live; l != NULL; l = l->next)
    {
      CtTestService *svc = l->data;

      /* A forked test child inherits the list: it must not touch the
       * services its parent started (an unchecked fixture's, say). */
      if (svc->owner != getpid ())
        continue;
      if (svc->pid > 0)
        {
          int st;

          kill (svc->pid, SIGKILL);
          waitpid (svc->pid, &st, 0);
          svc->pid = 0;
        }
      if (svc->dir != NULL && g_getenv ("CT_TEST_KEEP") == NULL)
        remove_tree (svc->dir);
    }
  g_mutex_unlock (&live_lock);
}

CtTestService *
ct_test_service_start_full (gboolean             https,
                            const char * const  *serve_args,
                            GError             **error)
{
  CtTestService *svc = g_new0 (CtTestService, 1);
  g_autofree char *out = NULL;
  static gsize registered;

  if (g_once_init_enter (&registered))
    {
      atexit (cleanup_at_exit);
      g_once_init_leave (&registered, 1);
    }
  svc->owner = getpid ();
  g_mutex_lock (&live_lock);
  live = g_list_prepend (live, svc);
  g_mutex_unlock (&live_lock);

  svc->https = https;
  svc->serve_args = g_strdupv ((char **) serve_args);
  svc->dir = g_dir_make_tmp ("cardtill-service-XXXXXX", error);
  if (svc->dir == NULL)
    goto fail;
  if (!ct_test_store_new (svc->dir, &svc->db, error))
    goto fail;
  svc->cert = g_build_filename (svc->dir, "cert.pem", NULL);
  svc->key = g_build_filename (svc->dir, "key.pem", NULL);
  svc->pin_file = g_build_filename (svc->dir, "m1.pin", NULL);
  if (!g_file_set_contents (svc->pin_file, CT_TEST_SERVICE_MANAGER_PIN "\n", -1, error))
    goto fail;

  if (!admin_checked (svc, NULL, error, "init", "--merchant-name", "Test Shop", "--topup-mode", "fixed", NULL)
      || !admin_checked (svc, &out, error, "till", "add", "--store", CT_TEST_SERVICE_STORE,
                         "--name", CT_TEST_SERVICE_TILL, NULL))
    goto fail;
  svc->token = ct_test_last_line (out);
  g_clear_pointer (&out, g_free);
  if (!admin_checked (svc, NULL, error, "manager", "add", "--id", CT_TEST_SERVICE_MANAGER_ID,
                      "--pin-file", svc->pin_file, NULL)
      || !admin_checked (svc, NULL, error, "package", "add", "--id", "p100", "--amount", "100.00",
                         "--bonus", "10.00", NULL)
      || !admin_checked (svc, NULL, error, "package", "add", "--id", "p200", "--amount", "200.00",
                         "--bonus-bp", "1500", NULL)
      || !admin_checked (NULL, &out, error, "gen-cert", "--cert", svc->cert, "--key", svc->key,
                         "--ip", "127.0.0.1", NULL))
    goto fail;
  svc->pubkey = ct_test_last_line (out);
  if (!spawn_serve (svc, 0, error))
    goto fail;
  return svc;

fail:
  ct_test_service_free (svc);
  return NULL;
}

/**
 * ct_test_service_start_peer:
 * Another `serve` process over @primary's database (PostgreSQL serves any
 * number), with its own port, or @primary's when both serve with
 * --reuse-port; it shares the till token, the certificate and the
 * directory, which stays @primary's to remove.
 */
CtTestService *
ct_test_service_start_peer (CtTestService      *primary,
                            const char * const *serve_args,
                            GError            **error)
{
  CtTestService *svc = g_new0 (CtTestService, 1);

  svc->owner = getpid ();
  g_mutex_lock (&live_lock);
  live = g_list_prepend (live, svc);
  g_mutex_unlock (&live_lock);
  svc->https = primary->https;
  svc->serve_args = g_strdupv ((char **) serve_args);
  svc->db = g_strdup (primary->db);
  svc->cert = g_strdup (primary->cert);
  svc->key = g_strdup (primary->key);
  svc->token = g_strdup (primary->token);
  svc->pubkey = g_strdup (primary->pubkey);
  if (!spawn_serve (svc, serve_args != NULL && g_strv_contains (serve_args, "--reuse-port") ? primary->port : 0,
                    error))
    {
      ct_test_service_free (svc);
      return NULL;
    }
  return svc;
}

void
ct_test_service_set_db (CtTestService *svc,
                        const char    *location)
{
  g_free (svc->db);
  svc->db = g_strdup (location);
}

CtTestService *
ct_test_service_start (gboolean   https,
                       GError   **error)
{
  return ct_test_service_start_full (https, NULL, error);
}

const char *
ct_test_service_get_url (CtTestService *svc)
{
  return svc->url;
}

const char *
ct_test_service_get_token (CtTestService *svc)
{
  return svc->token;
}

const char *
ct_test_service_get_ca_file (CtTestService *svc)
{
  return svc->cert;
}

const char *
ct_test_service_get_pin_pubkey (CtTestService *svc)
{
  return svc->pubkey;
}

const char *
ct_test_service_get_manager_id (CtTestService *svc)
{
  return CT_TEST_SERVICE_MANAGER_ID;
}

const char *
ct_test_service_get_manager_pin (CtTestService *svc)
{
  return CT_TEST_SERVICE_MANAGER_PIN;
}

const char *
ct_test_service_get_db_path (CtTestService *svc)
{
  return svc->db;
}

const char *
ct_test_service_get_data_dir (CtTestService *svc)
{
  return svc->dir;
}

GPid
ct_test_service_get_pid (CtTestService *svc)
{
  return svc->pid;
}


static int
wait_exit (CtTestService *svc,
           int            sig)
{
  int st = 0;
  pid_t r;

  if (svc->pid <= 0)
    return -1;
  kill (svc->pid, sig);
  do
    r = waitpid (svc->pid, &st, 0);
  while (r < 0 && errno == EINTR);
  g_spawn_close_pid (svc->pid);
  svc->pid = 0;
  if (WIFEXITED (st))
    return WEXITSTATUS (st);
  return 128 + (WIFSIGNALED (st) ? WTERMSIG (st) : 0);
}

int
ct_test_service_stop (CtTestService *svc)
{
  return wait_exit (svc, SIGTERM);
}

int
ct_test_service_stop_with_signal (CtTestService *svc,
                                  int            sig)
{
  return wait_exit (svc, sig);
}

void
ct_test_service_kill (CtTestService *svc)
{
  wait_exit (svc, SIGKILL);
}

gboolean
ct_test_service_restart (CtTestService  *svc,
                         GError        **error)
{
  if (svc->pid > 0)
    ct_test_service_stop (svc);
  /* The same port keeps clients' URLs valid; any free port otherwise. */
  if (svc->port != 0 && spawn_serve (svc, svc->port, NULL))
    return TRUE;
  return spawn_serve (svc, 0, error);
}

static void
remove_tree (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        remove_tree (path);
      else
        g_unlink (path);
    }
  g_dir_close (d);
  g_rmdir (dir);
}

void
ct_test_service_free (CtTestService *svc)
{
  if (svc == NULL)
    return;
  g_mutex_lock (&live_lock);
  live = g_list_remove (live, svc);
  g_mutex_unlock (&live_lock);
  if (svc->pid > 0)
    ct_test_service_stop (svc);
  if (svc->dir != NULL && g_getenv ("CT_TEST_KEEP") == NULL)
    remove_tree (svc->dir);
  g_free (svc->dir);
  g_free (svc->db);
  g_free (svc->cert);
  g_free (svc->key);
  g_free (svc->pin_file);
  g_free (svc->url);
  g_free (svc->token);
  g_free (svc->pubkey);
  g_strfreev (svc->serve_args);
  g_free (svc);
}

/* HTTP */

static size_t
on_body (char   *ptr,
         size_t  size,
         size_t  nmemb,
         void   *data)
{
  g_string_append_len (data, ptr, size * nmemb);
  return size * nmemb;
}

static size_t
on_header (char   *ptr,
           size_t  size,
           size_t  nmemb,
           void   *data)
{
  GHashTable *headers = data;
  gsize len = size * nmemb;
  g_autofree char *line = g_strndup (ptr, len);
  char *colon = strchr (line, ':');

  if (g_str_has_prefix (line, "HTTP/"))
    g_hash_table_remove_all (headers);
  else if (colon != NULL)
    {
      *colon = '\0';
      g_hash_table_insert (headers, g_ascii_strdown (line, -1), g_strstrip (g_strdup (colon + 1)));
    }
  return len;
}

CtTestClient *
ct_test_client_new_for_token (CtTestService *svc,
                              const char    *token)
{
  return ct_test_client_new_for_url (svc->url, svc->https ? svc->cert : NULL, token);
}

CtTestClient *
ct_test_client_new_for_url (const char *url,
                            const char *ca_file,
                            const char *token)
{
  CtTestClient *client = g_new0 (CtTestClient, 1);

  client->curl = curl_easy_init ();
  client->base = g_strdup (url);
  client->ca = g_strdup (ca_file);
  client->token = g_strdup (token);
  curl_easy_setopt (client->curl, CURLOPT_NOSIGNAL, 1L);
  /* Long: the sanitizer build on a loaded machine answers slowly, and a
   * real hang is caught by the test's own timeout. */
  curl_easy_setopt (client->curl, CURLOPT_TIMEOUT, 240L);
  /* The service's CA alone, as the till trusts it (ct-http.c): without
   * clearing the default CA directory, libcurl-gnutls reads every system
   * certificate on each new connection. */
  if (client->ca != NULL)
    {
      curl_easy_setopt (client->curl, CURLOPT_CAINFO, client->ca);
      curl_easy_setopt (client->curl, CURLOPT_CAPATH, NULL);
    }
  curl_easy_setopt (client->curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (client->curl, CURLOPT_HEADERFUNCTION, on_header);
  return client;
}

CtTestClient *
ct_test_client_new (CtTestService *svc)
{
  return ct_test_client_new_for_token (svc, svc->token);
}

guint
ct_test_client_get_connects (CtTestClient *client)
{
  return client->connects;
}

void
ct_test_client_free (CtTestClient *client)
{
  if (client == NULL)
    return;
  curl_easy_cleanup (client->curl);
  g_free (client->base);
  g_free (client->ca);
  g_free (client->token);
  g_free (client);
}

CtTestResponse *
ct_test_client_request_len (CtTestClient  *client,
                            const char    *method,
                            const char    *path,
                            const char    *idem_key,
                            const char    *body,
                            gsize          body_len,
                            const char    *authorization,
                            GError       **error)
{
  CURL *c = client->curl;
  g_autoptr(GString) buf = g_string_new (NULL);
  g_autofree char *url = g_strconcat (client->base, path, NULL);
  g_autofree char *auth = NULL;
  g_autofree char *key = NULL;
  struct curl_slist *headers = NULL;
  CtTestResponse *resp = g_new0 (CtTestResponse, 1);
  CURLcode rc;

  resp->headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  /* No curl_easy_reset(): the handle keeps its TLS setup and connection,
   * and every per-request option is set again below. */
  curl_easy_setopt (c, CURLOPT_URL, url);
  if (authorization != NULL)
    auth = g_strconcat ("Authorization: ", authorization, NULL);
  else if (client->token != NULL)
    auth = g_strconcat ("Authorization: Bearer ", client->token, NULL);
  if (auth != NULL)
    headers = curl_slist_append (headers, auth);
  if (idem_key != NULL)
    {
      key = g_strconcat ("Idempotency-Key: ", idem_key, NULL);
      headers = curl_slist_append (headers, key);
    }
  headers = curl_slist_append (headers, "Expect:");
  if (body != NULL)
    {
      headers = curl_slist_append (headers, "Content-Type: application/json");
      curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body_len);
      curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
    }
  else if (g_str_equal (method, "GET"))
    curl_easy_setopt (c, CURLOPT_HTTPGET, 1L);
  else
    {
      curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) 0);
      curl_easy_setopt (c, CURLOPT_POSTFIELDS, "");
    }
  curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, buf);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, resp->headers);
  rc = curl_easy_perform (c);
  curl_slist_free_all (headers);
  if (rc != CURLE_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s %s: %s", method, path, curl_easy_strerror (rc));
      ct_test_response_free (resp);
      return NULL;
    }
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &resp->status);
  {
    long connects = 0;

    curl_easy_getinfo (c, CURLINFO_NUM_CONNECTS, &connects);
    client->connects += connects;
  }
  resp->body_len = buf->len;
  resp->body = g_string_free (g_steal_pointer (&buf), FALSE);
  return resp;
}

CtTestResponse *
ct_test_client_request (CtTestClient  *client,
                        const char    *method,
                        const char    *path,
                        const char    *idem_key,
                        const char    *body,
                        GError       **error)
{
  return ct_test_client_request_len (client, method, path, idem_key, body,
                                     body ? strlen (body) : 0, NULL, error);
}

CtTestResponse *
ct_test_http (CtTestService  *svc,
              const char     *method,
              const char     *path,
              const char     *idem_key,
              const char     *body,
              GError        **error)
{
  g_autoptr(CtTestClient) client = ct_test_client_new (svc);

  return ct_test_client_request (client, method, path, idem_key, body, error);
}

const char *
ct_test_response_header (CtTestResponse *resp,
                         const char     *name)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);

  return g_hash_table_lookup (resp->headers, lower);
}

char *
ct_test_response_error_code (CtTestResponse *resp)
{
  json_object *root = json_tokener_parse (resp->body);
  json_object *err = NULL, *code = NULL;
  char *out = NULL;

  if (root != NULL && json_object_object_get_ex (root, "error", &err)
      && json_object_object_get_ex (err, "code", &code))
    out = g_strdup (json_object_get_string (code));
  json_object_put (root);
  return out;
}

void
ct_test_response_free (CtTestResponse *resp)
{
  if (resp == NULL)
    return;
  g_hash_table_destroy (resp->headers);
  g_free (resp->body);
  g_free (resp);
}
