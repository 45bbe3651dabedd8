/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-client-config"
#include "config.h"

#include <check.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct-client.h"
#include "ct-client-config.h"
#include "ct-test-tmpdir.h"

/* The till's configuration: options, then the environment, then the ini
 * file; the README's examples; errors that name the line; the token file. */

START_TEST (test_config_options_then_environment_then_ini)
{
  g_autofree char *ini = g_build_filename (tmpdir, "till.ini", NULL);
  g_autoptr(CtClientConfig) config = ct_client_config_new ();
  g_autoptr(CtClientConfig) bad = ct_client_config_new ();
  g_autoptr(CtClientConfig) broken = ct_client_config_new ();
  g_autoptr(GError) error = NULL;

  ck_assert (g_file_set_contents (ini, "[till]\nservice=https://cards.example.com:8443\n"
                                  "token=ini-token\nca=/etc/ca.pem\n"
                                  "pin-pubkey=sha256//ini\ndata-dir=/var/lib/till\n", -1, NULL));
  g_setenv ("CARDTILL_TOKEN", "env-token", TRUE);
  g_unsetenv ("CARDTILL_SERVICE");
  g_unsetenv ("CARDTILL_CA");
  g_unsetenv ("CARDTILL_PIN_PUBKEY");
  g_unsetenv ("CARDTILL_DATA_DIR");
  config->ca_file = g_strdup ("/opt/option-ca.pem");
  ck_assert (ct_client_config_fill_from (config, ini, TRUE, &error));
  ck_assert_str_eq (config->ca_file, "/opt/option-ca.pem");       /* option */
  ck_assert_str_eq (config->token, "env-token");                  /* environment */
  ck_assert_str_eq (config->service_url, "https://cards.example.com:8443");  /* ini */
  ck_assert_str_eq (config->pin_pubkey, "sha256//ini");
  ck_assert_str_eq (config->data_dir, "/var/lib/till");
  ck_assert_ptr_nonnull (config->operator_name);
  g_unsetenv ("CARDTILL_TOKEN");

  /* Plain http to another host is refused; a broken file is an error. */
  bad->service_url = g_strdup ("http://cards.example.com");
  ck_assert (!ct_client_config_fill_from (bad, NULL, FALSE, &error));
  ck_assert (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CONFIG));
  g_clear_error (&error);
  ck_assert (g_file_set_contents (ini, "not an ini file\n", -1, NULL));
  ck_assert (!ct_client_config_fill_from (broken, ini, FALSE, &error));
  ck_assert (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CONFIG));
}
END_TEST

/* Every ```ini block of the README, as written, with its indentation taken
 * off (NULL-terminated). */
