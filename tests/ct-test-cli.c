/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-test-cli"
#include "config.h"

#include <sys/wait.h>

#include "ct-test-cli.h"

void
ct_test_cli_run_clear (CtTestCliRun *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}

int
ct_test_cli_runv (CtTestService *svc,
                  const char    *dir,
                  const char    *service_url,
                  CtTestCliRun  *run,
                  va_list        args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_auto(GStrv) env = g_get_environ ();
  g_autofree char *binary = g_build_filename (g_getenv ("CT_TOP_BUILDDIR"), "src", "cli", "cardtill-cli", NULL);
  g_autofree char *data = g_build_filename (dir, "data", NULL);
  g_autofree char *config = g_build_filename (dir, "config", NULL);
  g_autoptr(GError) error = NULL;
  int wait_status = 0;
  const char *a;

  env = g_environ_setenv (env, "CARDTILL_DATA_DIR", data, TRUE);
  env = g_environ_setenv (env, "XDG_CONFIG_HOME", config, TRUE);
  env = g_environ_setenv (env, "CARDTILL_TOKEN", ct_test_service_get_token (svc), TRUE);
  env = g_environ_setenv (env, "CARDTILL_OPERATOR", "王芳", TRUE);
  env = g_environ_setenv (env, "LANGUAGE", "C", TRUE);
  env = g_environ_setenv (env, "CARDTILL_QUEUE_WAIT_MS", "3000", TRUE);
  env = g_environ_setenv (env, "CARDTILL_TIMEOUT_MS", "2000", TRUE);
  env = g_environ_unsetenv (env, "CARDTILL_PRINTER");
  if (service_url != NULL)
    {
      env = g_environ_setenv (env, "CARDTILL_SERVICE", service_url, TRUE);
      env = g_environ_unsetenv (env, "CARDTILL_CA");
      env = g_environ_unsetenv (env, "CARDTILL_PIN_PUBKEY");
    }
  else
    {
      env = g_environ_setenv (env, "CARDTILL_SERVICE", ct_test_service_get_url (svc), TRUE);
      env = g_environ_setenv (env, "CARDTILL_CA", ct_test_service_get_ca_file (svc), TRUE);
      env = g_environ_setenv (env, "CARDTILL_PIN_PUBKEY", ct_test_service_get_pin_pubkey (svc), TRUE);
    }

  ct_test_cli_run_clear (run);
  g_ptr_array_add (argv, binary);
  while ((a = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) a);
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL,
                     &run->out, &run->err, &wait_status, &error))
    g_error ("cardtill-cli did not run: %s", error->message);
  run->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : 128 + WTERMSIG (wait_status);
  return run->status;
}

/**
 * ct_test_cli_run:
 * Runs cardtill-cli with the arguments after @run (NULL-terminated);
 * returns its exit status, with what it printed in @run.
 */
int
ct_test_cli_run (CtTestService *svc,
                 const char    *dir,
                 const char    *service_url,
                 CtTestCliRun  *run,
                 ...)
{
  va_list args;
  int status;

  va_start (args, run);
  status = ct_test_cli_runv (svc, dir, service_url, run, args);
  va_end (args);
  return status;
}
