/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-service-cashiers"
#include "config.h"

#include "ct-service.h"

/* POST /v1/cashiers/sign-in (docs/api.md): a till asks whether a cashier's
 * PIN is right before it lets the cashier work. The PIN is checked like a
 * manager's (ct-service-managers.c): the same answer and time for an
 * unknown id as for a wrong PIN, wrong PINs counted and locked, and every
 * sign-in and refused PIN in the audit log. The answer gives the cashier's
 * name, which the till shows and prints. */

CtReply *
ct_service_parse_cashier_sign_in (CtService *svc,
                                  CtCall    *call)
{
  static const char * const known[] = { "cashier", "pin", NULL };
  const char *id = NULL, *pin = NULL;
  CtReply *reply = NULL;

  if ((reply = ct_call_body_object (call)) != NULL
      || (reply = ct_json_refuse_unknown (call->json, "", known)) != NULL)
    return reply;
  if (!ct_json_get_string (call->json, "cashier", TRUE, 64, &id, &reply)
      || !ct_json_get_string (call->json, "pin", TRUE, 64, &pin, &reply))
    return reply;
  if (*id == '\0' || *pin == '\0')
    return ct_reply_error (400, "bad_request", "\"cashier\" and \"pin\" must not be empty");
  call->cashier = TRUE;
  call->manager_state = CT_MANAGER_GIVEN;
  call->manager_id = g_strdup (id);
  call->manager_pin = g_strdup (pin);
  call->guard_id = ct_store_cashier_guard_id (id);
  return NULL;
}

CtReply *
ct_service_apply_cashier_sign_in (CtService             *svc,
                                  CtStore               *store,
                                  const CtStoreMerchant *merchant,
                                  CtCall                *call)
{
  g_auto(CtStoreCashier) k = { 0 };
  g_autoptr(GError) error = NULL;
  json_object *obj, *cashier;
  CtReply *reply;

  if ((reply = ct_call_check_manager (call, store)) != NULL)
    return reply;
  if (!ct_store_cashier_get (store, call->manager_id, &k, &error))
    {
      g_warning ("cashier: %s", error->message);
      return ct_reply_error (500, "internal", "The service could not read the cashier");
    }
  cashier = json_object_new_object ();
  json_object_object_add (cashier, "id", json_object_new_string (k.id));
  json_object_object_add (cashier, "name", json_object_new_string (k.name));
  obj = json_object_new_object ();
  json_object_object_add (obj, "cashier", cashier);
  return ct_reply_new_json (200, obj);
}
