/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-client-config"
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ct-client-config.h"
#include "ct-http.h"
#include "ct-manager-pin.h"
#include "ct-wire.h"

CtClientConfig *
ct_client_config_new (void)
{
  CtClientConfig *config = g_new0 (CtClientConfig, 1);

  config->connect_timeout_ms = 3000;
  config->request_timeout_ms = 10000;
  config->queue_wait_ms = 30000;
  return config;
}

CtClientConfig *
ct_client_config_copy (const CtClientConfig *config)
{
  CtClientConfig *copy;

  g_return_val_if_fail (config != NULL, NULL);

  copy = g_memdup2 (config, sizeof *config);
  copy->service_url = g_strdup (config->service_url);
  copy->token = g_strdup (config->token);
  copy->token_file = g_strdup (config->token_file);
  copy->ca_file = g_strdup (config->ca_file);
  copy->pin_pubkey = g_strdup (config->pin_pubkey);
  copy->data_dir = g_strdup (config->data_dir);
  copy->operator_name = g_strdup (config->operator_name);
  copy->first_manager_pin = g_strdup (config->first_manager_pin);
  return copy;
}

void
ct_client_config_free (CtClientConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->service_url);
  ct_secret_free (config->token);
  g_free (config->token_file);
  g_free (config->ca_file);
  g_free (config->pin_pubkey);
  g_free (config->data_dir);
  g_free (config->operator_name);
  g_free (config->first_manager_pin);
  g_free (config);
}

static void
fill (char       **field,
      const char  *value)
{
  if (*field == NULL && value != NULL && *value != '\0')
    *field = g_strdup (value);
}

/* The token and its file are one setting: the first source giving either wins. */
static void
fill_token (CtClientConfig *config,
            const char     *token,
            const char     *token_file)
{
  if (config->token != NULL || config->token_file != NULL)
    return;
  fill (&config->token, token);
  if (config->token == NULL)
    fill (&config->token_file, token_file);
}

void
ct_client_config_warn_readable (const char *path,
                                const char *what)
{
  static GMutex lock;
  static GHashTable *warned;
  struct stat st;
  gboolean first;

  if (path == NULL || stat (path, &st) != 0 || (st.st_mode & (S_IRWXG | S_IRWXO)) == 0)
    return;
  g_mutex_lock (&lock);
  if (warned == NULL)
    warned = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  first = g_hash_table_add (warned, g_strdup (path));
  g_mutex_unlock (&lock);
  if (first)
    fprintf (stderr, "%s: warning: %s holds %s and others can read it (mode %03o): "
             "chmod 600 %s\n", g_get_prgname () ? g_get_prgname () : "cardtill", path, what,
             (unsigned) (st.st_mode & 0777), path);
}

typedef struct
{
  const char *key;
  gsize       offset;
} IniKey;

static const IniKey ini_keys[] = {
  { "service", G_STRUCT_OFFSET (CtClientConfig, service_url) },
  { "token", G_STRUCT_OFFSET (CtClientConfig, token) },
  { "token-file", G_STRUCT_OFFSET (CtClientConfig, token_file) },
  { "ca", G_STRUCT_OFFSET (CtClientConfig, ca_file) },
  { "pin-pubkey", G_STRUCT_OFFSET (CtClientConfig, pin_pubkey) },
  { "data-dir", G_STRUCT_OFFSET (CtClientConfig, data_dir) },
  { "operator", G_STRUCT_OFFSET (CtClientConfig, operator_name) },
};

/* Reads till.ini strictly: every line is blank, a comment (# or ;), a group
 * ([till], or [service] as older examples have it) or key=value with a
 * known key, each key once. Values go to @values (a CtClientConfig used as
 * a record). */
