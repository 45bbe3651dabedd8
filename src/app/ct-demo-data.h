/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "ct-session.h"

G_BEGIN_DECLS

void     ct_demo_data_create_async  (CtSession           *session,
                                     const char          *manager_id,
                                     const char          *manager_pin,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data);
gboolean ct_demo_data_create_finish (GAsyncResult        *result,
                                     GError             **error);

/* The demo members' phones, for the walk-through and the tests. */
#define CT_DEMO_PHONE_1 "13800138000"
#define CT_DEMO_PHONE_2 "13912345678"

/* The demo's cashier, who signs in at the demo till. */
#define CT_DEMO_CASHIER_ID   "c1"
#define CT_DEMO_CASHIER_NAME "李娜"
#define CT_DEMO_CASHIER_PIN  "135790"

G_END_DECLS
