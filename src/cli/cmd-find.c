/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-cli-find"
#include "config.h"

#include <stdio.h>

#include "ct-cli-private.h"
#include "ct-text.h"
#include "ct-phone.h"

static gboolean
print_cards (CtCli       *cli,
             const char  *body,
             gsize        len,
             gboolean     print,
             GError     **error)
{
  g_autoptr(GPtrArray) cards = ct_wire_decode_card_list (body, len, error);

  if (cards == NULL)
    return FALSE;
  if (!print)
    return TRUE;
  if (cards->len == 0)
    printf ("No card found\n");
  for (guint i = 0; i < cards->len; i++)
    {
      CtCard *c = g_ptr_array_index (cards, i);
      g_autofree char *balance = ct_cli_format_amount (cli, c->balance);
      g_autofree char *name = ct_text_escape_controls (c->member_name ? c->member_name : "-");
      g_autofree char *phone = ct_text_escape_controls (c->member_phone ? c->member_phone : "-");

      printf ("%s  %-6s  %12s  %s  %s\n", c->card_no, ct_card_status_to_string (c->status),
              balance, name, phone);
    }
  return TRUE;
}

int
ct_cli_cmd_find (CtCli  *cli,
                 int     argc,
                 char  **argv)
{
  static const char * const spec[] = { "phone=", "name=", NULL };
  g_auto(CtCliArgs) args = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtAnswer) answer = NULL;
  g_autofree char *phone_key = NULL;
  const char *phone, *name;
  CtClient *client;

  if (!ct_cli_args_parse (&args, argc, argv, spec, &error))
    return ct_cli_usage_error ("%s", error->message);
  phone = ct_cli_args_get (&args, "phone");
  name = ct_cli_args_get (&args, "name");
  if (args.positional->len != 0 || (phone == NULL) == (name == NULL)
      || (phone ? *phone : *name) == '\0')
    return ct_cli_usage_error ("find --phone P | --name N");
  if (phone != NULL)
    {
      phone_key = ct_phone_search_key (phone, NULL);
      if (phone_key == NULL)
        return ct_cli_usage_error ("find --phone takes a phone number or its last 4 digits, not “%s”",
                                   phone);
      phone = phone_key;
    }
  client = ct_cli_get_client (cli, &error);
  if (client == NULL)
    return ct_cli_finish_error (cli, error);
  answer = ct_client_card_search (client, phone, name, NULL, &error);
  if (answer == NULL)
    return ct_cli_finish_error (cli, error);
  return ct_cli_finish_answer (cli, answer, print_cards);
}
