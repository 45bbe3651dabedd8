/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-cli-pay"
#include "config.h"

#include <string.h>

#include "ct-cli-private.h"
#include "ct-member-code.h"

int
ct_cli_cmd_pay (CtCli  *cli,
                int     argc,
                char  **argv)
{
  static const char * const spec[] = { "order=", "redeem-points=", "member-code=", "member-pin", NULL };
  g_auto(CtCliArgs) args = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtRequest) request = NULL;
  g_autofree char *card_no = NULL;
  g_autofree char *scanned_code = NULL;
  g_autofree char *member_pin = NULL;
  const char *member_code = NULL;
  const char *redeem_text;
  guint64 redeem_points = 0;
  const char *no_text;
  int64_t amount;
  CtClient *client;

  if (!ct_cli_args_parse (&args, argc, argv, spec, &error))
    return ct_cli_usage_error ("%s", error->message);
  if (ct_cli_usage_missing (&args, "pay NO AMOUNT [--order REF]", "NO", "AMOUNT",
                            NULL) == CT_EXIT_USAGE)
    return CT_EXIT_USAGE;
  if (args.positional->len != 2)
    return ct_cli_usage_error ("pay NO AMOUNT [--order REF] [--redeem-points N] [--member-code CODE | --member-pin]");
  no_text = g_ptr_array_index (args.positional, 0);
  /* A scanned member's payment code ("CTP1:<card>:<code>") names the card
   * and carries the member's consent. */
  if (g_ascii_strncasecmp (no_text, CT_MEMBER_CODE_PREFIX, strlen (CT_MEMBER_CODE_PREFIX)) == 0)
    {
      g_autoptr(GError) local = NULL;

      if (!ct_member_code_parse (no_text, NULL, &card_no, &scanned_code, &local))
        return ct_cli_usage_error ("%s", local->message);
      member_code = scanned_code;
    }
  else
    {
      card_no = ct_request_card_number (no_text, &error);
      if (card_no == NULL)
        return ct_cli_report_error (cli, error);
    }
  if (ct_cli_args_get (&args, "member-code") != NULL)
    {
      member_code = ct_cli_args_get (&args, "member-code");
      if (strlen (member_code) != CT_MEMBER_CODE_DIGITS || strspn (member_code, "0123456789") != CT_MEMBER_CODE_DIGITS)
        return ct_cli_usage_error ("--member-code is the %d digits under the member's payment QR code",
                                   CT_MEMBER_CODE_DIGITS);
    }
  /* The member's PIN, which the member types: never an argument. */
  if (ct_cli_args_has (&args, "member-pin"))
    {
      if (member_code != NULL)
        return ct_cli_usage_error ("give the member's payment code or --member-pin, not both");
      if ((member_pin = ct_cli_read_member_pin (cli, &error)) == NULL)
        return ct_cli_report_error (cli, error);
    }
  redeem_text = ct_cli_args_get (&args, "redeem-points");
  if (redeem_text != NULL
      && !g_ascii_string_to_unsigned (redeem_text, 10, 1, G_MAXINT64, &redeem_points, NULL))
    return ct_cli_usage_error ("--redeem-points is a whole number of points, 1 or more");
  /* A payment needs the merchant's minor units, and offline its rules:
   * settings fetched within the hour do, without a round trip of their own. */
  cli->merchant_max_age_s = 3600;
  client = ct_cli_get_client (cli, &error);
  if (client == NULL)
    return ct_cli_finish_error (cli, error);
  if (!ct_cli_parse_amount (cli, g_ptr_array_index (args.positional, 1), FALSE, &amount, &error))
    return ct_cli_report_error (cli, error);
  if (amount <= 0)
    return ct_cli_usage_error ("the payment amount must be more than 0");

  request = ct_request_payment (card_no, amount, ct_cli_args_get (&args, "order"),
                                (int64_t) redeem_points, member_code, member_pin,
                                ct_client_get_operator (client), &error);
  return ct_cli_send (cli, g_steal_pointer (&request), error, ct_cli_print_receipt_body);
}
