/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-cli-sync"
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "ct-cli-private.h"
#include "ct-text.h"

static json_object *
entry_json (const CtOutboxEntry *e,
            gint64               now)
{
  json_object *o = json_object_new_object ();

  json_object_object_add (o, "id", json_object_new_int64 (e->id));
  json_object_object_add (o, "kind", json_object_new_string (ct_outbox_kind_to_string (e->kind)));
  json_object_object_add (o, "card", e->card_no ? json_object_new_string (e->card_no) : NULL);
  json_object_object_add (o, "amount", json_object_new_int64 (e->amount));
  json_object_object_add (o, "order_ref",
                          e->order_ref ? json_object_new_string (e->order_ref) : NULL);
  json_object_object_add (o, "idempotency_key", json_object_new_string (e->idempotency_key));
  json_object_object_add (o, "age", json_object_new_int64 ((now - e->created_at) / G_USEC_PER_SEC));
  json_object_object_add (o, "attempts", json_object_new_int (e->attempts));
  json_object_object_add (o, "reason", e->reason ? json_object_new_string (e->reason) : NULL);
  json_object_object_add (o, "service", json_object_new_string (e->service_url));
  return o;
}

static void
print_entries (CtCli      *cli,
               const char *title,
               GPtrArray  *list,
               gint64      now)
{
  printf ("%s: %u\n", title, list->len);
  for (guint i = 0; i < list->len; i++)
    {
      CtOutboxEntry *e = g_ptr_array_index (list, i);
      g_autofree char *amount = ct_cli_format_amount (cli, e->amount);
      g_autofree char *order_ref = ct_text_escape_controls (e->order_ref);
      g_autofree char *reason = ct_text_escape_controls (e->reason);

      printf ("  #%" G_GINT64_FORMAT "  %-11s %-20s %12s  age %" G_GINT64_FORMAT
              " s  key %s%s%s\n",
              e->id, ct_outbox_kind_to_string (e->kind), e->card_no ? e->card_no : "-", amount,
              (now - e->created_at) / G_USEC_PER_SEC, e->idempotency_key,
              e->order_ref ? "  order " : "", order_ref);
      if (e->reason != NULL)
        printf ("      %s\n", reason);
    }
}

static int
show_status (CtCli    *cli,
             CtClient *client,
             gboolean  all)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) pending = NULL;
  g_autoptr(GPtrArray) attention = NULL;
  g_autoptr(GPtrArray) resolved = NULL;
  gint64 now = g_get_real_time ();

  pending = ct_client_outbox_list (client, CT_OUTBOX_STATE_PENDING, &error);
  if (pending != NULL)
    attention = ct_client_outbox_list (client, CT_OUTBOX_STATE_NEEDS_ATTENTION, &error);
  if (attention != NULL && all)
    resolved = ct_client_outbox_list (client, CT_OUTBOX_STATE_RESOLVED, &error);
  if (attention == NULL || (all && resolved == NULL))
    return ct_cli_report_error (cli, error);

  if (cli->json)
    {
      json_object *o = json_object_new_object ();
      json_object *p = json_object_new_array ();
      json_object *a = json_object_new_array ();

      for (guint i = 0; i < pending->len; i++)
        json_object_array_add (p, entry_json (g_ptr_array_index (pending, i), now));
      for (guint i = 0; i < attention->len; i++)
        json_object_array_add (a, entry_json (g_ptr_array_index (attention, i), now));
      json_object_object_add (o, "pending", p);
      json_object_object_add (o, "needs_attention", a);
      if (resolved != NULL)
        {
          json_object *d = json_object_new_array ();

          /* "reason" of a resolved entry is its outcome. */
          for (guint i = 0; i < resolved->len; i++)
            json_object_array_add (d, entry_json (g_ptr_array_index (resolved, i), now));
          json_object_object_add (o, "resolved", d);
        }
      puts (json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN
                                                | JSON_C_TO_STRING_NOSLASHESCAPE));
      json_object_put (o);
    }
  else
    {
      print_entries (cli, "Pending", pending, now);
      print_entries (cli, "Needs attention", attention, now);
      if (resolved != NULL)
        print_entries (cli, "Resolved", resolved, now);
    }
  return CT_EXIT_OK;
}

