/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-cli-topup"
#include "config.h"

#include <string.h>

#include "ct-cli-private.h"

int
ct_cli_cmd_topup (CtCli  *cli,
                  int     argc,
                  char  **argv)
{
  static const char * const spec[] = { "package=", "tender=", NULL };
  g_auto(CtCliArgs) args = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtMerchant) merchant = NULL;
  g_autoptr(CtRequest) request = NULL;
  g_autofree char *card_no = NULL;
  const char *package_id;
  const char *tender;
  CtClient *client;
  int status;

  if (!ct_cli_args_parse (&args, argc, argv, spec, &error))
    return ct_cli_usage_error ("%s", error->message);
  package_id = ct_cli_args_get (&args, "package");
  if ((package_id != NULL && args.positional->len != 1)
      || (package_id == NULL && args.positional->len != 2))
    return ct_cli_usage_error ("topup NO (--package ID | AMOUNT) [--tender cash|wechat|alipay|bank_card|other]");
  tender = ct_cli_args_get (&args, "tender");
  if (tender != NULL && !ct_wire_tender_is_valid (tender))
    return ct_cli_usage_error ("--tender is cash, wechat, alipay, bank_card or other, not \"%s\"", tender);
  status = ct_cli_take_card (cli, &args, 0, &card_no, NULL, &client);
  if (status != CT_EXIT_OK)
    return status;
  merchant = ct_client_dup_merchant (client);

  if (package_id != NULL)
    {
      const CtPackage *p = merchant ? ct_merchant_find_package (merchant, package_id) : NULL;

      if (merchant != NULL && p == NULL)
        {
          g_autoptr(GString) known = g_string_new (NULL);

          for (guint i = 0; i < merchant->packages->len; i++)
            g_string_append_printf (known, "%s%s", i ? ", " : "",
                                    ((CtPackage *) g_ptr_array_index (merchant->packages, i))->id);
          g_set_error (&error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT,
                       "No package \"%s\" (packages: %s)", package_id,
                       known->len ? known->str : "none");
          return ct_cli_report_error (cli, error);
        }
      /* "expect" carries what the customer was told; without any stored
       * settings the till cannot say, and the service decides alone. */
      request = ct_request_topup_package (card_no, package_id, p, tender,
                                          ct_client_get_operator (client), &error);
    }
  else
    {
      int64_t amount;

      if (!ct_cli_parse_amount (cli, g_ptr_array_index (args.positional, 1), FALSE, &amount,
                                &error))
        return ct_cli_report_error (cli, error);
      if (amount <= 0)
        return ct_cli_usage_error ("the top-up amount must be more than 0");
      if (merchant != NULL && merchant->topup_mode == CT_TOPUP_MODE_FIXED)
        {
          g_autoptr(GString) known = g_string_new (NULL);

          /* Said here, in the cashier's words, before anything is sent. */
          for (guint i = 0; i < merchant->packages->len; i++)
            {
              const CtPackage *p = g_ptr_array_index (merchant->packages, i);
              g_autofree char *paid = ct_cli_format_amount (cli, p->amount);
              g_autofree char *bonus = ct_cli_format_amount (cli, p->bonus);

              g_string_append_printf (known, "%s%s (%s + %s bonus)", i ? ", " : "", p->id,
                                      paid, bonus);
            }
          g_set_error (&error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT,
                       "This shop tops up in packages, not any amount: give --package ID (%s)",
                       known->len ? known->str : "no packages are set up");
          return ct_cli_report_error (cli, error);
        }
      request = ct_request_topup_amount (card_no, amount, tender, ct_client_get_operator (client),
                                         &error);
    }
  return ct_cli_send (cli, g_steal_pointer (&request), error, ct_cli_print_receipt_body);
}
