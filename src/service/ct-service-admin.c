/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-service-admin"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <termios.h>
#include <unistd.h>

#include "ct-manager-pin.h"
#include "ct-money.h"
#include "ct-service-admin.h"
#include "ct-service-auth.h"
#include "ct-service-cert.h"
#include "ct-service.h"
#include "ct-service-levels.h"
#include "ct-http.h"
#include "ct-store.h"
#include "ct-text.h"
#include "ct-wallet-sign.h"

/* The administrator's command line: init, merchant set, till, manager,
 * package, serve and gen-cert, each with --db PATH. */

static const char usage_text[] =
  "Usage: cardtill-service COMMAND [OPTIONS] (--db PATH|URI | --db-file F)\n"
  "\n"
  "Commands:\n"
  "  init --merchant-name NAME [--currency CNY] [--minor-units 2] [--topup-mode fixed|any]\n"
  "       [--topup-min A] [--topup-max A] [--points-per-unit N] [--timezone Asia/Shanghai]\n"
  "       [--offline-payment-cap A] [--offline-card-cap A] [--issuer-prefix 8888]\n"
  "       [--points-redeem-rate N] [--points-redeem-max-bp N] [--consent-over A]\n"
  "       [--require-shift yes|no]\n"
  "  merchant add --id M --name NAME [the options of init]   another merchant in this service\n"
  "  merchant set [the options of init but --currency and --minor-units]\n"
  "  merchant show | merchant list\n"
  "  till add --store S --name T       prints the new till token on its last line\n"
  "  till token --store S --name T     reissues the token (the old one stops working)\n"
  "  till revoke --store S --name T    the till's requests are refused from now on\n"
  "  till enable --store S --name T    lets a revoked till work again with a new token\n"
  "  manager add --id ID --pin-file F  (the PIN is the file's first line: 6 digits or more)\n"
  "  manager set-pin --id ID --pin-file F\n"
  "  manager remove --id ID\n"
  "  manager list                      managers, their locks, and PINs shorter than 6 digits\n"
  "  cashier add --id ID --name NAME [--pin-file F]  (without --pin-file the PIN is asked for)\n"
  "  cashier set --id ID [--name NAME] [--pin-file F | --new-pin]\n"
  "  cashier remove --id ID\n"
  "  cashier list                      cashiers, their names and locks\n"
  "  package add --id ID --amount A (--bonus A | --bonus-bp N)\n"
  "  package remove --id ID\n"
  "  level add --id ID --name NAME --min-spend A [--points-multiplier-bp N] [--discount-bp N]\n"
  "       [--topup-bonus-bp N]            adds a level, or replaces the one of that id\n"
  "  level list | level remove --id ID\n"
  "  package list\n"
  "  serve --listen ADDR:PORT --cert F --key F [--insecure-http] [--rate-limit N] [--threads N]\n"
  "        [--public-url https://HOST]\n"
  "        [--busy-timeout MS] [--max-connections N] [--connections-per-address N]\n"
  "        [--handshake-timeout S] [--wallet-retry-cap S] [--connections N] [--reuse-port]\n"
  "  upgrade                           brings the database's schema to this version\n"
  "  copy --from FILE --to URI         a SQLite ledger into an empty PostgreSQL database, compared\n"
  "  gen-cert --cert F --key F [--ip 127.0.0.1] [--days 825]\n"
  "  ledger check                      sums every account of each merchant (exit 2 if they disagree)\n"
  "  audit [--since DATE|TIME]         manager actions and refused PINs, with till and time\n"
  "  wallet add --kind alipay [--merchant M] --app-id ID --private-key F --alipay-public-key F\n"
  "       --template-id ID [--gateway URL]\n"
  "  wallet add --kind wechat [--merchant M] --mch-id ID --serial-no S --private-key F\n"
  "       --platform-cert F --card-id ID [--gateway URL]\n"
  "  wallet list | wallet status        the connectors; queue, last error, refusals\n"
  "  wallet remove --kind alipay|wechat [--merchant M]\n"
  "\n"
  "merchant set|show, till, manager, cashier, package, level, ledger check, audit and wallet act inside\n"
  "the merchant named by --merchant M (default: the first merchant, made by init; its id is \"main\"\n"
  "unless init --merchant-id said otherwise). An unknown merchant is refused (exit 2).\n"
  "\n"
  "The database is a file (SQLite) or a postgresql:// URI; --db-file F reads it from F's first\n"
  "line, and without either the environment's CARDTILL_DB is used.\n"
  "Amounts are in major units (\"100.00\"). Exit status: 0 done, 1 usage, 2 refused, 4 local failure.\n";

static int
usage_error (const char *format,
             ...) G_GNUC_PRINTF (1, 2);

static int
usage_error (const char *format,
             ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("cardtill-service: %s\n", msg);
  g_printerr ("Run `cardtill-service --help` for usage.\n");
  return CT_SERVICE_EXIT_USAGE;
}

static int
fail_with (GError *error)
{
  g_printerr ("cardtill-service: %s\n", error->message);
  if (error->domain == CT_STORE_ERROR
      && (error->code == CT_STORE_ERROR_EXISTS || error->code == CT_STORE_ERROR_NOT_FOUND
          || error->code == CT_STORE_ERROR_ALREADY_INITIALIZED || error->code == CT_STORE_ERROR_NOT_INITIALIZED
          || error->code == CT_STORE_ERROR_SCHEMA))
    return CT_SERVICE_EXIT_REFUSED;
  return CT_SERVICE_EXIT_LOCAL;
}

/* Parses options; argv[0] is the command words for messages. */
static gboolean
parse_options (GOptionEntry *entries,
               int          *argc,
               char       ***argv,
               const char   *command,
               int          *status)
{
  g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *prgname = g_strconcat ("cardtill-service ", command, NULL);

  /* --help then reads "Usage: cardtill-service till add [OPTION…]". */
  g_set_prgname (prgname);
  g_option_context_set_help_enabled (ctx, TRUE);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      *status = usage_error ("%s: %s", command, error->message);
      return FALSE;
    }
  if (*argc > 1)
    {
      *status = usage_error ("%s: unexpected argument \"%s\"", command, (*argv)[1]);
      return FALSE;
    }
  return TRUE;
}

/* An id or a name given on the command line: 1 to @max bytes of UTF-8. */
static gboolean
text_ok (const char *text,
         gsize       max)
{
  return text != NULL && *text != '\0' && strlen (text) <= max && g_utf8_validate (text, -1, NULL);
}

/* Takes the verb of "NOUN VERB [OPTION…]" off @argv, which must be one
 * of @verbs (else a usage error names them, and @status is set); after
 * it, @argv is the verb's own (argv[0] still the program) and
 * @out_command "NOUN VERB", the command words for messages. */
static gboolean
take_verb (const char         *noun,
           const char * const *verbs,
           int                *argc,
           char             ***argv,
           const char        **out_verb,
           char              **out_command,
           int                *status)
{
  g_autoptr(GString) names = g_string_new (NULL);
  guint n = g_strv_length ((char **) verbs);

  if (*argc >= 2 && g_strv_contains (verbs, (*argv)[1]))
    {
      *out_verb = (*argv)[1];
      *out_command = g_strdup_printf ("%s %s", noun, *out_verb);
      (*argv)[1] = (*argv)[0];
      (*argc)--;
      (*argv)++;
      return TRUE;
    }
  for (guint i = 0; i < n; i++)
    g_string_append_printf (names, "%s%s", i == 0 ? "" : i + 1 < n ? ", " : " or ", verbs[i]);
  *status = usage_error ("%s takes %s", noun, names->str);
  return FALSE;
}

static gboolean
parse_amount (const char *text,
              const char *option,
              int         minor_units,
              int64_t    *out,
              int        *status)
{
  g_autoptr(GError) error = NULL;

  if (text == NULL)
    return TRUE;
  if (!ct_money_parse (text, minor_units, CT_MONEY_PARSE_DEFAULT, out, &error))
    {
      *status = usage_error ("%s: %s", option, error->message);
      return FALSE;
    }
  return TRUE;
}

/* Where the database is: --db, else the first line of --db-file, else
 * $CARDTILL_DB. A file path is a SQLite database; a postgresql:// or
 * postgres:// URI a PostgreSQL one. The file and the environment keep a
 * password out of the process list. */
static char *db_path, *db_file;

#define DB_ENTRIES \
  { "db", 0, 0, G_OPTION_ARG_FILENAME, &db_path, \
    "The service database: a file (SQLite) or a postgresql:// URI", "PATH|URI" }, \
  { "db-file", 0, 0, G_OPTION_ARG_FILENAME, &db_file, "A file whose first line is the --db value", "F" }

static gboolean
resolve_db (const char *command,
            int        *status)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  const char *env;

  if (db_path != NULL)
    return TRUE;
  if (db_file != NULL)
    {
      char *end;

      if (!g_file_get_contents (db_file, &text, NULL, &error))
        {
          *status = usage_error ("%s: --db-file: %s", command, error->message);
          return FALSE;
        }
      end = strpbrk (text, "\r\n");
      if (end != NULL)
        *end = '\0';
      g_strstrip (text);
      if (*text == '\0')
        {
          *status = usage_error ("%s: --db-file %s: the first line is empty; it should hold the database "
                                 "path or postgresql:// URI", command, db_file);
          return FALSE;
        }
      db_path = g_steal_pointer (&text);
      return TRUE;
    }
  env = g_getenv ("CARDTILL_DB");
  if (env != NULL && *env != '\0')
    {
      db_path = g_strdup (env);
      return TRUE;
    }
  *status = usage_error ("%s: --db PATH|URI is required (or --db-file F, or CARDTILL_DB)", command);
  return FALSE;
}

/* --merchant M of the commands that act inside one merchant. */
static char *opt_merchant;

#define MERCHANT_OPTION \
  { "merchant", 0, 0, G_OPTION_ARG_STRING, &opt_merchant, "The merchant (default: the first one)", "M" }

/* The store opened by open_store(); the commands get views of it, and
 * ct_service_admin_main() closes it after the command. */
static CtStore *admin_root;

/* Opens the database and gives the view of the merchant of --merchant
 * (the first merchant without it); an unknown merchant is refused. */
