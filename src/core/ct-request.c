/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-request"
#include "config.h"

#include <string.h>

#include "ct-card-number.h"
#include "ct-cashier.h"
#include "ct-money.h"
#include "ct-request.h"

/* Every request of the card service API (docs/api.md) is built here once:
 * its method, path, exact body bytes and the facts the outbox reads. The
 * builders do no I/O and keep no state, so any thread may call them. */

void
ct_request_free (CtRequest *request)
{
  if (request == NULL)
    return;
  g_free (request->path);
  g_clear_pointer (&request->body, g_bytes_unref);
  g_free (request->idempotency_key);
  g_free (request->card_no);
  g_free (request->order_ref);
  g_free (request);
}

char *
ct_request_card_number (const char  *text,
                        GError     **error)
{
  g_autoptr(GError) local = NULL;
  char *normal;

  if (text == NULL)
    {
      g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT,
                           "No card number given");
      return NULL;
    }
  normal = ct_card_number_normalize (text, NULL, NULL, &local);
  if (normal == NULL)
    g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT, local->message);
  return normal;
}

static CtRequest *
request_new (const char   *method,
             char         *path,
             char         *body_text,
             CtOutboxKind  kind)
{
  CtRequest *request = g_new0 (CtRequest, 1);

  request->method = method;
  request->path = path;
  if (body_text != NULL)
    request->body = g_bytes_new_take (body_text, strlen (body_text));
  request->info.kind = kind;
  return request;
}

static CtRequest *
get_new (char *path)
{
  return request_new ("GET", path, NULL, CT_OUTBOX_KIND_OTHER);
}
/* Takes the card (normalised) into the request and its facts. */
static void
take_card (CtRequest *request,
           char      *card_no)
{
  g_free (request->card_no);
  request->card_no = card_no;
  request->info.card_no = card_no;
}

static void
add_query (GString    *s,
           const char *key,
           const char *value)
{
  g_autofree char *escaped = NULL;

  if (value == NULL)
    return;
  escaped = g_uri_escape_string (value, NULL, FALSE);
  g_string_append_c (s, strchr (s->str, '?') ? '&' : '?');
  g_string_append_printf (s, "%s=%s", key, escaped);
}

/* A request on one card, "/v1/cards/{no}" + @tail, with @body_text
 * (taken; NULL for a GET) and the card among its facts. NULL with an error
 * when the card number is not valid. */
static CtRequest *
card_request_new (const char    *method,
                  const char    *card_no,
                  const char    *tail,
                  char          *body_text,
                  CtOutboxKind   kind,
                  GError       **error)
{
  g_autofree char *body = body_text;
  char *card = ct_request_card_number (card_no, error);
  CtRequest *request;

  if (card == NULL)
    return NULL;
  request = request_new (method, g_strdup_printf ("/v1/cards/%s%s", card, tail),
                         g_steal_pointer (&body), kind);
  take_card (request, card);
  return request;
}

CtRequest *
ct_request_merchant (void)
{
  return get_new (g_strdup ("/v1/merchant"));
}

CtRequest *
ct_request_health (void)
{
  return get_new (g_strdup ("/v1/health"));
}

CtRequest *
ct_request_card_show (const char  *card_no,
                      GError     **error)
{
  return card_request_new ("GET", card_no, "", NULL, CT_OUTBOX_KIND_OTHER, error);
}

CtRequest *
ct_request_card_find (const char  *phone,
                      const char  *name,
                      GError     **error)
{
  GString *s;

  if ((phone == NULL) == (name == NULL) || *(phone ? phone : name) == '\0')
    {
      g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT,
                           "Search by phone or by name, one of them");
      return NULL;
    }
  s = g_string_new ("/v1/cards");
  add_query (s, "phone", phone);
  add_query (s, "name", name);
  return get_new (g_string_free (s, FALSE));
}

CtRequest *
ct_request_card_issue (const char  *member_name,
                       const char  *member_phone,
                       const char  *level,
                       const char  *card_no,
                       const char  *member_pin,
                       const char  *operator_name,
                       const char  *manager_id,
                       const char  *manager_pin,
                       GError     **error)
{
  CtCardIssue issue = { .member_name = member_name, .member_phone = member_phone, .level = level,
                       .member_pin = member_pin, .operator_name = operator_name,
                       .manager_id = manager_id, .manager_pin = manager_pin };
  g_autofree char *card = NULL;
  CtRequest *request;

  if (card_no != NULL && (card = ct_request_card_number (card_no, error)) == NULL)
    return NULL;
  issue.card_no = card;
  request = request_new ("POST", g_strdup ("/v1/cards"), ct_wire_encode_card_issue (&issue),
                         CT_OUTBOX_KIND_CARD_ISSUE);
  take_card (request, g_steal_pointer (&card));
  return request;
}

CtRequest *
ct_request_card_patch (const char         *card_no,
                       const CtCardPatch  *patch,
                       const char         *manager_id,
                       const char         *manager_pin,
                       GError            **error)
{
  g_return_val_if_fail (patch != NULL, NULL);

  return card_request_new ("PATCH", card_no, "",
                           ct_wire_encode_card_patch (patch, manager_id, manager_pin),
                           CT_OUTBOX_KIND_CARD_PATCH, error);
}

