/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "cardtill-cli"
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "ct-cli.h"

static const char usage_text[] =
  "Usage: cardtill-cli [OPTIONS] COMMAND [ARGS]\n"
  "\n"
  "Commands (amounts in major units, \"25.00\"):\n"
  "  card show NO\n"
  "  card issue --name N --phone P [--level L] [--card-no NO] --manager ID\n"
  "  card freeze|unfreeze NO --manager ID\n"
  "  card edit NO [--name N] [--phone P] [--level L] --manager ID\n"
  "  card replace NO [--new NO2] --manager ID   (a lost card: a new card takes its money)\n"
  "  find --phone P | --name N\n"
  "  topup NO (--package ID | AMOUNT) [--tender cash|wechat|alipay|bank_card|other]\n"
  "  pay NO AMOUNT [--order REF] [--redeem-points N] [--member-code CODE | --member-pin]\n"
  "      [--rest-tender cash|wechat|alipay|bank_card|other [--rest A]]\n"
  "    (split payment: AMOUNT is the order; the card pays what it holds, or AMOUNT\n"
  "     less --rest, and the rest is taken by --rest-tender)\n"
  "  refund NO TX_ID [--amount A] --manager ID\n"
  "  adjust NO DELTA --reason R --manager ID     (DELTA +10.00 / -10.00, or --delta=-10.00)\n"
  "  history NO [--date D | --from D --to D]\n"
  "  sync [--status [--all]] | sync --resend ID --manager M [--accept-package]\n"
  "  sync --resolve ID --note T --manager M [--cash-given-back A]\n"
  "  import FILE [--dry-run] [--encoding auto|utf-8|gb18030] [--map column=field ...] [--report FILE]\n"
  "  scanner list | scanner listen [--device VID:PID] | scanner replay FILE [...]\n"
  "  barcode decode IMAGE | barcode encode TEXT --format code128|qr|ean13 -o OUT.png\n"
  "  receipt TX_ID [--date D] [--print [--printer ADDRESS] [--paper 58|80]]\n"
  "  printer list | printer test [--printer ADDRESS] [--paper 58|80]\n"
  "  shift open --float A | shift close --counted A\n"
  "  shift handover --counted A --float A --to OPERATOR | shift report [ID] [--print]\n"
  "  report day [--date D] [--csv] [--print]\n"
  "    (ADDRESS: usb:VID:PID, tcp:HOST:PORT or file:PATH; default $CARDTILL_PRINTER)\n"
  "Manager commands read the PIN from --pin-file F or, on a terminal, a prompt.\n"
  "\n"
  "Options (also CARDTILL_SERVICE, CARDTILL_TOKEN, CARDTILL_TOKEN_FILE, CARDTILL_CA,\n"
  "CARDTILL_PIN_PUBKEY, CARDTILL_DATA_DIR, or the same keys in\n"
  "$XDG_CONFIG_HOME/cardtill/till.ini [till]):\n"
  "  --service URL          card service (none: the built-in service of the data dir)\n"
  "  --token-file F         the till token, first line of F (--token TOKEN shows it in ps)\n"
  "  --ca FILE              CA certificate file\n"
  "  --pin-pubkey sha256//… public-key pin of the service's certificate\n"
  "  --data-dir DIR         outbox, member cache, built-in service\n"
  "  --operator NAME        cashier recorded with each request (the cashier's ID where\n"
  "                         the service has cashiers)\n"
  "  --manager-pin-file F   first manager's PIN when the built-in service is created\n"
  "  --json                 print the service's answer exactly as it came\n"
  "  --version, --help\n"
  "\n"
  "Exit status: 0 done; 1 usage or invalid input (nothing sent); 2 refused by the service;\n"
  "3 taken offline and queued (it will settle); 4 local failure; 5 not taken (refused by\n"
  "the offline rules, or it needs the service, which is unreachable).\n";

typedef int (*CommandFunc) (CtCli *cli, int argc, char **argv);

static const struct
{
  const char  *name;
  CommandFunc  func;
} commands[] = {
  { "card", ct_cli_cmd_card },
  { "find", ct_cli_cmd_find },
  { "topup", ct_cli_cmd_topup },
  { "pay", ct_cli_cmd_pay },
  { "refund", ct_cli_cmd_refund },
  { "adjust", ct_cli_cmd_adjust },
  { "history", ct_cli_cmd_history },
  { "sync", ct_cli_cmd_sync },
  { "scanner", ct_cli_cmd_scanner },
  { "barcode", ct_cli_cmd_barcode },
  { "import", ct_cli_cmd_import },
  { "printer", ct_cli_cmd_printer },
  { "receipt", ct_cli_cmd_receipt },
  { "shift", ct_cli_cmd_shift },
  { "report", ct_cli_cmd_report },
};

