/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-cli-adjust"
#include "config.h"

#include <string.h>

#include "ct-cli-private.h"

int
ct_cli_cmd_adjust (CtCli  *cli,
                   int     argc,
                   char  **argv)
{
  static const char * const spec[] = { "delta=", "reason=", "manager=", "pin-file=", NULL };
  g_auto(CtCliArgs) args = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtRequest) request = NULL;
  g_autofree char *card_no = NULL;
  g_autofree char *pin = NULL;
  const char *manager, *reason, *delta_text;
  int64_t delta;
  CtClient *client;
  int status;

  if (!ct_cli_args_parse (&args, argc, argv, spec, &error))
    return ct_cli_usage_error ("%s", error->message);
  manager = ct_cli_args_get (&args, "manager");
  reason = ct_cli_args_get (&args, "reason");
  delta_text = ct_cli_args_get (&args, "delta");
  if (delta_text == NULL && args.positional->len == 2)
    delta_text = g_ptr_array_index (args.positional, 1);
  else if (args.positional->len != 1)
    delta_text = NULL;
  if (ct_cli_usage_missing (&args, "adjust NO DELTA --reason R --manager ID",
                            "NO", delta_text == NULL ? "DELTA" : "reason", "reason", "manager",
                            NULL) == CT_EXIT_USAGE)
    return CT_EXIT_USAGE;
  if (delta_text == NULL || manager == NULL || reason == NULL || *reason == '\0')
    return ct_cli_usage_error ("adjust NO DELTA --reason R --manager ID [--pin-file F] "
                               "(DELTA like +10.00 or -10.00, or --delta=-10.00)");
  status = ct_cli_take_card (cli, &args, 0, &card_no, &pin, &client);
  if (status != CT_EXIT_OK)
    return status;
  if (!ct_cli_parse_amount (cli, delta_text, TRUE, &delta, &error))
    return ct_cli_report_error (cli, error);
  if (delta == 0)
    return ct_cli_usage_error ("an adjustment must change the balance (DELTA is 0)");

  request = ct_request_adjustment (card_no, delta, reason, ct_client_get_operator (client),
                                   manager, pin, &error);
  return ct_cli_send (cli, g_steal_pointer (&request), error, ct_cli_print_receipt_body);
}
