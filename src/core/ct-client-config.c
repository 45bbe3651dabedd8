/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-client-config"
#include "config.h"

#include "ct-client-config.h"
#include "ct-http.h"
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
  g_free (config->token);
  g_free (config->ca_file);
  g_free (config->pin_pubkey);
  g_free (config->data_dir);
  g_free (config->operator_name);
  g_free (config->first_manager_pin);
  g_free (config);
}

static void
fill (char **field, const char *value)
{
  if (*field == NULL && value != NULL && *value != '\0')
    *field = g_strdup (value);
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
      fill (&config->token, g_getenv ("CARDTILL_TOKEN"));
      fill (&config->ca_file, g_getenv ("CARDTILL_CA"));
      fill (&config->pin_pubkey, g_getenv ("CARDTILL_PIN_PUBKEY"));
      fill (&config->data_dir, g_getenv ("CARDTILL_DATA_DIR"));
      fill (&config->operator_name, g_getenv ("CARDTILL_OPERATOR"));
    }

  if (ini_path != NULL && g_file_test (ini_path, G_FILE_TEST_EXISTS))
    {
      g_autoptr(GKeyFile) kf = g_key_file_new ();
      g_autoptr(GError) local = NULL;
      static const struct { const char *key; gsize offset; } keys[] = {
        { "service", G_STRUCT_OFFSET (CtClientConfig, service_url) },
        { "token", G_STRUCT_OFFSET (CtClientConfig, token) },
        { "ca", G_STRUCT_OFFSET (CtClientConfig, ca_file) },
        { "pin-pubkey", G_STRUCT_OFFSET (CtClientConfig, pin_pubkey) },
        { "data-dir", G_STRUCT_OFFSET (CtClientConfig, data_dir) },
        { "operator", G_STRUCT_OFFSET (CtClientConfig, operator_name) },
      };

      if (!g_key_file_load_from_file (kf, ini_path, G_KEY_FILE_NONE, &local))
        {
          g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CONFIG,
                       "Cannot read %s: %s", ini_path, local->message);
          return FALSE;
        }
      for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
        {
          g_autofree char *value = g_key_file_get_string (kf, "till", keys[i].key, NULL);

          if (value != NULL)
            g_strstrip (value);
          fill (G_STRUCT_MEMBER_P (config, keys[i].offset), value);
        }
    }

  fill (&config->data_dir, NULL);
  if (config->data_dir == NULL)
    config->data_dir = g_build_filename (g_get_user_data_dir (), "cardtill", NULL);
  if (config->operator_name == NULL)
    config->operator_name = g_strdup (g_get_user_name ());

  if (config->service_url != NULL && !ct_client_config_check_url (config->service_url, error))
    return FALSE;
  return TRUE;
}

gboolean
ct_client_config_fill_defaults (CtClientConfig *config, GError **error)
{
  g_autofree char *ini = g_build_filename (g_get_user_config_dir (), "cardtill", "till.ini", NULL);

  return ct_client_config_fill_from (config, ini, TRUE, error);
}

gboolean
ct_client_config_check_url (const char *url, GError **error)
{
  g_autoptr(GError) local = NULL;

  if (!ct_http_url_allowed (url, &local))
    {
      g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_CONFIG, local->message);
      return FALSE;
    }
  return TRUE;
}
