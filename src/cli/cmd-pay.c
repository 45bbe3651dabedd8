/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-cli-pay"
#include "config.h"

#include <string.h>

#include "ct-cli-private.h"

int
ct_cli_cmd_pay (CtCli *cli, int argc, char **argv)
{
  static const char * const spec[] = { "order=", NULL };
  g_auto(CtCliArgs) args = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtAnswer) answer = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *card_no = NULL;
  g_autofree char *path = NULL;
  g_autofree char *body = NULL;
  CtRequestInfo info = { 0 };
  int64_t amount;
  CtClient *client;

  if (!ct_cli_args_parse (&args, argc, argv, spec, &error))
    return ct_cli_usage_error ("%s", error->message);
  if (ct_cli_usage_missing (&args, "pay NO AMOUNT [--order REF]", "NO", "AMOUNT",
                            NULL) == CT_EXIT_USAGE)
    return CT_EXIT_USAGE;
  if (args.positional->len != 2)
    return ct_cli_usage_error ("pay NO AMOUNT [--order REF]");
  card_no = ct_cli_card_number (g_ptr_array_index (args.positional, 0), &error);
  if (card_no == NULL)
    return ct_cli_report_error (cli, error);
  client = ct_cli_get_client (cli, &error);
  if (client == NULL)
    return ct_cli_finish_error (cli, error);
  if (!ct_cli_parse_amount (cli, g_ptr_array_index (args.positional, 1), FALSE, &amount, &error))
    return ct_cli_report_error (cli, error);
  if (amount <= 0)
    return ct_cli_usage_error ("the payment amount must be more than 0");

  body = ct_wire_encode_payment (amount, ct_cli_args_get (&args, "order"),
                                 ct_client_get_operator (client));
  bytes = g_bytes_new (body, strlen (body));
  info.kind = CT_OUTBOX_KIND_PAYMENT;
  info.card_no = card_no;
  info.amount = amount;
  info.order_ref = ct_cli_args_get (&args, "order");
  path = g_strdup_printf ("/v1/cards/%s/payments", card_no);
  answer = ct_client_request (client, "POST", path, NULL, bytes, &info, NULL, &error);
  if (answer == NULL)
    return ct_cli_finish_error (cli, error);
  return ct_cli_finish_answer (cli, answer, ct_cli_print_receipt_body);
}
