/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ct-wire.h"

G_BEGIN_DECLS

#define CT_TYPE_CARD_VIEW (ct_card_view_get_type ())

G_DECLARE_FINAL_TYPE (CtCardView, ct_card_view, CT, CARD_VIEW, AdwBin)

void        ct_card_view_set_card         (CtCardView   *self,
                                           const CtCard *card,
                                           int           minor_units,
                                           const char   *currency,
                                           gboolean      refreshing);
void        ct_card_view_set_merchant     (CtCardView   *self,
                                           const CtMerchant *merchant);
const char *ct_card_view_get_balance_text (CtCardView   *self);
const char *ct_card_view_get_details_text (CtCardView   *self);
const char *ct_card_view_get_status_text  (CtCardView   *self);
const char *ct_card_view_get_freshness_text (CtCardView *self);

G_END_DECLS
