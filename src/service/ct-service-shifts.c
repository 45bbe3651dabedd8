/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-service-shifts"
#include "config.h"

#include "ct-money.h"
#include "ct-service-ledger.h"
#include "ct-service-shifts.h"

/* Shifts (docs/api.md, "Shifts"): a shift opens on a till with the cash
 * float and closes with the cash counted in the drawer. Its report adds up
 * the transactions the ledger booked into it (the shift that was open on
 * the till when the customer paid) by kind and by tender, whenever it is
 * read, so an offline sale synced after the close still counts in its
 * shift. */

typedef struct
{
  const char *operator_name;
  int64_t     amount;         /* float or counted cash */
  int64_t     taken_at;       /* ms, 0 = now */
} ShiftReq;

static CtReply *
internal (GError *error)
{
  g_warning ("shifts: %s", error ? error->message : "unknown failure");
  return ct_reply_error (500, "internal", "The service could not complete the request; nothing was changed");
}

static const char *
query (CtCall     *call,
       const char *name)
{
  return call->query ? g_hash_table_lookup (call->query, name) : NULL;
}

static void
add_time_or_null (json_object *obj,
                  const char  *key,
                  int64_t      ms)
{
  g_autofree char *text = ms != 0 ? ct_service_format_time (ms) : NULL;

  json_object_object_add (obj, key, text != NULL ? json_object_new_string (text) : NULL);
}

static json_object *
shift_to_json (const CtStoreShift *s)
{
  json_object *obj = json_object_new_object ();
  char id[32];

  g_snprintf (id, sizeof id, "%" G_GINT64_FORMAT, s->id);
  json_object_object_add (obj, "id", json_object_new_string (id));
  json_object_object_add (obj, "store", json_object_new_string (s->store));
  json_object_object_add (obj, "till", json_object_new_string (s->till));
  json_object_object_add (obj, "status", json_object_new_string (s->closed_at != 0 ? "closed" : "open"));
  json_object_object_add (obj, "operator", json_object_new_string (s->operator_name));
  json_object_object_add (obj, "float", json_object_new_int64 (s->float_amount));
  add_time_or_null (obj, "opened_at", s->opened_at);
  add_time_or_null (obj, "closed_at", s->closed_at);
  json_object_object_add (obj, "closed_by", s->closed_by ? json_object_new_string (s->closed_by) : NULL);
  json_object_object_add (obj, "counted_cash", s->closed_at != 0 ? json_object_new_int64 (s->counted_cash) : NULL);
  return obj;
}

/* The shift's report: its totals, then the cash the drawer should hold
 * (the float, plus cash taken for top-ups and for the rests of split
 * payments, less cash given back by voids, by refunds of split payments
 * and by outcomes a manager recorded) against what was counted. */
static json_object *
shift_report (CtStore            *store,
              const CtStoreShift *s,
              GError            **error)
{
  CtStoreDayTotals t;
  json_object *obj;
  int64_t expected;

  if (!ct_store_shift_totals (store, s->id, &t, error))
    return NULL;
  expected = s->float_amount + t.taken[CT_TENDER_CASH] - t.given_back[CT_TENDER_CASH] - t.outcome_cash
             + t.rest_taken[CT_TENDER_CASH] - t.rest_given_back[CT_TENDER_CASH];
  obj = ct_service_totals_to_json (&t);
  json_object_object_add (obj, "float", json_object_new_int64 (s->float_amount));
  json_object_object_add (obj, "outcome_cash", json_object_new_int64 (t.outcome_cash));
  json_object_object_add (obj, "expected_cash", json_object_new_int64 (expected));
  if (s->closed_at != 0)
    {
      json_object_object_add (obj, "counted_cash", json_object_new_int64 (s->counted_cash));
      json_object_object_add (obj, "variance", json_object_new_int64 (s->counted_cash - expected));
    }
  else
    {
      json_object_object_add (obj, "counted_cash", NULL);
      json_object_object_add (obj, "variance", NULL);
    }
  return obj;
}

static CtReply *
shift_answer (CtStore            *store,
              guint               status,
              const CtStoreShift *s,
              gboolean            with_report)
{
  g_autoptr(GError) error = NULL;
  json_object *root = json_object_new_object ();

  json_object_object_add (root, "shift", shift_to_json (s));
  if (with_report)
    {
      json_object *report = shift_report (store, s, &error);

      if (report == NULL)
        {
          json_object_put (root);
          return internal (error);
        }
      json_object_object_add (root, "report", report);
    }
  return ct_reply_new_json (status, root);
}