typedef struct
{
  GAsyncResult *result;
} Waiter;

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Waiter *w = user_data;

  w->result = g_object_ref (result);
}

/* Runs the calls of the client core on their worker and waits here. */
static GAsyncResult *
wait_result (GMainContext *context,
             Waiter       *w)
{
  while (w->result == NULL)
    g_main_context_iteration (context, TRUE);
  return w->result;
}

static void
waiter_clear (Waiter *w)
{
  g_clear_object (&w->result);
}

/* A package top-up re-sent at the package's current terms: quoted, said,
 * and only with --accept-package. */
static CtPackage *
quote_accepted (CtCli         *cli,
                CtClient      *client,
                GMainContext  *context,
                gint64         id,
                GError       **error)
{
  Waiter w = { 0 };
  CtPackage *now;

  ct_client_resend_quote_async (client, id, NULL, on_done, &w);
  now = ct_client_resend_quote_finish (client, wait_result (context, &w), error);
  waiter_clear (&w);
  if (now != NULL)
    {
      g_autofree char *amount = ct_cli_format_amount (cli, now->amount);
      g_autofree char *bonus = ct_cli_format_amount (cli, now->bonus);

      fprintf (stderr, "cardtill-cli: re-sending at the package's current terms: %s, %s with a "
               "bonus of %s\n", now->id, amount, bonus);
    }
  return now;
}

/* "Resolved #7: outcome recorded by manager m1 …": the note the till keeps,
 * which says where the cash handed back went. */
static void
print_resolved (CtClient *client,
                gint64    id)
{
  g_autoptr(GPtrArray) resolved = ct_client_outbox_list (client, CT_OUTBOX_STATE_RESOLVED, NULL);

  for (guint i = 0; resolved != NULL && i < resolved->len; i++)
    {
      const CtOutboxEntry *e = g_ptr_array_index (resolved, i);

      if (e->id == id)
        {
          printf ("Resolved #%" G_GINT64_FORMAT ": %s\n", id, e->reason ? e->reason : "");
          return;
        }
    }
  printf ("Resolved #%" G_GINT64_FORMAT "\n", id);
}

static int
resolve (CtCli     *cli,
         CtClient  *client,
         CtCliArgs *args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autofree char *pin = NULL;
  const char *resend = ct_cli_args_get (args, "resend");
  const char *resolve_id = ct_cli_args_get (args, "resolve");
  const char *manager = ct_cli_args_get (args, "manager");
  const char *note = ct_cli_args_get (args, "note");
  const char *cash_text = ct_cli_args_get (args, "cash-given-back");
  Waiter w = { 0 };
  gint64 id;
  int64_t cash = 0;
  int status = CT_EXIT_OK;

  if (ct_cli_usage_missing (args, resend ? "sync --resend ID --manager M"
                                          : "sync --resolve ID --note TEXT --manager M",
                            "manager", resend ? NULL : "note", NULL) == CT_EXIT_USAGE)
    return CT_EXIT_USAGE;
  if (manager == NULL || (resolve_id != NULL && (note == NULL || *note == '\0'))
      || (resend != NULL && cash_text != NULL))
    return ct_cli_usage_error ("sync --resend ID --manager M [--pin-file F] [--accept-package] | "
                               "sync --resolve ID --note TEXT --manager M [--cash-given-back A] [--pin-file F]");
  if (!g_ascii_string_to_signed (resend ? resend : resolve_id, 10, 1, G_MAXINT64, &id, NULL))
    return ct_cli_usage_error ("an entry id is a number from sync --status");
  /* The cash handed back from the drawer leaves the shift's expected cash. */
  if (cash_text != NULL)
    {
      if (!ct_cli_parse_amount (cli, cash_text, FALSE, &cash, &error))
        return ct_cli_usage_error ("--cash-given-back: %s", error->message);
    }
  /* Both a re-send and a recorded outcome are a manager's act. */
  pin = ct_cli_read_pin (cli, ct_cli_args_get (args, "pin-file"), &error);
  if (pin == NULL)
    return ct_cli_report_error (cli, error);

  g_main_context_push_thread_default (context);
  if (resend != NULL)
    {
      g_autoptr(CtPackage) accepted = NULL;

      if (ct_cli_args_has (args, "accept-package"))
        {
          accepted = quote_accepted (cli, client, context, id, &error);
          if (error != NULL)
            {
              g_main_context_pop_thread_default (context);
              return ct_cli_report_error (cli, error);
            }
        }
      ct_client_resend_accepting_async (client, id, manager, pin, accepted, NULL, on_done, &w);
    }
  else
    ct_client_record_outcome_authorized_async (client, id, manager, pin, note, cash, NULL, on_done, &w);
  wait_result (context, &w);
  g_main_context_pop_thread_default (context);

  if (resend != NULL)
    {
      g_autoptr(CtReceipt) r = ct_client_resend_as_new_finish (client, w.result, &error);

      if (r == NULL && g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_PACKAGE_CHANGED)
          && !ct_cli_args_has (args, "accept-package"))
        {
          /* Nothing was sent: the manager confirms the new terms first. */
          fprintf (stderr, "cardtill-cli: package_changed: %s: re-send with --accept-package\n",
                   error->message);
          status = CT_EXIT_USAGE;
        }
      else if (r == NULL)
        status = ct_cli_report_error (cli, error);
      else
        printf ("Re-sent as a new request (key %s)\n", r->idempotency_key);
    }
  else if (!ct_client_record_outcome_finish (client, w.result, &error))
    status = ct_cli_report_error (cli, error);
  else
    print_resolved (client, id);
  waiter_clear (&w);
  return status;
}

