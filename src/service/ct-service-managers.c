/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-service-managers"
#include "config.h"

#include <string.h>

#include "ct-money.h"
#include "ct-service-auth.h"
#include "ct-service.h"

/* Managers at the service (docs/operations.md, "Managers"): a PIN is
 * checked the same way, with the same answer and in the same time, for an
 * unknown manager id as for a wrong PIN; wrong PINs lock the id for longer
 * each time; and every manager action and every refused PIN goes to the
 * audit log with the till, the manager id, the card and the time. */

#define DETAIL_MAX 1024

/* The stored PIN hash of @call's manager, or of the cashier signing in
 * (call->cashier): NULL when there is no such id. */
static char *
holder_pin_hash (CtStore *store,
                 CtCall  *call)
{
  if (call->cashier)
    {
      g_auto(CtStoreCashier) k = { 0 };

      return ct_store_cashier_get (store, call->manager_id, &k, NULL) ? g_steal_pointer (&k.pin_hash) : NULL;
    }
  else
    {
      g_auto(CtStoreManager) m = { 0 };

      return ct_store_manager_get (store, call->manager_id, &m, NULL) ? g_steal_pointer (&m.pin_hash) : NULL;
    }
}

/* The cache of right PINs is keyed by the holder, so a cashier and a
 * manager of one name never share an entry. */
static gboolean
holder_pin_verify (CtCall     *call,
                   const char *stored)
{
  return ct_auth_pin_verify_cached (call->guard_id, call->manager_pin, stored);
}

/**
 * ct_service_manager_verify:
 *
 * Checks the PIN of @call's manager (or cashier) in a worker thread, so the
 * slow hash never holds up the committer; the committer checks locks again
 * and records the outcome (ct_call_check_manager(),
 * ct_service_manager_record()).
 */
void
ct_service_manager_verify (CtStore *store,
                           CtCall  *call)
{
  g_autofree char *hash = NULL;
  CtStorePinGuard guard;

  if (call->manager_state != CT_MANAGER_GIVEN
      || !ct_store_pin_guard_get (store, call->guard_id, &guard, NULL))
    return;
  /* A locked id gets 429 whatever the PIN: no slow hash for it, so wrong
   * PINs sent to a locked id cannot tie up the workers. */
  if (guard.locked_until > ct_store_now_ms ())
    return;
  if ((hash = holder_pin_hash (store, call)) == NULL)
    {
      ct_auth_pin_verify_dummy (call->manager_pin);
      return;
    }
  call->manager_verified = holder_pin_verify (call, hash);
  call->manager_hash_checked = g_steal_pointer (&hash);
}

static CtReply *
wrong_manager (CtCall *call)
{
  call->manager_outcome = CT_MANAGER_OUTCOME_FAILURE;
  if (call->cashier)
    return ct_reply_error (403, "forbidden", "The cashier id or PIN is wrong");
  return ct_reply_error (403, "forbidden", "The manager id or PIN is wrong");
}

/**
 * ct_call_check_manager:
 *
 * In the committer: 400 without a manager, 429 pin_locked for a locked id,
 * 403 for an unknown id or a wrong PIN (one message for both), or NULL when
 * the manager may act. The guard read here is what
 * ct_service_manager_record() updates.
 */
CtReply *
ct_call_check_manager (CtCall  *call,
                       CtStore *store)
{
  g_autofree char *hash = NULL;
  int64_t now = ct_store_now_ms ();

  if (call->manager_state != CT_MANAGER_GIVEN)
    return ct_reply_error (400, "bad_request",
                           "This request needs a manager: add \"manager\": {\"id\", \"pin\"}");
  if (!ct_store_pin_guard_get (store, call->guard_id, &call->manager_guard, NULL))
    return ct_reply_error (500, "internal", "The service could not check the PIN; nothing was changed");
  if (call->manager_guard.locked_until > now)
    {
      int64_t seconds = (call->manager_guard.locked_until - now + 999) / 1000;
      CtReply *r = ct_reply_error (429, "pin_locked",
                                   "%s %s is locked after %d wrong PINs; try again in %" G_GINT64_FORMAT
                                   " seconds", call->cashier ? "Cashier" : "Manager", call->manager_id,
                                   CT_PIN_MAX_FAILURES, seconds);

      r->retry_after = (guint) MIN (seconds, G_MAXUINT);
      call->manager_outcome = CT_MANAGER_OUTCOME_LOCKED;
      return r;
    }
  if ((hash = holder_pin_hash (store, call)) == NULL)
    return wrong_manager (call);
  /* The PIN was checked against the stored hash in a worker thread; check
   * again only if the hash changed since (a PIN reset in between) or the
   * id was locked then. */
  if (g_strcmp0 (call->manager_hash_checked, hash) != 0)
    {
      call->manager_verified = holder_pin_verify (call, hash);
      g_free (call->manager_hash_checked);
      call->manager_hash_checked = g_steal_pointer (&hash);
    }
  if (!call->manager_verified)
    return wrong_manager (call);
  call->manager_outcome = CT_MANAGER_OUTCOME_SUCCESS;
  return NULL;
}

