/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-cli-history"
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ct-cli-private.h"

int
ct_cli_cmd_history (CtCli  *cli,
                    int     argc,
                    char  **argv)
{
  static const char * const spec[] = { "date=", "from=", "to=", NULL };
  g_auto(CtCliArgs) args = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *card_no = NULL;
  g_autofree char *cursor = NULL;
  const char *date, *from, *to;
  guint pages = 0, shown = 0;
  CtClient *client;
  int status;

  if (!ct_cli_args_parse (&args, argc, argv, spec, &error))
    return ct_cli_usage_error ("%s", error->message);
  date = ct_cli_args_get (&args, "date");
  from = ct_cli_args_get (&args, "from");
  to = ct_cli_args_get (&args, "to");
  if (args.positional->len != 1 || (date != NULL && (from != NULL || to != NULL))
      || ((from == NULL) != (to == NULL)))
    return ct_cli_usage_error ("history NO [--date YYYY-MM-DD | --from D --to D]");
  if (date != NULL)
    from = to = date;
  if ((from != NULL && !ct_cli_valid_date (from)) || (to != NULL && !ct_cli_valid_date (to)))
    return ct_cli_usage_error ("dates are YYYY-MM-DD");
  status = ct_cli_take_card (cli, &args, 0, &card_no, NULL, &client);
  if (status != CT_EXIT_OK)
    return status;

  /* Follow the cursors: each page's body on its own line with --json. */
  do
    {
      g_autoptr(CtRequest) request = NULL;
      g_autoptr(CtAnswer) answer = NULL;
      g_autoptr(CtHistoryPage) page = NULL;
      gsize len = 0;
      const char *data;

      request = ct_request_history (card_no, from, to, cursor, 500, &error);
      if (request == NULL)
        return ct_cli_report_error (cli, error);
      answer = ct_client_send (client, request, NULL, &error);
      if (answer == NULL)
        return ct_cli_finish_error (cli, error);
      status = ct_cli_finish_answer (cli, answer, NULL);
      if (status != CT_EXIT_OK)
        return status;
      data = g_bytes_get_data (answer->body, &len);
      page = ct_wire_decode_history (data, len, &error);
      if (page == NULL)
        return ct_cli_report_error (cli, error);
      if (!cli->json)
        for (guint i = 0; i < page->transactions->len; i++, shown++)
          ct_cli_print_transaction (cli, g_ptr_array_index (page->transactions, i));
      g_free (cursor);
      cursor = g_strdup (page->next_cursor);
      pages++;
    }
  while (cursor != NULL && pages < 10000);

  if (!cli->json && shown == 0)
    printf ("No transactions\n");
  return CT_EXIT_OK;
}
