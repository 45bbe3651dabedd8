/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

/* Money is always int64_t minor units (fen for CNY). No amount may exceed
 * CT_MONEY_MAX in absolute value. */
#define CT_MONEY_MAX ((int64_t) 10000000000000LL) /* 10^13 */
#define CT_MONEY_MINOR_UNITS_MAX 4

#define CT_MONEY_ERROR (ct_money_error_quark ())

typedef enum
{
  CT_MONEY_ERROR_EMPTY,
  CT_MONEY_ERROR_SYNTAX,
  CT_MONEY_ERROR_TOO_MANY_DECIMALS,
  CT_MONEY_ERROR_GROUPING,
  CT_MONEY_ERROR_SIGN,
  CT_MONEY_ERROR_OVERFLOW,
  CT_MONEY_ERROR_ZERO,
} CtMoneyError;

typedef enum
{
  CT_MONEY_PARSE_DEFAULT = 0,
  /* A leading '+' or '-' is allowed (an adjustment's delta). "-0" stays an error. */
  CT_MONEY_PARSE_SIGNED = 1 << 0,
} CtMoneyParseFlags;

GQuark   ct_money_error_quark    (void);

gboolean ct_money_parse          (const char         *text,
                                  int                 minor_units,
                                  CtMoneyParseFlags   flags,
                                  int64_t            *out_minor,
                                  GError            **error);

char    *ct_money_format_plain   (int64_t             minor,
                                  int                 minor_units);
char    *ct_money_format_display (int64_t             minor,
                                  int                 minor_units,
                                  const char         *symbol,
                                  const char         *group_separator);

gboolean ct_money_add            (int64_t             a,
                                  int64_t             b,
                                  int64_t            *out,
                                  GError            **error);
gboolean ct_money_sub            (int64_t             a,
                                  int64_t             b,
                                  int64_t            *out,
                                  GError            **error);
gboolean ct_money_mul            (int64_t             a,
                                  int64_t             factor,
                                  int64_t            *out,
                                  GError            **error);

int64_t  ct_money_unit           (int                 minor_units);

gboolean ct_bonus_from_ratio     (int64_t             amount,
                                  int64_t             basis_points,
                                  int64_t            *out_bonus,
                                  GError            **error);

int64_t  ct_points_for_payment   (int64_t             amount,
                                  int                 minor_units,
                                  int64_t             points_per_unit);
int64_t  ct_points_for_refund    (int64_t             recorded_points,
                                  int64_t             card_points);

int64_t  ct_money_share_bp       (int64_t             amount,
                                  int64_t             basis_points);

/* How a payment divides (docs/ledger.md): the order's total, the level's
 * discount, what is due after it, what points pay, what the balance pays,
 * and the points the balance's part earns. */
typedef struct
{
  int64_t amount;
  int64_t discount;
  int64_t due;
  int64_t points_value;
  int64_t from_balance;
  int64_t points_earned;
} CtPaySplit;

void     ct_pay_split_compute    (int64_t             amount,
                                  int64_t             discount_bp,
                                  int64_t             points_value,
                                  int                 minor_units,
                                  int64_t             points_per_unit,
                                  int64_t             multiplier_bp,
                                  CtPaySplit         *out);
int64_t  ct_pay_split_card_share (int64_t             total,
                                  int64_t             balance,
                                  int64_t             discount_bp);

/* What one refund of a payment gives back (docs/ledger.md, "Partial
 * refunds"): a part of what the payment took, split between the balance
 * and what points paid in the payment's own proportion, with the points
 * given back and taken back in the same proportion. */
typedef struct
{
  int64_t amount;         /* this refund: what it gives back, both parts */
  int64_t to_card;        /* the balance's part, back onto the card */
  int64_t to_promo;       /* what points paid, back to promo */
  int64_t points_back;    /* redeemed points given back */
  int64_t points_taken;   /* earned points taken back */
  int64_t rest_back;      /* a split payment: the part of its rest given back by its tender */
} CtRefundSplit;

void     ct_refund_split_compute (int64_t             total,
                                  int64_t             points_value,
                                  int64_t             redeemed_points,
                                  int64_t             points_earned,
                                  int64_t             rest,
                                  int64_t             before,
                                  int64_t             amount,
                                  CtRefundSplit      *out);

G_END_DECLS
