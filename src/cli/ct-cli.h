/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Exit statuses of cardtill-cli (DESIGN.md §5). */
typedef enum
{
  CT_EXIT_OK = 0,
  CT_EXIT_USAGE = 1,       /* usage or invalid local input: nothing sent */
  CT_EXIT_REFUSED = 2,     /* refused by the service (or import: some rows rejected) */
  CT_EXIT_NOT_APPLIED = 3, /* unreachable, pending in the outbox, or offline rules */
  CT_EXIT_LOCAL = 4,       /* file, device, decode, disk */
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
  char     *ca_file;
  char     *pin_pubkey;
  char     *manager_pin_file;
  gpointer  client;          /* the connected client (core), created lazily */
};

/* Every command is `int ct_cli_cmd_NAME (CtCli *cli, int argc, char **argv)`:
 * argv[0] is the command word, the rest its own arguments; it returns a CtExit. */
int ct_cli_cmd_scanner (CtCli *cli, int argc, char **argv);
int ct_cli_cmd_barcode (CtCli *cli, int argc, char **argv);
int ct_cli_cmd_import  (CtCli *cli, int argc, char **argv);

G_END_DECLS
