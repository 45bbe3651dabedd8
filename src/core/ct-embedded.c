/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-embedded"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ct-embedded.h"
#include "ct-wire.h"

#define STATE_GROUP "service"

struct _CtEmbedded
{
  char *dir;
  char *db_path;
  char *cert_path;
  char *url;
  char *token;
  char *pin_pubkey;
  int   pid;
  int   users_fd;
};

static char *
service_dir (const char *data_dir)
{
  return g_build_filename (data_dir, "service", NULL);
}

gboolean
ct_embedded_exists (const char *data_dir)
{
  g_autofree char *dir = service_dir (data_dir);
  g_autofree char *marker = g_build_filename (dir, "created.ini", NULL);

  return g_file_test (marker, G_FILE_TEST_IS_REGULAR);
}

char *
ct_embedded_find_service_binary (void)
{
  const char *env = g_getenv ("CARDTILL_SERVICE_BIN");
  g_autofree char *self_exe = NULL;

  if (env != NULL && *env != '\0')
    return g_strdup (env);

  self_exe = g_file_read_link ("/proc/self/exe", NULL);
  if (self_exe != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (self_exe);
      char *candidates[] = {
        g_build_filename (dir, "cardtill-service", NULL),
        g_build_filename (dir, "..", "service", "cardtill-service", NULL),
      };
      char *found = NULL;

      for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
        {
          if (found == NULL && g_file_test (candidates[i], G_FILE_TEST_IS_EXECUTABLE))
            found = g_strdup (candidates[i]);
          g_free (candidates[i]);
        }
      if (found != NULL)
        return found;
    }
  return g_build_filename (CT_BINDIR, "cardtill-service", NULL);
}

static gboolean
lock_file (int fd,
           int op)
{
  while (flock (fd, op) != 0)
    if (errno != EINTR)
      return FALSE;
  return TRUE;
}

static int
open_lock (const char  *dir,
           const char  *name,
           GError     **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_EMBEDDED, "Cannot open %s: %s",
                   path, g_strerror (saved));
    }
  return fd;
}

/* Runs one admin command of the service; returns its last output line. */
static char *
run_admin (const char          *bin,
           const char * const  *args,
           GError             **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) local = NULL;
  int status = 0;
  g_auto(GStrv) lines = NULL;
  char *last = NULL;

  g_ptr_array_add (argv, (char *) bin);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                     &status, &local)
      || !g_spawn_check_wait_status (status, &local))
    {
      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_EMBEDDED,
                   "cardtill-service %s failed: %s%s%s", args[0], local->message,
                   err && *err ? ": " : "", err ? g_strstrip (err) : "");
      return NULL;
    }
  lines = g_strsplit (out ? out : "", "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (*g_strstrip (lines[i]) != '\0')
      last = lines[i];
  return g_strdup (last ? last : "");
}

static char *
generate_pin (void)
{
  return g_strdup_printf ("%06u", g_random_int_range (0, 1000000));
}

/* First run: the merchant "My Shop" in fixed mode with example packages,
 * a till, the first manager, a certificate. */