static CtReply *
parse_shift_body (CtCall     *call,
                  const char *amount_key)
{
  ShiftReq *r;
  CtReply *reply = NULL;
  gboolean has_amount = FALSE;

  if ((reply = ct_call_body_object (call)) != NULL
      || (reply = ct_json_refuse_unknown (call->json, "",
                                          (const char * const[]) { "operator", amount_key, "taken_at", NULL }))
         != NULL)
    return reply;
  r = g_new0 (ShiftReq, 1);
  call->data = r;
  call->data_free = g_free;
  if (!ct_json_get_string (call->json, "operator", TRUE, 64, &r->operator_name, &reply)
      || !ct_json_get_int (call->json, amount_key, TRUE, &has_amount, &r->amount, &reply))
    return reply;
  if (*r->operator_name == '\0')
    return ct_reply_error (400, "bad_request", "\"operator\" names the cashier");
  if (r->amount < 0 || r->amount > CT_MONEY_MAX)
    return ct_reply_error (422, "invalid_amount", "\"%s\" is an amount of 0 or more", amount_key);
  return ct_ledger_parse_taken_at (call, &r->taken_at);
}

/* POST /v1/shifts */

CtReply *
ct_shifts_parse_open (CtService *svc,
                      CtCall    *call)
{
  return parse_shift_body (call, "float");
}

CtReply *
ct_shifts_apply_open (CtService             *svc,
                      CtStore               *store,
                      const CtStoreMerchant *merchant,
                      CtCall                *call)
{
  ShiftReq *r = call->data;
  g_auto(CtStoreShift) shift = { 0 };
  g_autoptr(GError) error = NULL;

  shift.store = g_strdup (call->till.store);
  shift.till = g_strdup (call->till.name);
  shift.operator_name = g_strdup (r->operator_name);
  shift.float_amount = r->amount;
  shift.opened_at = r->taken_at != 0 ? r->taken_at : ct_store_now_ms ();
  if (!ct_store_shift_open (store, &shift, &error))
    {
      if (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS))
        return ct_reply_error (409, "shift_open",
                               "Till %s has a shift open: close it (or hand over) before opening another",
                               call->till.name);
      return internal (error);
    }
  return shift_answer (store, 201, &shift, FALSE);
}

/* "current" in a path is the calling till's open shift or, when none is
 * open, its last one: a till that opened its shift offline does not know
 * the shift's id, yet closes it and prints its report. */
static gboolean
current_shift (CtStore  *store,
               CtCall   *call,
               guint64  *out_id,
               GError  **error)
{
  g_autoptr(GPtrArray) all = NULL;
  int64_t id = ct_store_shift_at (store, call->till.store, call->till.name, G_MAXINT64 / 2, error);

  if (id < 0)
    return FALSE;
  if (id == 0)
    {
      all = ct_store_shift_list (store, call->till.store, call->till.name, 0, G_MAXINT64, error);
      if (all == NULL)
        return FALSE;
      if (all->len > 0)
        id = ((CtStoreShift *) all->pdata[all->len - 1])->id;
    }
  *out_id = (guint64) id;
  return TRUE;
}

/* The path's shift, if it is one of this till's store. */
static CtReply *
path_shift (CtStore      *store,
            CtCall       *call,
            CtStoreShift *out)
{
  g_autoptr(GError) error = NULL;
  guint64 id = 0;

  if (g_str_equal (call->args[0], "current") && !current_shift (store, call, &id, &error))
    return internal (error);
  if ((id == 0 && !g_ascii_string_to_unsigned (call->args[0], 10, 1, G_MAXINT64, &id, NULL))
      || !ct_store_shift_get (store, (int64_t) id, out, &error)
      || !g_str_equal (out->store, call->till.store))
    {
      if (error != NULL && !g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND))
        return internal (error);
      if (g_str_equal (call->args[0], "current"))
        return ct_reply_error (404, "not_found", "Till %s has had no shift yet", call->till.name);
      return ct_reply_error (404, "not_found", "There is no shift %s in store %s", call->args[0],
                             call->till.store);
    }
  return NULL;
}

/* POST /v1/shifts/{id}/close */

CtReply *
ct_shifts_parse_close (CtService *svc,
                       CtCall    *call)
{
  return parse_shift_body (call, "counted_cash");
}