static CtStore *
open_store (const char *command,
            int        *status)
{
  g_autoptr(GError) error = NULL;
  int64_t merchant;

  if (!resolve_db (command, status))
    return NULL;
  if (admin_root == NULL)
    admin_root = ct_store_open (db_path, 0, &error);
  if (admin_root == NULL)
    {
      *status = fail_with (error);
      return NULL;
    }
  merchant = ct_store_get_merchant_id (admin_root);
  if (opt_merchant != NULL && !ct_store_merchant_find (admin_root, opt_merchant, &merchant, &error))
    {
      g_printerr ("cardtill-service: %s: %s (`cardtill-service merchant list` shows them)\n", command,
                  error->message);
      *status = CT_SERVICE_EXIT_REFUSED;
      return NULL;
    }
  return ct_store_for_merchant (admin_root, merchant);
}

/* Merchant settings shared by init and merchant set */

static char *opt_name, *opt_currency, *opt_mode, *opt_min, *opt_max, *opt_tz;
static char *opt_pay_cap, *opt_card_cap, *opt_prefix, *opt_consent_over, *opt_require_shift;
static int opt_minor = -1;
static gint64 opt_ppu = -1, opt_redeem_rate = -1, opt_redeem_max_bp = -1;

#define MERCHANT_ENTRIES \
  DB_ENTRIES, \
  { "merchant-name", 0, 0, G_OPTION_ARG_STRING, &opt_name, "The merchant's name", "NAME" }, \
  { "topup-mode", 0, 0, G_OPTION_ARG_STRING, &opt_mode, "fixed (packages) or any (an amount)", "MODE" }, \
  { "topup-min", 0, 0, G_OPTION_ARG_STRING, &opt_min, "Smallest any-mode top-up", "A" }, \
  { "topup-max", 0, 0, G_OPTION_ARG_STRING, &opt_max, "Largest any-mode top-up", "A" }, \
  { "points-per-unit", 0, 0, G_OPTION_ARG_INT64, &opt_ppu, "Points per major unit paid", "N" }, \
  { "timezone", 0, 0, G_OPTION_ARG_STRING, &opt_tz, "IANA time zone of the merchant", "TZ" }, \
  { "offline-payment-cap", 0, 0, G_OPTION_ARG_STRING, &opt_pay_cap, "Largest offline payment", "A" }, \
  { "offline-card-cap", 0, 0, G_OPTION_ARG_STRING, &opt_card_cap, "Offline payments per card", "A" }, \
  { "issuer-prefix", 0, 0, G_OPTION_ARG_STRING, &opt_prefix, "Prefix of issued card numbers", "DIGITS" }, \
  { "points-redeem-rate", 0, 0, G_OPTION_ARG_INT64, &opt_redeem_rate, \
    "Points that pay one major unit of a payment (0: no redemption)", "N" }, \
  { "points-redeem-max-bp", 0, 0, G_OPTION_ARG_INT64, &opt_redeem_max_bp, \
    "Largest share of a payment that points may pay, in basis points", "N" }, \
  { "consent-over", 0, 0, G_OPTION_ARG_STRING, &opt_consent_over, \
    "Payments above this need the member's payment code (0: never)", "A" }, \
  { "require-shift", 0, 0, G_OPTION_ARG_STRING, &opt_require_shift, "Money only during an open shift", "yes|no" }

static gboolean
apply_merchant_options (CtStoreMerchant *m,
                        int        *status)
{
  if (opt_name != NULL)
    {
      if (!text_ok (opt_name, 200))
        {
          *status = usage_error ("--merchant-name must be 1 to 200 characters of text");
          return FALSE;
        }
      g_free (m->name);
      m->name = g_strdup (opt_name);
    }
  if (opt_mode != NULL)
    {
      if (!g_str_equal (opt_mode, "fixed") && !g_str_equal (opt_mode, "any"))
        {
          *status = usage_error ("--topup-mode is fixed or any, not \"%s\"", opt_mode);
          return FALSE;
        }
      g_free (m->topup_mode);
      m->topup_mode = g_strdup (opt_mode);
    }
  if (!parse_amount (opt_min, "--topup-min", m->minor_units, &m->topup_min, status)
      || !parse_amount (opt_max, "--topup-max", m->minor_units, &m->topup_max, status)
      || !parse_amount (opt_pay_cap, "--offline-payment-cap", m->minor_units, &m->offline_payment_cap, status)
      || !parse_amount (opt_card_cap, "--offline-card-cap", m->minor_units, &m->offline_card_cap, status)
      || !parse_amount (opt_consent_over, "--consent-over", m->minor_units, &m->consent_over, status))
    return FALSE;
  if (opt_redeem_rate >= 0)
    {
      if (opt_redeem_rate > 1000000)
        {
          *status = usage_error ("--points-redeem-rate is 0 (off) to 1000000 points per major unit");
          return FALSE;
        }
      m->points_redeem_rate = opt_redeem_rate;
    }
  if (opt_redeem_max_bp >= 0)
    {
      if (opt_redeem_max_bp > 10000)
        {
          *status = usage_error ("--points-redeem-max-bp is 0 to 10000 (100 %%)");
          return FALSE;
        }
      m->points_redeem_max_bp = opt_redeem_max_bp;
    }
  if (opt_require_shift != NULL)
    {
      if (!g_str_equal (opt_require_shift, "yes") && !g_str_equal (opt_require_shift, "no"))
        {
          *status = usage_error ("--require-shift is yes or no, not \"%s\"", opt_require_shift);
          return FALSE;
        }
      m->require_shift = g_str_equal (opt_require_shift, "yes");
    }
  if (m->topup_min <= 0 || m->topup_max < m->topup_min)
    {
      *status = usage_error ("the top-up range must have 0 < min <= max");
      return FALSE;
    }
  if (opt_ppu >= 0)
    {
      if (opt_ppu > 1000)
        {
          *status = usage_error ("--points-per-unit is 0 to 1000");
          return FALSE;
        }
      m->points_per_unit = opt_ppu;
    }
  if (opt_tz != NULL)
    {
      GTimeZone *tz = g_time_zone_new_identifier (opt_tz);

      if (tz == NULL)
        {
          *status = usage_error ("--timezone: \"%s\" is not a known time zone (e.g. Asia/Shanghai)", opt_tz);
          return FALSE;
        }
      g_time_zone_unref (tz);
      g_free (m->timezone);
      m->timezone = g_strdup (opt_tz);
    }
  if (opt_prefix != NULL)
    {
      gsize n = strlen (opt_prefix);

      if (n < 1 || n > 8 || strspn (opt_prefix, "0123456789") != n)
        {
          *status = usage_error ("--issuer-prefix is 1 to 8 digits");
          return FALSE;
        }
      g_free (m->issuer_prefix);
      m->issuer_prefix = g_strdup (opt_prefix);
    }
  return TRUE;
}

/* A merchant id: what --merchant names. */
static gboolean
merchant_id_ok (const char *text)
{
  if (text == NULL || *text == '\0' || strlen (text) > 64)
    return FALSE;
  for (const char *p = text; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return TRUE;
}

/* A new merchant's settings: init's defaults, then the options given. */
static gboolean
new_merchant_settings (CtStoreMerchant *m,
                       const char      *command,
                       int             *status)
{
  int64_t unit;

  if (opt_name == NULL)
    {
      *status = usage_error ("%s: the merchant's name is required", command);
      return FALSE;
    }
  m->currency = g_strdup (opt_currency ? opt_currency : "CNY");
  if (strlen (m->currency) != 3 || !g_ascii_isupper (m->currency[0]) || !g_ascii_isupper (m->currency[1])
      || !g_ascii_isupper (m->currency[2]))
    {
      *status = usage_error ("--currency is a three-letter code such as CNY");
      return FALSE;
    }
  m->minor_units = opt_minor >= 0 ? opt_minor : 2;
  if (m->minor_units > CT_MONEY_MINOR_UNITS_MAX)
    {
      *status = usage_error ("--minor-units is 0 to %d", CT_MONEY_MINOR_UNITS_MAX);
      return FALSE;
    }
  unit = ct_money_unit (m->minor_units);
  m->topup_mode = g_strdup ("fixed");
  m->topup_min = unit;
  m->topup_max = 10000 * unit;
  m->points_per_unit = 1;
  m->timezone = g_strdup ("Asia/Shanghai");
  m->issuer_prefix = g_strdup ("8888");
  return apply_merchant_options (m, status);
}

static int
cmd_init (int    argc,
          char **argv)
{
  char *merchant_id = NULL;
  GOptionEntry entries[] = {
    MERCHANT_ENTRIES,
    { "merchant-id", 0, 0, G_OPTION_ARG_STRING, &merchant_id, "The first merchant's id (default: main)", "M" },
    { "currency", 0, 0, G_OPTION_ARG_STRING, &opt_currency, "ISO 4217 code (never changes)", "CODE" },
    { "minor-units", 0, 0, G_OPTION_ARG_INT, &opt_minor, "Digits after the point (never changes)", "N" },
    { NULL }
  };
  g_auto(CtStoreMerchant) m = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtStore) store = NULL;
  int status = 0;

  if (!parse_options (entries, &argc, &argv, "init", &status))
    return status;
  if (!resolve_db ("init", &status))
    return status;
  if (opt_name == NULL)
    return usage_error ("init: --merchant-name is required");
  if (merchant_id != NULL && !merchant_id_ok (merchant_id))
    return usage_error ("init: --merchant-id is 1 to 64 of A-Z a-z 0-9 . _ -");
  if (!new_merchant_settings (&m, "init", &status))
    return status;
  m.code = g_strdup (merchant_id);

  store = ct_store_create (db_path, &m, &error);
  if (store == NULL)
    return fail_with (error);
  /* A URI may carry a password: it is not echoed. */
  g_print ("initialised %s for %s (%s, %d minor units, top-up mode %s)\n",
           ct_store_location_is_uri (db_path) ? "the PostgreSQL database" : db_path, m.name,
           m.currency, m.minor_units, m.topup_mode);
  return CT_SERVICE_EXIT_OK;
}