static gboolean
read_ini (const char      *path,
          CtClientConfig  *values,
          GError         **error)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) local = NULL;
  gboolean in_group = FALSE;

  if (!g_file_get_contents (path, &text, NULL, &local))
    {
      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CONFIG, "Cannot read %s: %s", path,
                   local->message);
      return FALSE;
    }
  lines = g_strsplit (text, "\n", -1);
  for (guint n = 0; lines[n] != NULL; n++)
    {
      char *line = g_strstrip (lines[n]);
      const IniKey *key = NULL;
      char **field;
      char *eq;

      if (*line == '\0' || *line == '#' || *line == ';')
        continue;
      if (*line == '[')
        {
          if (strcmp (line, "[till]") != 0 && strcmp (line, "[service]") != 0)
            {
              g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CONFIG,
                           "%s, line %u: unknown group %s (the settings go under [till])",
                           path, n + 1, line);
              return FALSE;
            }
          in_group = TRUE;
          continue;
        }
      eq = strchr (line, '=');
      if (eq == NULL)
        {
          g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CONFIG,
                       "%s, line %u: “%s” is not a setting (key=value), a [group] or a "
                       "comment", path, n + 1, line);
          return FALSE;
        }
      *eq = '\0';
      g_strstrip (line);
      for (guint k = 0; k < G_N_ELEMENTS (ini_keys); k++)
        if (strcmp (ini_keys[k].key, line) == 0)
          key = &ini_keys[k];
      if (key == NULL)
        {
          g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CONFIG,
                       "%s, line %u: unknown setting “%s” (known: service, token, token-file, "
                       "ca, pin-pubkey, data-dir, operator)", path, n + 1, line);
          return FALSE;
        }
      if (!in_group)
        {
          g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CONFIG,
                       "%s, line %u: “%s” comes before any group: put [till] above it",
                       path, n + 1, line);
          return FALSE;
        }
      field = G_STRUCT_MEMBER_P (values, key->offset);
      if (*field != NULL)
        {
          g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CONFIG,
                       "%s, line %u: “%s” is set a second time", path, n + 1, line);
          return FALSE;
        }
      *field = g_strdup (g_strstrip (eq + 1));
    }
  return TRUE;
}

/* The first line of a token file becomes the token. */
static gboolean
read_token_file (CtClientConfig  *config,
                 GError         **error)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) local = NULL;
  char *nl;

  if (config->token != NULL || config->token_file == NULL)
    return TRUE;
  if (!g_file_get_contents (config->token_file, &text, NULL, &local))
    {
      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CONFIG,
                   "Cannot read the till token file: %s", local->message);
      return FALSE;
    }
  ct_client_config_warn_readable (config->token_file, "the till token");
  nl = strpbrk (text, "\r\n");
  if (nl != NULL)
    *nl = '\0';
  g_strstrip (text);
  if (*text == '\0')
    {
      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CONFIG,
                   "The till token file %s is empty", config->token_file);
      return FALSE;
    }
  config->token = g_steal_pointer (&text);
  return TRUE;
}

gboolean
ct_client_config_fill_from (CtClientConfig  *config,
                            const char      *ini_path,
                            gboolean         use_environment,
                            GError         **error)
{
  g_return_val_if_fail (config != NULL, FALSE);

  if (use_environment)
    {
      fill (&config->service_url, g_getenv ("CARDTILL_SERVICE"));
      fill_token (config, g_getenv ("CARDTILL_TOKEN"), g_getenv ("CARDTILL_TOKEN_FILE"));
      fill (&config->ca_file, g_getenv ("CARDTILL_CA"));
      fill (&config->pin_pubkey, g_getenv ("CARDTILL_PIN_PUBKEY"));
      fill (&config->data_dir, g_getenv ("CARDTILL_DATA_DIR"));
      fill (&config->operator_name, g_getenv ("CARDTILL_OPERATOR"));
    }

  if (ini_path != NULL && g_file_test (ini_path, G_FILE_TEST_EXISTS))
    {
      g_autoptr(CtClientConfig) ini = g_new0 (CtClientConfig, 1);

      if (!read_ini (ini_path, ini, error))
        return FALSE;
      if (ini->token != NULL)
        ct_client_config_warn_readable (ini_path, "the till token");
      fill (&config->service_url, ini->service_url);
      fill_token (config, ini->token, ini->token_file);
      fill (&config->ca_file, ini->ca_file);
      fill (&config->pin_pubkey, ini->pin_pubkey);
      fill (&config->data_dir, ini->data_dir);
      fill (&config->operator_name, ini->operator_name);
    }

  if (!read_token_file (config, error))
    return FALSE;
  if (config->data_dir == NULL)
    config->data_dir = g_build_filename (g_get_user_data_dir (), "cardtill", NULL);
  if (config->operator_name == NULL)
    config->operator_name = g_strdup (g_get_user_name ());

  if (config->service_url != NULL && !ct_client_config_check_url (config->service_url, error))
    return FALSE;
  return TRUE;
}

gboolean
ct_client_config_fill_defaults (CtClientConfig  *config,
                                GError         **error)
{
  g_autofree char *ini = g_build_filename (g_get_user_config_dir (), "cardtill", "till.ini", NULL);

  return ct_client_config_fill_from (config, ini, TRUE, error);
}

gboolean
ct_client_config_check_url (const char  *url,
                            GError     **error)
{
  g_autoptr(GError) local = NULL;

  if (!ct_http_url_allowed (url, &local))
    {
      g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CONFIG, local->message);
      return FALSE;
    }
  return TRUE;
}
