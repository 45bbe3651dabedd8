/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ct-receipt-data.h"

G_BEGIN_DECLS

CtReceiptData *ct_test_receipt_topup (const char *member_name);

G_END_DECLS