/* merchant list: every merchant of the service, the first one first. */
static int
merchant_list (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtStore) store = NULL;
  g_autoptr(GPtrArray) merchants = NULL;
  int status = 0;

  if ((store = open_store ("merchant list", &status)) == NULL)
    return status;
  if ((merchants = ct_store_merchant_list (store, &error)) == NULL)
    return fail_with (error);
  for (guint i = 0; i < merchants->len; i++)
    {
      const CtStoreMerchantRef *ref = merchants->pdata[i];
      g_autoptr(CtStore) view = ct_store_for_merchant (store, ref->id);
      g_auto(CtStoreMerchant) m = { 0 };

      if (!ct_store_get_merchant (view, &m, &error))
        return fail_with (error);
      g_print ("%s  %s (%s)\n", ref->code, m.name, m.currency);
    }
  return CT_SERVICE_EXIT_OK;
}

/* merchant add: another merchant, with its own settings and accounts. */
static int
merchant_add (const char *id)
{
  g_auto(CtStoreMerchant) m = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtStore) store = NULL;
  int status = 0;
  int64_t number = 0;

  if (!merchant_id_ok (id))
    return usage_error ("merchant add: --id is 1 to 64 of A-Z a-z 0-9 . _ -");
  if (!new_merchant_settings (&m, "merchant add", &status))
    return status;
  m.code = g_strdup (id);
  if ((store = open_store ("merchant add", &status)) == NULL)
    return status;
  if (!ct_store_begin (store, &error) || !ct_store_merchant_add (store, &m, &number, &error)
      || !ct_store_commit (store, &error))
    {
      ct_store_rollback (store);
      return fail_with (error);
    }
  g_print ("merchant %s added: %s (%s, %d minor units, top-up mode %s); give it tills with "
           "`cardtill-service till add --merchant %s`\n", id, m.name, m.currency, m.minor_units, m.topup_mode, id);
  return CT_SERVICE_EXIT_OK;
}

static int
cmd_merchant (int    argc,
              char **argv)
{
  char *id = NULL;
  GOptionEntry entries[] = {
    MERCHANT_ENTRIES,
    MERCHANT_OPTION,
    { NULL }
  };
  GOptionEntry add_entries[] = {
    MERCHANT_ENTRIES,
    { "id", 0, 0, G_OPTION_ARG_STRING, &id, "The new merchant's id (what --merchant names)", "M" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &opt_name, "The merchant's name", "NAME" },
    { "currency", 0, 0, G_OPTION_ARG_STRING, &opt_currency, "ISO 4217 code (never changes)", "CODE" },
    { "minor-units", 0, 0, G_OPTION_ARG_INT, &opt_minor, "Digits after the point (never changes)", "N" },
    { NULL }
  };
  g_auto(CtStoreMerchant) m = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtStore) store = NULL;
  static const char * const verbs[] = { "add", "set", "show", "list", NULL };
  g_autofree char *command = NULL;
  const char *verb;
  int status = 0;
  gboolean show;

  if (!take_verb ("merchant", verbs, &argc, &argv, &verb, &command, &status)
      || !parse_options (g_str_equal (verb, "add") ? add_entries : entries, &argc, &argv, command, &status))
    return status;
  show = g_str_equal (verb, "show");
  if (g_str_equal (verb, "add"))
    return merchant_add (id);
  if (g_str_equal (verb, "list"))
    return merchant_list ();
  if ((store = open_store (command, &status)) == NULL)
    return status;
  if (!ct_store_get_merchant (store, &m, &error))
    return fail_with (error);
  if (!show)
    {
      if (!apply_merchant_options (&m, &status))
        return status;
      if (!ct_store_begin (store, &error) || !ct_store_set_merchant (store, &m, &error)
          || !ct_store_commit (store, &error))
        return fail_with (error);
    }
  {
    g_autofree char *min = ct_money_format_plain (m.topup_min, m.minor_units);
    g_autofree char *max = ct_money_format_plain (m.topup_max, m.minor_units);
    g_autofree char *pay = ct_money_format_plain (m.offline_payment_cap, m.minor_units);
    g_autofree char *card = ct_money_format_plain (m.offline_card_cap, m.minor_units);

    g_autofree char *consent = ct_money_format_plain (m.consent_over, m.minor_units);

    g_print ("merchant: %s\n", m.code);
    g_print ("name: %s\ncurrency: %s\nminor units: %d\ntop-up mode: %s\ntop-up range: %s to %s\n"
             "points per unit: %" G_GINT64_FORMAT "\ntime zone: %s\noffline payment cap: %s\n"
             "offline card cap: %s\nissuer prefix: %s\n"
             "points redeem rate: %" G_GINT64_FORMAT "\npoints redeem max: %" G_GINT64_FORMAT " bp\n"
             "consent over: %s\nrequire shift: %s\n",
             m.name, m.currency, m.minor_units, m.topup_mode, min, max, m.points_per_unit,
             m.timezone, pay, card, m.issuer_prefix, m.points_redeem_rate, m.points_redeem_max_bp,
             consent, m.require_shift ? "yes" : "no");
  }
  return CT_SERVICE_EXIT_OK;
}

static int
cmd_till (int    argc,
          char **argv)
{
  char *store_name = NULL, *name = NULL;
  GOptionEntry entries[] = {
    DB_ENTRIES,
    MERCHANT_OPTION,
    { "store", 0, 0, G_OPTION_ARG_STRING, &store_name, "The store the till is in", "S" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "The till's name in its store", "T" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtStore) store = NULL;
  g_autofree char *token = NULL;
  static const char * const verbs[] = { "add", "token", "revoke", "enable", NULL };
  g_autofree char *command = NULL;
  const char *verb;
  guint8 hash[32];
  int status = 0;

  if (!take_verb ("till", verbs, &argc, &argv, &verb, &command, &status)
      || !parse_options (entries, &argc, &argv, command, &status))
    return status;
  if (store_name == NULL || name == NULL || *store_name == '\0' || *name == '\0')
    return usage_error ("%s: --store and --name are required", command);
  if (strlen (store_name) > 64 || strlen (name) > 64 || !g_utf8_validate (store_name, -1, NULL)
      || !g_utf8_validate (name, -1, NULL))
    return usage_error ("%s: store and till names are at most 64 bytes of text", command);
  if ((store = open_store (command, &status)) == NULL)
    return status;

  if (!ct_store_begin (store, &error))
    return fail_with (error);
  if (g_str_equal (verb, "revoke"))
    {
      if (!ct_store_till_revoke (store, store_name, name, &error) || !ct_store_commit (store, &error))
        {
          ct_store_rollback (store);
          return fail_with (error);
        }
      g_print ("till %s/%s revoked\n", store_name, name);
      return CT_SERVICE_EXIT_OK;
    }
  /* A revoked till stays revoked until someone says otherwise: a new token
   * for it would silently let it take money again. `till enable` gives it a
   * new token, so the one it had when it was revoked stays dead. */
  if (g_str_equal (verb, "token"))
    {
      g_auto(CtStoreTill) till = { 0 };

      if (!ct_store_till_get (store, store_name, name, &till, &error))
        {
          ct_store_rollback (store);
          return fail_with (error);
        }
      if (till.revoked)
        {
          ct_store_rollback (store);
          g_printerr ("cardtill-service: till %s/%s is revoked; run `cardtill-service till enable --store %s "
                      "--name %s` to let it work again (with a new token)\n",
                      store_name, name, store_name, name);
          return CT_SERVICE_EXIT_REFUSED;
        }
    }
  token = ct_auth_new_token ();
  ct_auth_token_hash (token, hash);
  if (!ct_store_till_put (store, store_name, name, hash, g_str_equal (verb, "add"), &error)
      || !ct_store_commit (store, &error))
    {
      ct_store_rollback (store);
      return fail_with (error);
    }
  g_print ("till %s/%s: keep this token; it is shown only once\n%s\n", store_name, name, token);
  return CT_SERVICE_EXIT_OK;
}

static char *
read_pin_file (const char  *path,
               GError     **error)
{
  g_autofree char *contents = NULL;
  char *nl;

  if (!g_file_get_contents (path, &contents, NULL, error))
    return NULL;
  nl = strpbrk (contents, "\r\n");
  if (nl != NULL)
    *nl = '\0';
  return g_steal_pointer (&contents);
}

/* Warns about managers whose PIN is shorter than the rule, or may be (set
 * before it and not used since); returns how many. */
static guint
warn_short_pins (GPtrArray *managers)
{
  guint n = 0;

  for (guint i = 0; i < managers->len; i++)
    {
      CtStoreManagerInfo *info = managers->pdata[i];

      if (info->guard.pin_short == 0)
        continue;
      n++;
      g_print ("warning: manager %s %s; give it a new one with `cardtill-service manager set-pin --id %s`\n",
               info->id,
               info->guard.pin_short > 0 ? "has a PIN shorter than " G_STRINGIFY (CT_MANAGER_PIN_MIN_DIGITS) " digits"
                                         : "may have a PIN shorter than " G_STRINGIFY (CT_MANAGER_PIN_MIN_DIGITS)
                                           " digits (set before PINs needed " G_STRINGIFY (CT_MANAGER_PIN_MIN_DIGITS)
                                           ", not used since)",
               info->id);
    }
  return n;
}

static int
manager_list (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtStore) store = NULL;
  g_autoptr(GPtrArray) managers = NULL;
  int64_t now = ct_store_now_ms ();
  int status = 0;

  if ((store = open_store ("manager list", &status)) == NULL)
    return status;
  if ((managers = ct_store_manager_list (store, &error)) == NULL)
    return fail_with (error);
  for (guint i = 0; i < managers->len; i++)
    {
      CtStoreManagerInfo *info = managers->pdata[i];

      g_print ("%s", info->id);
      if (info->guard.locked_until > now)
        {
          g_autofree char *until = ct_service_format_time (info->guard.locked_until);
          g_print ("  locked until %s", until);
        }
      else if (info->guard.failures > 0)
        g_print ("  %d wrong PIN%s in the last hour", info->guard.failures, info->guard.failures == 1 ? "" : "s");
      g_print ("\n");
    }
  warn_short_pins (managers);
  return CT_SERVICE_EXIT_OK;
}