/* The request as the audit log keeps it: the body without the manager
 * and the PINs (never a PIN) and without import rows, cut to DETAIL_MAX
 * bytes. */
static char *
request_detail (CtCall *call)
{
  static const char * const dropped[] = { "manager", "pin", "member_pin", "rows", NULL };
  json_object *copy;
  const char *text;
  char *detail;

  if (call->json == NULL || !json_object_is_type (call->json, json_type_object))
    return NULL;
  /* The kept fields alone, by reference: a deep copy of the whole body
   * copied an import's 5,000 rows only to drop them (a tenth of an
   * import's CPU). */
  copy = json_object_new_object ();
  json_object_object_foreach (call->json, key, value)
    if (!g_strv_contains (dropped, key))
      json_object_object_add (copy, key, json_object_get (value));
  text = json_object_to_json_string_ext (copy, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  if (strlen (text) <= DETAIL_MAX)
    detail = g_strdup (text);
  else
    {
      const char *end = g_utf8_find_prev_char (text, text + DETAIL_MAX);
      g_autofree char *head = g_strndup (text, end - text);

      detail = g_strconcat (head, "…", NULL);
    }
  json_object_put (copy);
  return detail;
}

/**
 * ct_service_audit:
 * @manager: (nullable): the manager id given, if any
 * @detail: (transfer full) (nullable): what the entry says
 *
 * Writes an entry of the audit log with @call's store and till and the
 * time. Returns the entry's time.
 */
int64_t
ct_service_audit (CtStore    *store,
                  CtCall     *call,
                  const char *manager,
                  const char *action,
                  const char *card_no,
                  char       *detail)
{
  g_autoptr(GError) error = NULL;
  CtStoreAudit entry = {
    .created_at = ct_store_now_ms (),
    .store = call->till.store,
    .till = call->till.name,
    .manager = (char *) manager,
    .action = (char *) action,
    .card_no = (char *) card_no,
    .detail = detail,
  };

  if (!ct_store_audit_add (store, &entry, &error))
    g_warning ("audit: %s", error->message);
  call->audit_id = entry.id;
  g_free (detail);
  return entry.created_at;
}

static int64_t
audit (CtStore    *store,
       CtCall     *call,
       const char *action,
       const char *card_no,
       char       *detail)
{
  return ct_service_audit (store, call, call->cashier ? NULL : call->manager_id, action, card_no, detail);
}

/**
 * ct_service_manager_record:
 *
 * In the committer, after the request's own changes were kept or rolled
 * back: counts a wrong PIN (locking the id at the fifth), clears the count
 * after a right one, and writes the audit log.
 */
void
ct_service_manager_record (CtStore       *store,
                           CtCall        *call,
                           const CtReply *reply)
{
  CtStorePinGuard *guard = &call->manager_guard;
  const char *action = call->route->action != NULL ? call->route->action : call->method;
  const char *card_no = call->card_no != NULL ? call->card_no : call->args[0];
  g_autofree char *who = call->cashier ? g_strdup_printf ("cashier %s: ", call->manager_id) : g_strdup ("");
  g_autoptr(GError) error = NULL;

  switch (call->manager_outcome)
    {
    case CT_MANAGER_OUTCOME_NONE:
      return;
    case CT_MANAGER_OUTCOME_LOCKED:
      audit (store, call, "pin_locked", card_no, g_strdup_printf ("%s%s refused: the id is locked", who, action));
      return;
    case CT_MANAGER_OUTCOME_FAILURE:
      /* Read the count again: the guard row's lock was taken inside the
       * request's savepoint, and rolling the refused request back released
       * it (PostgreSQL), so another process may have counted meanwhile.
       * Read now, the lock holds until the commit. */
      if (!ct_store_pin_guard_get (store, call->guard_id, guard, &error))
        {
          g_warning ("PIN guard: %s", error->message);
          return;
        }
      if (ct_auth_guard_failure (guard, ct_store_now_ms ()))
        audit (store, call, "pin_wrong", card_no,
               g_strdup_printf ("%s%s refused: wrong PIN %d in a row, locked for %" G_GINT64_FORMAT " minutes",
                                who, action, CT_PIN_MAX_FAILURES, ct_auth_lock_ms (guard->lockouts) / 60000));
      else
        audit (store, call, "pin_wrong", card_no,
               g_strdup_printf ("%s%s refused: wrong PIN %d of %d", who, action, guard->failures,
                                CT_PIN_MAX_FAILURES));
      break;
    case CT_MANAGER_OUTCOME_SUCCESS:
      {
        CtStorePinGuard before = *guard;

        ct_auth_guard_success (guard, call->manager_pin);
        if (ct_reply_is_success (reply) && call->audit_id == 0)
          audit (store, call, action, card_no, request_detail (call));
        if (memcmp (&before, guard, sizeof before) == 0)
          return;
      }
      break;
    default:
      g_assert_not_reached ();
    }
  if (!ct_store_pin_guard_put (store, call->guard_id, guard, &error))
    g_warning ("PIN guard: %s", error->message);
}

/* POST /v1/outcomes: a manager's note on a request the service refused,
 * kept in the audit log, with the cash handed back from the drawer if
 * any: the till's open shift then expects that much less cash. */

typedef struct
{
  const char *card_no;
  const char *idempotency_key;
  const char *kind;
  const char *outcome;
  int64_t     cash_given_back;
} OutcomeReq;

/* The cash left the drawer of the till's shift open now, if one is:
 * returns that shift (0: none), or -1 when it could not be kept. */
static int64_t
outcome_cash (CtStore *store,
              CtCall  *call,
              int64_t  amount,
              int64_t  at_ms)
{
  g_autoptr(GError) error = NULL;
  int64_t shift_id = ct_store_shift_at (store, call->till.store, call->till.name, at_ms, &error);

  if (shift_id > 0 && !ct_store_shift_outcome_cash (store, shift_id, amount, call->audit_id, at_ms, &error))
    shift_id = -1;
  if (shift_id < 0)
    g_warning ("outcome cash: %s", error ? error->message : "unknown failure");
  return shift_id;
}

CtReply *
ct_service_parse_outcome (CtService *svc,
                          CtCall    *call)
{
  static const char * const known[] = { "card_no", "idempotency_key", "kind", "outcome", "cash_given_back",
                                        "manager", NULL };
  OutcomeReq *r;
  CtReply *reply = NULL;
  gboolean has_cash = FALSE;

  if ((reply = ct_call_body_object (call)) != NULL
      || (reply = ct_json_refuse_unknown (call->json, "", known)) != NULL)
    return reply;
  r = g_new0 (OutcomeReq, 1);
  call->data = r;
  call->data_free = g_free;
  if (!ct_json_get_string (call->json, "card_no", TRUE, 64, &r->card_no, &reply)
      || !ct_json_get_string (call->json, "idempotency_key", TRUE, 255, &r->idempotency_key, &reply)
      || !ct_json_get_string (call->json, "kind", TRUE, 32, &r->kind, &reply)
      || !ct_json_get_string (call->json, "outcome", TRUE, 1000, &r->outcome, &reply)
      || !ct_json_get_int (call->json, "cash_given_back", FALSE, &has_cash, &r->cash_given_back, &reply))
    return reply;
  if (r->cash_given_back < 0 || r->cash_given_back > CT_MONEY_MAX)
    return ct_reply_error (422, "invalid_amount", "\"cash_given_back\" is an amount of 0 or more");
  return ct_call_take_manager (call);
}

CtReply *
ct_service_apply_outcome (CtService             *svc,
                          CtStore               *store,
                          const CtStoreMerchant *merchant,
                          CtCall                *call)
{
  OutcomeReq *r = call->data;
  json_object *detail, *obj;
  g_autofree char *created_at = NULL;
  int64_t shift_id = 0;
  int64_t at;
  char id[32];
  CtReply *reply;

  if ((reply = ct_call_check_manager (call, store)) != NULL)
    return reply;
  detail = json_object_new_object ();
  json_object_object_add (detail, "idempotency_key", json_object_new_string (r->idempotency_key));
  json_object_object_add (detail, "kind", json_object_new_string (r->kind));
  json_object_object_add (detail, "outcome", json_object_new_string (r->outcome));
  if (r->cash_given_back > 0)
    json_object_object_add (detail, "cash_given_back", json_object_new_int64 (r->cash_given_back));
  at = audit (store, call, "outcome", r->card_no,
         g_strdup (json_object_to_json_string_ext (detail, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)));
  json_object_put (detail);
  if (call->audit_id == 0)
    return ct_reply_error (500, "internal", "The service could not keep the outcome; nothing was changed");
  if (r->cash_given_back > 0 && (shift_id = outcome_cash (store, call, r->cash_given_back, at)) < 0)
    return ct_reply_error (500, "internal", "The service could not keep the outcome; nothing was changed");

  created_at = ct_service_format_time (at);
  g_snprintf (id, sizeof id, "%" G_GINT64_FORMAT, call->audit_id);
  obj = json_object_new_object ();
  json_object_object_add (obj, "audit_id", json_object_new_string (id));
  json_object_object_add (obj, "created_at", json_object_new_string (created_at));
  if (shift_id > 0)
    {
      g_snprintf (id, sizeof id, "%" G_GINT64_FORMAT, shift_id);
      json_object_object_add (obj, "shift_id", json_object_new_string (id));
    }
  else
    json_object_object_add (obj, "shift_id", NULL);
  return ct_reply_new_json (201, obj);
}