static gboolean
create_service (CtEmbedded  *self,
                const char  *bin,
                const char  *pin,
                GError     **error)
{
  g_autofree char *key_path = g_build_filename (self->dir, "key.pem", NULL);
  g_autofree char *pin_path = g_build_filename (self->dir, "first-pin.tmp", NULL);
  g_autofree char *marker = g_build_filename (self->dir, "created.ini", NULL);
  g_autofree char *token = NULL;
  g_autofree char *pubkey = NULL;
  g_autofree char *pin_text = g_strdup_printf ("%s\n", pin);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  const char *init[] = { "init", "--db", self->db_path, "--merchant-name", "My Shop",
                         "--topup-mode", "fixed", NULL };
  const char *p1[] = { "package", "add", "--db", self->db_path, "--id", "p100", "--amount",
                       "100.00", "--bonus", "10.00", NULL };
  const char *p2[] = { "package", "add", "--db", self->db_path, "--id", "p200", "--amount",
                       "200.00", "--bonus", "30.00", NULL };
  const char *p3[] = { "package", "add", "--db", self->db_path, "--id", "p500", "--amount",
                       "500.00", "--bonus", "100.00", NULL };
  const char *till[] = { "till", "add", "--db", self->db_path, "--store", "main", "--name",
                         "till-1", NULL };
  const char *manager[] = { "manager", "add", "--db", self->db_path, "--id", "manager",
                            "--pin-file", pin_path, NULL };
  const char *cert[] = { "gen-cert", "--cert", self->cert_path, "--key", key_path, "--ip",
                         "127.0.0.1", NULL };
  g_autofree char *r = NULL;
  gboolean ok;

  /* A half-created service from an interrupted first run starts over. */
  g_unlink (self->db_path);

  ok = (r = run_admin (bin, init, error)) != NULL;
  g_clear_pointer (&r, g_free);
  ok = ok && (r = run_admin (bin, p1, error)) != NULL;
  g_clear_pointer (&r, g_free);
  ok = ok && (r = run_admin (bin, p2, error)) != NULL;
  g_clear_pointer (&r, g_free);
  ok = ok && (r = run_admin (bin, p3, error)) != NULL;
  g_clear_pointer (&r, g_free);
  ok = ok && (token = run_admin (bin, till, error)) != NULL;
  ok = ok && g_file_set_contents_full (pin_path, pin_text, -1, G_FILE_SET_CONTENTS_CONSISTENT,
                                       0600, error);
  ok = ok && (r = run_admin (bin, manager, error)) != NULL;
  g_unlink (pin_path);
  ok = ok && (pubkey = run_admin (bin, cert, error)) != NULL;
  if (ok && (*token == '\0' || !g_str_has_prefix (pubkey, "sha256//")))
    {
      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_EMBEDDED,
                   "cardtill-service did not print a till token or a certificate pin");
      ok = FALSE;
    }
  if (!ok)
    {
      g_unlink (self->db_path);
      return FALSE;
    }

  g_key_file_set_string (kf, STATE_GROUP, "token", token);
  g_key_file_set_string (kf, STATE_GROUP, "pin-pubkey", pubkey);
  g_key_file_set_string (kf, STATE_GROUP, "manager", "manager");
  if (!g_file_set_contents_full (marker, g_key_file_to_data (kf, NULL, NULL), -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
    return FALSE;
  return TRUE;
}

static gboolean
pid_is_service (int         pid,
                const char *db_path)
{
  g_autofree char *path = NULL;
  g_autofree char *cmdline = NULL;
  gsize len = 0;

  if (pid <= 0 || (kill (pid, 0) != 0 && errno == ESRCH))
    return FALSE;
  path = g_strdup_printf ("/proc/%d/cmdline", pid);
  if (!g_file_get_contents (path, &cmdline, &len, NULL))
    return FALSE;
  /* The first argument is the binary; check its name and the serve word. */
  if (strstr (cmdline, "cardtill-service") == NULL)
    return FALSE;
  /* Arguments are NUL-separated: "serve" and this data directory's
   * database, so a recycled pid is never taken for ours. */
  {
    gboolean serve = FALSE, db = FALSE;

    for (gsize i = 0; i < len; i += strlen (cmdline + i) + 1)
      {
        serve = serve || strcmp (cmdline + i, "serve") == 0;
        db = db || strcmp (cmdline + i, db_path) == 0;
      }
    return serve && db;
  }
}

static gboolean
port_answers (int port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;

  g_socket_client_set_timeout (client, 2);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", (guint16) port, NULL, NULL);
  return conn != NULL;
}

/* Starts `serve` detached (its own session, reparented to init), output to
 * a log file, and waits for its "listening on" line. */
static gboolean
start_service (CtEmbedded  *self,
               const char  *bin,
               GError     **error)
{
  g_autofree char *key_path = g_build_filename (self->dir, "key.pem", NULL);
  g_autofree char *log_path = g_build_filename (self->dir, "service.log", NULL);
  /* It stops by itself when no client holds users.lock any more (a client
   * killed with -9, an app killed by a signal). */
  const char *argv[] = { bin, "serve", "--db", self->db_path, "--listen", "127.0.0.1:0",
                         "--cert", self->cert_path, "--key", key_path,
                         "--stop-without-clients", self->dir, NULL };
  int pipefd[2];
  pid_t child;
  int status;
  int grandchild = 0;
  int log_fd;
  gint64 deadline;

  log_fd = open (log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0)
    {
      int saved = errno;

      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_EMBEDDED, "Cannot write %s: %s",
                   log_path, g_strerror (saved));
      return FALSE;
    }
  if (pipe (pipefd) != 0
      || fcntl (pipefd[0], F_SETFD, FD_CLOEXEC) != 0
      || fcntl (pipefd[1], F_SETFD, FD_CLOEXEC) != 0)
    {
      close (log_fd);
      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_EMBEDDED, "pipe failed");
      return FALSE;
    }

  child = fork ();
  if (child < 0)
    {
      close (log_fd);
      close (pipefd[0]);
      close (pipefd[1]);
      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_EMBEDDED, "fork failed");
      return FALSE;
    }
  if (child == 0)
    {
      /* Only async-signal-safe calls from here on. */
      pid_t gc;
      int devnull;

      setsid ();
      gc = fork ();
      if (gc < 0)
        _exit (1);
      if (gc > 0)
        {
          int v = (int) gc;

          if (write (pipefd[1], &v, sizeof v) != sizeof v)
            _exit (1);
          _exit (0);
        }
      devnull = open ("/dev/null", O_RDONLY);
      if (devnull >= 0)
        dup2 (devnull, 0);
      dup2 (log_fd, 1);
      dup2 (log_fd, 2);
      execv (bin, (char * const *) argv);
      _exit (127);
    }
  close (pipefd[1]);
  close (log_fd);
  while (waitpid (child, &status, 0) < 0 && errno == EINTR)
    ;
  if (read (pipefd[0], &grandchild, sizeof grandchild) != sizeof grandchild)
    grandchild = 0;
  close (pipefd[0]);
  if (grandchild <= 0)
    {
      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_EMBEDDED,
                   "Could not start %s", bin);
      return FALSE;
    }

  deadline = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    {
      g_autofree char *log = NULL;
      const char *at;

      if (g_file_get_contents (log_path, &log, NULL, NULL)
          && (at = strstr (log, "listening on https://127.0.0.1:")) != NULL)
        {
          guint64 port = g_ascii_strtoull (at + strlen ("listening on https://127.0.0.1:"), NULL, 10);

          if (port > 0 && port < 65536)
            {
              self->pid = grandchild;
              self->url = g_strdup_printf ("https://127.0.0.1:%u", (guint) port);
              return TRUE;
            }
        }
      if (kill (grandchild, 0) != 0)
        {
          g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_EMBEDDED,
                       "The embedded service stopped at once; see %s%s%s", log_path,
                       log ? ": " : "", log ? g_strstrip (log) : "");
          return FALSE;
        }
      g_usleep (20 * 1000);
    }
  kill (grandchild, SIGTERM);
  g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_EMBEDDED,
               "The embedded service did not start within 15 s; see %s", log_path);
  return FALSE;
}