int
ct_cli_cmd_sync (CtCli  *cli,
                 int     argc,
                 char  **argv)
{
  static const char * const spec[] = { "status", "all", "resend=", "resolve=", "note=", "cash-given-back=",
                                       "manager=", "pin-file=", "accept-package", NULL };
  g_auto(CtCliArgs) args = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) pending = NULL;
  guint attention_before, attention_after, settled = 0;
  CtClient *client;

  if (!ct_cli_args_parse (&args, argc, argv, spec, &error))
    return ct_cli_usage_error ("%s", error->message);
  if (args.positional->len != 0)
    return ct_cli_usage_error ("sync [--status] | sync --resend ID | sync --resolve ID");

  if (ct_cli_args_has (&args, "status"))
    {
      client = ct_cli_open_client (cli, FALSE, &error);
      if (client == NULL)
        return ct_cli_report_error (cli, error);
      return show_status (cli, client, ct_cli_args_has (&args, "all"));
    }

  client = ct_cli_get_client (cli, &error);
  if (client == NULL)
    return ct_cli_finish_error (cli, error);
  if (ct_cli_args_has (&args, "resend") || ct_cli_args_has (&args, "resolve"))
    return resolve (cli, client, &args);

  attention_before = ct_client_get_attention_count (client);
  if (!ct_client_sync (client, ct_client_get_config (client)->queue_wait_ms, &settled, NULL,
                       &error))
    return ct_cli_report_error (cli, error);
  pending = ct_client_outbox_list (client, CT_OUTBOX_STATE_PENDING, &error);
  if (pending == NULL)
    return ct_cli_report_error (cli, error);
  {
    g_autoptr(GPtrArray) attention = ct_client_outbox_list (client,
                                                            CT_OUTBOX_STATE_NEEDS_ATTENTION,
                                                            NULL);
    attention_after = attention ? attention->len : 0;
  }
  if (cli->json)
    printf ("{\"settled\": %u, \"pending\": %u, \"needs_attention\": %u}\n", settled,
            pending->len, attention_after);
  else
    printf ("Settled %u; pending %u; needs attention %u\n", settled, pending->len,
            attention_after);
  if (attention_after > attention_before)
    {
      fprintf (stderr, "cardtill-cli: refused: %u queued request(s) were refused by the "
               "service and need attention (see sync --status)\n",
               attention_after - attention_before);
      return CT_EXIT_REFUSED;
    }
  if (pending->len > 0)
    {
      fprintf (stderr, "cardtill-cli: queued: %u request(s) still pending; %s\n", pending->len,
               ct_client_get_connection_state (client) == CT_CONNECTION_OFFLINE
               ? "the service is unreachable, they go when it is back"
               : "the service did not settle them yet");
      return CT_EXIT_NOT_APPLIED;
    }
  return CT_EXIT_OK;
}
