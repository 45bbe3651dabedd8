/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-client-shifts"

#include "config.h"

#include <json-c/json.h>
#include <string.h>

#include "ct-client-private.h"
#include "ct-client-shifts.h"

/* Shifts and the day report for the app: typed calls over the client's
 * one request path (built in ct-request.c, sent with ct_client_send()),
 * each on its own GTask worker.
 * The bodies come from the wire encoders that cardtill-cli uses too. */

G_DEFINE_BOXED_TYPE (CtShift, ct_shift, ct_shift_copy, ct_shift_free)

CtShift *
ct_shift_copy (const CtShift *shift)
{
  CtShift *copy;

  g_return_val_if_fail (shift != NULL, NULL);

  copy = g_memdup2 (shift, sizeof *shift);
  copy->id = g_strdup (shift->id);
  copy->till = g_strdup (shift->till);
  copy->operator_name = g_strdup (shift->operator_name);
  copy->opened_at = g_strdup (shift->opened_at);
  copy->closed_at = g_strdup (shift->closed_at);
  copy->answer = shift->answer ? g_bytes_ref (shift->answer) : NULL;
  return copy;
}

void
ct_shift_free (CtShift *shift)
{
  if (shift == NULL)
    return;
  g_free (shift->id);
  g_free (shift->till);
  g_free (shift->operator_name);
  g_free (shift->opened_at);
  g_free (shift->closed_at);
  g_clear_pointer (&shift->answer, g_bytes_unref);
  g_free (shift);
}

static const char *
json_str (json_object *obj,
          const char  *key)
{
  json_object *v = NULL;

  if (!json_object_object_get_ex (obj, key, &v) || !json_object_is_type (v, json_type_string))
    return NULL;
  return json_object_get_string (v);
}

static int64_t
json_int (json_object *obj,
          const char  *key)
{
  json_object *v = NULL;

  if (!json_object_object_get_ex (obj, key, &v) || !json_object_is_type (v, json_type_int))
    return 0;
  return json_object_get_int64 (v);
}

/* The {"shift", ...} answer of the service. */
static CtShift *
shift_from_answer (GBytes  *body,
                   GError **error)
{
  gsize len = 0;
  const char *data = g_bytes_get_data (body, &len);
  json_tokener *tok = json_tokener_new ();
  json_object *root = json_tokener_parse_ex (tok, data, (int) len);
  json_object *shift = NULL;
  CtShift *out = NULL;

  json_tokener_free (tok);
  if (root != NULL && json_object_object_get_ex (root, "shift", &shift)
      && json_object_is_type (shift, json_type_object) && json_str (shift, "id") != NULL)
    {
      out = g_new0 (CtShift, 1);
      out->id = g_strdup (json_str (shift, "id"));
      out->till = g_strdup (json_str (shift, "till"));
      out->operator_name = g_strdup (json_str (shift, "operator"));
      out->float_amount = json_int (shift, "float");
      out->counted_cash = json_int (shift, "counted_cash");
      out->opened_at = g_strdup (json_str (shift, "opened_at"));
      out->closed_at = g_strdup (json_str (shift, "closed_at"));
      out->open = g_strcmp0 (json_str (shift, "status"), "open") == 0;
      out->answer = g_bytes_ref (body);
    }
  else
    g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_BAD_ANSWER,
                         "the service's answer has no shift");
  json_object_put (root);
  return out;
}

/* A shift the till took but the service has not answered yet. */
static CtShift *
pending_shift (const char *operator_name,
               int64_t     float_amount,
               int64_t     counted_cash,
               gboolean    open)
{
  CtShift *out = g_new0 (CtShift, 1);

  out->operator_name = g_strdup (operator_name);
  out->float_amount = float_amount;
  out->counted_cash = counted_cash;
  out->open = open;
  out->pending = TRUE;
  return out;
}

/* Sends @request (taken), built by the request layer. */
static CtAnswer *
send_request (CtClient      *client,
              CtRequest     *request,
              GCancellable  *cancellable,
              GError       **error)
{
  g_autoptr(CtRequest) owned = request;

  return ct_client_send (client, owned, cancellable, error);
}

/* What an answer to opening or closing means: the shift, a pending one
 * when it was queued, or the refusal. */
