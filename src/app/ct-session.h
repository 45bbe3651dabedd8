/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "ct-client.h"
#include "ct-receipt-data.h"
#include "ct-till-printer.h"

G_BEGIN_DECLS

#define CT_TYPE_SESSION (ct_session_get_type ())
G_DECLARE_FINAL_TYPE (CtSession, ct_session, CT, SESSION, GObject)

/* Where a card number came from. */
typedef enum
{
  CT_SCAN_SOURCE_SCANNER,  /* a scanner payload (USB, wedge burst, image) */
  CT_SCAN_SOURCE_TYPED,    /* typed by the cashier: check digit applies */
} CtScanSource;

CtSession           *ct_session_new              (CtClient       *client,
                                                  GSettings      *settings);
CtClient            *ct_session_get_client       (CtSession      *self);
GSettings           *ct_session_get_settings     (CtSession      *self);
CtTillPrinter       *ct_session_get_printer      (CtSession      *self);
const CtCard        *ct_session_get_card         (CtSession      *self);
gboolean             ct_session_card_is_new      (CtSession      *self,
                                                  char          **seen);
gboolean             ct_session_get_refreshing   (CtSession      *self);
const char          *ct_session_get_problem      (CtSession      *self);
CtMerchant          *ct_session_dup_merchant     (CtSession      *self);
int                  ct_session_get_minor_units  (CtSession      *self);
const char          *ct_session_get_currency     (CtSession      *self);
char                *ct_session_format_money     (CtSession      *self,
                                                  int64_t         minor);
gboolean             ct_session_scan             (CtSession      *self,
                                                  const char     *text,
                                                  CtScanSource    source);
void                 ct_session_refresh_card     (CtSession      *self);
void                 ct_session_refresh_after_refusal (CtSession    *self,
                                                      const GError *error);
void                 ct_session_set_card         (CtSession      *self,
                                                  const CtCard   *card);
void                 ct_session_clear_card       (CtSession      *self);
const CtReceiptData *ct_session_get_last_receipt (CtSession      *self);
void                 ct_session_set_last_receipt (CtSession      *self,
                                                  const CtReceiptData *data);
const char          *ct_session_get_store        (CtSession      *self);
const char          *ct_session_get_till         (CtSession      *self);
const char          *ct_session_get_last_scan    (CtSession      *self);
const CtCashier     *ct_session_get_cashier      (CtSession      *self);
void                 ct_session_set_cashier      (CtSession      *self,
                                                  const CtCashier *cashier);
gboolean             ct_session_get_cashiers_in_use (CtSession   *self);
const char          *ct_session_get_member_code  (CtSession      *self);
void                 ct_session_forget_member_code (CtSession    *self);

CtReceiptData *ct_session_pending_receipt (CtSession         *self,
                                           CtTransactionKind  kind,
                                           const CtCard      *card,
                                           int64_t            amount,
                                           int64_t            bonus,
                                           const char        *tender);
void           ct_session_show_queued_split_receipt (CtSession *self, const CtCard *card, int64_t amount,
                                                     int64_t rest, const char *rest_tender);
void           ct_session_show_queued_receipt (CtSession     *self,
                                               CtTransactionKind kind,
                                               const CtCard  *card,
                                               int64_t        amount,
                                               int64_t        bonus,
                                               const char    *tender);
void           ct_session_apply_receipt   (CtSession         *self,
                                           const CtReceipt   *receipt);
void           ct_session_name_receipt    (CtSession         *self,
                                           CtReceiptData     *data);
G_END_DECLS
