/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-service-member-pin"
#include "config.h"

#include "ct-manager-pin.h"
#include "ct-service-auth.h"
#include "ct-service.h"

/* The member's PIN (docs/api.md, "Member consent"): the member types it on
 * the till's keypad, and it consents to a payment above the merchant's
 * consent_over. The service keeps only its salted slow hash, like a
 * manager's PIN, and guards it the same way: wrong PINs are counted per
 * card and lock it for longer each time (5 minutes, 30 minutes, then 24
 * hours; a right PIN forgets them), the count survives the refusal's
 * rollback, and each refused PIN goes to the audit log with the card, the
 * till and the time. The PIN itself is never stored, logged or answered.
 *
 * As for managers, the slow hash runs in a worker thread
 * (ct_service_member_pin_prepare()), never in the committer, which only
 * checks again when the stored hash changed in between. */

/**
 * ct_call_take_member_pin:
 * @sets: %TRUE where the request sets the card's PIN (a card issue, a PIN
 *   change), %FALSE where it pays with it
 *
 * Reads "member_pin" from the body, if there is one. Refuses (400) a PIN
 * that is not CT_MEMBER_PIN_DIGITS digits.
 */
CtReply *
ct_call_take_member_pin (CtCall   *call,
                         gboolean  sets)
{
  g_autoptr(GError) error = NULL;
  const char *pin = NULL;
  CtReply *reply = NULL;

  if (!ct_json_get_string (call->json, "member_pin", FALSE, 64, &pin, &reply))
    return reply;
  if (pin == NULL)
    return NULL;
  if (!ct_member_pin_check (pin, &error))
    return ct_reply_error (400, "bad_request", "\"member_pin\": %s", error->message);
  call->member_pin = g_strdup (pin);
  call->member_pin_sets = sets;
  return NULL;
}

/* The card's number as the service stores it, read in a worker thread:
 * the path's card number normalised by the merchant's rule. */
static char *
path_card_no (CtStore *store,
              CtCall  *call)
{
  g_auto(CtStoreMerchant) merchant = { 0 };
  g_autofree char *no = NULL;
  CtReply *reply;

  if (call->args[0] == NULL || !ct_store_get_merchant (store, &merchant, NULL))
    return NULL;
  reply = ct_call_card_number (call, call->args[0], &merchant, &no);
  ct_reply_free (reply);
  return g_steal_pointer (&no);
}

/**
 * ct_service_member_pin_prepare:
 *
 * In a worker thread, after the parse: hashes a PIN the request sets, or
 * checks the PIN a payment carries against the card's stored hash, so
 * the slow hash never holds up the committer.
 */
void
ct_service_member_pin_prepare (CtStore *store,
                               CtCall  *call)
{
  g_autofree char *card_no = NULL;
  g_autofree char *hash = NULL;
  CtStorePinGuard guard;

  if (call->member_pin == NULL)
    return;
  if (call->member_pin_sets)
    {
      call->member_pin_hash = ct_auth_pin_hash (call->member_pin, NULL);
      return;
    }
  if ((card_no = path_card_no (store, call)) == NULL
      || !ct_store_member_pin_get (store, card_no, &hash, &guard, NULL)
      || hash == NULL)
    return;
  /* A locked card gets 429 whatever the PIN: no slow hash for it. */
  if (guard.locked_until > ct_store_now_ms ())
    return;
  call->member_pin_verified = ct_auth_pin_verify (call->member_pin, hash);
  call->member_pin_hash = g_steal_pointer (&hash);
  call->member_pin_card = g_steal_pointer (&card_no);
}

static CtReply *
wrong_pin (CtCall                *call,
           const CtStorePinGuard *guard,
           int64_t                now)
{
  CtStorePinGuard next = *guard;

  call->member_pin_outcome = CT_MANAGER_OUTCOME_FAILURE;
  /* What the count will be once ct_service_member_pin_record() has
   * counted this one, to say it to the cashier. */
  if (ct_auth_guard_failure (&next, now))
    return ct_reply_error (403, "member_pin_wrong",
                           "The member's PIN is wrong, %d times in a row: it is locked for %" G_GINT64_FORMAT
                           " minutes. The member can pay with the payment code on their page",
                           CT_PIN_MAX_FAILURES, ct_auth_lock_ms (next.lockouts) / 60000);
  return ct_reply_error (403, "member_pin_wrong",
                         "The member's PIN is wrong (%d of %d tries before it locks); ask the member to type it again",
                         next.failures, CT_PIN_MAX_FAILURES);
}

/**
 * ct_call_check_member_pin:
 * @card_no: the paying card, as stored
 *
 * In the committer, inside the payment's savepoint: NULL when the PIN
 * @call carries is the card's; otherwise 403 member_pin_not_set, 429
 * member_pin_locked with Retry-After, or 403 member_pin_wrong. The
 * outcome is recorded by ct_service_member_pin_record() after the
 * request's own changes were kept or rolled back.
 */