CtEmbedded *
ct_embedded_join (const char  *data_dir,
                  const char  *first_manager_pin,
                  char       **out_created_pin,
                  GError     **error)
{
  CtEmbedded *self;
  g_autofree char *bin = NULL;
  g_autofree char *marker = NULL;
  g_autofree char *state_path = NULL;
  g_autoptr(GKeyFile) created = g_key_file_new ();
  g_autoptr(GKeyFile) state = g_key_file_new ();
  g_autofree char *pin = NULL;
  int start_fd;
  gboolean ok = TRUE;

  g_return_val_if_fail (data_dir != NULL, NULL);

  if (out_created_pin)
    *out_created_pin = NULL;

  self = g_new0 (CtEmbedded, 1);
  self->users_fd = -1;
  self->dir = service_dir (data_dir);
  self->db_path = g_build_filename (self->dir, "service.db", NULL);
  self->cert_path = g_build_filename (self->dir, "cert.pem", NULL);
  marker = g_build_filename (self->dir, "created.ini", NULL);
  state_path = g_build_filename (self->dir, "state.ini", NULL);

  if (g_mkdir_with_parents (self->dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_EMBEDDED, "Cannot create %s: %s",
                   self->dir, g_strerror (saved));
      ct_embedded_leave (self);
      return NULL;
    }
  start_fd = open_lock (self->dir, "start.lock", error);
  if (start_fd < 0)
    {
      ct_embedded_leave (self);
      return NULL;
    }
  lock_file (start_fd, LOCK_EX);

  bin = ct_embedded_find_service_binary ();
  if (!g_file_test (marker, G_FILE_TEST_IS_REGULAR))
    {
      if (first_manager_pin != NULL && *first_manager_pin != '\0')
        pin = g_strdup (first_manager_pin);
      else
        pin = generate_pin ();
      ok = create_service (self, bin, pin, error);
      if (ok && out_created_pin)
        *out_created_pin = g_strdup (pin);
    }
  if (ok)
    ok = g_key_file_load_from_file (created, marker, G_KEY_FILE_NONE, error);
  if (ok)
    {
      self->token = g_key_file_get_string (created, STATE_GROUP, "token", NULL);
      self->pin_pubkey = g_key_file_get_string (created, STATE_GROUP, "pin-pubkey", NULL);
      if (self->token == NULL || self->pin_pubkey == NULL)
        {
          g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_EMBEDDED,
                       "%s is damaged; remove %s to create the embedded service again",
                       marker, self->dir);
          ok = FALSE;
        }
    }

  /* Join the running one, or start it. */
  if (ok && g_key_file_load_from_file (state, state_path, G_KEY_FILE_NONE, NULL))
    {
      int pid = g_key_file_get_integer (state, STATE_GROUP, "pid", NULL);
      int port = g_key_file_get_integer (state, STATE_GROUP, "port", NULL);

      if (pid_is_service (pid, self->db_path) && port > 0 && port_answers (port))
        {
          self->pid = pid;
          self->url = g_strdup_printf ("https://127.0.0.1:%d", port);
        }
    }
  if (ok && self->url == NULL)
    {
      /* A newer cardtill brings its schema to the database it finds (a
       * no-op when it is current); serve refuses an older one. */
      const char *upgrade[] = { "upgrade", "--db", self->db_path, NULL };
      g_autofree char *r = run_admin (bin, upgrade, error);

      ok = r != NULL && start_service (self, bin, error);
      if (ok)
        {
          g_autoptr(GKeyFile) kf = g_key_file_new ();
          g_autoptr(GUri) uri = g_uri_parse (self->url, G_URI_FLAGS_NONE, NULL);
          g_autofree char *data = NULL;

          g_key_file_set_integer (kf, STATE_GROUP, "pid", self->pid);
          g_key_file_set_integer (kf, STATE_GROUP, "port", uri ? g_uri_get_port (uri) : 0);
          g_key_file_set_string (kf, STATE_GROUP, "pin-pubkey", self->pin_pubkey);
          data = g_key_file_to_data (kf, NULL, NULL);
          ok = g_file_set_contents_full (state_path, data, -1, G_FILE_SET_CONTENTS_CONSISTENT,
                                         0600, error);
        }
    }
  if (ok)
    {
      self->users_fd = open_lock (self->dir, "users.lock", error);
      ok = self->users_fd >= 0 && lock_file (self->users_fd, LOCK_SH);
    }
  lock_file (start_fd, LOCK_UN);
  close (start_fd);

  if (!ok)
    {
      ct_embedded_leave (self);
      return NULL;
    }
  return self;
}

