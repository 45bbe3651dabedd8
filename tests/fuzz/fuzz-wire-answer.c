/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "fuzz-wire-answer"
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "ct-wire.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Every answer decoder of the till on the same bytes: none may crash, leak
 * or accept a money field outside the API's range. */
int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *body = (const char *) data;
  g_autoptr(CtCard) card = NULL;
  g_autoptr(GPtrArray) cards = NULL;
  g_autoptr(CtMerchant) merchant = NULL;
  g_autoptr(CtReceipt) receipt = NULL;
  g_autoptr(CtHistoryPage) page = NULL;
  g_autoptr(CtDayReport) report = NULL;
  g_autoptr(GError) error = NULL;
  CtLedgerCheck check;
  g_autofree char *version = NULL;

  card = ct_wire_decode_card (body, size, NULL);
  if (card != NULL)
    g_assert (card->balance >= 0 && card->balance <= 10000000000000LL);
  cards = ct_wire_decode_card_list (body, size, NULL);
  merchant = ct_wire_decode_merchant (body, size, NULL);
  if (merchant != NULL)
    g_assert (merchant->minor_units >= 0 && merchant->minor_units <= 4);
  receipt = ct_wire_decode_receipt (body, size, NULL);
  if (receipt != NULL)
    g_assert (receipt->transaction != NULL && receipt->card != NULL);
  page = ct_wire_decode_history (body, size, NULL);
  report = ct_wire_decode_day_report (body, size, NULL);
  ct_wire_decode_ledger_check (body, size, &check, NULL);
  ct_wire_decode_health (body, size, &version, NULL, NULL);
  g_assert (!ct_wire_decode_error (409, body, size, &error));
  g_assert (error != NULL && error->domain == CT_CLIENT_ERROR);
  return 0;
}
