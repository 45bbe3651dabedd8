/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-test-receipt"
#include "config.h"

#include "ct-test-receipt.h"

/* A cash top-up of ¥500.00 + ¥50.00 bonus at the store 旗舰店, as the
 * printer tests print it. */
CtReceiptData *
ct_test_receipt_topup (const char *member_name)
{
  CtReceiptData *data = g_new0 (CtReceiptData, 1);

  data->kind = CT_TRANSACTION_TOPUP;
  data->card_no = g_strdup ("8800000000000017");
  data->member_name = g_strdup (member_name);
  data->store = g_strdup ("旗舰店 Flagship");
  data->till = g_strdup ("till-1");
  data->operator_name = g_strdup ("王芳");
  data->transaction_id = g_strdup ("1042");
  data->created_at = g_strdup ("2026-11-22T10:15:00Z");
  data->amount = 50000;
  data->bonus = 5000;
  data->balance_before = 1250;
  data->balance_after = 56250;
  data->balance_known = TRUE;
  data->minor_units = 2;
  data->currency = g_strdup ("CNY");
  return data;
}