CtRequest *
ct_request_member_pin (const char  *card_no,
                       const char  *member_pin,
                       const char  *operator_name,
                       const char  *manager_id,
                       const char  *manager_pin,
                       GError     **error)
{
  g_return_val_if_fail (member_pin != NULL, NULL);

  return card_request_new ("POST", card_no, "/member-pin",
                           ct_wire_encode_member_pin (member_pin, operator_name, manager_id, manager_pin),
                           CT_OUTBOX_KIND_CARD_PATCH, error);
}

CtRequest *
ct_request_card_replace (const char  *card_no,
                         const char  *new_card_no,
                         const char  *operator_name,
                         const char  *manager_id,
                         const char  *manager_pin,
                         GError     **error)
{
  g_autofree char *new_no = NULL;

  if (new_card_no != NULL && (new_no = ct_request_card_number (new_card_no, error)) == NULL)
    return NULL;
  return card_request_new ("POST", card_no, "/replace",
                           ct_wire_encode_card_replace (new_no, operator_name, manager_id, manager_pin),
                           CT_OUTBOX_KIND_CARD_REPLACE, error);
}

CtRequest *
ct_request_topup_package (const char       *card_no,
                          const char       *package_id,
                          const CtPackage  *shown,
                          const char       *tender,
                          const char       *operator_name,
                          GError          **error)
{
  CtRequest *request;

  g_return_val_if_fail (package_id != NULL, NULL);

  request = card_request_new ("POST", card_no, "/topups",
                              ct_wire_encode_topup_package (package_id, shown != NULL,
                                                            shown ? shown->amount : 0,
                                                            shown ? shown->bonus : 0,
                                                            tender, operator_name),
                              CT_OUTBOX_KIND_TOPUP, error);
  if (request != NULL)
    request->info.amount = shown ? shown->amount : 0;
  return request;
}

CtRequest *
ct_request_topup_amount (const char  *card_no,
                         int64_t      amount,
                         const char  *tender,
                         const char  *operator_name,
                         GError     **error)
{
  CtRequest *request;

  request = card_request_new ("POST", card_no, "/topups",
                              ct_wire_encode_topup_amount (amount, tender, operator_name),
                              CT_OUTBOX_KIND_TOPUP, error);
  if (request != NULL)
    request->info.amount = amount;
  return request;
}

CtRequest *
ct_request_payment (const char  *card_no,
                    int64_t      amount,
                    const char  *order_ref,
                    int64_t      redeem_points,
                    const char  *member_code,
                    const char  *member_pin,
                    const char  *operator_name,
                    GError     **error)
{
  return ct_request_split_payment (card_no, amount, order_ref, redeem_points, member_code, member_pin, 0, NULL,
                                   operator_name, error);
}

CtRequest *
ct_request_split_payment (const char  *card_no,
                          int64_t      amount,
                          const char  *order_ref,
                          int64_t      redeem_points,
                          const char  *member_code,
                          const char  *member_pin,
                          int64_t      rest,
                          const char  *rest_tender,
                          const char  *operator_name,
                          GError     **error)
{
  CtRequest *request;

  if (rest < 0 || (rest > 0 && !ct_wire_tender_is_valid (rest_tender)))
    {
      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT,
                   "The rest of a split payment is a positive amount taken by cash, wechat, alipay, "
                   "bank_card or other");
      return NULL;
    }
  request = card_request_new ("POST", card_no, "/payments",
                              ct_wire_encode_split_payment (amount, order_ref, redeem_points, member_code,
                                                            member_pin, rest, rest_tender, operator_name),
                              CT_OUTBOX_KIND_PAYMENT, error);
  if (request == NULL)
    return NULL;
  request->info.amount = amount;
  request->order_ref = g_strdup (order_ref);
  request->info.order_ref = request->order_ref;
  return request;
}

CtRequest *
ct_request_refund (const char  *card_no,
                   const char  *transaction_id,
                   int64_t      amount,
                   const char  *operator_name,
                   const char  *manager_id,
                   const char  *manager_pin,
                   GError     **error)
{
  CtRequest *request;

  if (amount < 0 || amount > CT_MONEY_MAX)
    {
      g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_INVALID_INPUT,
                           "A refund's amount is more than 0 and at most 10^13 minor units");
      return NULL;
    }
  request = card_request_new ("POST", card_no, "/refunds",
                              ct_wire_encode_refund (transaction_id, amount, operator_name, manager_id,
                                                     manager_pin),
                              CT_OUTBOX_KIND_REFUND, error);
  if (request != NULL)
    request->info.amount = amount;
  return request;
}