static int
cmd_manager (int    argc,
             char **argv)
{
  char *id = NULL, *pin_file = NULL;
  GOptionEntry entries[] = {
    DB_ENTRIES,
    MERCHANT_OPTION,
    { "id", 0, 0, G_OPTION_ARG_STRING, &id, "The manager's id", "ID" },
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &pin_file, "A file whose first line is the PIN", "F" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtStore) store = NULL;
  static const char * const verbs[] = { "add", "set-pin", "remove", "list", NULL };
  g_autofree char *command = NULL;
  g_autofree char *pin = NULL;
  g_autofree char *hash = NULL;
  const char *verb;
  int status = 0;
  gboolean ok;

  if (!take_verb ("manager", verbs, &argc, &argv, &verb, &command, &status)
      || !parse_options (entries, &argc, &argv, command, &status))
    return status;
  if (g_str_equal (verb, "list"))
    return manager_list ();
  if (!text_ok (id, 64))
    return usage_error ("%s: --id (1 to 64 bytes) is required", command);
  if (g_str_equal (verb, "add") && g_str_has_prefix (id, CT_STORE_CASHIER_GUARD_PREFIX))
    return usage_error ("%s: a manager id may not start with \"" CT_STORE_CASHIER_GUARD_PREFIX "\"", command);
  if (!g_str_equal (verb, "remove"))
    {
      if (pin_file == NULL)
        return usage_error ("%s: --pin-file is required", command);
      pin = read_pin_file (pin_file, &error);
      if (pin == NULL)
        {
          g_printerr ("cardtill-service: %s\n", error->message);
          return CT_SERVICE_EXIT_LOCAL;
        }
      /* PINs set before the rule keep working; a new one follows it. */
      if (!ct_manager_pin_check_new (pin, &error))
        return usage_error ("%s: %s", command, error->message);
      hash = ct_auth_pin_hash (pin, &error);
      if (hash == NULL)
        return fail_with (error);
    }
  if ((store = open_store (command, &status)) == NULL)
    return status;
  if (!ct_store_begin (store, &error))
    return fail_with (error);
  if (g_str_equal (verb, "remove"))
    ok = ct_store_manager_remove (store, id, &error);
  else
    {
      /* A new PIN unlocks the manager. */
      CtStorePinGuard guard = { .pin_short = 0 };

      ok = ct_store_manager_put (store, id, hash, g_str_equal (verb, "add"), &error)
           && ct_store_pin_guard_put (store, id, &guard, &error);
    }
  if (!ok || !ct_store_commit (store, &error))
    {
      ct_store_rollback (store);
      return fail_with (error);
    }
  g_print ("manager %s: %s\n", id, g_str_equal (verb, "add") ? "added" : g_str_equal (verb, "remove") ? "removed" : "PIN changed");
  return CT_SERVICE_EXIT_OK;
}

/* Asks for a PIN twice on the terminal, without echo; from a pipe, the
 * first line of standard input. */
static char *
read_pin_prompt (const char  *who,
                 GError     **error)
{
  struct termios saved, quiet;
  char first[128] = "", second[128] = "";
  gboolean tty = isatty (STDIN_FILENO);
  gboolean ok;

  if (tty)
    {
      if (tcgetattr (STDIN_FILENO, &saved) != 0)
        tty = FALSE;
      quiet = saved;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      if (tty)
        tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
      g_printerr ("PIN for %s: ", who);
    }
  ok = fgets (first, sizeof first, stdin) != NULL;
  if (tty && ok)
    {
      g_printerr ("\nThe PIN again: ");
      ok = fgets (second, sizeof second, stdin) != NULL;
    }
  if (tty)
    {
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved);
      g_printerr ("\n");
    }
  first[strcspn (first, "\r\n")] = '\0';
  second[strcspn (second, "\r\n")] = '\0';
  if (!ok)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no PIN was given");
      return NULL;
    }
  if (tty && strcmp (first, second) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the two PINs differ; nothing was changed");
      return NULL;
    }
  return g_strdup (first);
}

static int
cashier_list (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtStore) store = NULL;
  g_autoptr(GPtrArray) cashiers = NULL;
  int64_t now = ct_store_now_ms ();
  int status = 0;

  if ((store = open_store ("cashier list", &status)) == NULL)
    return status;
  if ((cashiers = ct_store_cashier_list (store, &error)) == NULL)
    return fail_with (error);
  for (guint i = 0; i < cashiers->len; i++)
    {
      CtStoreCashier *k = cashiers->pdata[i];
      g_autofree char *name = ct_text_escape_controls (k->name);

      g_print ("%s  %s", k->id, name);
      if (k->guard.locked_until > now)
        {
          g_autofree char *until = ct_service_format_time (k->guard.locked_until);
          g_print ("  locked until %s", until);
        }
      else if (k->guard.failures > 0)
        g_print ("  %d wrong PIN%s in the last hour", k->guard.failures, k->guard.failures == 1 ? "" : "s");
      g_print ("\n");
    }
  if (cashiers->len == 0)
    g_print ("no cashiers: tills take the operator they are given\n");
  return CT_SERVICE_EXIT_OK;
}

/* The PIN of `cashier add` or `cashier set`, checked and hashed. */
static int
cashier_pin_hash (const char  *command,
                  const char  *id,
                  const char  *pin_file,
                  char       **out_hash)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pin = NULL;

  pin = pin_file != NULL ? read_pin_file (pin_file, &error) : read_pin_prompt (id, &error);
  if (pin == NULL)
    {
      g_printerr ("cardtill-service: %s: %s\n", command, error->message);
      return CT_SERVICE_EXIT_LOCAL;
    }
  if (!ct_cashier_pin_check_new (pin, &error))
    return usage_error ("%s: %s", command, error->message);
  if ((*out_hash = ct_auth_pin_hash (pin, &error)) == NULL)
    return fail_with (error);
  return CT_SERVICE_EXIT_OK;
}

static int
cmd_cashier (int    argc,
             char **argv)
{
  char *id = NULL, *name = NULL, *pin_file = NULL;
  gboolean new_pin = FALSE;
  GOptionEntry entries[] = {
    DB_ENTRIES,
    MERCHANT_OPTION,
    { "id", 0, 0, G_OPTION_ARG_STRING, &id, "The cashier's id, typed at the till", "ID" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "The cashier's name, shown and printed", "NAME" },
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &pin_file, "A file whose first line is the PIN", "F" },
    { "new-pin", 0, 0, G_OPTION_ARG_NONE, &new_pin, "Ask for a new PIN (cashier set)", NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtStore) store = NULL;
  g_auto(CtStoreCashier) old = { 0 };
  static const char * const verbs[] = { "add", "set", "remove", "list", NULL };
  g_autofree char *command = NULL;
  g_autofree char *hash = NULL;
  const char *verb;
  int status = 0;
  gboolean ok;

  if (!take_verb ("cashier", verbs, &argc, &argv, &verb, &command, &status)
      || !parse_options (entries, &argc, &argv, command, &status))
    return status;
  if (g_str_equal (verb, "list"))
    return cashier_list ();
  if (!text_ok (id, 64))
    return usage_error ("%s: --id (1 to 64 bytes) is required", command);
  if (name != NULL && !text_ok (name, 200))
    return usage_error ("%s: --name is 1 to 200 bytes of UTF-8", command);
  if (g_str_equal (verb, "add") && name == NULL)
    return usage_error ("%s: --name is required", command);
  if (g_str_equal (verb, "add") || pin_file != NULL || new_pin)
    {
      if ((status = cashier_pin_hash (command, id, pin_file, &hash)) != CT_SERVICE_EXIT_OK)
        return status;
    }
  if ((store = open_store (command, &status)) == NULL)
    return status;
  if (!ct_store_begin (store, &error))
    return fail_with (error);
  if (g_str_equal (verb, "remove"))
    ok = ct_store_cashier_remove (store, id, &error);
  else if (g_str_equal (verb, "add"))
    ok = ct_store_cashier_put (store, id, name, hash, TRUE, &error);
  else
    ok = ct_store_cashier_get (store, id, &old, &error)
         && ct_store_cashier_put (store, id, name != NULL ? name : old.name, hash != NULL ? hash : old.pin_hash,
                                  FALSE, &error);
  /* A new cashier, or a new PIN, starts unlocked; a removed cashier's
   * wrong PINs are forgotten with it. */
  if (ok && (hash != NULL || g_str_equal (verb, "remove")))
    {
      g_autofree char *guard_id = ct_store_cashier_guard_id (id);
      CtStorePinGuard guard = { .pin_short = 0 };

      ok = ct_store_pin_guard_put (store, guard_id, &guard, &error);
    }
  if (!ok || !ct_store_commit (store, &error))
    {
      ct_store_rollback (store);
      return fail_with (error);
    }
  g_print ("cashier %s: %s\n", id,
           g_str_equal (verb, "add") ? "added" : g_str_equal (verb, "remove") ? "removed" : "changed");
  return CT_SERVICE_EXIT_OK;
}

/* package list: the merchant's packages, in the order tills show them. */
static int
package_list (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtStore) store = NULL;
  g_autoptr(GPtrArray) packages = NULL;
  g_auto(CtStoreMerchant) m = { 0 };
  int status = 0;

  if ((store = open_store ("package list", &status)) == NULL)
    return status;
  if (!ct_store_get_merchant (store, &m, &error) || (packages = ct_store_list_packages (store, &error)) == NULL)
    return fail_with (error);
  for (guint i = 0; i < packages->len; i++)
    {
      const CtStorePackage *p = packages->pdata[i];
      g_autofree char *a = ct_money_format_plain (p->amount, m.minor_units);
      g_autofree char *b = ct_money_format_plain (ct_store_package_bonus (p), m.minor_units);

      g_print ("%s: %s with bonus %s\n", p->id, a, b);
    }
  if (packages->len == 0)
    g_print ("no packages for merchant %s\n", m.code);
  return CT_SERVICE_EXIT_OK;
}

