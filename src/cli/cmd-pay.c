/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-cli-pay"
#include "config.h"

#include <string.h>

#include "ct-cli-private.h"
#include "ct-member-code.h"
#include "ct-money.h"

int
ct_cli_cmd_pay (CtCli  *cli,
                int     argc,
                char  **argv)
{
  static const char * const spec[] = { "order=", "redeem-points=", "member-code=", "member-pin", "rest-tender=",
                                       "rest=", NULL };
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
  const char *rest_tender;
  const char *rest_text;
  int64_t amount, rest = 0;
  CtClient *client;

  if (!ct_cli_args_parse (&args, argc, argv, spec, &error))
    return ct_cli_usage_error ("%s", error->message);
  if (ct_cli_usage_missing (&args, "pay NO AMOUNT [--order REF]", "NO", "AMOUNT",
                            NULL) == CT_EXIT_USAGE)
    return CT_EXIT_USAGE;
  if (args.positional->len != 2)
    return ct_cli_usage_error ("pay NO AMOUNT [--order REF] [--redeem-points N] [--member-code CODE | --member-pin] "
                               "[--rest-tender cash|wechat|alipay|bank_card|other [--rest A]]");
  /* A split payment: AMOUNT is the order's total, the card pays what it
   * holds (or AMOUNT less --rest) and the rest is taken by --rest-tender. */
  rest_tender = ct_cli_args_get (&args, "rest-tender");
  rest_text = ct_cli_args_get (&args, "rest");
  if (rest_text != NULL && rest_tender == NULL)
    return ct_cli_usage_error ("--rest needs --rest-tender: how the customer pays the rest");
  if (rest_tender != NULL && !ct_wire_tender_is_valid (rest_tender))
    return ct_cli_usage_error ("--rest-tender is cash, wechat, alipay, bank_card or other, not \"%s\"", rest_tender);
  if (rest_tender != NULL && rest_text == NULL && ct_cli_args_get (&args, "redeem-points") != NULL)
    return ct_cli_usage_error ("with --redeem-points, say the rest: --rest A");
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
  if (rest_text != NULL)
    {
      if (!ct_cli_parse_amount (cli, rest_text, FALSE, &rest, &error))
        return ct_cli_report_error (cli, error);
      if (rest <= 0 || rest >= amount)
        return ct_cli_usage_error ("--rest is more than 0 and less than the order's total (the card pays the "
                                   "difference)");
      amount -= rest;
    }
  else if (rest_tender != NULL)
    {
      g_autoptr(CtAnswer) answer = ct_client_card_lookup (client, card_no, NULL, &error);
      g_autoptr(CtCard) card = NULL;
      g_autoptr(CtMerchant) merchant = NULL;
      const CtLevel *level;
      gsize len = 0;
      const char *data;
      int64_t share;

      if (answer == NULL)
        return ct_cli_finish_error (cli, error);
      if (answer->status != 200)
        {
          if (answer->not_sent || answer->queued)
            {
              g_set_error (&error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT,
                           "The card's balance is needed to split the payment and the service cannot be "
                           "reached: say the rest with --rest A");
              return ct_cli_report_error (cli, error);
            }
          return ct_cli_finish_answer (cli, answer, ct_cli_print_card_body);
        }
      data = g_bytes_get_data (answer->body, &len);
      if ((card = ct_wire_decode_card (data, len, &error)) == NULL)
        return ct_cli_report_error (cli, error);
      merchant = ct_client_dup_merchant (client);
      level = merchant != NULL ? ct_merchant_find_level (merchant, card->level) : NULL;
      share = ct_pay_split_card_share (amount, MAX (card->balance, 0), level != NULL ? level->discount_bp : 0);
      if (share <= 0)
        {
          g_autofree char *total = ct_cli_format_amount (cli, amount);

          g_set_error (&error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT,
                       "Card %s holds nothing to pay with: take the whole order of %s by %s instead",
                       card->card_no, total, rest_tender);
          return ct_cli_report_error (cli, error);
        }
      /* A card that holds enough pays it all: no rest. */
      rest = amount - share;
      amount = share;
    }

  request = ct_request_split_payment (card_no, amount, ct_cli_args_get (&args, "order"),
                                      (int64_t) redeem_points, member_code, member_pin, rest, rest_tender,
                                      ct_client_get_operator (client), &error);
  return ct_cli_send (cli, g_steal_pointer (&request), error, ct_cli_print_receipt_body);
}
