/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-cli-capture"
#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <unistd.h>

#include "ct-cli-capture.h"

/**
 * ct_cli_capture:
 * @argv: (array zero-terminated=1): the command word and its arguments
 *
 * Runs a cardtill-cli command in this process (so that it sees an
 * emulated device) and returns what it printed on stdout.
 */
char *
ct_cli_capture (CtCliCommand   command,
                char         **argv,
                int           *status)
{
  g_autofree char *path = NULL;
  char *out = NULL;
  CtCli cli = { 0 };
  int fd, saved;

  fd = g_file_open_tmp ("ct-cli-out-XXXXXX", &path, NULL);
  g_assert (fd >= 0);
  fflush (stdout);
  saved = dup (STDOUT_FILENO);
  dup2 (fd, STDOUT_FILENO);
  *status = command (&cli, (int) g_strv_length (argv), argv);
  fflush (stdout);
  dup2 (saved, STDOUT_FILENO);
  close (saved);
  close (fd);
  g_assert (g_file_get_contents (path, &out, NULL, NULL));
  g_unlink (path);
  return out;
}
