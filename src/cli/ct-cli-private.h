/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json.h>

#include "ct-cli.h"
#include "ct-client.h"

G_BEGIN_DECLS

/* Internal helpers shared by the client commands of cardtill-cli. */

/* Like ct_cli_get_client(), but @start FALSE only opens the local outbox. */
CtClient   *ct_cli_open_client      (CtCli          *cli,
                                     gboolean        start,
                                     GError        **error);
int         ct_cli_exit_for_error   (const GError   *error);
const char *ct_cli_error_code       (const GError   *error);
/* Usage error naming what is missing: the first of @names (NULL-terminated,
 * "name" for an option --name, "NAME" in capitals for the next positional
 * word, in order) that is not given, then the command's @usage. Returns CT_EXIT_USAGE, or -1 when nothing is missing. */
int         ct_cli_usage_missing    (CtCliArgs      *args,
                                     const char     *usage,
                                     ...) G_GNUC_NULL_TERMINATED;

/* The start of most card commands, in this order: the card number of the
 * positional argument @index, the manager's PIN (--pin-file or a prompt)
 * when @out_pin is not NULL, then the client when @out_client is not NULL.
 * Returns CT_EXIT_OK, or the exit status of the first that failed (said on
 * stderr). */
int         ct_cli_take_card        (CtCli          *cli,
                                     CtCliArgs      *args,
                                     guint           index,
                                     char          **out_card_no,
                                     char          **out_pin,
                                     CtClient      **out_client);

/* `printer list` and `scanner list`: the devices @list_devices finds,
 * with --json one array of @to_json's objects, else @describe's line for
 * each (@none when there is none). */
typedef GPtrArray *(*CtCliListDevices) (GError **error);
int         ct_cli_print_devices    (CtCli             *cli,
                                     CtCliListDevices   list_devices,
                                     json_object      *(*to_json) (gconstpointer device),
                                     char             *(*describe) (gconstpointer device),
                                     const char        *none);
/* A device's JSON object with its id under @id_key and where it is on the
 * USB: "bus", "device", "interface". */
json_object *ct_cli_usb_json         (const char     *id_key,
                                     const char     *id,
                                     int             bus,
                                     int             device,
                                     int             interface);

/* Parses an amount in major units with the merchant's minor units. */
gboolean    ct_cli_parse_amount     (CtCli          *cli,
                                     const char     *text,
                                     gboolean        is_signed,
                                     int64_t        *out,
                                     GError        **error);
char       *ct_cli_format_amount    (CtCli          *cli,
                                     int64_t         minor);
/* Whether @text is a calendar date written YYYY-MM-DD. */
gboolean    ct_cli_valid_date       (const char     *text);

/* Decodes a success answer and, when @print, prints it for people. FALSE
 * with an error when the body is not a valid answer. */
typedef gboolean (*CtCliPrinter) (CtCli *cli, const char *body, gsize len, gboolean print,
                                  GError **error);

/* Finishes a command from the service's answer: --json prints the body
 * exactly (or the queued object when nothing came), else @printer prints
 * a success and refusals go to stderr. Returns the exit status. */
int         ct_cli_finish_answer    (CtCli          *cli,
                                     CtAnswer       *answer,
                                     CtCliPrinter    printer);
/* The same for a local failure before or instead of an answer. */
int         ct_cli_finish_error     (CtCli          *cli,
                                     const GError   *error);
/* Sends @request (taken; NULL when building it failed with @build_error)
 * with the connected client and finishes the command from its answer. */
int         ct_cli_send             (CtCli          *cli,
                                     CtRequest      *request,
                                     const GError   *build_error,
                                     CtCliPrinter    printer);

void        ct_cli_print_card       (CtCli          *cli,
                                     const CtCard   *card);
void        ct_cli_print_transaction (CtCli               *cli,
                                      const CtTransaction *tx);
/* Printers for ct_cli_finish_answer(). */
gboolean    ct_cli_print_card_body    (CtCli *cli, const char *body, gsize len, gboolean print,
                                       GError **error);
gboolean    ct_cli_print_issued_body  (CtCli *cli, const char *body, gsize len, gboolean print,
                                       GError **error);
gboolean    ct_cli_print_receipt_body (CtCli *cli, const char *body, gsize len, gboolean print,
                                       GError **error);

G_END_DECLS
