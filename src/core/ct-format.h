/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "ct-wire.h"

G_BEGIN_DECLS

char       *ct_format_money            (int64_t              minor,
                                        int                  minor_units,
                                        const char          *currency);
char       *ct_format_signed_money     (int64_t              minor,
                                        int                  minor_units,
                                        const char          *currency);
const char *ct_format_currency_symbol  (const char          *currency);
char       *ct_format_mask_card        (const char          *card_no);
char       *ct_format_card_no          (const char          *card_no);
char       *ct_format_local_time       (const char          *rfc3339,
                                        const char          *format);
void        ct_format_set_time_zone    (const char          *identifier);
char       *ct_format_tender           (const char          *tender);
const char *ct_format_transaction_kind (CtTransactionKind    kind);
const char *ct_format_card_status      (CtCardStatus         status);
char       *ct_format_level            (const CtLevel       *level);
char       *ct_format_error            (const GError        *error);
gboolean    ct_format_parse_amount     (const char          *text,
                                        int                  minor_units,
                                        gboolean             is_signed,
                                        int64_t             *out_minor,
                                        char               **out_problem);

G_END_DECLS