CtReply *
ct_shifts_apply_close (CtService             *svc,
                       CtStore               *store,
                       const CtStoreMerchant *merchant,
                       CtCall                *call)
{
  ShiftReq *r = call->data;
  g_auto(CtStoreShift) shift = { 0 };
  g_autoptr(GError) error = NULL;
  CtReply *reply;

  if ((reply = path_shift (store, call, &shift)) != NULL)
    return reply;
  if (!g_str_equal (shift.till, call->till.name))
    return ct_reply_error (403, "forbidden", "Shift %s is till %s's: close it on that till", call->args[0],
                           shift.till);
  if (shift.closed_at != 0)
    return ct_reply_error (409, "shift_closed", "Shift %s was closed already by %s", call->args[0],
                           shift.closed_by);
  /* A till whose clock went back still closes after it opened. */
  shift.closed_at = MAX (r->taken_at != 0 ? r->taken_at : ct_store_now_ms (), shift.opened_at);
  shift.closed_by = g_strdup (r->operator_name);
  shift.counted_cash = r->amount;
  if (!ct_store_shift_close (store, &shift, &error))
    {
      if (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_EXISTS))
        return ct_reply_error (409, "shift_closed", "Shift %s was closed already", call->args[0]);
      return internal (error);
    }
  return shift_answer (store, 201, &shift, TRUE);
}

/* GET /v1/shifts/{id} */

CtReply *
ct_shifts_read_one (CtService *svc,
                    CtCall    *call)
{
  CtStore *store = call->store;
  g_auto(CtStoreShift) shift = { 0 };
  CtReply *reply;

  if ((reply = path_shift (store, call, &shift)) != NULL)
    return reply;
  return shift_answer (store, 200, &shift, TRUE);
}

/* The day's range in the merchant's zone; today when @date is NULL. */
static CtReply *
day_range (CtStore     *store,
           const char  *date,
           char       **out_date,
           int64_t     *from_ms,
           int64_t     *to_ms)
{
  g_auto(CtStoreMerchant) m = { 0 };
  g_autoptr(GError) error = NULL;

  if (!ct_store_get_merchant (store, &m, &error))
    return internal (error);
  *out_date = date != NULL ? g_strdup (date) : ct_service_today (m.timezone);
  if (!ct_service_day_range (m.timezone, *out_date, from_ms, to_ms))
    return ct_reply_error (400, "bad_request", "\"date\" is YYYY-MM-DD");
  return NULL;
}

/**
 * ct_shifts_add_day:
 * Adds "shifts" to @obj: the shifts opened in [@from_ms, @to_ms) of
 * @store_name (every store when NULL) and @till (every till when NULL),
 * each with its report.
 */
CtReply *
ct_shifts_add_day (CtStore     *store,
                   const char  *store_name,
                   const char  *till,
                   int64_t      from_ms,
                   int64_t      to_ms,
                   json_object *obj)
{
  g_autoptr(GPtrArray) shifts = NULL;
  g_autoptr(GError) error = NULL;
  json_object *list;

  shifts = ct_store_shift_list (store, store_name, till, from_ms, to_ms, &error);
  if (shifts == NULL)
    return internal (g_steal_pointer (&error));
  list = json_object_new_array ();
  json_object_object_add (obj, "shifts", list);
  for (guint i = 0; i < shifts->len; i++)
    {
      CtStoreShift *s = shifts->pdata[i];
      json_object *one = shift_to_json (s);
      json_object *report = shift_report (store, s, &error);

      json_object_array_add (list, one);
      if (report == NULL)
        return internal (g_steal_pointer (&error));
      json_object_object_add (one, "report", report);
    }
  return NULL;
}

/* GET /v1/shifts?date=D[&till=T] */

CtReply *
ct_shifts_read_day (CtService *svc,
                    CtCall    *call)
{
  CtStore *store = call->store;
  const char *till = query (call, "till");
  g_autofree char *date = NULL;
  int64_t from_ms, to_ms;
  json_object *obj;
  CtReply *reply;

  if ((reply = day_range (store, query (call, "date"), &date, &from_ms, &to_ms)) != NULL)
    return reply;
  if (till != NULL && (*till == '\0' || !g_utf8_validate (till, -1, NULL)))
    return ct_reply_error (400, "bad_request", "\"till\" names a till of this store");
  obj = json_object_new_object ();
  json_object_object_add (obj, "date", json_object_new_string (date));
  json_object_object_add (obj, "store", json_object_new_string (call->till.store));
  if ((reply = ct_shifts_add_day (store, call->till.store, till, from_ms, to_ms, obj)) != NULL)
    {
      json_object_put (obj);
      return reply;
    }
  return ct_reply_new_json (200, obj);
}

