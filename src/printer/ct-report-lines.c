/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-report-lines"
#include "config.h"

#include <glib/gi18n.h>
#include <json-c/json.h>

#include "ct-client.h"
#include "ct-format.h"
#include "ct-money.h"
#include "ct-report-lines.h"
#include "ct-text.h"

/* The lines of a shift report and a day report, from the service's answer
 * (docs/api.md): one home for what the app's screens, `cardtill-cli shift
 * report`, `cardtill-cli report day` and the receipt printer show. */

static const char * const tenders[] = { "cash", "wechat", "alipay", "bank_card", "other" };

static json_object *
member (json_object *obj,
        const char  *key)
{
  json_object *v = NULL;

  if (obj == NULL || !json_object_object_get_ex (obj, key, &v))
    return NULL;
  return v;
}

static int64_t
int_member (json_object *obj,
            const char  *key)
{
  json_object *v = member (obj, key);

  return v != NULL ? json_object_get_int64 (v) : 0;
}

static const char *
str_member (json_object *obj,
            const char  *key)
{
  json_object *v = member (obj, key);

  return v != NULL && json_object_is_type (v, json_type_string) ? json_object_get_string (v) : NULL;
}

static void
add_money (GPtrArray   *lines,
           const char  *label,
           int64_t      amount,
           int          mu,
           const char  *cur)
{
  ct_receipt_lines_add (lines, label, ct_format_money (amount, mu, cur));
}

/* "3 × ¥300.00" */
static void
add_kind (GPtrArray   *lines,
          const char  *label,
          json_object *totals,
          const char  *key,
          int          mu,
          const char  *cur)
{
  g_autofree char *money = ct_format_money (int_member (totals, key), mu, cur);

  ct_receipt_lines_add (lines, label, g_strdup_printf ("%" G_GINT64_FORMAT " × %s",
                                                       (gint64) int_member (member (totals, "counts"), key),
                                                       money));
}

/* The totals of a till, a store or a shift: by kind, then by tender
 * (only the tenders that moved). */
static void
add_totals (GPtrArray   *lines,
            json_object *totals,
            int          mu,
            const char  *cur)
{
  json_object *by_tender = member (totals, "tenders");

  add_kind (lines, _("Top-ups"), totals, "topups", mu, cur);
  add_money (lines, _("Bonus given"), int_member (totals, "bonus"), mu, cur);
  add_kind (lines, _("Payments"), totals, "payments", mu, cur);
  add_kind (lines, _("Refunds"), totals, "refunds", mu, cur);
  add_kind (lines, _("Voids"), totals, "voids", mu, cur);
  add_kind (lines, _("Adjustments"), totals, "adjustments", mu, cur);
  /* "300 points in 2 payments: ¥3.00": points that paid part of payments. */
  if (int_member (totals, "points_redeemed") != 0)
    {
      g_autofree char *value = ct_format_money (int_member (totals, "redeemed_value"), mu, cur);
      g_autofree char *count = g_strdup_printf ("%" G_GINT64_FORMAT,
                                                (gint64) int_member (member (totals, "counts"), "points_redeemed"));
      g_autofree char *points = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) int_member (totals, "points_redeemed"));

      ct_receipt_lines_add (lines, _("Points redeemed"),
                            g_strdup_printf (_("%s points in %s payments: %s"), points, count, value));
    }
  for (guint i = 0; i < G_N_ELEMENTS (tenders); i++)
    {
      json_object *t = member (by_tender, tenders[i]);
      g_autofree char *name = NULL;

      if (int_member (t, "taken") == 0 && int_member (t, "given_back") == 0 && i != 0)
        continue;
      name = ct_format_tender (tenders[i]);
      ct_receipt_lines_add (lines, name, ct_format_signed_money (int_member (t, "net"), mu, cur));
    }
  /* The rests of split payments, which other tenders took (a service from
   * before split payments has none). */
  for (guint i = 0; i < G_N_ELEMENTS (tenders); i++)
    {
      json_object *t = member (member (totals, "rests"), tenders[i]);
      g_autofree char *name = NULL;
      g_autofree char *label = NULL;

      if (t == NULL || (int_member (t, "taken") == 0 && int_member (t, "given_back") == 0))
        continue;
      name = ct_format_tender (tenders[i]);
      /* TRANSLATORS: the rest of split payments taken by a tender, e.g. "Split rest · Cash" */
      label = g_strdup_printf (_("Split rest · %s"), name);
      ct_receipt_lines_add (lines, label,
                            ct_format_signed_money (int_member (t, "net"), mu, cur));
    }
}

