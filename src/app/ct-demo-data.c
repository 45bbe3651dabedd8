/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-demo-data"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "ct-demo-data.h"
#include "ct-embedded.h"

/* Demo members and their history, made through the client core exactly
 * as a till would make them: issued cards, top-ups, payments, a refund,
 * a manager's balance change and a frozen card; then a cashier at the
 * built-in service, so that the demo till asks who is at it. Runs once
 * per data directory: a second run finds the first member and stops. */

typedef struct
{
  const char *name;
  const char *phone;
  const char *level;
} DemoMember;

static const DemoMember members[] = {
  { "王芳", CT_DEMO_PHONE_1, "Gold" },
  { "李雷", CT_DEMO_PHONE_2, "Silver" },
  { "Anna Schmidt", "15011112222", NULL },
  { "张伟", "13700001111", "Silver" },
};

typedef struct
{
  CtSession  *session;
  CtClient   *client;
  char       *manager_id;
  char       *manager_pin;
  char       *cards[G_N_ELEMENTS (members)];
  char       *refundable;   /* a payment to refund */
  guint       step;
} DemoState;

static void
demo_state_free (gpointer data)
{
  DemoState *state = data;

  g_clear_object (&state->session);
  g_clear_object (&state->client);
  g_free (state->manager_id);
  g_free (state->manager_pin);
  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    g_free (state->cards[i]);
  g_free (state->refundable);
  g_free (state);
}

static void next_step (GTask *task);

static gboolean
step_failed (GTask  *task,
             GError *error)
{
  if (error == NULL)
    return FALSE;

  g_task_return_error (task, error);
  g_object_unref (task);
  return TRUE;
}

static void
find_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  g_autoptr(GPtrArray) found = ct_client_card_find_finish (CT_CLIENT (object), result, &error);

  if (step_failed (task, error))
    return;

  if (found->len > 0)
    {
      /* Made on an earlier run. */
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }

  next_step (task);
}

static void
issue_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  DemoState *state = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(CtCard) card = ct_client_card_issue_finish (CT_CLIENT (object), result, &error);

  if (step_failed (task, error))
    return;

  /* next_step() has already counted the step that issued this card. */
  state->cards[state->step - 3] = g_strdup (card->card_no);
  next_step (task);
}

static void
receipt_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  GTask *task = user_data;
  DemoState *state = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(CtReceipt) receipt = NULL;
  GAsyncResult *res = result;

  /* Every money call has its own _finish; they all hand back a receipt. */
  switch (GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (task), "ct-kind")))
    {
    case CT_TRANSACTION_TOPUP:
      receipt = ct_client_topup_finish (CT_CLIENT (object), res, &error);
      break;
    case CT_TRANSACTION_PAYMENT:
      receipt = ct_client_pay_finish (CT_CLIENT (object), res, &error);
      break;
    case CT_TRANSACTION_REFUND:
      receipt = ct_client_refund_finish (CT_CLIENT (object), res, &error);
      break;
    case CT_TRANSACTION_ADJUSTMENT:
      receipt = ct_client_adjust_finish (CT_CLIENT (object), res, &error);
      break;
    case CT_TRANSACTION_IMPORT:
    default:
      g_assert_not_reached ();
    }

  if (step_failed (task, error))
    return;

  if (receipt->transaction->kind == CT_TRANSACTION_PAYMENT && state->refundable == NULL &&
      g_strcmp0 (receipt->transaction->card_no, state->cards[1]) == 0)
    state->refundable = g_strdup (receipt->transaction->id);

  next_step (task);
}

static void
patch_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  g_autoptr(CtCard) card = ct_client_card_patch_finish (CT_CLIENT (object), result, &error);

  if (step_failed (task, error))
    return;

  next_step (task);
}

static void
topup (GTask *task,
       guint  member,
       guint  package)
{
  DemoState *state = g_task_get_task_data (task);
  g_autoptr(CtMerchant) merchant = ct_client_dup_merchant (state->client);

  g_object_set_data (G_OBJECT (task), "ct-kind", GUINT_TO_POINTER (CT_TRANSACTION_TOPUP));

  if (merchant != NULL && merchant->topup_mode == CT_TOPUP_MODE_FIXED && merchant->packages->len > 0)
    ct_client_topup_package_async (state->client, state->cards[member],
                                   g_ptr_array_index (merchant->packages, MIN (package, merchant->packages->len - 1)),
                                   NULL, receipt_cb, task);
  else
    ct_client_topup_amount_async (state->client, state->cards[member],
                                  merchant ? MAX (merchant->topup_min, 20000) : 20000,
                                  NULL, receipt_cb, task);
}

static void
pay (GTask   *task,
     guint    member,
     int64_t  amount)
{
  DemoState *state = g_task_get_task_data (task);

  g_object_set_data (G_OBJECT (task), "ct-kind", GUINT_TO_POINTER (CT_TRANSACTION_PAYMENT));
  ct_client_pay_async (state->client, state->cards[member], amount, NULL, NULL, receipt_cb, task);
}

/* A cashier is the administrator's to add (cardtill-service cashier add):
 * the demo runs that command on the built-in service's database. */
