/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>
#include <stdint.h>

#include "ct-wire.h"

G_BEGIN_DECLS

/* What a receipt shows, whether the service applied the request or the
 * till queued it ("pending sync"). The app's receipt screen, its PDF,
 * `cardtill-cli receipt` and the thermal printer all show the lines that
 * ct_receipt_lines() makes from it. */
typedef struct
{
  CtTransactionKind  kind;
  char              *card_no;
  char              *member_name;
  char              *store;
  char              *till;
  char              *operator_name;
  char              *manager;
  char              *reason;
  char              *tender;           /* how a top-up was paid; NULL is cash */
  char              *transaction_id;   /* NULL while pending */
  char              *created_at;       /* RFC 3339; the till's clock while pending */
  int64_t            amount;           /* what the customer paid or was given, bonus excluded */
  int64_t            bonus;
  int64_t            balance_before;
  int64_t            balance_after;
  int64_t            points_delta;
  int64_t            points_after;
  gboolean           balance_known;    /* FALSE when pending and no card was cached */
  gboolean           pending;          /* queued in the outbox: "pending sync" */
  int                minor_units;
  char              *currency;
  /* What the member's level and points gave it: the level's name, the
   * discount off a payment's order, the level's part of a top-up's bonus,
   * the points that paid part of a payment and what they paid, and the
   * level a payment moved the card up to. While pending these are what
   * the service is expected to apply when the till sends it. */
  char              *level;
  int64_t            discount;
  int64_t            level_bonus;
  int64_t            redeemed_points;
  int64_t            redeemed_value;
  char              *level_up;
  /* A split payment: the rest of the order another tender took (on its
   * refund: gave back), and that tender; 0 and NULL otherwise. */
  int64_t            rest;
  char              *rest_tender;
  /* Printed again later (from the card's history): the receipt says it
   * is a copy, so that it is not taken for a second transaction. */
  gboolean           copy;
} CtReceiptData;

/* One line of a receipt: a label on the left, its value on the right. */
typedef struct
{
  char *label;
  char *value;
} CtReceiptLine;

GType          ct_receipt_data_get_type              (void) G_GNUC_CONST;
#define CT_TYPE_RECEIPT_DATA (ct_receipt_data_get_type ())
CtReceiptData *ct_receipt_data_new_from_transaction  (const CtTransaction *tx,
                                                      const char          *member_name,
                                                      const CtMerchant    *merchant);
CtReceiptData *ct_receipt_data_new_from_receipt      (const CtReceipt     *receipt,
                                                      const CtMerchant    *merchant);
CtReceiptData *ct_receipt_data_copy                  (const CtReceiptData *data);
void           ct_receipt_data_free                  (CtReceiptData       *data);
gboolean       ct_receipt_data_opens_drawer          (const CtReceiptData *data);

char          *ct_receipt_title                      (const CtReceiptData *data);
GPtrArray     *ct_receipt_lines                      (const CtReceiptData *data);
GPtrArray     *ct_receipt_lines_new                  (void);
void           ct_receipt_lines_add                  (GPtrArray           *lines,
                                                      const char          *label,
                                                      char                *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtReceiptData, ct_receipt_data_free)

G_END_DECLS