static CtShift *
shift_from_post (CtAnswer  *answer,
                 CtShift   *if_pending,
                 GError   **error)
{
  g_autoptr(CtShift) pending = if_pending;

  if (answer->queued)
    return g_steal_pointer (&pending);
  if (!ct_answer_to_error (answer, error))
    return NULL;
  return shift_from_answer (answer->body, error);
}

/* GET /v1/shifts/current */

static void
shift_current_worker (GTask        *task,
                      gpointer      source_object,
                      gpointer      task_data,
                      GCancellable *cancellable)
{
  CtClient *client = source_object;
  g_autoptr(CtAnswer) answer = NULL;
  GError *error = NULL;
  CtShift *shift;

  answer = send_request (client, ct_request_shift_show ("current"), cancellable, &error);
  if (answer == NULL || !ct_answer_to_error (answer, &error))
    {
      if (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_NOT_FOUND))
        {
          /* This till never had a shift. */
          g_clear_error (&error);
          g_task_return_pointer (task, NULL, NULL);
        }
      else
        g_task_return_error (task, error);
      return;
    }
  shift = shift_from_answer (answer->body, &error);
  ct_client_task_return (task, shift, (GDestroyNotify) ct_shift_free, error);
}

void
ct_client_shift_current_async (CtClient            *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (CT_IS_CLIENT (self));

  ct_client_run_task (self, ct_client_shift_current_async, NULL, NULL, shift_current_worker, cancellable,
                      callback, user_data);
}

CtShift *
ct_client_shift_current_finish (CtClient      *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_shift_current_async, error);
}

/* POST /v1/shifts */

typedef struct
{
  char    *operator_name;
  int64_t  float_amount;
} ShiftOpen;

static void
shift_open_free (gpointer data)
{
  ShiftOpen *op = data;

  g_free (op->operator_name);
  g_free (op);
}

static CtShift *
open_shift (CtClient      *client,
            const char    *operator_name,
            int64_t        float_amount,
            GCancellable  *cancellable,
            GError       **error)
{
  g_autoptr(CtAnswer) answer = NULL;

  answer = send_request (client, ct_request_shift_open (float_amount, operator_name), cancellable,
                         error);
  if (answer == NULL)
    return NULL;
  return shift_from_post (answer, pending_shift (operator_name, float_amount, 0, TRUE), error);
}

static void
shift_open_worker (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  ShiftOpen *op = task_data;
  GError *error = NULL;
  CtShift *shift = open_shift (source_object, op->operator_name, op->float_amount, cancellable, &error);

  ct_client_task_return (task, shift, (GDestroyNotify) ct_shift_free, error);
}

void
ct_client_shift_open_async (CtClient            *self,
                            const char          *operator_name,
                            int64_t              float_amount,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  ShiftOpen *op;

  g_return_if_fail (CT_IS_CLIENT (self));
  g_return_if_fail (operator_name != NULL);

  op = g_new0 (ShiftOpen, 1);
  op->operator_name = g_strdup (operator_name);
  op->float_amount = float_amount;
  ct_client_run_task (self, ct_client_shift_open_async, op, shift_open_free, shift_open_worker, cancellable,
                      callback, user_data);
}

CtShift *
ct_client_shift_open_finish (CtClient      *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_shift_open_async, error);
}

/* POST /v1/shifts/{id}/close, and the handover's opening */

typedef struct
{
  char    *id;
  char    *operator_name;
  int64_t  counted_cash;
  char    *next_operator;
  int64_t  next_float;
} ShiftClose;

typedef struct
{
  CtShift *closed;
  CtShift *next;
  GError  *open_error;   /* the handover's opening was refused */
} ShiftClosed;

static void
shift_close_free (gpointer data)
{
  ShiftClose *op = data;

  g_free (op->id);
  g_free (op->operator_name);
  g_free (op->next_operator);
  g_free (op);
}

static void
shift_closed_free (gpointer data)
{
  ShiftClosed *out = data;

  ct_shift_free (out->closed);
  ct_shift_free (out->next);
  g_clear_error (&out->open_error);
  g_free (out);
}