static json_object *
parse (const char  *body,
       gsize        len,
       GError     **error)
{
  json_tokener *tok = json_tokener_new ();
  json_object *root = json_tokener_parse_ex (tok, body, (int) len);

  json_tokener_free (tok);
  if (root == NULL || !json_object_is_type (root, json_type_object))
    {
      json_object_put (root);
      g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_BAD_ANSWER,
                           "the service's report is not a JSON object");
      return NULL;
    }
  return root;
}

static void
add_shift (GPtrArray   *lines,
           json_object *shift,
           json_object *report,
           int          mu,
           const char  *cur)
{
  const char *closed = str_member (shift, "closed_at");

  ct_receipt_lines_add (lines, _("Shift"), g_strdup (str_member (shift, "id")));
  ct_receipt_lines_add (lines, _("Till"), g_strdup_printf ("%s / %s", str_member (shift, "store"),
                                                           str_member (shift, "till")));
  ct_receipt_lines_add (lines, _("Cashier"), g_strdup (str_member (shift, "operator")));
  ct_receipt_lines_add (lines, _("Opened"), ct_format_local_time (str_member (shift, "opened_at"),
                                                                  "%Y-%m-%d %H:%M"));
  if (closed != NULL)
    {
      ct_receipt_lines_add (lines, _("Closed"), ct_format_local_time (closed, "%Y-%m-%d %H:%M"));
      ct_receipt_lines_add (lines, _("Closed by"), g_strdup (str_member (shift, "closed_by")));
    }
  else
    ct_receipt_lines_add (lines, _("Closed"), g_strdup (_("still open")));
  if (report == NULL)
    return;
  add_totals (lines, report, mu, cur);
  add_money (lines, _("Float"), int_member (report, "float"), mu, cur);
  if (int_member (report, "outcome_cash") != 0)
    ct_receipt_lines_add (lines, _("Cash handed back (outcomes)"),
                          ct_format_signed_money (-int_member (report, "outcome_cash"), mu, cur));
  add_money (lines, _("Expected cash"), int_member (report, "expected_cash"), mu, cur);
  if (member (report, "counted_cash") != NULL)
    {
      add_money (lines, _("Counted cash"), int_member (report, "counted_cash"), mu, cur);
      ct_receipt_lines_add (lines, _("Variance"),
                            ct_format_signed_money (int_member (report, "variance"), mu, cur));
    }
}

/**
 * ct_report_shift_lines:
 * @body: the service's {"shift", "report"} answer
 * @out_title: (out): the report's title
 *
 * Returns: (transfer full) (element-type CtReceiptLine): the shift report's
 *   lines, or NULL when @body is not one.
 */
GPtrArray *
ct_report_shift_lines (const char  *body,
                       gsize        len,
                       int          minor_units,
                       const char  *currency,
                       char       **out_title,
                       GError     **error)
{
  json_object *root = parse (body, len, error);
  GPtrArray *lines;

  if (root == NULL)
    return NULL;
  if (member (root, "shift") == NULL)
    {
      json_object_put (root);
      g_set_error_literal (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_BAD_ANSWER,
                           "the service's answer has no shift");
      return NULL;
    }
  lines = ct_receipt_lines_new ();
  add_shift (lines, member (root, "shift"), member (root, "report"), minor_units, currency);
  if (out_title != NULL)
    *out_title = g_strdup (_("Shift Report"));
  json_object_put (root);
  return lines;
}

/**
 * ct_report_day_lines:
 * @body: the service's GET /v1/reports/day answer
 * @out_title: (out): the report's title, with its date
 *
 * Returns: (transfer full) (element-type CtReceiptLine): the day's totals,
 *   each store and till, then each shift with its variance.
 */