/* Global options may stand anywhere before "--"; they are taken out and
 * the rest goes to the command. A "-10.00" is never an option. */
static gboolean
take_global (CtCli     *cli,
             int        argc,
             char     **argv,
             int       *i,
             gboolean  *handled)
{
  static const struct { const char *name; gsize offset; } valued[] = {
    { "service", G_STRUCT_OFFSET (CtCli, service_url) },
    { "token", G_STRUCT_OFFSET (CtCli, token) },
    { "token-file", G_STRUCT_OFFSET (CtCli, token_file) },
    { "ca", G_STRUCT_OFFSET (CtCli, ca_file) },
    { "pin-pubkey", G_STRUCT_OFFSET (CtCli, pin_pubkey) },
    { "data-dir", G_STRUCT_OFFSET (CtCli, data_dir) },
    { "operator", G_STRUCT_OFFSET (CtCli, operator_name) },
    { "manager-pin-file", G_STRUCT_OFFSET (CtCli, manager_pin_file) },
  };
  const char *a = argv[*i];

  *handled = FALSE;
  if (strcmp (a, "--json") == 0)
    {
      cli->json = TRUE;
      *handled = TRUE;
      return TRUE;
    }
  for (guint k = 0; k < G_N_ELEMENTS (valued); k++)
    {
      gsize n = strlen (valued[k].name);
      char **field = G_STRUCT_MEMBER_P (cli, valued[k].offset);

      if (strncmp (a, "--", 2) != 0 || strncmp (a + 2, valued[k].name, n) != 0)
        continue;
      if (a[2 + n] == '=')
        {
          g_free (*field);
          *field = g_strdup (a + 3 + n);
        }
      else if (a[2 + n] == '\0')
        {
          if (*i + 1 >= argc)
            return FALSE;
          g_free (*field);
          *field = g_strdup (argv[++*i]);
        }
      else
        continue;
      if (strcmp (valued[k].name, "token") == 0)
        fprintf (stderr, "cardtill-cli: warning: --token shows the till token to every user "
                 "of this machine (process list); prefer --token-file F or CARDTILL_TOKEN\n");
      *handled = TRUE;
      return TRUE;
    }
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  CtCli cli = { 0 };
  g_autoptr(GPtrArray) rest = g_ptr_array_new ();
  gboolean after_dashes = FALSE;
  int status = CT_EXIT_USAGE;
  const char *command;

  setlocale (LC_ALL, "");
  g_set_prgname ("cardtill-cli");

  g_ptr_array_add (rest, argv[0]);
  for (int i = 1; i < argc; i++)
    {
      gboolean handled = FALSE;

      if (!after_dashes && strcmp (argv[i], "--") == 0)
        {
          after_dashes = TRUE;
          g_ptr_array_add (rest, argv[i]);
          continue;
        }
      if (!after_dashes && (strcmp (argv[i], "--version") == 0))
        {
          printf ("cardtill-cli %s\n", PACKAGE_VERSION);
          return CT_EXIT_OK;
        }
      if (!after_dashes && (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0))
        {
          fputs (usage_text, stdout);
          return CT_EXIT_OK;
        }
      if (!after_dashes && !take_global (&cli, argc, argv, &i, &handled))
        {
          fprintf (stderr, "cardtill-cli: usage: %s needs a value\n", argv[i]);
          return CT_EXIT_USAGE;
        }
      if (!handled)
        g_ptr_array_add (rest, argv[i]);
    }
  g_ptr_array_add (rest, NULL);

  if (rest->len < 3)
    {
      fputs (usage_text, stderr);
      return CT_EXIT_USAGE;
    }
  command = g_ptr_array_index (rest, 1);
  for (guint k = 0; k < G_N_ELEMENTS (commands); k++)
    {
      if (strcmp (commands[k].name, command) == 0)
        {
          status = commands[k].func (&cli, (int) rest->len - 2, (char **) rest->pdata + 1);
          break;
        }
      if (k + 1 == G_N_ELEMENTS (commands))
        fprintf (stderr, "cardtill-cli: usage: unknown command \"%s\" (see --help)\n", command);
    }

  ct_cli_clear (&cli);
  fflush (stdout);
  g_free (cli.data_dir);
  g_free (cli.service_url);
  g_free (cli.token);
  g_free (cli.token_file);
  g_free (cli.ca_file);
  g_free (cli.pin_pubkey);
  g_free (cli.manager_pin_file);
  g_free (cli.operator_name);
  return status;
}