static void
add_cashier_worker (GTask        *task,
                    gpointer      source,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  CtClient *client = task_data;
  g_autofree char *db = ct_client_get_embedded_db_path (client);
  g_autofree char *bin = ct_embedded_find_service_binary ();
  g_autofree char *pin_path = NULL;
  g_autofree char *err = NULL;
  GError *error = NULL;
  int status = 0;
  gboolean ok;

  if (db == NULL)
    {
      /* A demo against a real service leaves its cashiers alone. */
      g_task_return_boolean (task, TRUE);
      return;
    }
  pin_path = g_strconcat (db, ".cashier-pin", NULL);
  ok = g_file_set_contents_full (pin_path, CT_DEMO_CASHIER_PIN "\n", -1, G_FILE_SET_CONTENTS_CONSISTENT,
                                 0600, &error);
  if (ok)
    {
      const char *argv[] = { bin, "cashier", "add", "--db", db, "--id", CT_DEMO_CASHIER_ID, "--name",
                             CT_DEMO_CASHIER_NAME, "--pin-file", pin_path, NULL };

      ok = g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                         &status, &error)
           && g_spawn_check_wait_status (status, &error);
      g_unlink (pin_path);
      if (!ok && err != NULL && *err != '\0')
        g_prefix_error (&error, "%s: ", g_strstrip (err));
    }
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
merchant_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(CtMerchant) merchant = ct_client_merchant_finish (CT_CLIENT (object), result, NULL);

  /* Without an answer the till learns of the cashier at its next fetch. */
  next_step (task);
}

static void
cashier_added_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  DemoState *state = g_task_get_task_data (task);
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error) && step_failed (task, error))
    return;
  ct_client_merchant_async (state->client, NULL, merchant_cb, task);
}

static void
add_cashier (GTask *task)
{
  DemoState *state = g_task_get_task_data (task);
  g_autoptr(GTask) worker = g_task_new (NULL, NULL, cashier_added_cb, task);

  g_task_set_task_data (worker, g_object_ref (state->client), g_object_unref);
  g_task_run_in_thread (worker, add_cashier_worker);
}

static void
next_step (GTask *task)
{
  DemoState *state = g_task_get_task_data (task);
  guint step = state->step++;
  CtCardPatch patch = { 0 };

  switch (step)
    {
    case 0:
      ct_client_card_find_async (state->client, CT_DEMO_PHONE_1, NULL, NULL, find_cb, task);
      break;
    case 1:
      /* The next steps issue one card each. */
      next_step (task);
      break;
    case 2:
    case 3:
    case 4:
    case 5:
      {
        const DemoMember *m = &members[step - 2];

        ct_client_card_issue_async (state->client, m->name, m->phone, m->level, NULL,
                                    state->manager_id, state->manager_pin, NULL, issue_cb, task);
      }
      break;
    case 6:
      topup (task, 0, 1);
      break;
    case 7:
      topup (task, 1, 0);
      break;
    case 8:
      topup (task, 2, 2);
      break;
    case 9:
      topup (task, 3, 0);
      break;
    case 10:
      pay (task, 0, 3550);
      break;
    case 11:
      pay (task, 1, 4800);
      break;
    case 12:
      pay (task, 0, 1200);
      break;
    case 13:
      pay (task, 2, 12000);
      break;
    case 14:
      g_object_set_data (G_OBJECT (task), "ct-kind", GUINT_TO_POINTER (CT_TRANSACTION_REFUND));
      ct_client_refund_async (state->client, state->cards[1], state->refundable, 0,
                              state->manager_id, state->manager_pin, NULL, receipt_cb, task);
      break;
    case 15:
      g_object_set_data (G_OBJECT (task), "ct-kind", GUINT_TO_POINTER (CT_TRANSACTION_ADJUSTMENT));
      ct_client_adjust_async (state->client, state->cards[0], 500, "Birthday gift",
                              state->manager_id, state->manager_pin, NULL, receipt_cb, task);
      break;
    case 16:
      patch.status = CT_CARD_STATUS_CHANGE_FREEZE;
      ct_client_card_patch_async (state->client, state->cards[3], &patch,
                                  state->manager_id, state->manager_pin, NULL, patch_cb, task);
      break;
    case 17:
      add_cashier (task);
      break;
    default:
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      break;
    }
}

/**
 * ct_demo_data_create_async:
 * @manager_id: the manager of the demo till
 * @manager_pin: their PIN
 *
 * Creates the demo members and their history through the client core,
 * unless an earlier run did.
 */
void
ct_demo_data_create_async (CtSession           *session,
                           const char          *manager_id,
                           const char          *manager_pin,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  DemoState *state = g_new0 (DemoState, 1);

  state->session = g_object_ref (session);
  state->client = g_object_ref (ct_session_get_client (session));
  state->manager_id = g_strdup (manager_id);
  state->manager_pin = g_strdup (manager_pin);
  g_task_set_task_data (task, state, demo_state_free);
  g_task_set_source_tag (task, ct_demo_data_create_async);

  next_step (task);
}

gboolean
ct_demo_data_create_finish (GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
