/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-cli"
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <json.h>

#include "ct-cli.h"
#include "ct-cli-private.h"
#include "ct-format.h"
#include "ct-client.h"
#include "ct-embedded.h"
#include "ct-manager-pin.h"
#include "ct-card-number.h"
#include "ct-money.h"
#include "ct-text.h"

static guint
env_ms (const char *name,
        guint       fallback)
{
  const char *v = g_getenv (name);
  guint64 n;

  if (v != NULL && g_ascii_string_to_unsigned (v, 10, 1, 3600 * 1000, &n, NULL))
    return (guint) n;
  return fallback;
}

struct _CtClient *
ct_cli_get_client (CtCli   *cli,
                   GError **error)
{
  return ct_cli_open_client (cli, TRUE, error);
}

CtClient *
ct_cli_open_client (CtCli     *cli,
                    gboolean   start,
                    GError   **error)
{
  g_autoptr(CtClientConfig) config = NULL;
  g_autofree char *created_pin = NULL;
  CtClient *client;

  if (cli->client != NULL && cli->started)
    return cli->client;

  if (cli->client == NULL)
    {
      config = ct_client_config_new ();
      config->service_url = g_strdup (cli->service_url);
      config->token = g_strdup (cli->token);
      config->token_file = g_strdup (cli->token_file);
      config->ca_file = g_strdup (cli->ca_file);
      config->pin_pubkey = g_strdup (cli->pin_pubkey);
      config->data_dir = g_strdup (cli->data_dir);
      config->operator_name = g_strdup (cli->operator_name);
      config->merchant_max_age_s = cli->merchant_max_age_s;
      if (!ct_client_config_fill_defaults (config, error))
        return NULL;
      /* Tests and impatient scripts can shorten the waits. */
      config->queue_wait_ms = env_ms ("CARDTILL_QUEUE_WAIT_MS", config->queue_wait_ms);
      config->request_timeout_ms = env_ms ("CARDTILL_TIMEOUT_MS", config->request_timeout_ms);
      config->connect_timeout_ms = env_ms ("CARDTILL_CONNECT_TIMEOUT_MS",
                                           config->connect_timeout_ms);
      /* --manager-pin-file only matters on the embedded service's first run. */
      if (config->service_url == NULL && cli->manager_pin_file != NULL
          && !ct_embedded_exists (config->data_dir))
        {
          config->first_manager_pin = ct_cli_read_pin (cli, cli->manager_pin_file, error);
          if (config->first_manager_pin == NULL)
            return NULL;
        }
      cli->client = ct_client_new (config, error);
      if (cli->client == NULL)
        return NULL;
    }
  client = cli->client;
  if (!start)
    return client;
  if (!ct_client_start (client, NULL, &created_pin, NULL, error))
    return NULL;
  cli->started = TRUE;
  if (created_pin != NULL)
    {
      g_autofree char *db = ct_client_get_embedded_db_path (client);

      fprintf (stderr,
               "cardtill-cli: created the built-in card service (merchant \"My Shop\", "
               "packages p100 100.00+10.00, p200 200.00+30.00, p500 500.00+100.00, no "
               "offline payments)\n");
      /* A generated PIN is shown once: nobody else knows it. */
      if (cli->manager_pin_file == NULL)
        fprintf (stderr, "cardtill-cli: first manager \"manager\", PIN %s — write it down, "
                 "it is not shown again\n", created_pin);
      else
        fprintf (stderr, "cardtill-cli: first manager \"manager\", PIN from %s\n",
                 cli->manager_pin_file);
      fprintf (stderr,
               "cardtill-cli: change them with: cardtill-service manager set-pin --db %s "
               "--id manager --pin-file FILE; cardtill-service merchant set --db %s ...; "
               "cardtill-service package add|remove --db %s ...\n", db, db, db);
    }
  return client;
}

int
ct_cli_minor_units (CtCli *cli)
{
  g_autoptr(CtMerchant) m = NULL;

  if (cli->client != NULL)
    m = ct_client_dup_merchant (cli->client);
  return m ? m->minor_units : 2;
}

