/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <stdint.h>

#include "ct-client.h"

G_BEGIN_DECLS

/* A cashier's shift on this till (docs/api.md, "Shifts"), as the app's
 * Shift screen shows it. Opening and closing are POSTs through the
 * outbox: offline they are taken and settle later ("pending sync"). */
typedef struct
{
  char     *id;             /* NULL while pending: the service has not answered */
  char     *till;
  char     *operator_name;
  int64_t   float_amount;
  int64_t   counted_cash;   /* closed shifts */
  char     *opened_at;      /* RFC 3339; NULL while pending */
  char     *closed_at;      /* NULL while open */
  gboolean  open;
  gboolean  pending;        /* taken by the till, not answered by the service yet */
  GBytes   *answer;         /* the service's {"shift", "report"} answer, for the
                             * report's lines (ct_report_shift_lines()); NULL while pending */
} CtShift;

GType    ct_shift_get_type (void) G_GNUC_CONST;
#define CT_TYPE_SHIFT (ct_shift_get_type ())
CtShift *ct_shift_copy     (const CtShift *shift);
void     ct_shift_free     (CtShift       *shift);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtShift, ct_shift_free)

/* GET /v1/shifts/current: the till's open shift, or its last one (then
 * not open). Finishes with NULL and no error when the till never had a
 * shift. */
void     ct_client_shift_current_async (CtClient            *self,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
CtShift *ct_client_shift_current_finish (CtClient           *self,
                                         GAsyncResult       *result,
                                         GError            **error);

/* POST /v1/shifts: opens a shift of @operator_name with @float_amount
 * (minor units) in the drawer. Refused with CT_CLIENT_ERROR_SHIFT_OPEN
 * while one is open; offline the shift comes back pending. */
void     ct_client_shift_open_async    (CtClient            *self,
                                        const char          *operator_name,
                                        int64_t              float_amount,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
CtShift *ct_client_shift_open_finish   (CtClient            *self,
                                        GAsyncResult        *result,
                                        GError             **error);

/* POST /v1/shifts/{id}/close with the cash counted in the drawer (@id
 * NULL: the till's current shift). With @next_operator set this is a
 * handover: the next cashier's shift opens with @next_float right after,
 * also when the close was taken offline (the outbox keeps their order).
 * Refused with CT_CLIENT_ERROR_SHIFT_CLOSED when the shift was closed
 * already, and then nothing is opened. */
void     ct_client_shift_close_async   (CtClient            *self,
                                        const char          *id,
                                        const char          *operator_name,
                                        int64_t              counted_cash,
                                        const char          *next_operator,
                                        int64_t              next_float,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
/* Returns the closed shift (its answer holds the report); *@out_next the
 * handover's new shift, or NULL. A handover whose opening was refused
 * returns the closed shift and sets @error. */
CtShift *ct_client_shift_close_finish  (CtClient            *self,
                                        GAsyncResult        *result,
                                        CtShift            **out_next,
                                        GError             **error);

/* GET /v1/reports/day?date=D (@date YYYY-MM-DD, NULL: today): the
 * merchant's day per store and till with its shifts, as the service's
 * answer (ct_report_day_lines() reads it). */
void     ct_client_reports_day_async   (CtClient            *self,
                                        const char          *date,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
GBytes  *ct_client_reports_day_finish  (CtClient            *self,
                                        GAsyncResult        *result,
                                        GError             **error);

G_END_DECLS
