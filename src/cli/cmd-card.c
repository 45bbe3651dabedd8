/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-cli-card"
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ct-cli-private.h"
#include "ct-phone.h"

static int
card_show (CtCli     *cli,
           CtCliArgs *args)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *card_no = NULL;
  g_autoptr(CtAnswer) answer = NULL;
  CtClient *client;
  int exit_code;

  if (ct_cli_usage_missing (args, "card show NO", "WHAT", "NO", NULL) == CT_EXIT_USAGE)
    return CT_EXIT_USAGE;
  if (args->positional->len != 2)
    return ct_cli_usage_error ("card show NO");
  exit_code = ct_cli_take_card (cli, args, 1, &card_no, NULL, &client);
  if (exit_code != CT_EXIT_OK)
    return exit_code;
  answer = ct_client_card_lookup (client, card_no, NULL, &error);
  if (answer == NULL)
    return ct_cli_finish_error (cli, error);
  if (answer->not_sent && !cli->json)
    {
      g_autoptr(CtCard) cached = ct_client_cached_card (client, card_no);

      /* Unreachable: the last known state, said to be that. */
      if (cached != NULL)
        {
          ct_cli_print_card (cli, cached);
          printf ("(last known state, %" G_GINT64_FORMAT " min old: the service is "
                  "unreachable)\n",
                  (g_get_real_time () - cached->fetched_at) / (60 * G_USEC_PER_SEC));
        }
    }
  return ct_cli_finish_answer (cli, answer, ct_cli_print_card_body);
}

static int
card_issue (CtCli     *cli,
            CtCliArgs *args)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pin = NULL;
  g_autofree char *member_pin = NULL;
  g_autofree char *card_no = NULL;
  g_autofree char *phone_digits = NULL;
  g_autoptr(CtRequest) request = NULL;
  const char *name = ct_cli_args_get (args, "name");
  const char *phone = ct_cli_args_get (args, "phone");
  const char *manager = ct_cli_args_get (args, "manager");
  CtClient *client;

  if (ct_cli_usage_missing (args, "card issue --name NAME --phone PHONE --manager ID", "name",
                            "phone", "manager", NULL) == CT_EXIT_USAGE)
    return CT_EXIT_USAGE;
  if (args->positional->len != 1 || name == NULL || phone == NULL || manager == NULL)
    return ct_cli_usage_error ("card issue --name NAME --phone PHONE [--level L] [--card-no NO] "
                               "[--member-pin] --manager ID [--pin-file F]");
  if (ct_cli_args_get (args, "card-no") != NULL
      && (card_no = ct_request_card_number (ct_cli_args_get (args, "card-no"), &error)) == NULL)
    return ct_cli_report_error (cli, error);
  phone_digits = ct_phone_normalize (phone, &error);
  if (phone_digits == NULL)
    return ct_cli_usage_error ("%s", error->message);
  pin = ct_cli_read_pin (cli, ct_cli_args_get (args, "pin-file"), &error);
  if (pin == NULL)
    return ct_cli_report_error (cli, error);
  if (ct_cli_args_has (args, "member-pin") && (member_pin = ct_cli_read_member_pin (cli, &error)) == NULL)
    return ct_cli_report_error (cli, error);
  client = ct_cli_get_client (cli, &error);
  if (client == NULL)
    return ct_cli_finish_error (cli, error);
  request = ct_request_card_issue (name, phone_digits, ct_cli_args_get (args, "level"), card_no, member_pin,
                                   ct_client_get_operator (client), manager, pin, &error);
  return ct_cli_send (cli, g_steal_pointer (&request), error, ct_cli_print_issued_body);
}

static int
card_patch (CtCli              *cli,
            CtCliArgs          *args,
            CtCardStatusChange  status)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pin = NULL;
  g_autofree char *card_no = NULL;
  g_autofree char *phone_digits = NULL;
  g_autoptr(CtRequest) request = NULL;
  CtCardPatch patch = { 0 };
  const char *manager = ct_cli_args_get (args, "manager");
  CtClient *client;
  int exit_code;

  if (ct_cli_usage_missing (args, "card freeze|unfreeze|edit NO --manager ID", "WHAT", "NO",
                            "manager", NULL) == CT_EXIT_USAGE)
    return CT_EXIT_USAGE;
  if (args->positional->len != 2 || manager == NULL)
    return ct_cli_usage_error ("card freeze|unfreeze|edit NO [--name N] [--phone P] [--level L] "
                               "--manager ID [--pin-file F]");
  patch.status = status;
  patch.member_name = ct_cli_args_get (args, "name");
  patch.member_phone = ct_cli_args_get (args, "phone");
  patch.level = ct_cli_args_get (args, "level");
  if (status == CT_CARD_STATUS_CHANGE_NONE && patch.member_name == NULL
      && patch.member_phone == NULL && patch.level == NULL)
    return ct_cli_usage_error ("card edit NO needs --name, --phone or --level");
  if (patch.member_phone != NULL && *patch.member_phone != '\0')
    {
      phone_digits = ct_phone_normalize (patch.member_phone, &error);
      if (phone_digits == NULL)
        return ct_cli_usage_error ("%s", error->message);
      patch.member_phone = phone_digits;
    }
  exit_code = ct_cli_take_card (cli, args, 1, &card_no, &pin, &client);
  if (exit_code != CT_EXIT_OK)
    return exit_code;
  request = ct_request_card_patch (card_no, &patch, manager, pin, &error);
  return ct_cli_send (cli, g_steal_pointer (&request), error, ct_cli_print_card_body);
}