/* A line of standard input without its end; on a terminal (@hidden)
 * after @prompt and without echo. NULL for an empty line or none. */
static char *
read_line (gboolean    hidden,
           const char *prompt)
{
  struct termios old, quiet;
  char buf[128];
  gboolean echo_off = FALSE;
  char *nl;
  char *line = NULL;

  if (hidden)
    {
      fprintf (stderr, "%s", prompt);
      fflush (stderr);
      echo_off = tcgetattr (STDIN_FILENO, &old) == 0;
      if (echo_off)
        {
          quiet = old;
          quiet.c_lflag &= ~(tcflag_t) ECHO;
          tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
        }
    }
  if (fgets (buf, sizeof buf, stdin) == NULL)
    buf[0] = '\0';
  if (echo_off)
    tcsetattr (STDIN_FILENO, TCSAFLUSH, &old);
  if (hidden)
    fputc ('\n', stderr);
  nl = strpbrk (buf, "\r\n");
  if (nl != NULL)
    *nl = '\0';
  if (buf[0] != '\0')
    line = g_strdup (buf);
  memset (buf, 0, sizeof buf);
  return line;
}

char *
ct_cli_read_pin (CtCli       *cli,
                 const char  *pin_file,
                 GError     **error)
{
  const char *file = pin_file ? pin_file : cli->manager_pin_file;

  if (file != NULL)
    {
      g_autofree char *text = NULL;
      char *nl;

      if (!g_file_get_contents (file, &text, NULL, error))
        return NULL;
      nl = strpbrk (text, "\r\n");
      if (nl != NULL)
        *nl = '\0';
      if (*text == '\0')
        {
          g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT,
                       "The PIN file %s is empty", file);
          return NULL;
        }
      return g_steal_pointer (&text);
    }

  if (isatty (STDIN_FILENO))
    {
      char *pin = read_line (TRUE, "Manager PIN: ");

      if (pin != NULL)
        return pin;
    }
  g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT,
                       "A manager PIN is needed: give --pin-file FILE (or run on a terminal)");
  return NULL;
}

/**
 * ct_cli_read_member_pin:
 *
 * The member's PIN, never from the command line (where every user of the
 * machine could read it): typed on the terminal without echo, or the
 * first line of standard input when that is not a terminal.
 *
 * Returns: (transfer full): the PIN, checked against the member PIN rule,
 *   or %NULL with @error
 */
char *
ct_cli_read_member_pin (CtCli   *cli,
                        GError **error)
{
  g_autofree char *pin = NULL;
  g_autoptr(GError) local = NULL;

  pin = read_line (isatty (STDIN_FILENO), "Member PIN (the member types it): ");
  if (pin == NULL)
    {
      g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT,
                           "A member PIN is needed: the member types it on the terminal, or give it "
                           "on standard input");
      return NULL;
    }
  if (!ct_member_pin_check (pin, &local))
    {
      g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT, local->message);
      return NULL;
    }
  return g_steal_pointer (&pin);
}

int
ct_cli_exit_for_error (const GError *error)
{
  if (error->domain != CT_CLIENT_ERROR)
    return CT_EXIT_USAGE;
  if (ct_client_error_is_refusal (error))
    return CT_EXIT_REFUSED;
  /* 3 only when the request is in the outbox and will settle: a script must
   * be able to tell whether the customer paid. */
  if (error->code == CT_CLIENT_ERROR_QUEUED)
    return CT_EXIT_NOT_APPLIED;
  if (error->code == CT_CLIENT_ERROR_OFFLINE_REFUSED || error->code == CT_CLIENT_ERROR_UNREACHABLE
      || error->code == CT_CLIENT_ERROR_TLS || error->code == CT_CLIENT_ERROR_BAD_ANSWER
      || error->code == CT_CLIENT_ERROR_EARLIER_PENDING)
    return CT_EXIT_NOT_TAKEN;
  if (error->code == CT_CLIENT_ERROR_INVALID_INPUT || error->code == CT_CLIENT_ERROR_CONFIG)
    return CT_EXIT_USAGE;
  return CT_EXIT_LOCAL;
}

