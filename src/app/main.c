/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "cardtill"

#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <locale.h>
#include <signal.h>

#include "ct-application.h"

/* SIGTERM or SIGINT: quit as the window would, so the client leaves (and
 * stops, if it is the last) its built-in card service. */
static gboolean
on_quit_signal (gpointer user_data)
{
  g_application_quit (G_APPLICATION (user_data));
  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(CtApplication) app = NULL;
  int status;

  ct_application_prefer_software_rendering ();
  setlocale (LC_ALL, "");
  /* CARDTILL_LOCALEDIR lets the build tree's translations (build/po) be
   * used before installing, e.g. by build-aux/demo. */
  bindtextdomain (GETTEXT_PACKAGE, g_getenv ("CARDTILL_LOCALEDIR") ? g_getenv ("CARDTILL_LOCALEDIR") : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = ct_application_new ();
  g_unix_signal_add (SIGTERM, on_quit_signal, app);
  g_unix_signal_add (SIGINT, on_quit_signal, app);

  status = g_application_run (G_APPLICATION (app), argc, argv);
  if (status == 0)
    status = ct_application_get_exit_status (app);

  return status;
}