GPtrArray *
ct_report_day_lines (const char  *body,
                     gsize        len,
                     int          minor_units,
                     const char  *currency,
                     char       **out_title,
                     GError     **error)
{
  json_object *root = parse (body, len, error);
  json_object *stores, *shifts;
  GPtrArray *lines;

  if (root == NULL)
    return NULL;
  lines = ct_receipt_lines_new ();
  ct_receipt_lines_add (lines, _("Date"), g_strdup (str_member (root, "date")));
  add_totals (lines, member (root, "totals"), minor_units, currency);
  stores = member (root, "stores");
  for (gsize i = 0; stores != NULL && i < json_object_array_length (stores); i++)
    {
      json_object *store = json_object_array_get_idx (stores, i);
      json_object *tills = member (store, "tills");

      ct_receipt_lines_add (lines, _("Store"), g_strdup (str_member (store, "store")));
      add_totals (lines, member (store, "totals"), minor_units, currency);
      for (gsize j = 0; tills != NULL && j < json_object_array_length (tills); j++)
        {
          json_object *till = json_object_array_get_idx (tills, j);

          ct_receipt_lines_add (lines, _("Till"), g_strdup_printf ("%s / %s", str_member (store, "store"),
                                                                   str_member (till, "till")));
          add_totals (lines, member (till, "totals"), minor_units, currency);
        }
    }
  shifts = member (root, "shifts");
  for (gsize i = 0; shifts != NULL && i < json_object_array_length (shifts); i++)
    {
      json_object *shift = json_object_array_get_idx (shifts, i);
      json_object *report = member (shift, "report");
      g_autofree char *opened = ct_format_local_time (str_member (shift, "opened_at"), "%H:%M");
      g_autofree char *label = g_strdup_printf (_("Shift %s (%s, %s/%s, %s)"), str_member (shift, "id"),
                                                str_member (shift, "operator"), str_member (shift, "store"),
                                                str_member (shift, "till"), opened);

      if (member (report, "variance") != NULL)
        {
          g_autofree char *variance = ct_format_signed_money (int_member (report, "variance"),
                                                              minor_units, currency);

          ct_receipt_lines_add (lines, label, g_strdup_printf (_("variance %s"), variance));
        }
      else
        ct_receipt_lines_add (lines, label, g_strdup (_("still open")));
    }
  if (out_title != NULL)
    *out_title = g_strdup_printf (_("Day Report %s"), str_member (root, "date"));
  json_object_put (root);
  return lines;
}

/**
 * ct_report_day_is_empty:
 * @body: the service's GET /v1/reports/day answer
 *
 * Returns: whether the day had no transaction and no shift.
 */
gboolean
ct_report_day_is_empty (const char *body,
                        gsize       len)
{
  json_object *root = parse (body, len, NULL);
  json_object *shifts;
  gboolean empty;

  if (root == NULL)
    return TRUE;
  shifts = member (root, "shifts");
  empty = int_member (member (root, "totals"), "count") == 0
          && (shifts == NULL || json_object_array_length (shifts) == 0);
  json_object_put (root);
  return empty;
}

/* The day report as CSV */

static const char * const kinds[] = { "topups", "payments", "refunds", "voids", "adjustments", "imports" };

/* A CSV cell: quoted when it holds a separator, and a cell that starts
 * like a formula is neutralised, as in import reports. */
static void
csv_cell (GString    *out,
          const char *text)
{
  g_autofree char *safe = ct_text_escape_controls (text);

  if (strchr ("=+-@", safe[0]) != NULL && safe[0] != '\0')
    g_string_append_c (out, '\'');
  if (strpbrk (safe, ",\"") != NULL)
    {
      g_autofree char *quoted = NULL;
      g_auto(GStrv) parts = g_strsplit (safe, "\"", -1);

      quoted = g_strjoinv ("\"\"", parts);
      g_string_append_printf (out, "\"%s\"", quoted);
    }
  else
    g_string_append (out, safe);
}

static void
csv_row (int          mu,
         GString     *out,
         const char  *scope,
         const char  *store,
         const char  *till,
         json_object *totals)
{
  csv_cell (out, scope);
  g_string_append_c (out, ',');
  csv_cell (out, store ? store : "");
  g_string_append_c (out, ',');
  csv_cell (out, till ? till : "");
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *amount = ct_money_format_plain (int_member (totals, kinds[i]), mu);

      g_string_append_printf (out, ",%" G_GINT64_FORMAT ",%s",
                              (gint64) int_member (member (totals, "counts"), kinds[i]), amount);
    }
  for (guint i = 0; i < G_N_ELEMENTS (tenders); i++)
    {
      g_autofree char *net = ct_money_format_plain (int_member (member (member (totals, "tenders"), tenders[i]),
                                                                    "net"), mu);

      g_string_append_printf (out, ",%s", net);
    }
  /* The rests of split payments, after the columns a spreadsheet knew. */
  for (guint i = 0; i < G_N_ELEMENTS (tenders); i++)
    {
      g_autofree char *net = ct_money_format_plain (int_member (member (member (totals, "rests"), tenders[i]),
                                                                    "net"), mu);

      g_string_append_printf (out, ",%s", net);
    }
  g_string_append_c (out, '\n');
}