const char *
ct_cli_error_code (const GError *error)
{
  if (error->domain == CT_CLIENT_ERROR)
    return ct_client_error_code_to_string (error->code);
  if (error->domain == CT_MONEY_ERROR)
    return "invalid_amount";
  if (error->domain == G_FILE_ERROR || error->domain == G_IO_ERROR)
    return "file";
  return "invalid_input";
}

void
ct_cli_print_error (const GError *error)
{
  fprintf (stderr, "cardtill-cli: %s: %s\n", ct_cli_error_code (error), error->message);
}

int
ct_cli_report_error (CtCli        *cli,
                     const GError *error)
{
  ct_cli_print_error (error);
  return ct_cli_exit_for_error (error);
}

int
ct_cli_usage_help (const char *help,
                   const char *message)
{
  fprintf (stderr, "cardtill-cli: usage: %s\n%s", message, help);
  return CT_EXIT_USAGE;
}

int
ct_cli_usage_error (const char *format, ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "cardtill-cli: usage: %s\n", text);
  return CT_EXIT_USAGE;
}

int
ct_cli_usage_missing (CtCliArgs *args, const char *usage, ...)
{
  va_list names;
  const char *name;
  guint positional = 0;
  int status = -1;

  va_start (names, usage);
  while (status < 0 && (name = va_arg (names, const char *)) != NULL)
    {
      if (g_ascii_isupper (name[0]))
        {
          /* Positional words are counted in order. */
          if (args->positional->len <= positional)
            status = ct_cli_usage_error ("%s is missing: %s", name, usage);
          positional++;
        }
      else
        {
          const char *value = ct_cli_args_get (args, name);

          if (value == NULL || *value == '\0')
            status = ct_cli_usage_error ("--%s is missing: %s", name, usage);
        }
    }
  va_end (names);
  return status;
}

void
ct_cli_clear (CtCli *cli)
{
  if (cli->client != NULL)
    {
      ct_client_shutdown (cli->client);
      g_clear_object ((CtClient **) &cli->client);
    }
  cli->started = FALSE;
}

/* ---- options ---------------------------------------------------------- */

/* What @spec says of the option @name: unknown (NULL), a flag, a value
 * (*takes_value), a repeatable value (*repeats too). */
static const char *
spec_lookup (const char * const *spec,
             const char         *name,
             gboolean           *takes_value,
             gboolean           *repeats)
{
  gsize n = strlen (name);

  for (guint i = 0; spec[i] != NULL; i++)
    {
      const char *eq = strchr (spec[i], '=');
      gsize sn = eq ? (gsize) (eq - spec[i]) : strlen (spec[i]);

      if (sn == n && strncmp (spec[i], name, n) == 0)
        {
          *takes_value = eq != NULL;
          *repeats = eq != NULL && eq[1] == '+';
          return spec[i];
        }
    }
  return NULL;
}

static void
args_add (CtCliArgs  *args,
          char       *name,
          const char *value,
          gboolean    repeats)
{
  GPtrArray *list;

  if (repeats)
    {
      list = g_hash_table_lookup (args->lists, name);
      if (list == NULL)
        {
          list = g_ptr_array_new_with_free_func (g_free);
          g_hash_table_insert (args->lists, g_strdup (name), list);
        }
      if (list->len > 0)
        g_ptr_array_remove_index (list, list->len - 1);
      g_ptr_array_add (list, g_strdup (value));
      g_ptr_array_add (list, NULL);
    }
  g_hash_table_replace (args->values, name, g_strdup (value));
}

