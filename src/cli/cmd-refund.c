/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-cli-refund"
#include "config.h"

#include <string.h>

#include "ct-cli-private.h"

int
ct_cli_cmd_refund (CtCli  *cli,
                   int     argc,
                   char  **argv)
{
  static const char * const spec[] = { "amount=", "manager=", "pin-file=", NULL };
  g_auto(CtCliArgs) args = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtRequest) request = NULL;
  g_autofree char *card_no = NULL;
  g_autofree char *pin = NULL;
  g_auto(GStrv) features = NULL;
  const char *manager, *amount_text;
  int64_t amount = 0;
  CtClient *client;
  int status;

  if (!ct_cli_args_parse (&args, argc, argv, spec, &error))
    return ct_cli_usage_error ("%s", error->message);
  manager = ct_cli_args_get (&args, "manager");
  if (ct_cli_usage_missing (&args, "refund NO TX_ID --manager ID", "NO", "TX_ID", "manager",
                            NULL) == CT_EXIT_USAGE)
    return CT_EXIT_USAGE;
  if (args.positional->len != 2 || manager == NULL)
    return ct_cli_usage_error ("refund NO TX_ID [--amount A] --manager ID [--pin-file F] "
                               "(A: a part of the payment; without it, all that is left)");
  status = ct_cli_take_card (cli, &args, 0, &card_no, &pin, &client);
  if (status != CT_EXIT_OK)
    return status;
  /* A part of a payment; without it the service gives back all that is
   * left of it. */
  amount_text = ct_cli_args_get (&args, "amount");
  if (amount_text != NULL)
    {
      if (!ct_cli_parse_amount (cli, amount_text, FALSE, &amount, &error))
        return ct_cli_report_error (cli, error);
      if (amount <= 0)
        return ct_cli_usage_error ("a refund's --amount is more than 0");
      /* A service from before partial refunds would give back all of the
       * payment whatever part it was asked for: it is asked first. */
      features = ct_client_fetch_features (client, NULL, &error);
      if (features == NULL)
        return ct_cli_finish_error (cli, error);
      if (!g_strv_contains ((const char * const *) features, "partial_refund"))
        {
          g_set_error_literal (&error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT,
                               "This card service is older and refunds a payment only in full: leave out "
                               "--amount to refund all that is left of it, or update the service");
          return ct_cli_report_error (cli, error);
        }
    }

  request = ct_request_refund (card_no, g_ptr_array_index (args.positional, 1), amount,
                               ct_client_get_operator (client), manager, pin, &error);
  return ct_cli_send (cli, g_steal_pointer (&request), error, ct_cli_print_receipt_body);
}
