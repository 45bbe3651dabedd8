/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <check.h>
#include <glib.h>
#include <stdlib.h>

/* A fresh temporary directory for each test of a file that includes this
 * (Check's checked fixture): tmpdir_setup() makes it, tmpdir_teardown()
 * removes it with all it holds. */

static char *tmpdir;

static void
tmpdir_setup (void)
{
  tmpdir = g_dir_make_tmp ("ct-test-XXXXXX", NULL);
  ck_assert_ptr_nonnull (tmpdir);
}

static void
tmpdir_teardown (void)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmpdir);

  ck_assert_int_eq (system (cmd), 0);
  g_clear_pointer (&tmpdir, g_free);
}