gboolean
ct_cli_args_parse (CtCliArgs           *args,
                   int                  argc,
                   char               **argv,
                   const char * const  *spec,
                   GError             **error)
{
  gboolean only_positional = FALSE;

  args->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  args->positional = g_ptr_array_new ();
  args->lists = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) g_ptr_array_unref);

  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      g_autofree char *name = NULL;
      const char *eq;
      gboolean takes_value = FALSE;
      gboolean repeats = FALSE;

      if (only_positional || a[0] != '-' || a[1] == '\0'
          || (a[1] != '-' && !g_ascii_isalpha (a[1])))
        {
          /* "-10.00", "-¥5", "-": values, not options. */
          g_ptr_array_add (args->positional, (char *) a);
          continue;
        }
      if (strcmp (a, "--") == 0)
        {
          only_positional = TRUE;
          continue;
        }
      if (a[1] != '-' && a[2] == '\0')
        {
          /* -o VALUE: a one-letter option. */
          eq = NULL;
          name = g_strdup (a + 1);
        }
      else if (a[1] != '-')
        {
          g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT,
                       "unknown option %s", a);
          return FALSE;
        }
      else
        {
          eq = strchr (a, '=');
          name = eq ? g_strndup (a + 2, eq - a - 2) : g_strdup (a + 2);
        }
      if (spec_lookup (spec, name, &takes_value, &repeats) == NULL)
        {
          g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT,
                       "unknown option %s%s", a[1] == '-' ? "--" : "-", name);
          return FALSE;
        }
      if (takes_value)
        {
          const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);

          if (value == NULL)
            {
              g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT,
                           "--%s needs a value", name);
              return FALSE;
            }
          args_add (args, g_steal_pointer (&name), value, repeats);
        }
      else
        {
          if (eq != NULL)
            {
              g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT,
                           "--%s takes no value", name);
              return FALSE;
            }
          g_hash_table_replace (args->values, g_steal_pointer (&name), g_strdup (""));
        }
    }
  return TRUE;
}

const char *
ct_cli_args_get (CtCliArgs  *args,
                 const char *name)
{
  return args->values ? g_hash_table_lookup (args->values, name) : NULL;
}

const char * const *
ct_cli_args_get_all (CtCliArgs  *args,
                     const char *name)
{
  GPtrArray *list = args->lists ? g_hash_table_lookup (args->lists, name) : NULL;

  return list ? (const char * const *) list->pdata : NULL;
}

gboolean
ct_cli_args_has (CtCliArgs  *args,
                 const char *name)
{
  return args->values != NULL && g_hash_table_contains (args->values, name);
}

void
ct_cli_args_clear (CtCliArgs *args)
{
  g_clear_pointer (&args->values, g_hash_table_unref);
  g_clear_pointer (&args->positional, g_ptr_array_unref);
  g_clear_pointer (&args->lists, g_hash_table_unref);
}

/* ---- output ------------------------------------------------------------ */

gboolean
ct_cli_parse_amount (CtCli       *cli,
                     const char  *text,
                     gboolean     is_signed,
                     int64_t     *out,
                     GError     **error)
{
  return ct_money_parse (text, ct_cli_minor_units (cli),
                         is_signed ? CT_MONEY_PARSE_SIGNED : CT_MONEY_PARSE_DEFAULT, out, error);
}

int
ct_cli_take_card (CtCli      *cli,
                  CtCliArgs  *args,
                  guint       index,
                  char      **out_card_no,
                  char      **out_pin,
                  CtClient  **out_client)
{
  g_autoptr(GError) error = NULL;

  *out_card_no = ct_request_card_number (g_ptr_array_index (args->positional, index), &error);
  if (*out_card_no == NULL)
    return ct_cli_report_error (cli, error);
  if (out_pin != NULL && (*out_pin = ct_cli_read_pin (cli, ct_cli_args_get (args, "pin-file"), &error)) == NULL)
    return ct_cli_report_error (cli, error);
  if (out_client != NULL && (*out_client = ct_cli_get_client (cli, &error)) == NULL)
    return ct_cli_finish_error (cli, error);
  return CT_EXIT_OK;
}