/* card member-pin NO: the PIN the member chose, typed by the member, set
 * by a manager. */
static int
card_member_pin (CtCli     *cli,
                 CtCliArgs *args)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pin = NULL;
  g_autofree char *member_pin = NULL;
  g_autofree char *card_no = NULL;
  g_autoptr(CtRequest) request = NULL;
  const char *manager = ct_cli_args_get (args, "manager");
  CtClient *client;
  int exit_code;

  if (ct_cli_usage_missing (args, "card member-pin NO --manager ID", "WHAT", "NO", "manager",
                            NULL) == CT_EXIT_USAGE)
    return CT_EXIT_USAGE;
  if (args->positional->len != 2 || manager == NULL)
    return ct_cli_usage_error ("card member-pin NO --manager ID [--pin-file F]");
  exit_code = ct_cli_take_card (cli, args, 1, &card_no, &pin, NULL);
  if (exit_code != CT_EXIT_OK)
    return exit_code;
  if ((member_pin = ct_cli_read_member_pin (cli, &error)) == NULL)
    return ct_cli_report_error (cli, error);
  client = ct_cli_get_client (cli, &error);
  if (client == NULL)
    return ct_cli_finish_error (cli, error);
  request = ct_request_member_pin (card_no, member_pin, ct_client_get_operator (client), manager, pin, &error);
  return ct_cli_send (cli, g_steal_pointer (&request), error, ct_cli_print_card_body);
}

static gboolean
print_replaced (CtCli       *cli,
                const char  *body,
                gsize        len,
                gboolean     print,
                GError     **error)
{
  g_autoptr(CtCard) card = NULL;
  g_autoptr(CtCard) replaced = NULL;
  g_autofree char *moved = NULL;

  if (!ct_wire_decode_card_replaced (body, len, &card, &replaced, error))
    return FALSE;
  if (!print)
    return TRUE;
  ct_cli_print_card (cli, card);
  moved = ct_cli_format_amount (cli, card->balance);
  printf ("Replaces lost card %s, now closed: moved %s and %" G_GINT64_FORMAT " points\n", replaced->card_no, moved,
          (gint64) card->points);
  /* Scripts take the new number from the last line. */
  printf ("%s\n", card->card_no);
  return TRUE;
}

/* card replace NO [--new NO2]: a lost card (挂失补卡) replaced by a new
 * card for the same member, with its balance, points and level. */
static int
card_replace (CtCli     *cli,
              CtCliArgs *args)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pin = NULL;
  g_autofree char *card_no = NULL;
  g_autoptr(CtRequest) request = NULL;
  const char *manager = ct_cli_args_get (args, "manager");
  const char *new_no = ct_cli_args_get (args, "new");
  CtClient *client;
  int exit_code;

  if (ct_cli_usage_missing (args, "card replace NO --manager ID", "WHAT", "NO", "manager", NULL) == CT_EXIT_USAGE)
    return CT_EXIT_USAGE;
  if (args->positional->len != 2 || manager == NULL)
    return ct_cli_usage_error ("card replace NO [--new NO] --manager ID [--pin-file F]");
  exit_code = ct_cli_take_card (cli, args, 1, &card_no, &pin, &client);
  if (exit_code != CT_EXIT_OK)
    return exit_code;
  request = ct_request_card_replace (card_no, new_no, ct_client_get_operator (client), manager, pin, &error);
  if (request == NULL)
    return ct_cli_report_error (cli, error);
  return ct_cli_send (cli, g_steal_pointer (&request), error, print_replaced);
}

int
ct_cli_cmd_card (CtCli  *cli,
                 int     argc,
                 char  **argv)
{
  static const char * const spec[] = { "name=", "phone=", "level=", "card-no=", "manager=",
                                       "pin-file=", "member-pin", "new=", NULL };
  g_auto(CtCliArgs) args = { 0 };
  g_autoptr(GError) error = NULL;
  const char *sub;

  if (!ct_cli_args_parse (&args, argc, argv, spec, &error))
    return ct_cli_usage_error ("%s", error->message);
  if (args.positional->len < 1)
    return ct_cli_usage_error ("card show|issue|freeze|unfreeze|edit|member-pin|replace ...");
  sub = g_ptr_array_index (args.positional, 0);
  if (strcmp (sub, "show") == 0)
    return card_show (cli, &args);
  if (strcmp (sub, "issue") == 0)
    return card_issue (cli, &args);
  if (strcmp (sub, "freeze") == 0)
    return card_patch (cli, &args, CT_CARD_STATUS_CHANGE_FREEZE);
  if (strcmp (sub, "unfreeze") == 0)
    return card_patch (cli, &args, CT_CARD_STATUS_CHANGE_UNFREEZE);
  if (strcmp (sub, "edit") == 0)
    return card_patch (cli, &args, CT_CARD_STATUS_CHANGE_NONE);
  if (strcmp (sub, "member-pin") == 0)
    return card_member_pin (cli, &args);
  if (strcmp (sub, "replace") == 0)
    return card_replace (cli, &args);
  return ct_cli_usage_error ("card show|issue|freeze|unfreeze|edit|member-pin|replace ...: unknown \"%s\"", sub);
}