CtReply *
ct_call_check_member_pin (CtCall     *call,
                          CtStore    *store,
                          const char *card_no)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = NULL;
  int64_t now = ct_store_now_ms ();
  CtStorePinGuard *guard = &call->member_pin_guard;

  g_assert (call->member_pin != NULL && !call->member_pin_sets);

  if (!ct_store_member_pin_get (store, card_no, &hash, guard, &error))
    {
      g_warning ("member PIN: %s", error->message);
      return ct_reply_error (500, "internal", "The service could not check the PIN; nothing was changed");
    }
  if (hash == NULL)
    return ct_reply_error (403, "member_pin_not_set",
                           "Card %s has no member PIN: the member can pay with the payment code on their page, "
                           "or a manager can set a PIN", card_no);
  if (guard->locked_until > now)
    {
      int64_t seconds = (guard->locked_until - now + 999) / 1000;
      CtReply *r = ct_reply_error (429, "member_pin_locked",
                                   "The member PIN of card %s is locked after %d wrong PINs; try again in %"
                                   G_GINT64_FORMAT " minutes, or pay with the payment code on the member's page",
                                   card_no, CT_PIN_MAX_FAILURES, (seconds + 59) / 60);

      r->retry_after = (guint) MIN (seconds, G_MAXUINT);
      call->member_pin_outcome = CT_MANAGER_OUTCOME_LOCKED;
      g_free (call->member_pin_card);
      call->member_pin_card = g_strdup (card_no);
      g_clear_pointer (&call->member_pin_hash, g_free);
      return r;
    }
  /* Checked against this hash in the worker thread; again only if the PIN
   * was changed since, or the card was locked then. */
  if (g_strcmp0 (call->member_pin_card, card_no) != 0 || g_strcmp0 (call->member_pin_hash, hash) != 0)
    {
      call->member_pin_verified = ct_auth_pin_verify (call->member_pin, hash);
      g_free (call->member_pin_hash);
      call->member_pin_hash = g_steal_pointer (&hash);
      g_free (call->member_pin_card);
      call->member_pin_card = g_strdup (card_no);
    }
  if (!call->member_pin_verified)
    return wrong_pin (call, guard, now);
  call->member_pin_outcome = CT_MANAGER_OUTCOME_SUCCESS;
  return NULL;
}

/**
 * ct_call_put_member_pin:
 *
 * In the committer: gives @card_no the PIN @call sets (hashed in the
 * worker), forgetting the wrong PINs and locks of the old one. Does
 * nothing for a request without a PIN.
 */
gboolean
ct_call_put_member_pin (CtCall      *call,
                        CtStore     *store,
                        const char  *card_no,
                        GError     **error)
{
  if (call->member_pin == NULL)
    return TRUE;
  g_assert (call->member_pin_sets);
  if (call->member_pin_hash == NULL)
    {
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED, "cannot hash the member PIN");
      return FALSE;
    }
  return ct_store_member_pin_put (store, card_no, call->member_pin_hash, ct_store_now_ms (), error);
}

static void
audit (CtStore    *store,
       CtCall     *call,
       const char *action,
       char       *detail)
{
  ct_service_audit (store, call, NULL, action, call->member_pin_card, detail);
}

/**
 * ct_service_member_pin_record:
 *
 * In the committer, after the request's own changes were kept or rolled
 * back: counts a wrong member PIN (locking the card's PIN at the fifth)
 * and writes it to the audit log, or forgets the wrong ones after a
 * right PIN.
 */
void
ct_service_member_pin_record (CtStore *store,
                              CtCall  *call)
{
  CtStorePinGuard *guard = &call->member_pin_guard;
  g_autofree char *hash = NULL;
  g_autoptr(GError) error = NULL;

  switch (call->member_pin_outcome)
    {
    case CT_MANAGER_OUTCOME_NONE:
      return;
    case CT_MANAGER_OUTCOME_LOCKED:
      audit (store, call, "member_pin_locked", g_strdup ("payment refused: the member PIN is locked"));
      return;
    case CT_MANAGER_OUTCOME_FAILURE:
      /* Read the count again: rolling the refused payment back released
       * the row's lock (PostgreSQL), so another process may have counted
       * meanwhile. Read now, the lock holds until the commit. */
      if (!ct_store_member_pin_get (store, call->member_pin_card, &hash, guard, &error) || hash == NULL)
        {
          g_warning ("member PIN guard: %s", error != NULL ? error->message : "the PIN is gone");
          return;
        }
      if (ct_auth_guard_failure (guard, ct_store_now_ms ()))
        audit (store, call, "member_pin_wrong",
               g_strdup_printf ("payment refused: wrong member PIN %d in a row, locked for %" G_GINT64_FORMAT
                                " minutes", CT_PIN_MAX_FAILURES, ct_auth_lock_ms (guard->lockouts) / 60000));
      else
        audit (store, call, "member_pin_wrong",
               g_strdup_printf ("payment refused: wrong member PIN %d of %d", guard->failures,
                                CT_PIN_MAX_FAILURES));
      break;
    case CT_MANAGER_OUTCOME_SUCCESS:
      if (guard->failures == 0 && guard->lockouts == 0 && guard->locked_until == 0)
        return;
      *guard = (CtStorePinGuard) { .pin_short = -1 };
      break;
    default:
      g_assert_not_reached ();
    }
  if (!ct_store_member_pin_guard_put (store, call->member_pin_card, guard, &error))
    g_warning ("member PIN guard: %s", error->message);
}
