/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Exit statuses of cardtill-cli (docs/architecture.md). */
typedef enum
{
  CT_EXIT_OK = 0,
  CT_EXIT_USAGE = 1,       /* usage or invalid local input: nothing sent */
  CT_EXIT_REFUSED = 2,     /* refused by the service (or import: some rows rejected) */
  CT_EXIT_NOT_APPLIED = 3, /* taken and queued in the outbox: it will settle */
  CT_EXIT_LOCAL = 4,       /* file, device, decode, disk */
  CT_EXIT_NOT_TAKEN = 5,   /* not done: offline rules, or the service is needed and unreachable */
} CtExit;

/* Options shared by every command; filled by main.c before dispatch. The
 * client-core owner may add fields; command files only read them. */
typedef struct _CtCli CtCli;
struct _CtCli
{
  gboolean  json;
  char     *data_dir;
  char     *service_url;
  char     *token;
  char     *token_file;      /* --token-file: the till token's file */
  char     *ca_file;
  char     *pin_pubkey;
  char     *manager_pin_file;
  gpointer  client;          /* the connected client (core), created lazily */
  /* Added by the client core: */
  char     *operator_name;   /* --operator / CARDTILL_OPERATOR */
  gboolean  started;         /* client started (embedded service joined) */
  /* Stored merchant settings younger than this spare the start its
   * GET /v1/merchant (0: always fetched); set by a command before it opens
   * the client. */
  guint     merchant_max_age_s;
};

/* Every command is `int ct_cli_cmd_NAME (CtCli *cli, int argc, char **argv)`:
 * argv[0] is the command word, the rest its own arguments; it returns a CtExit. */
int ct_cli_cmd_card    (CtCli *cli, int argc, char **argv);
int ct_cli_cmd_find    (CtCli *cli, int argc, char **argv);
int ct_cli_cmd_topup   (CtCli *cli, int argc, char **argv);
int ct_cli_cmd_pay     (CtCli *cli, int argc, char **argv);
int ct_cli_cmd_refund  (CtCli *cli, int argc, char **argv);
int ct_cli_cmd_adjust  (CtCli *cli, int argc, char **argv);
int ct_cli_cmd_history (CtCli *cli, int argc, char **argv);
int ct_cli_cmd_sync    (CtCli *cli, int argc, char **argv);
int ct_cli_cmd_scanner (CtCli *cli, int argc, char **argv);
int ct_cli_cmd_barcode (CtCli *cli, int argc, char **argv);
int ct_cli_cmd_import  (CtCli *cli, int argc, char **argv);
int ct_cli_cmd_printer (CtCli *cli, int argc, char **argv);
int ct_cli_cmd_receipt (CtCli *cli, int argc, char **argv);
int ct_cli_cmd_shift   (CtCli *cli, int argc, char **argv);
int ct_cli_cmd_report  (CtCli *cli, int argc, char **argv);

/* Helpers for command files (src/cli/ct-cli.c). */

/* The connected CtClient (src/core/ct-client.h): created and started on
 * first use from the options, environment and till.ini (embedded service
 * when none is configured; on its first run the generated manager PIN is
 * printed once on stderr). NULL with an error otherwise; the caller
 * reports it with ct_cli_report_error(). Returns a borrowed pointer. */
struct _CtClient;
struct _CtClient *ct_cli_get_client     (CtCli        *cli,
                                         GError      **error);
/* Minor units of the merchant's currency (last known; 2 before any). */
int               ct_cli_minor_units    (CtCli        *cli);
/* Reads a manager PIN: first line of @pin_file (or cli->manager_pin_file),
 * else a prompt without echo when stdin is a terminal. */
char             *ct_cli_read_pin       (CtCli        *cli,
                                         const char   *pin_file,
                                         GError      **error);
/* Reads a member PIN: a prompt without echo on a terminal, else the first
 * line of stdin; never an argument. */
char             *ct_cli_read_member_pin (CtCli       *cli,
                                          GError     **error);
/* Prints `cardtill-cli: CODE: message` on stderr and returns the exit
 * status for @error (CT_CLIENT_ERROR refusals 2, QUEUED 3, OFFLINE_REFUSED/
 * UNREACHABLE/TLS/BAD_ANSWER 5, INVALID_INPUT/usage 1, the rest 4). */
int               ct_cli_report_error   (CtCli        *cli,
                                         const GError *error);
/* Prints `cardtill-cli: CODE: message` on stderr: the one way every
 * command says what went wrong. */
void              ct_cli_print_error    (const GError *error);
/* Prints `cardtill-cli: usage: ...` and returns CT_EXIT_USAGE. */
int               ct_cli_usage_error    (const char   *format,
                                         ...) G_GNUC_PRINTF (1, 2);
/* The same followed by the command's own usage text @help. */
int               ct_cli_usage_help     (const char   *help,
                                         const char   *message);
/* Releases the client (stops the embedded service if last). */
void              ct_cli_clear          (CtCli        *cli);

/* The option scanner of every command; it leaves negative amounts
 * ("-10.00") alone: options are --name VALUE or --name=VALUE (or flags), a
 * one-letter name also -n VALUE; everything else is positional. @spec is a
 * NULL-terminated list of "name" (flag), "name=" (takes a value) or
 * "name=+" (takes a value, may be repeated). Returns FALSE with a usage
 * message for unknown options. */
typedef struct
{
  GHashTable *values;        /* name -> value ("" for flags) */
  GPtrArray  *positional;    /* char* */
  GHashTable *lists;         /* name -> GPtrArray of char*, for "NAME=+" options */
} CtCliArgs;

gboolean          ct_cli_args_parse     (CtCliArgs    *args,
                                         int           argc,
                                         char        **argv,
                                         const char  * const *spec,
                                         GError      **error);
const char       *ct_cli_args_get       (CtCliArgs    *args,
                                         const char   *name);
/* Every value of a repeatable option (spec "NAME=+"), in order; NULL-
 * terminated, or NULL when it was not given. */
const char * const *ct_cli_args_get_all (CtCliArgs    *args,
                                         const char   *name);
gboolean          ct_cli_args_has       (CtCliArgs    *args,
                                         const char   *name);
void              ct_cli_args_clear     (CtCliArgs    *args);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtCliArgs, ct_cli_args_clear)

G_END_DECLS