void
ct_embedded_leave (CtEmbedded *self)
{
  if (self == NULL)
    return;

  if (self->users_fd >= 0)
    {
      int start_fd = open_lock (self->dir, "start.lock", NULL);

      if (start_fd >= 0)
        lock_file (start_fd, LOCK_EX);
      /* Converting our shared lock to exclusive without waiting succeeds
       * only when no other client holds one: then we are the last. */
      if (flock (self->users_fd, LOCK_EX | LOCK_NB) == 0 && pid_is_service (self->pid, self->db_path))
        {
          g_autofree char *state_path = g_build_filename (self->dir, "state.ini", NULL);
          gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

          kill (self->pid, SIGTERM);
          while (kill (self->pid, 0) == 0 && g_get_monotonic_time () < deadline)
            g_usleep (10 * 1000);
          if (kill (self->pid, 0) == 0)
            kill (self->pid, SIGKILL);
          g_unlink (state_path);
        }
      flock (self->users_fd, LOCK_UN);
      close (self->users_fd);
      if (start_fd >= 0)
        {
          flock (start_fd, LOCK_UN);
          close (start_fd);
        }
    }
  g_free (self->dir);
  g_free (self->db_path);
  g_free (self->cert_path);
  g_free (self->url);
  g_free (self->token);
  g_free (self->pin_pubkey);
  g_free (self);
}

const char *
ct_embedded_get_url (CtEmbedded *self)
{
  return self->url;
}

const char *
ct_embedded_get_token (CtEmbedded *self)
{
  return self->token;
}

const char *
ct_embedded_get_ca_file (CtEmbedded *self)
{
  return self->cert_path;
}

const char *
ct_embedded_get_pin_pubkey (CtEmbedded *self)
{
  return self->pin_pubkey;
}

const char *
ct_embedded_get_db_path (CtEmbedded *self)
{
  return self->db_path;
}

int
ct_embedded_get_pid (CtEmbedded *self)
{
  return self->pid;
}