static int
cmd_package (int    argc,
             char **argv)
{
  char *id = NULL, *amount = NULL, *bonus = NULL;
  gint64 bonus_bp = -1;
  GOptionEntry entries[] = {
    DB_ENTRIES,
    MERCHANT_OPTION,
    { "id", 0, 0, G_OPTION_ARG_STRING, &id, "The package id", "ID" },
    { "amount", 0, 0, G_OPTION_ARG_STRING, &amount, "What the customer pays", "A" },
    { "bonus", 0, 0, G_OPTION_ARG_STRING, &bonus, "A fixed bonus", "A" },
    { "bonus-bp", 0, 0, G_OPTION_ARG_INT64, &bonus_bp, "A bonus ratio in basis points", "N" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtStore) store = NULL;
  g_auto(CtStoreMerchant) m = { 0 };
  static const char * const verbs[] = { "add", "remove", "list", NULL };
  g_autofree char *command = NULL;
  CtStorePackage p = { 0 };
  const char *verb;
  int status = 0;
  gboolean ok;

  if (!take_verb ("package", verbs, &argc, &argv, &verb, &command, &status)
      || !parse_options (entries, &argc, &argv, command, &status))
    return status;
  if (g_str_equal (verb, "list"))
    return package_list ();
  if (!text_ok (id, 64))
    return usage_error ("%s: --id (1 to 64 bytes) is required", command);
  if (g_str_equal (verb, "add"))
    {
      if (amount == NULL)
        return usage_error ("package add: --amount is required");
      if ((bonus == NULL) == (bonus_bp < 0))
        return usage_error ("package add: give exactly one of --bonus and --bonus-bp");
      if (bonus_bp > 100000)
        return usage_error ("package add: --bonus-bp is 0 to 100000");
    }
  if ((store = open_store (command, &status)) == NULL)
    return status;
  if (!ct_store_get_merchant (store, &m, &error))
    return fail_with (error);
  p.id = id;
  p.bonus_bp = -1;
  if (g_str_equal (verb, "add"))
    {
      if (!parse_amount (amount, "--amount", m.minor_units, &p.amount, &status)
          || !parse_amount (bonus, "--bonus", m.minor_units, &p.bonus, &status))
        return status;
      if (p.amount <= 0)
        return usage_error ("package add: --amount must be more than 0");
      if (bonus_bp >= 0)
        {
          p.bonus_bp = bonus_bp;
          if (!ct_bonus_from_ratio (p.amount, p.bonus_bp, &p.bonus, &error))
            return usage_error ("package add: %s", error->message);
          p.bonus = 0;
        }
    }
  if (!ct_store_begin (store, &error))
    return fail_with (error);
  if (g_str_equal (verb, "add"))
    ok = ct_store_put_package (store, &p, &error);
  else
    ok = ct_store_remove_package (store, id, &error);
  if (!ok || !ct_store_commit (store, &error))
    {
      ct_store_rollback (store);
      return fail_with (error);
    }
  if (g_str_equal (verb, "add"))
    {
      g_autofree char *a = ct_money_format_plain (p.amount, m.minor_units);
      g_autofree char *b = ct_money_format_plain (ct_store_package_bonus (&p), m.minor_units);
      g_print ("package %s: %s with bonus %s\n", id, a, b);
    }
  else
    g_print ("package %s removed\n", id);
  return CT_SERVICE_EXIT_OK;
}

/* `level add|list|remove`: levels by spend and their benefits. */
static void
print_level (const CtStoreLevel *level,
             int                 minor_units)
{
  g_autofree char *min = ct_money_format_plain (level->min_spend, minor_units);

  g_print ("%s: %s, %s%s; discount %" G_GINT64_FORMAT " bp, points %" G_GINT64_FORMAT " bp, top-up bonus %"
           G_GINT64_FORMAT " bp\n", level->id, level->name, level->min_spend > 0 ? "from a spend of " : "",
           level->min_spend > 0 ? min : "given by a manager only", level->discount_bp,
           level->points_multiplier_bp, level->topup_bonus_bp);
}

static gboolean
level_text_ok (const char *text)
{
  if (!text_ok (text, 64))
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return FALSE;
  return TRUE;
}

static int
level_list (int minor_units,
            CtStore *store)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) levels = ct_store_level_list (store, &error);

  if (levels == NULL)
    return fail_with (error);
  if (levels->len == 0)
    g_print ("no levels\n");
  for (guint i = 0; i < levels->len; i++)
    print_level (levels->pdata[i], minor_units);
  return CT_SERVICE_EXIT_OK;
}