CtRequest *
ct_request_adjustment (const char  *card_no,
                       int64_t      delta,
                       const char  *reason,
                       const char  *operator_name,
                       const char  *manager_id,
                       const char  *manager_pin,
                       GError     **error)
{
  CtRequest *request;

  request = card_request_new ("POST", card_no, "/adjustments",
                              ct_wire_encode_adjustment (delta, reason, operator_name, manager_id,
                                                         manager_pin),
                              CT_OUTBOX_KIND_ADJUSTMENT, error);
  if (request != NULL)
    request->info.amount = delta;
  return request;
}

CtRequest *
ct_request_history (const char  *card_no,
                    const char  *from_date,
                    const char  *to_date,
                    const char  *cursor,
                    guint        limit,
                    GError     **error)
{
  CtRequest *request = card_request_new ("GET", card_no, "/transactions", NULL,
                                         CT_OUTBOX_KIND_OTHER, error);
  GString *s;

  if (request == NULL)
    return NULL;
  s = g_string_new (request->path);
  add_query (s, "from", from_date);
  add_query (s, "to", to_date);
  if (limit > 0)
    g_string_append_printf (s, "%climit=%u", strchr (s->str, '?') ? '&' : '?', limit);
  add_query (s, "cursor", cursor);
  g_free (request->path);
  request->path = g_string_free (s, FALSE);
  return request;
}

CtRequest *
ct_request_day_transactions (const char *date,
                             const char *till,
                             const char *cursor)
{
  GString *s = g_string_new ("/v1/transactions?limit=500");

  add_query (s, "date", date);
  add_query (s, "till", till);
  add_query (s, "cursor", cursor);
  return get_new (g_string_free (s, FALSE));
}

CtRequest *
ct_request_day_summary (const char *date)
{
  GString *s = g_string_new ("/v1/reports/day");

  add_query (s, "date", date);
  return get_new (g_string_free (s, FALSE));
}

CtRequest *
ct_request_shift_open (int64_t     float_amount,
                       const char *cashier)
{
  return request_new ("POST", g_strdup ("/v1/shifts"),
                      ct_wire_encode_shift_open (float_amount, cashier), CT_OUTBOX_KIND_SHIFT);
}

CtRequest *
ct_request_shift_close (const char *shift_id,
                        int64_t     counted_cash,
                        const char *operator_name)
{
  g_autofree char *escaped = g_uri_escape_string (shift_id ? shift_id : "current", NULL, FALSE);

  return request_new ("POST", g_strdup_printf ("/v1/shifts/%s/close", escaped),
                      ct_wire_encode_shift_close (counted_cash, operator_name),
                      CT_OUTBOX_KIND_SHIFT);
}

CtRequest *
ct_request_shift_show (const char *shift_id)
{
  g_autofree char *escaped = g_uri_escape_string (shift_id, NULL, FALSE);

  return get_new (g_strdup_printf ("/v1/shifts/%s", escaped));
}

CtRequest *
ct_request_outcome (const CtOutboxEntry *entry,
                    const char          *outcome,
                    int64_t              cash_given_back,
                    const char          *manager_id,
                    const char          *manager_pin)
{
  CtRequest *request;

  g_return_val_if_fail (entry != NULL, NULL);
  g_return_val_if_fail (cash_given_back >= 0, NULL);

  request = request_new ("POST", g_strdup ("/v1/outcomes"),
                         ct_wire_encode_outcome (entry->card_no ? entry->card_no : "-",
                                                 entry->idempotency_key,
                                                 ct_outbox_kind_to_string (entry->kind),
                                                 outcome ? outcome : "", cash_given_back, manager_id,
                                                 manager_pin),
                         CT_OUTBOX_KIND_OTHER);
  request->info.amount = cash_given_back;
  return request;
}

CtRequest *
ct_request_cashier_sign_in (const char *cashier_id,
                            const char *pin)
{
  return request_new ("POST", g_strdup ("/v1/cashiers/sign-in"),
                      ct_cashier_encode_sign_in (cashier_id, pin), CT_OUTBOX_KIND_OTHER);
}

CtRequest *
ct_request_resend (const CtOutboxEntry *entry,
                   char                *body_text,
                   int64_t              amount)
{
  CtRequest *request;

  g_return_val_if_fail (entry != NULL, NULL);

  /* Interned: the method outlives the entry it came from. */
  request = request_new (g_intern_string (entry->method), g_strdup (entry->path), body_text,
                         entry->kind);
  take_card (request, g_strdup (entry->card_no));
  request->info.amount = amount;
  request->order_ref = g_strdup (entry->order_ref);
  request->info.order_ref = request->order_ref;
  return request;
}

CtRequest *
ct_request_import_chunk (GBytes     *body,
                         const char *key)
{
  CtRequest *request = request_new ("POST", g_strdup ("/v1/imports"), NULL,
                                    CT_OUTBOX_KIND_IMPORT);

  g_return_val_if_fail (body != NULL, request);

  request->body = g_bytes_ref (body);
  request->idempotency_key = g_strdup (key);
  return request;
}

CtRequest *
ct_request_import_batch (const char *batch_id)
{
  g_autofree char *escaped = g_uri_escape_string (batch_id, NULL, FALSE);

  return get_new (g_strdup_printf ("/v1/imports/%s", escaped));
}