int
ct_cli_print_devices (CtCli              *cli,
                      CtCliListDevices    list_devices,
                      json_object      *(*to_json) (gconstpointer device),
                      char             *(*describe) (gconstpointer device),
                      const char         *none)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = list_devices (&error);

  if (list == NULL)
    {
      fprintf (stderr, "cardtill-cli: %s\n", error->message);
      return CT_EXIT_LOCAL;
    }
  if (cli->json)
    {
      json_object *array = json_object_new_array ();

      for (guint i = 0; i < list->len; i++)
        json_object_array_add (array, to_json (g_ptr_array_index (list, i)));
      printf ("%s\n", json_object_to_json_string_ext (array, JSON_C_TO_STRING_PLAIN));
      json_object_put (array);
      return CT_EXIT_OK;
    }
  if (list->len == 0)
    printf ("%s\n", none);
  for (guint i = 0; i < list->len; i++)
    {
      g_autofree char *line = describe (g_ptr_array_index (list, i));

      printf ("%s\n", line);
    }
  return CT_EXIT_OK;
}

json_object *
ct_cli_usb_json (const char *id_key,
                 const char *id,
                 int         bus,
                 int         device,
                 int         interface)
{
  json_object *o = json_object_new_object ();

  json_object_object_add (o, id_key, json_object_new_string (id));
  json_object_object_add (o, "bus", json_object_new_int (bus));
  json_object_object_add (o, "device", json_object_new_int (device));
  json_object_object_add (o, "interface", json_object_new_int (interface));
  return o;
}

gboolean
ct_cli_valid_date (const char *text)
{
  g_autoptr(GDateTime) dt = NULL;
  g_autofree char *iso = NULL;

  if (text == NULL || strlen (text) != 10)
    return FALSE;
  iso = g_strdup_printf ("%sT00:00:00Z", text);
  dt = g_date_time_new_from_iso8601 (iso, NULL);
  return dt != NULL;
}

char *
ct_cli_format_amount (CtCli   *cli,
                      int64_t  minor)
{
  return ct_money_format_plain (minor, ct_cli_minor_units (cli));
}