static int
cmd_level (int    argc,
           char **argv)
{
  char *id = NULL, *name = NULL, *min_spend = NULL;
  gint64 multiplier_bp = 10000, discount_bp = 0, bonus_bp = 0;
  GOptionEntry entries[] = {
    DB_ENTRIES,
    MERCHANT_OPTION,
    { "id", 0, 0, G_OPTION_ARG_STRING, &id, "The level's id (what a card's level holds)", "ID" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "The name tills and receipts show", "NAME" },
    { "min-spend", 0, 0, G_OPTION_ARG_STRING, &min_spend, "The spend that reaches it (0: a manager gives it)", "A" },
    { "points-multiplier-bp", 0, 0, G_OPTION_ARG_INT64, &multiplier_bp, "Points earned, 10000 = as many", "N" },
    { "discount-bp", 0, 0, G_OPTION_ARG_INT64, &discount_bp, "Off what the balance pays, 500 = 5 %", "N" },
    { "topup-bonus-bp", 0, 0, G_OPTION_ARG_INT64, &bonus_bp, "Added to a package's bonus, of its amount", "N" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtStore) store = NULL;
  g_auto(CtStoreMerchant) m = { 0 };
  static const char * const verbs[] = { "add", "list", "remove", NULL };
  g_autofree char *command = NULL;
  CtStoreLevel level = { 0 };
  const char *verb;
  int status = 0;
  gboolean ok;

  if (!take_verb ("level", verbs, &argc, &argv, &verb, &command, &status)
      || !parse_options (entries, &argc, &argv, command, &status))
    return status;
  if (!g_str_equal (verb, "list") && !level_text_ok (id))
    return usage_error ("%s: --id (one line of 1 to 64 bytes) is required", command);
  if (g_str_equal (verb, "add"))
    {
      if (!level_text_ok (name))
        return usage_error ("level add: --name (one line of 1 to 64 bytes) is required");
      if (min_spend == NULL)
        return usage_error ("level add: --min-spend is required (0 for a level a manager gives)");
      if (discount_bp < 0 || discount_bp > CT_LEVEL_DISCOUNT_BP_MAX)
        return usage_error ("level add: --discount-bp is 0 to %d", CT_LEVEL_DISCOUNT_BP_MAX);
      if (multiplier_bp < 0 || multiplier_bp > CT_LEVEL_MULTIPLIER_BP_MAX)
        return usage_error ("level add: --points-multiplier-bp is 0 to %d", CT_LEVEL_MULTIPLIER_BP_MAX);
      if (bonus_bp < 0 || bonus_bp > CT_LEVEL_BONUS_BP_MAX)
        return usage_error ("level add: --topup-bonus-bp is 0 to %d", CT_LEVEL_BONUS_BP_MAX);
    }
  if ((store = open_store (command, &status)) == NULL)
    return status;
  if (!ct_store_get_merchant (store, &m, &error))
    return fail_with (error);
  if (g_str_equal (verb, "list"))
    return level_list (m.minor_units, store);
  level.id = id;
  level.name = name;
  level.points_multiplier_bp = multiplier_bp;
  level.discount_bp = discount_bp;
  level.topup_bonus_bp = bonus_bp;
  if (g_str_equal (verb, "add") && !parse_amount (min_spend, "--min-spend", m.minor_units, &level.min_spend, &status))
    return status;
  if (!ct_store_begin (store, &error))
    return fail_with (error);
  if (g_str_equal (verb, "add"))
    ok = ct_store_level_put (store, &level, &error);
  else
    ok = ct_store_level_remove (store, id, &error);
  if (!ok || !ct_store_commit (store, &error))
    {
      ct_store_rollback (store);
      return fail_with (error);
    }
  if (g_str_equal (verb, "add"))
    print_level (&level, m.minor_units);
  else
    g_print ("level %s removed; cards that had it keep it as a name without benefits\n", id);
  return CT_SERVICE_EXIT_OK;
}

/* The built-in service of a till (started by its client core with
 * --stop-without-clients DIR) stops by itself when no client uses it any
 * more: every client holds a shared lock on DIR/users.lock while it uses the
 * service, and DIR/start.lock while it joins or leaves. A client killed
 * with -9 (or an app killed by a signal) loses its lock with its process. */
typedef struct
{
  char     *dir;
  guint     poll_ms;
  gboolean  stop;
  GMutex    lock;
  GCond     cond;
} ClientWatch;

static gboolean
no_client_left (const char *dir)
{
  g_autofree char *start_path = g_build_filename (dir, "start.lock", NULL);
  g_autofree char *users_path = g_build_filename (dir, "users.lock", NULL);
  int start_fd = open (start_path, O_RDWR | O_CLOEXEC);
  int users_fd = start_fd >= 0 ? open (users_path, O_RDWR | O_CLOEXEC) : -1;
  gboolean none = FALSE;

  /* A client joining or leaving holds start.lock: ask again later. */
  if (users_fd >= 0 && flock (start_fd, LOCK_EX | LOCK_NB) == 0)
    {
      none = flock (users_fd, LOCK_EX | LOCK_NB) == 0;
      if (none)
        {
          g_autofree char *state = g_build_filename (dir, "state.ini", NULL);

          /* Said before the lock goes, so no client joins a dying service. */
          g_unlink (state);
        }
      flock (users_fd, LOCK_UN);
      flock (start_fd, LOCK_UN);
    }
  if (users_fd >= 0)
    close (users_fd);
  if (start_fd >= 0)
    close (start_fd);
  return none;
}

static gpointer
client_watch_thread (gpointer data)
{
  ClientWatch *w = data;

  g_mutex_lock (&w->lock);
  while (!w->stop)
    {
      gint64 until = g_get_monotonic_time () + (gint64) w->poll_ms * 1000;

      while (!w->stop && g_cond_wait_until (&w->cond, &w->lock, until))
        ;
      if (w->stop)
        break;
      g_mutex_unlock (&w->lock);
      if (no_client_left (w->dir))
        {
          g_printerr ("cardtill-service: no till uses this built-in service any more; stopping\n");
          /* The main thread's sigwait() takes it and shuts down cleanly. */
          kill (getpid (), SIGTERM);
          g_mutex_lock (&w->lock);
          break;
        }
      g_mutex_lock (&w->lock);
    }
  g_mutex_unlock (&w->lock);
  return NULL;
}

static int
cmd_serve (int    argc,
           char **argv)
{
  g_autofree char *clients_dir = NULL;
  ClientWatch watch = { 0 };
  GThread *watch_thread = NULL;
  CtServiceOptions opts = { 0 };
  gint rate = CT_SERVICE_RATE_LIMIT_DEFAULT, threads = 0, busy = 0, max_conn = 0, per_address = 0, handshake = 0;
  gint wallet_cap = 0, connections = 0;
  GOptionEntry entries[] = {
    DB_ENTRIES,
    { "listen", 0, 0, G_OPTION_ARG_STRING, &opts.listen, "Address and port (port 0: any free port)", "ADDR:PORT" },
    { "cert", 0, 0, G_OPTION_ARG_FILENAME, &opts.cert_file, "TLS certificate (PEM)", "F" },
    { "key", 0, 0, G_OPTION_ARG_FILENAME, &opts.key_file, "TLS private key (PEM)", "F" },
    { "insecure-http", 0, 0, G_OPTION_ARG_NONE, &opts.insecure_http, "Plain HTTP (loopback only, for tests)", NULL },
    { "public-url", 0, 0, G_OPTION_ARG_STRING, &opts.public_url,
      "Where members reach the service, for their member page links (default: the request's Host)", "URL" },
    { "rate-limit", 0, 0, G_OPTION_ARG_INT, &rate, "Requests per second per till (50; 0: off)", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Worker threads (default: two per processor)", "N" },
    { "busy-timeout", 0, 0, G_OPTION_ARG_INT, &busy, "How long a write waits for a database lock (10000 ms)", "MS" },
    { "max-connections", 0, 0, G_OPTION_ARG_INT, &max_conn, "Connections at once, in total (4000)", "N" },
    { "connections-per-address", 0, 0, G_OPTION_ARG_INT, &per_address, "Connections at once from one address (64)", "N" },
    { "handshake-timeout", 0, 0, G_OPTION_ARG_INT, &handshake,
      "Seconds a connection has to send a request with a valid till token (10)", "S" },
    { "wallet-retry-cap", 0, 0, G_OPTION_ARG_INT, &wallet_cap,
      "Longest wait in seconds between two attempts to reach Alipay or WeChat Pay (600)", "S" },
    { "connections", 0, 0, G_OPTION_ARG_INT, &connections,
      "PostgreSQL: committers, one connection each, each writing the requests waiting in one transaction (4)", "N" },
    { "reuse-port", 0, 0, G_OPTION_ARG_NONE, &opts.reuse_port,
      "Share the port with other cardtill-service processes (SO_REUSEPORT)", NULL },
    { "stop-without-clients", 0, 0, G_OPTION_ARG_FILENAME, &clients_dir,
      "A till's built-in service: stop when no client holds DIR/users.lock (checked every 3 s)",
      "DIR" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  CtService *svc;
  sigset_t set;
  int status = 0, sig = 0;

  if (!parse_options (entries, &argc, &argv, "serve", &status))
    return status;
  if (!resolve_db ("serve", &status))
    return status;
  if (opts.listen == NULL)
    return usage_error ("serve: --listen is required");
  opts.db_path = db_path;
  if (rate < 0 || threads < 0 || threads > 256 || busy < 0 || max_conn < 0 || per_address < 0 || handshake < 0
      || wallet_cap < 0 || connections < 0 || connections > 256)
    return usage_error ("serve: --rate-limit, --threads, --busy-timeout, --wallet-retry-cap, --connections and "
                        "the connection limits take a positive number");
  if (per_address > 0 && max_conn > 0 && per_address > max_conn)
    return usage_error ("serve: --connections-per-address is at most --max-connections");
  if (opts.public_url != NULL
      && (!g_str_has_prefix (opts.public_url, "https://") || strpbrk (opts.public_url, " \"<>?#") != NULL
          || g_str_has_suffix (opts.public_url, "/")))
    return usage_error ("serve: --public-url is an https:// URL without a trailing /, e.g. https://cards.example.com");
  if (!opts.insecure_http && (opts.cert_file == NULL || opts.key_file == NULL))
    return usage_error ("serve: HTTPS needs --cert and --key (make them with `cardtill-service gen-cert`)");
  opts.rate_limit = (guint) rate;
  opts.threads = (guint) threads;
  opts.busy_timeout_ms = (guint) busy;
  opts.max_connections = (guint) max_conn;
  opts.per_address = (guint) per_address;
  opts.handshake_timeout = (guint) handshake;
  opts.wallet_retry_cap_s = (guint) wallet_cap;
  opts.connections = (guint) connections;

  /* Every thread inherits this mask, so only sigwait() below sees the
   * signals and the shutdown runs in an ordinary thread context. */
  sigemptyset (&set);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGINT);
  pthread_sigmask (SIG_BLOCK, &set, NULL);
  signal (SIGPIPE, SIG_IGN);

  svc = ct_service_new (&opts, &error);
  if (svc == NULL)
    return fail_with (error);
  if (!ct_service_start (svc, &error))
    {
      ct_service_free (svc);
      g_printerr ("cardtill-service: %s\n", error->message);
      return CT_SERVICE_EXIT_LOCAL;
    }
  g_print ("listening on %s\n", ct_service_get_url (svc));
  fflush (stdout);

  if (clients_dir != NULL)
    {
      const char *poll = g_getenv ("CARDTILL_CLIENT_POLL_MS");
      guint64 ms = 3000;

      if (poll != NULL)
        g_ascii_string_to_unsigned (poll, 10, 10, 600000, &ms, NULL);
      watch.dir = clients_dir;
      watch.poll_ms = (guint) ms;
      g_mutex_init (&watch.lock);
      g_cond_init (&watch.cond);
      watch_thread = g_thread_new ("ct-client-watch", client_watch_thread, &watch);
    }

  sigwait (&set, &sig);
  if (watch_thread != NULL)
    {
      g_mutex_lock (&watch.lock);
      watch.stop = TRUE;
      g_cond_signal (&watch.cond);
      g_mutex_unlock (&watch.lock);
      g_thread_join (watch_thread);
      g_mutex_clear (&watch.lock);
      g_cond_clear (&watch.cond);
    }
  g_printerr ("cardtill-service: %s, finishing the requests in flight\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  ct_service_stop (svc);
  {
    guint64 writes, commits;

    ct_service_get_stats (svc, &writes, &commits);
    g_printerr ("cardtill-service: stopped after %" G_GUINT64_FORMAT " writes in %" G_GUINT64_FORMAT
                " commits\n", writes, commits);
  }
  ct_service_free (svc);
  return CT_SERVICE_EXIT_OK;
}

/* One line per merchant: each merchant's ledger sums to zero by itself. */
static int
ledger_check_all (CtStore   *store,
                  GPtrArray *merchants)
{
  g_autoptr(GError) error = NULL;
  gboolean all_balanced = TRUE;

  for (guint i = 0; i < merchants->len; i++)
    {
      const CtStoreMerchantRef *ref = merchants->pdata[i];
      g_autoptr(CtStore) view = ct_store_for_merchant (store, ref->id);
      g_auto(CtStoreMerchant) m = { 0 };
      CtStoreLedgerCheck check;
      gboolean balanced;

      if (!ct_store_get_merchant (view, &m, &error) || !ct_store_ledger_check (view, &check, &error))
        return fail_with (error);
      balanced = check.sum == 0 && check.postings_sum == 0 && check.balances_match;
      all_balanced = all_balanced && balanced;
      {
        g_autofree char *cards = ct_money_format_plain (check.cards, m.minor_units);
        g_autofree char *pool = ct_money_format_plain (check.pool, m.minor_units);
        g_autofree char *sum = ct_money_format_plain (check.sum, m.minor_units);

        g_print ("%s: cards %s, pool %s, sum %s: %s\n", ref->code, cards, pool, sum,
                 balanced ? "balanced" : "NOT BALANCED: the balances and the postings disagree");
      }
    }
  return all_balanced ? CT_SERVICE_EXIT_OK : CT_SERVICE_EXIT_REFUSED;
}

static int
cmd_ledger (int    argc,
            char **argv)
{
  GOptionEntry entries[] = {
    DB_ENTRIES,
    MERCHANT_OPTION,
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtStore) store = NULL;
  g_autoptr(GPtrArray) merchants = NULL;
  g_auto(CtStoreMerchant) m = { 0 };
  static const char * const verbs[] = { "check", NULL };
  g_autofree char *command = NULL;
  CtStoreLedgerCheck check;
  const char *verb;
  int status = 0;
  gboolean balanced;

  if (!take_verb ("ledger", verbs, &argc, &argv, &verb, &command, &status)
      || !parse_options (entries, &argc, &argv, command, &status)
      || (store = open_store (command, &status)) == NULL)
    return status;
  /* Without --merchant, a service of several merchants gets a line each. */
  if (opt_merchant == NULL)
    {
      if ((merchants = ct_store_merchant_list (store, &error)) == NULL)
        return fail_with (error);
      if (merchants->len > 1)
        return ledger_check_all (store, merchants);
    }
  if (!ct_store_get_merchant (store, &m, &error) || !ct_store_ledger_check (store, &check, &error))
    return fail_with (error);
  balanced = check.sum == 0 && check.postings_sum == 0 && check.balances_match;
  {
    const struct { const char *name; int64_t v; } rows[] = {
      { "cards", check.cards }, { "pool", check.pool }, { "cash", check.cash },
      { "wechat", check.tenders[CT_TENDER_WECHAT] }, { "alipay", check.tenders[CT_TENDER_ALIPAY] },
      { "bank_card", check.tenders[CT_TENDER_BANK_CARD] }, { "other", check.tenders[CT_TENDER_OTHER] },
      { "promo", check.promo }, { "legacy", check.legacy }, { "sum", check.sum },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
      {
        g_autofree char *v = ct_money_format_plain (rows[i].v, m.minor_units);
        g_print ("%s: %s\n", rows[i].name, v);
      }
  }
  g_print ("%s\n", balanced ? "balanced" : "NOT BALANCED: the balances and the postings disagree");
  {
    g_autoptr(GPtrArray) managers = ct_store_manager_list (store, &error);

    if (managers == NULL)
      return fail_with (error);
    warn_short_pins (managers);
  }
  return balanced ? CT_SERVICE_EXIT_OK : CT_SERVICE_EXIT_REFUSED;
}

/* The first line of @file, for a URI that must not show in the process
 * list. */
static char *
first_line (const char  *file,
            GError     **error)
{
  g_autofree char *text = NULL;
  char *end;

  if (!g_file_get_contents (file, &text, NULL, error))
    return NULL;
  end = strpbrk (text, "\r\n");
  if (end != NULL)
    *end = '\0';
  return g_strdup (g_strstrip (text));
}

static int
cmd_copy (int    argc,
          char **argv)
{
  char *from = NULL, *to = NULL, *to_file = NULL;
  GOptionEntry entries[] = {
    { "from", 0, 0, G_OPTION_ARG_FILENAME, &from, "The SQLite ledger to copy", "FILE" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to, "The empty PostgreSQL database", "URI" },
    { "to-file", 0, 0, G_OPTION_ARG_FILENAME, &to_file, "A file whose first line is the --to URI", "F" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) report = g_string_new (NULL);
  g_autofree char *target = NULL;
  gboolean ok;
  int status = 0;

  if (!parse_options (entries, &argc, &argv, "copy", &status))
    return status;
  if (from == NULL || (to == NULL && to_file == NULL))
    return usage_error ("copy: --from FILE and --to postgresql://… (or --to-file F) are required");
  target = to != NULL ? g_strdup (to) : first_line (to_file, &error);
  if (target == NULL)
    return usage_error ("copy: --to-file: %s", error->message);
  if (!ct_store_location_is_uri (target) || ct_store_location_is_uri (from))
    return usage_error ("copy: --from is a SQLite file and --to a postgresql:// URI");
  ok = ct_store_copy (from, target, report, &error);
  g_print ("%s", report->str);
  if (!ok)
    {
      if (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED) && strstr (report->str, "DIFFERENT"))
        {
          g_printerr ("cardtill-service: %s\n", error->message);
          return CT_SERVICE_EXIT_REFUSED;
        }
      return fail_with (error);
    }
  g_print ("copied %s to the PostgreSQL database; both sides agree\n", from);
  return CT_SERVICE_EXIT_OK;
}

static char *printable (const char *text);

static int
cmd_upgrade (int    argc,
             char **argv)
{
  GOptionEntry entries[] = { DB_ENTRIES, { NULL } };
  g_autoptr(GError) error = NULL;
  g_auto(CtStorePhoneReport) phones = { 0 };
  int status = 0, from = 0, to = 0;

  if (!parse_options (entries, &argc, &argv, "upgrade", &status))
    return status;
  if (!resolve_db ("upgrade", &status))
    return status;
  if (!ct_store_upgrade (db_path, &from, &to, &phones, &error))
    return fail_with (error);
  if (from == to)
    g_print ("the schema is at version %d already; nothing to do\n", to);
  else
    g_print ("upgraded the schema from version %d to %d\n", from, to);
  /* The stored phones in the one phone rule's form; the ones it does not
   * take are left as they are, for a manager to correct. */
  if (phones.normalised > 0)
    g_print ("wrote %u stored phones in the phone rule's form (digits only)\n", phones.normalised);
  for (guint i = 0; i < phones.kept->len; i++)
    {
      g_autofree char *line = printable (phones.kept->pdata[i]);

      g_print ("phone left as it is: %s\n", line);
    }
  return CT_SERVICE_EXIT_OK;
}

/* Text from a till (an outcome note, a name) as one line a terminal shows
 * as it is: control characters are written as \xNN. */
static char *
printable (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text != NULL ? text : "-"; *p != '\0'; p++)
    {
      if ((guchar) *p < 0x20 || *p == 0x7f)
        g_string_append_printf (out, "\\x%02x", (guchar) *p);
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

/* --since: a date (from its start in the merchant's time zone) or a time
 * (RFC 3339; without an offset, in the merchant's time zone). */
static gboolean
parse_since (const char  *text,
             const char  *timezone,
             int64_t     *out_ms)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier (timezone);
  g_autoptr(GDateTime) dt = NULL;
  int64_t end;

  const char *t = strchr (text, 'T');
  g_autofree char *full = NULL;

  if (ct_service_day_range (timezone, text, out_ms, &end))
    return TRUE;
  /* GLib wants the seconds; "14:00" is a time a person writes. */
  if (t != NULL && strlen (t) == 6 && t[3] == ':')
    text = full = g_strconcat (text, ":00", NULL);
  dt = g_date_time_new_from_iso8601 (text, tz);
  if (dt == NULL)
    return FALSE;
  *out_ms = g_date_time_to_unix (dt) * 1000 + g_date_time_get_microsecond (dt) / 1000;
  return TRUE;
}

static int
cmd_audit (int    argc,
           char **argv)
{
  char *since = NULL;
  GOptionEntry entries[] = {
    DB_ENTRIES,
    MERCHANT_OPTION,
    { "since", 0, 0, G_OPTION_ARG_STRING, &since, "From this date or time on (default: everything)",
      "DATE|TIME" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtStore) store = NULL;
  g_autoptr(GPtrArray) entries_found = NULL;
  g_auto(CtStoreMerchant) m = { 0 };
  int64_t since_ms = 0;
  int status = 0;

  if (!parse_options (entries, &argc, &argv, "audit", &status))
    return status;
  if ((store = open_store ("audit", &status)) == NULL)
    return status;
  if (!ct_store_get_merchant (store, &m, &error))
    return fail_with (error);
  if (since != NULL && !parse_since (since, m.timezone, &since_ms))
    return usage_error ("audit: --since takes a date (2026-12-01) or a time (2026-12-01T14:00), not \"%s\"", since);
  if ((entries_found = ct_store_audit_list (store, since_ms, &error)) == NULL)
    return fail_with (error);
  for (guint i = 0; i < entries_found->len; i++)
    {
      CtStoreAudit *a = entries_found->pdata[i];
      g_autofree char *at = ct_service_format_time (a->created_at);
      g_autofree char *till = g_strdup_printf ("%s/%s", a->store ? a->store : "-", a->till ? a->till : "-");
      g_autofree char *safe_till = printable (till);
      g_autofree char *manager = printable (a->manager);
      g_autofree char *card = printable (a->card_no);
      g_autofree char *detail = printable (a->detail);

      g_print ("%s  %s  %s  %s  %s  %s\n", at, safe_till, manager, a->action, card, detail);
    }
  if (entries_found->len == 0)
    g_print ("no manager actions or refused PINs%s%s\n", since ? " since " : "", since ? since : "");
  return CT_SERVICE_EXIT_OK;
}

static int
cmd_gen_cert (int    argc,
              char **argv)
{
  char *cert = NULL, *key = NULL, *ip = NULL;
  gint days = 825;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db_path, "Ignored (accepted like every command)", "PATH" },
    { "db-file", 0, 0, G_OPTION_ARG_FILENAME, &db_file, "Ignored (accepted like every command)", "F" },
    { "cert", 0, 0, G_OPTION_ARG_FILENAME, &cert, "Where the certificate goes", "F" },
    { "key", 0, 0, G_OPTION_ARG_FILENAME, &key, "Where the private key goes (mode 0600)", "F" },
    { "ip", 0, 0, G_OPTION_ARG_STRING, &ip, "The address the certificate is for (127.0.0.1)", "IP" },
    { "days", 0, 0, G_OPTION_ARG_INT, &days, "Validity in days (825)", "N" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *pin = NULL;
  int status = 0;

  if (!parse_options (entries, &argc, &argv, "gen-cert", &status))
    return status;
  if (cert == NULL || key == NULL)
    return usage_error ("gen-cert: --cert and --key are required");
  if (days <= 0)
    return usage_error ("gen-cert: --days must be positive");
  pin = ct_service_gen_cert (cert, key, ip ? ip : "127.0.0.1", (guint) days, &error);
  if (pin == NULL)
    {
      g_printerr ("cardtill-service: %s\n", error->message);
      return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT) ? CT_SERVICE_EXIT_USAGE
                                                                             : CT_SERVICE_EXIT_LOCAL;
    }
  g_print ("certificate: %s\nkey: %s\n%s\n", cert, key, pin);
  return CT_SERVICE_EXIT_OK;
}

/* Wallet connectors */

#define ID_MAX 128

static gboolean
wallet_text_ok (const char *text)
{
  if (text == NULL || *text == '\0' || strlen (text) > ID_MAX)
    return FALSE;
  for (const char *p = text; *p; p++)
    if (!g_ascii_isgraph (*p))
      return FALSE;
  return TRUE;
}

/* Checks what `wallet add` was given before anything is stored: the keys
 * load (a private key readable by others is refused), the gateway is
 * https:// (http:// only to loopback). Paths are stored absolute, since the
 * service may run from another directory. */
static int
wallet_check_files (CtWalletConnector *c)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtWalletKey) key = NULL;
  g_autoptr(CtWalletPubkey) pub = NULL;
  char *abs;

  abs = g_canonicalize_filename (c->private_key, NULL);
  g_free (c->private_key);
  c->private_key = abs;
  abs = g_canonicalize_filename (c->public_key, NULL);
  g_free (c->public_key);
  c->public_key = abs;
  if ((key = ct_wallet_key_load (c->private_key, &error)) == NULL
      || (pub = ct_wallet_pubkey_load (c->public_key, &error)) == NULL)
    {
      g_printerr ("cardtill-service: wallet add: %s\n", error->message);
      return CT_SERVICE_EXIT_REFUSED;
    }
  if (c->kind == CT_WALLET_WECHAT && ct_wallet_pubkey_serial (pub) == NULL)
    {
      g_printerr ("cardtill-service: wallet add: %s is not a certificate; --platform-cert takes "
                  "WeChat Pay's platform certificate (PEM)\n", c->public_key);
      return CT_SERVICE_EXIT_REFUSED;
    }
  if (!ct_http_url_allowed (c->gateway, &error))
    return usage_error ("wallet add: --gateway: %s", error->message);
  return CT_SERVICE_EXIT_OK;
}

static void
wallet_print_status (CtStore                 *store,
                     const CtWalletConnector *c,
                     const CtStoreMerchant   *m)
{
  g_auto(CtStoreWalletStatus) st = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *today = ct_service_today (m->timezone);
  int64_t from = 0, to = 0;

  ct_service_day_range (m->timezone, today, &from, &to);
  g_print ("%s %s (%s):", c->merchant, ct_wallet_kind_to_string (c->kind), c->app_id);
  if (!ct_store_wallet_status (store, c->id, from, &st, &error))
    {
      g_print (" %s\n", error->message);
      return;
    }
  g_print (" %" G_GINT64_FORMAT " waiting", st.pending);
  if (st.pending > 0)
    {
      g_autofree char *oldest = ct_wallet_local_time (st.oldest_pending_ms, m->timezone);
      g_print (" (oldest from %s)", oldest);
    }
  g_print (", %" G_GINT64_FORMAT " delivered today, %" G_GINT64_FORMAT " refused\n",
           st.delivered_since, st.refused);
  if (st.last_error != NULL)
    g_print ("  last error: %s\n", st.last_error);
  for (guint i = 0; i < st.refusals->len; i++)
    {
      CtStoreWalletRefusal *r = st.refusals->pdata[i];
      g_autofree char *when = ct_wallet_local_time (r->settled_at, m->timezone);

      g_print ("  refused %s: card %s, %s %s: %s\n", when, r->card_no, r->method, r->request_no,
               r->reason != NULL ? r->reason : "");
    }
}

static int
cmd_wallet (int    argc,
            char **argv)
{
  const char *merchant = NULL;
  char *kind = NULL, *app_id = NULL, *mch_id = NULL, *serial = NULL;
  char *private_key = NULL, *alipay_public_key = NULL, *platform_cert = NULL;
  char *template_id = NULL, *card_id = NULL, *gateway = NULL;
  GOptionEntry entries[] = {
    DB_ENTRIES,
    { "kind", 0, 0, G_OPTION_ARG_STRING, &kind, "alipay or wechat", "KIND" },
    MERCHANT_OPTION,
    { "app-id", 0, 0, G_OPTION_ARG_STRING, &app_id, "Alipay: the app id", "ID" },
    { "mch-id", 0, 0, G_OPTION_ARG_STRING, &mch_id, "WeChat Pay: the merchant id", "ID" },
    { "serial-no", 0, 0, G_OPTION_ARG_STRING, &serial, "WeChat Pay: the merchant certificate's serial number", "S" },
    { "private-key", 0, 0, G_OPTION_ARG_FILENAME, &private_key, "The merchant's private key (mode 600)", "F" },
    { "alipay-public-key", 0, 0, G_OPTION_ARG_FILENAME, &alipay_public_key, "Alipay: Alipay's public key", "F" },
    { "platform-cert", 0, 0, G_OPTION_ARG_FILENAME, &platform_cert, "WeChat Pay: the platform certificate", "F" },
    { "template-id", 0, 0, G_OPTION_ARG_STRING, &template_id, "Alipay: the card template id", "ID" },
    { "card-id", 0, 0, G_OPTION_ARG_STRING, &card_id, "WeChat Pay: the member card id", "ID" },
    { "gateway", 0, 0, G_OPTION_ARG_STRING, &gateway, "The gateway URL (default: the real one)", "URL" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtStore) store = NULL;
  g_autoptr(GPtrArray) connectors = NULL;
  g_auto(CtStoreMerchant) m = { 0 };
  static const char * const verbs[] = { "add", "list", "remove", "status", NULL };
  g_autofree char *command = NULL;
  CtWalletKind k = CT_WALLET_ALIPAY;
  const char *verb;
  int status = 0;

  if (!take_verb ("wallet", verbs, &argc, &argv, &verb, &command, &status)
      || !parse_options (entries, &argc, &argv, command, &status))
    return status;
  if ((g_str_equal (verb, "add") || g_str_equal (verb, "remove")) && !ct_wallet_kind_from_string (kind, &k))
    return usage_error ("%s: --kind alipay or --kind wechat is required", command);

  if (g_str_equal (verb, "add"))
    {
      g_autoptr(CtWalletConnector) c = g_new0 (CtWalletConnector, 1);

      c->kind = k;
      c->private_key = g_strdup (private_key);
      if (k == CT_WALLET_ALIPAY)
        {
          if (!wallet_text_ok (app_id) || private_key == NULL || alipay_public_key == NULL
              || !wallet_text_ok (template_id))
            return usage_error ("wallet add --kind alipay: --app-id, --private-key, --alipay-public-key "
                                "and --template-id are required");
          c->app_id = g_strdup (app_id);
          c->public_key = g_strdup (alipay_public_key);
          c->template_id = g_strdup (template_id);
          c->gateway = g_strdup (gateway != NULL ? gateway : CT_ALIPAY_GATEWAY_DEFAULT);
        }
      else
        {
          if (!wallet_text_ok (mch_id) || !wallet_text_ok (serial) || private_key == NULL
              || platform_cert == NULL || !wallet_text_ok (card_id))
            return usage_error ("wallet add --kind wechat: --mch-id, --serial-no, --private-key, "
                                "--platform-cert and --card-id are required");
          c->app_id = g_strdup (mch_id);
          c->serial_no = g_strdup (serial);
          c->public_key = g_strdup (platform_cert);
          c->template_id = g_strdup (card_id);
          c->gateway = g_strdup (gateway != NULL ? gateway : CT_WECHAT_GATEWAY_DEFAULT);
        }
      if ((status = wallet_check_files (c)) != CT_SERVICE_EXIT_OK)
        return status;
      if ((store = open_store (command, &status)) == NULL)
        return status;
      /* A connector belongs to the merchant --merchant names; its id goes
       * into the wallet's request numbers. */
      if (!ct_store_get_merchant (store, &m, &error))
        return fail_with (error);
      c->merchant = g_strdup (m.code);
      merchant = m.code;
      if (!ct_store_begin (store, &error))
        return fail_with (error);
      if (!ct_store_wallet_connector_put (store, c, &error) || !ct_store_commit (store, &error))
        {
          ct_store_rollback (store);
          return fail_with (error);
        }
      g_print ("wallet %s for merchant %s: %s %s, %s %s, sending to %s\n", kind, merchant,
               k == CT_WALLET_ALIPAY ? "app" : "mch id", c->app_id,
               k == CT_WALLET_ALIPAY ? "template" : "card", c->template_id, c->gateway);
      return CT_SERVICE_EXIT_OK;
    }

  if ((store = open_store (command, &status)) == NULL)
    return status;
  if (!ct_store_get_merchant (store, &m, &error))
    return fail_with (error);
  merchant = m.code;
  if (g_str_equal (verb, "remove"))
    {
      if (!ct_store_begin (store, &error))
        return fail_with (error);
      if (!ct_store_wallet_connector_remove (store, merchant, k, &error) || !ct_store_commit (store, &error))
        {
          ct_store_rollback (store);
          return fail_with (error);
        }
      g_print ("wallet %s for merchant %s removed\n", kind, merchant);
      return CT_SERVICE_EXIT_OK;
    }

  if ((connectors = ct_store_wallet_connectors (store, &error)) == NULL)
    return fail_with (error);
  if (connectors->len == 0)
    g_print ("no wallet connectors: members' cards are not sent to Alipay or WeChat\n");
  for (guint i = 0; i < connectors->len; i++)
    {
      const CtWalletConnector *c = connectors->pdata[i];

      if (g_str_equal (verb, "status"))
        wallet_print_status (store, c, &m);
      else
        {
          g_autofree char *serial_text = c->serial_no != NULL ? g_strdup_printf (" serial %s", c->serial_no)
                                                              : g_strdup ("");

          g_print ("%s %s %s %s %s %s%s gateway %s private key %s public key %s\n", c->merchant,
                   ct_wallet_kind_to_string (c->kind), c->kind == CT_WALLET_ALIPAY ? "app" : "mch",
                   c->app_id, c->kind == CT_WALLET_ALIPAY ? "template" : "card", c->template_id,
                   serial_text, c->gateway, c->private_key, c->public_key);
        }
    }
  return CT_SERVICE_EXIT_OK;
}

static int run_command (const char *cmd, int argc, char **argv);

int
ct_service_admin_main (int    argc,
                       char **argv)
{
  const char *cmd;
  int status;

  if (argc < 2)
    {
      g_printerr ("%s", usage_text);
      return CT_SERVICE_EXIT_USAGE;
    }
  cmd = argv[1];
  if (g_str_equal (cmd, "--help") || g_str_equal (cmd, "-h") || g_str_equal (cmd, "help"))
    {
      g_print ("%s", usage_text);
      return CT_SERVICE_EXIT_OK;
    }
  if (g_str_equal (cmd, "--version"))
    {
      g_print ("cardtill-service %s\n", PACKAGE_VERSION);
      return CT_SERVICE_EXIT_OK;
    }
  /* Each command sees argv[0] = "cardtill-service CMD" and its own options. */
  argv[1] = argv[0];
  argc--;
  argv++;
  status = run_command (cmd, argc, argv);
  g_clear_pointer (&admin_root, ct_store_free);
  return status;
}

static int
run_command (const char  *cmd,
             int          argc,
             char       **argv)
{
  if (g_str_equal (cmd, "init"))
    return cmd_init (argc, argv);
  if (g_str_equal (cmd, "merchant"))
    return cmd_merchant (argc, argv);
  if (g_str_equal (cmd, "till"))
    return cmd_till (argc, argv);
  if (g_str_equal (cmd, "manager"))
    return cmd_manager (argc, argv);
  if (g_str_equal (cmd, "cashier"))
    return cmd_cashier (argc, argv);
  if (g_str_equal (cmd, "package"))
    return cmd_package (argc, argv);
  if (g_str_equal (cmd, "level"))
    return cmd_level (argc, argv);
  if (g_str_equal (cmd, "serve"))
    return cmd_serve (argc, argv);
  if (g_str_equal (cmd, "gen-cert"))
    return cmd_gen_cert (argc, argv);
  if (g_str_equal (cmd, "upgrade"))
    return cmd_upgrade (argc, argv);
  if (g_str_equal (cmd, "copy"))
    return cmd_copy (argc, argv);
  if (g_str_equal (cmd, "audit"))
    return cmd_audit (argc, argv);
  if (g_str_equal (cmd, "ledger"))
    return cmd_ledger (argc, argv);
  if (g_str_equal (cmd, "wallet"))
    return cmd_wallet (argc, argv);
  return usage_error ("unknown command \"%s\"", cmd);
}