static void
shift_close_worker (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  CtClient *client = source_object;
  ShiftClose *op = task_data;
  g_autoptr(CtAnswer) answer = NULL;
  ShiftClosed *out;
  GError *error = NULL;
  CtShift *closed;

  answer = send_request (client,
                         ct_request_shift_close (op->id, op->counted_cash, op->operator_name),
                         cancellable, &error);
  closed = answer ? shift_from_post (answer, pending_shift (op->operator_name, 0, op->counted_cash, FALSE),
                                     &error)
                  : NULL;
  if (closed == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  out = g_new0 (ShiftClosed, 1);
  out->closed = closed;
  /* The next cashier's shift opens after the close was taken, answered
   * or queued: the outbox sends them in that order. */
  if (op->next_operator != NULL)
    out->next = open_shift (client, op->next_operator, op->next_float, cancellable, &out->open_error);
  g_task_return_pointer (task, out, shift_closed_free);
}

void
ct_client_shift_close_async (CtClient            *self,
                             const char          *id,
                             const char          *operator_name,
                             int64_t              counted_cash,
                             const char          *next_operator,
                             int64_t              next_float,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  ShiftClose *op;

  g_return_if_fail (CT_IS_CLIENT (self));
  g_return_if_fail (operator_name != NULL);
  g_return_if_fail (id == NULL || strspn (id, "0123456789") == strlen (id));

  op = g_new0 (ShiftClose, 1);
  op->id = g_strdup (id);
  op->operator_name = g_strdup (operator_name);
  op->counted_cash = counted_cash;
  op->next_operator = g_strdup (next_operator);
  op->next_float = next_float;
  ct_client_run_task (self, ct_client_shift_close_async, op, shift_close_free, shift_close_worker,
                      cancellable, callback, user_data);
}

CtShift *
ct_client_shift_close_finish (CtClient      *self,
                              GAsyncResult  *result,
                              CtShift      **out_next,
                              GError       **error)
{
  ShiftClosed *out;
  CtShift *closed;

  if (out_next != NULL)
    *out_next = NULL;
  out = ct_client_task_finish (self, result, ct_client_shift_close_async, error);
  if (out == NULL)
    return NULL;
  closed = g_steal_pointer (&out->closed);
  if (out_next != NULL)
    *out_next = g_steal_pointer (&out->next);
  if (out->open_error != NULL)
    g_propagate_error (error, g_steal_pointer (&out->open_error));
  shift_closed_free (out);
  return closed;
}

/* GET /v1/reports/day */

static void
reports_day_worker (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  const char *date = task_data;
  g_autoptr(CtAnswer) answer = NULL;
  GError *error = NULL;

  answer = send_request (source_object, ct_request_day_summary (date), cancellable, &error);
  if (answer == NULL || !ct_answer_to_error (answer, &error))
    g_task_return_error (task, error);
  else if (answer->body == NULL || !ct_wire_check_object (g_bytes_get_data (answer->body, NULL),
                                                           g_bytes_get_size (answer->body), &error))
    {
      if (error == NULL)
        g_set_error_literal (&error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_BAD_ANSWER,
                             "the service's day report is empty");
      g_task_return_error (task, error);
    }
  else
    g_task_return_pointer (task, g_bytes_ref (answer->body), (GDestroyNotify) g_bytes_unref);
}

static gboolean
is_date (const char *text)
{
  g_autoptr(GDateTime) day = NULL;
  g_autofree char *midnight = NULL;

  if (strlen (text) != 10)
    return FALSE;
  midnight = g_strconcat (text, "T00:00:00Z", NULL);
  day = g_date_time_new_from_iso8601 (midnight, NULL);
  return day != NULL;
}

void
ct_client_reports_day_async (CtClient            *self,
                             const char          *date,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (CT_IS_CLIENT (self));

  /* The date goes into a path: only YYYY-MM-DD goes there. */
  if (date != NULL && !is_date (date))
    {
      g_autoptr(GTask) task = ct_client_task_new (self, ct_client_reports_day_async, cancellable, callback,
                                                  user_data);

      g_task_return_new_error (task, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT,
                               "a date is YYYY-MM-DD");
      return;
    }
  ct_client_run_task (self, ct_client_reports_day_async, g_strdup (date), g_free, reports_day_worker,
                      cancellable, callback, user_data);
}

GBytes *
ct_client_reports_day_finish (CtClient      *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return ct_client_task_finish (self, result, ct_client_reports_day_async, error);
}