static void
print_json_queued (const CtAnswer *answer)
{
  /* json-c escapes the reason as JSON wants it (g_strescape would turn
   * non-ASCII text into octal escapes that are not JSON). */
  json_object *obj = json_object_new_object ();
  const char *code = ct_client_error_code_to_string (answer->queued
                                                     ? CT_CLIENT_ERROR_QUEUED
                                                     : answer->reason_code);

  json_object_object_add (obj, "queued", json_object_new_boolean (answer->queued));
  json_object_object_add (obj, "idempotency_key",
                          answer->idempotency_key ? json_object_new_string (answer->idempotency_key) : NULL);
  json_object_object_add (obj, "reason", json_object_new_string (answer->reason ? answer->reason : ""));
  json_object_object_add (obj, "code", json_object_new_string (code));
  puts (json_object_to_json_string_ext (obj, JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put (obj);
}

int
ct_cli_finish_answer (CtCli        *cli,
                      CtAnswer     *answer,
                      CtCliPrinter  printer)
{
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  const char *data = answer->body ? g_bytes_get_data (answer->body, &len) : NULL;

  if (answer->queued || answer->not_sent)
    {
      if (cli->json)
        print_json_queued (answer);
      ct_answer_to_error (answer, &error);
      if (answer->queued && answer->idempotency_key)
        fprintf (stderr, "cardtill-cli: queued: %s (key %s)\n", error->message,
                 answer->idempotency_key);
      else
        fprintf (stderr, "cardtill-cli: %s: %s\n", ct_cli_error_code (error), error->message);
      return ct_cli_exit_for_error (error);
    }
  if (cli->json && data != NULL)
    {
      fwrite (data, 1, len, stdout);
      if (len == 0 || data[len - 1] != '\n')
        fputc ('\n', stdout);
    }
  if (!ct_answer_to_error (answer, &error))
    {
      g_autoptr(CtMerchant) merchant = NULL;

      /* Too little in the store's card account: say how much it holds. */
      if (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INSUFFICIENT_POOL)
          && cli->client != NULL
          && (merchant = ct_client_fetch_merchant (cli->client, NULL, NULL)) != NULL)
        {
          g_autofree char *pool = ct_money_format_plain (merchant->pool_balance,
                                                         merchant->minor_units);

          g_prefix_error (&error, "The store's card account holds %s: ", pool);
        }
      fprintf (stderr, "cardtill-cli: %s: %s\n", ct_cli_error_code (error), error->message);
      return ct_cli_exit_for_error (error) == CT_EXIT_USAGE ? CT_EXIT_REFUSED
                                                            : ct_cli_exit_for_error (error);
    }
  /* A success that does not decode is not a success the till can show
   * (--json has printed it as it came). */
  if (printer != NULL && !printer (cli, data, len, !cli->json, &error))
    return ct_cli_report_error (cli, error);
  return CT_EXIT_OK;
}

int
ct_cli_finish_error (CtCli        *cli,
                     const GError *error)
{
  if (cli->json && error->domain == CT_CLIENT_ERROR
      && (error->code == CT_CLIENT_ERROR_UNREACHABLE || error->code == CT_CLIENT_ERROR_TLS))
    {
      CtAnswer a = { 0 };

      a.not_sent = TRUE;
      a.reason_code = error->code;
      a.reason = (char *) error->message;
      print_json_queued (&a);
    }
  return ct_cli_report_error (cli, error);
}

int
ct_cli_send (CtCli        *cli,
             CtRequest    *request,
             const GError *build_error,
             CtCliPrinter  printer)
{
  g_autoptr(CtRequest) owned = request;
  g_autoptr(CtAnswer) answer = NULL;
  g_autoptr(GError) error = NULL;

  if (request == NULL)
    return ct_cli_report_error (cli, build_error);
  answer = ct_client_send (cli->client, request, NULL, &error);
  if (answer == NULL)
    return ct_cli_finish_error (cli, error);
  return ct_cli_finish_answer (cli, answer, printer);
}

void
ct_cli_print_card (CtCli        *cli,
                   const CtCard *card)
{
  g_autofree char *balance = ct_cli_format_amount (cli, card->balance);
  /* What people typed reaches the terminal escaped. */
  g_autofree char *name = ct_text_escape_controls (card->member_name ? card->member_name : "-");
  g_autofree char *phone = ct_text_escape_controls (card->member_phone);
  g_autofree char *level = ct_text_escape_controls (card->level ? card->level : "-");

  printf ("Card      %s\n", card->card_no);
  printf ("Status    %s\n", ct_card_status_to_string (card->status));
  printf ("Member    %s", name);
  if (card->member_phone)
    printf (" (%s)", phone);
  printf ("\n");
  printf ("Level     %s\n", level);
  printf ("Balance   %s\n", balance);
  printf ("Points    %" G_GINT64_FORMAT "\n", (gint64) card->points);
  printf ("Since     %s\n", card->created_at);
  if (card->status == CT_CARD_STATUS_CLOSED)
    printf ("Replaced  by card %s: use the new card\n", card->replaced_by);
}

void
ct_cli_print_transaction (CtCli               *cli,
                          const CtTransaction *tx)
{
  g_autofree char *delta = ct_cli_format_amount (cli, tx->delta);
  g_autofree char *after = ct_cli_format_amount (cli, tx->balance_after);
  g_autofree char *order_ref = ct_text_escape_controls (tx->order_ref);
  g_autofree char *reason = ct_text_escape_controls (tx->reason);
  g_autofree char *operator_name = ct_text_escape_controls (tx->operator_name);
  /* When the customer paid, in the merchant's time zone; how, for top-ups
   * and their voids. */
  g_autofree char *when = ct_format_local_time (tx->taken_at ? tx->taken_at : tx->created_at, "%Y-%m-%d %H:%M:%S");
  g_autofree char *tender = tx->tender ? ct_format_tender (tx->tender) : NULL;
  /* A split payment: the rest another tender took (its refund: gave back). */
  g_autofree char *rest_tender = tx->rest > 0 ? ct_format_tender (tx->rest_tender) : NULL;
  g_autofree char *rest_amount = tx->rest > 0 ? ct_cli_format_amount (cli, tx->rest) : NULL;
  g_autofree char *rest = tx->rest > 0 ? g_strdup_printf ("  rest %s %s %s", rest_amount,
                                                          tx->kind == CT_TRANSACTION_REFUND ? "given back by"
                                                                                            : "paid by",
                                                          rest_tender)
                                       : NULL;
  g_autofree char *refunded = NULL;
  /* A refund names what it gave back: on the card that replaced a lost
   * one, that may be a transaction of the lost card. */
  g_autofree char *refund_of = tx->refund_of ? g_strdup_printf ("  refund of %s", tx->refund_of) : NULL;

  /* A payment refunded in part says how much of it. */
  if (tx->kind == CT_TRANSACTION_PAYMENT && tx->refunded > 0)
    {
      g_autofree char *part = ct_cli_format_amount (cli, tx->refunded);
      g_autofree char *total = ct_cli_format_amount (cli, -tx->delta + tx->redeemed_value);

      refunded = g_strdup_printf ("  refunded %s of %s", part, total);
    }
  printf ("%s  %-10s %12s  balance %12s  points %+" G_GINT64_FORMAT "  %s%s%s%s%s%s%s%s%s%s%s%s\n",
          when ? when : tx->created_at, ct_transaction_kind_to_string (tx->kind), delta, after,
          (gint64) tx->points_delta, tx->id,
          tender ? "  paid by " : "", tender ? tender : "", rest ? rest : "",
          tx->order_ref ? "  order " : "", order_ref,
          tx->reason ? "  reason " : "", reason,
          tx->operator_name ? "  by " : "", operator_name,
          refunded ? refunded : "", refund_of ? refund_of : "");
}

/* A card answer; @with_number: its number again on a last line of its own. */
static gboolean
print_card_answer (CtCli       *cli,
                   const char  *body,
                   gsize        len,
                   gboolean     print,
                   gboolean     with_number,
                   GError     **error)
{
  g_autoptr(CtCard) card = ct_wire_decode_card (body, len, error);

  if (card == NULL)
    return FALSE;
  if (!print)
    return TRUE;
  ct_cli_print_card (cli, card);
  if (with_number)
    printf ("%s\n", card->card_no);
  return TRUE;
}

gboolean
ct_cli_print_card_body (CtCli       *cli,
                        const char  *body,
                        gsize        len,
                        gboolean     print,
                        GError     **error)
{
  return print_card_answer (cli, body, len, print, FALSE, error);
}

/* A new card: scripts take its number from the last line. */
gboolean
ct_cli_print_issued_body (CtCli       *cli,
                          const char  *body,
                          gsize        len,
                          gboolean     print,
                          GError     **error)
{
  return print_card_answer (cli, body, len, print, TRUE, error);
}


/* What the member's level gave the request, as the service booked it. */
static void
print_level_applied (CtCli           *cli,
                     const CtReceipt *r)
{
  g_autoptr(CtMerchant) merchant = cli->client != NULL ? ct_client_dup_merchant (cli->client) : NULL;
  const char *level = ct_merchant_level_name (merchant, r->transaction->level);

  if (r->transaction->discount > 0)
    {
      g_autofree char *discount = ct_cli_format_amount (cli, r->transaction->discount);
      g_autofree char *order = ct_cli_format_amount (cli, -r->transaction->delta + r->transaction->discount
                                                          + r->transaction->redeemed_value);

      printf ("level %s: discount %s off the order of %s\n", level, discount, order);
    }
  if (r->transaction->level_bonus > 0)
    {
      g_autofree char *bonus = ct_cli_format_amount (cli, r->transaction->level_bonus);

      printf ("level %s: bonus %s more\n", level, bonus);
    }
  if (r->level_up != NULL)
    printf ("moved up to level %s\n", r->level_up);
}

gboolean
ct_cli_print_receipt_body (CtCli       *cli,
                           const char  *body,
                           gsize        len,
                           gboolean     print,
                           GError     **error)
{
  g_autoptr(CtReceipt) r = ct_wire_decode_receipt (body, len, error);
  g_autofree char *delta = NULL;
  g_autofree char *balance = NULL;

  if (r == NULL)
    return FALSE;
  if (!print)
    return TRUE;
  balance = ct_cli_format_amount (cli, r->card->balance);
  if (r->transaction->kind == CT_TRANSACTION_REFUND && r->transaction->delta < 0)
    {
      /* A voided top-up: the customer gets the cash paid back, the bonus
       * goes back with it. */
      g_autofree char *cash = NULL;
      g_autofree char *bonus_text = NULL;
      int64_t bonus = 0;

      if (cli->client == NULL
          || !ct_client_voided_bonus (cli->client, r->transaction, &bonus, NULL, NULL))
        {
          g_autofree char *total = ct_cli_format_amount (cli, -r->transaction->delta);

          /* The split is unknown: say what left the card. */
          printf ("top-up voided on card %s: %s (cash paid and bonus) taken off the card; hand "
                  "back the cash paid for it; balance %s\n", r->card->card_no, total, balance);
          printf ("transaction %s\n", r->transaction->id);
          return TRUE;
        }
      cash = ct_cli_format_amount (cli, -r->transaction->delta - bonus);
      bonus_text = ct_cli_format_amount (cli, bonus);

      printf ("top-up voided on card %s: hand back %s in cash; bonus %s taken back; balance %s, "
              "points %" G_GINT64_FORMAT " (%+" G_GINT64_FORMAT ")\n", r->card->card_no, cash,
              bonus_text, balance, (gint64) r->card->points,
              (gint64) r->transaction->points_delta);
      printf ("transaction %s\n", r->transaction->id);
      return TRUE;
    }
  delta = ct_cli_format_amount (cli, r->transaction->delta);
  printf ("%s %s on card %s: balance %s, points %" G_GINT64_FORMAT " (%+" G_GINT64_FORMAT ")\n",
          ct_transaction_kind_to_string (r->transaction->kind), delta, r->card->card_no,
          balance, (gint64) r->card->points, (gint64) r->transaction->points_delta);
  if (r->transaction->bonus > 0)
    {
      g_autofree char *bonus = ct_cli_format_amount (cli, r->transaction->bonus);

      printf ("bonus %s included\n", bonus);
    }
  if (r->redeemed_points > 0)
    {
      g_autofree char *value = ct_cli_format_amount (cli, r->redeemed_value);

      printf ("%" G_GINT64_FORMAT " points paid %s\n", (gint64) r->redeemed_points, value);
    }
  if (r->transaction->rest > 0)
    {
      g_autofree char *rest = ct_cli_format_amount (cli, r->transaction->rest);
      g_autofree char *tender = ct_format_tender (r->transaction->rest_tender);

      /* A split payment: the cashier takes the rest the other way; its
       * refund hands it back that way. */
      if (r->transaction->kind == CT_TRANSACTION_REFUND)
        printf ("give back the rest %s by %s\n", rest, tender);
      else
        printf ("take the rest %s by %s\n", rest, tender);
    }
  print_level_applied (cli, r);
  /* A refund of a payment says how much of it is refunded now. */
  if (r->transaction->kind == CT_TRANSACTION_REFUND && r->refund_total > 0)
    {
      g_autofree char *refunded = ct_cli_format_amount (cli, r->refunded);
      g_autofree char *total = ct_cli_format_amount (cli, r->refund_total);
      g_autofree char *left = ct_cli_format_amount (cli, r->refund_total - r->refunded);

      if (r->refunded < r->refund_total)
        printf ("refunded %s of %s; %s left to refund\n", refunded, total, left);
      else
        printf ("refunded %s of %s in full\n", refunded, total);
    }
  if (r->member_consent == CT_MEMBER_CONSENT_CODE)
    printf ("member consent: payment code\n");
  else if (r->member_consent == CT_MEMBER_CONSENT_PIN)
    printf ("member consent: member PIN\n");
  printf ("transaction %s\n", r->transaction->id);
  return TRUE;
}