/* One row for the merchant, one per store, one per till; amounts in major
 * units like every amount the CLI prints. */
static char *
day_csv (int          mu,
         json_object *root)
{
  g_autoptr(GString) out = g_string_new ("scope,store,till");
  json_object *stores = member (root, "stores");
  json_object *shifts = member (root, "shifts");

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    g_string_append_printf (out, ",%s_count,%s", kinds[i], kinds[i]);
  for (guint i = 0; i < G_N_ELEMENTS (tenders); i++)
    g_string_append_printf (out, ",%s_net", tenders[i]);
  for (guint i = 0; i < G_N_ELEMENTS (tenders); i++)
    g_string_append_printf (out, ",rest_%s_net", tenders[i]);
  g_string_append_c (out, '\n');
  csv_row (mu, out, "day", NULL, NULL, member (root, "totals"));
  for (gsize i = 0; stores != NULL && i < json_object_array_length (stores); i++)
    {
      json_object *store = json_object_array_get_idx (stores, i);
      json_object *tills = member (store, "tills");
      const char *name = json_object_get_string (member (store, "store"));

      csv_row (mu, out, "store", name, NULL, member (store, "totals"));
      for (gsize j = 0; tills != NULL && j < json_object_array_length (tills); j++)
        {
          json_object *till = json_object_array_get_idx (tills, j);

          csv_row (mu, out, "till", name, json_object_get_string (member (till, "till")),
                   member (till, "totals"));
        }
    }
  /* The shifts follow as a second table. */
  g_string_append (out, "\nshift,store,till,operator,opened_at,closed_at,float,expected_cash,counted_cash,variance\n");
  for (gsize i = 0; shifts != NULL && i < json_object_array_length (shifts); i++)
    {
      json_object *s = json_object_array_get_idx (shifts, i);
      json_object *r = member (s, "report");
      const char *closed = json_object_get_string (member (s, "closed_at"));
      g_autofree char *opened_local = ct_format_local_time (json_object_get_string (member (s, "opened_at")),
                                                            "%Y-%m-%d %H:%M:%S");
      g_autofree char *closed_local = closed ? ct_format_local_time (closed, "%Y-%m-%d %H:%M:%S") : g_strdup ("");
      g_autofree char *fl = ct_money_format_plain (int_member (r, "float"), mu);
      g_autofree char *expected = ct_money_format_plain (int_member (r, "expected_cash"), mu);
      g_autofree char *counted = closed ? ct_money_format_plain (int_member (r, "counted_cash"), mu) : g_strdup ("");
      g_autofree char *variance = closed ? ct_money_format_plain (int_member (r, "variance"), mu) : g_strdup ("");

      csv_cell (out, json_object_get_string (member (s, "id")));
      g_string_append_c (out, ',');
      csv_cell (out, json_object_get_string (member (s, "store")));
      g_string_append_c (out, ',');
      csv_cell (out, json_object_get_string (member (s, "till")));
      g_string_append_c (out, ',');
      csv_cell (out, json_object_get_string (member (s, "operator")));
      g_string_append_printf (out, ",%s,%s,%s,%s,%s,%s\n", opened_local, closed_local, fl, expected, counted,
                              variance);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/**
 * ct_report_day_csv:
 * @body: the service's GET /v1/reports/day answer
 *
 * Returns: the day as CSV for a spreadsheet: one row for the day, each
 *   store and each till (counts and amounts by kind, net money by tender,
 *   then the net rests of split payments by tender, amounts in major
 *   units), then a table of the shifts; NULL when @body
 *   is not a report.
 */
char *
ct_report_day_csv (const char  *body,
                   gsize        len,
                   int          minor_units,
                   GError     **error)
{
  json_object *root = parse (body, len, error);
  char *csv;

  if (root == NULL)
    return NULL;
  csv = day_csv (minor_units, root);
  json_object_put (root);
  return csv;
}