static GPtrArray *
readme_ini_blocks (void)
{
  g_autofree char *readme = g_build_filename (g_getenv ("CT_TOP_SRCDIR"), "README.md", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  GPtrArray *blocks = g_ptr_array_new_with_free_func (g_free);
  GString *block = NULL;
  gsize indent = 0;

  ck_assert (g_file_get_contents (readme, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *l = lines[i];
      gsize lead = strspn (l, " ");

      if (block == NULL && strcmp (l + lead, "```ini") == 0)
        {
          block = g_string_new (NULL);
          indent = lead;
        }
      else if (block != NULL && strcmp (l + lead, "```") == 0)
        g_ptr_array_add (blocks, g_string_free (g_steal_pointer (&block), FALSE));
      else if (block != NULL)
        g_string_append_printf (block, "%s\n", strlen (l) >= indent ? l + indent : "");
    }
  ck_assert_ptr_null (block);
  return blocks;
}

START_TEST (test_config_readme_examples_are_read_as_documented)
{
  g_autoptr(GPtrArray) blocks = readme_ini_blocks ();
  g_autofree char *ini = g_build_filename (tmpdir, "till.ini", NULL);

  ck_assert_uint_ge (blocks->len, 1);
  for (guint i = 0; i < blocks->len; i++)
    {
      const char *block = g_ptr_array_index (blocks, i);
      g_autoptr(CtClientConfig) config = ct_client_config_new ();
      g_autoptr(GError) error = NULL;

      ck_assert (g_file_set_contents (ini, block, -1, NULL));
      ck_assert_msg (ct_client_config_fill_from (config, ini, FALSE, &error),
                     "README example %u: %s", i, error ? error->message : "");
      /* What the example sets is what the till uses. */
      if (strstr (block, "\nservice=") != NULL)
        ck_assert_msg (config->service_url != NULL, "README example %u: service ignored", i);
      if (strstr (block, "\ntoken=") != NULL)
        ck_assert_msg (config->token != NULL, "README example %u: token ignored", i);
      if (strstr (block, "\nca=") != NULL)
        ck_assert_msg (config->ca_file != NULL, "README example %u: ca ignored", i);
    }
}
END_TEST

static void
expect_ini_error (const char *text, const char *needle1, const char *needle2)
{
  g_autofree char *ini = g_build_filename (tmpdir, "till.ini", NULL);
  g_autoptr(CtClientConfig) config = ct_client_config_new ();
  g_autoptr(GError) error = NULL;

  ck_assert (g_file_set_contents (ini, text, -1, NULL));
  ck_assert (!ct_client_config_fill_from (config, ini, FALSE, &error));
  ck_assert (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CONFIG));
  ck_assert_msg (strstr (error->message, ini) != NULL, "%s", error->message);
  ck_assert_msg (strstr (error->message, needle1) != NULL, "%s", error->message);
  ck_assert_msg (strstr (error->message, needle2) != NULL, "%s", error->message);
}

START_TEST (test_config_unknown_groups_and_keys_name_the_line)
{
  expect_ini_error ("# till\n[till]\nservice=https://cards.example.com\nsevice=x\n", "line 4",
                    "sevice");
  expect_ini_error ("[tills]\nservice=https://cards.example.com\n", "line 1", "[tills]");
  expect_ini_error ("service=https://cards.example.com\n", "line 1", "[till]");
  expect_ini_error ("[till]\ntoken=a\n\ntoken=b\n", "line 4", "second time");
  expect_ini_error ("[till]\njust words\n", "line 2", "just words");
}
END_TEST

START_TEST (test_config_token_file)
{
  g_autofree char *ini = g_build_filename (tmpdir, "till.ini", NULL);
  g_autofree char *token = g_build_filename (tmpdir, "token", NULL);
  g_autofree char *text = g_strdup_printf ("[till]\nservice=https://cards.example.com\n"
                                           "token-file=%s\n", token);
  g_autoptr(CtClientConfig) config = ct_client_config_new ();
  g_autoptr(CtClientConfig) empty = ct_client_config_new ();
  g_autoptr(GError) error = NULL;

  ck_assert (g_file_set_contents_full (token, "secret-token\n", -1, G_FILE_SET_CONTENTS_NONE,
                                       0600, NULL));
  ck_assert (g_file_set_contents (ini, text, -1, NULL));
  ck_assert_msg (ct_client_config_fill_from (config, ini, FALSE, &error), "%s",
                 error ? error->message : "");
  ck_assert_str_eq (config->token, "secret-token");
  ck_assert (g_file_set_contents (token, "\n", -1, NULL));
  ck_assert (!ct_client_config_fill_from (empty, ini, FALSE, &error));
  ck_assert_msg (strstr (error->message, "empty") != NULL, "%s", error->message);
}
END_TEST

static Suite *
client_config_suite (void)
{
  Suite *s = suite_create ("client-config");
  TCase *tc = tcase_create ("client-config");

  tcase_add_checked_fixture (tc, tmpdir_setup, tmpdir_teardown);
  tcase_add_test (tc, test_config_options_then_environment_then_ini);
  tcase_add_test (tc, test_config_readme_examples_are_read_as_documented);
  tcase_add_test (tc, test_config_unknown_groups_and_keys_name_the_line);
  tcase_add_test (tc, test_config_token_file);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (client_config_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
