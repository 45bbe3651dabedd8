/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-reports-page"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ct-client-shifts.h"
#include "ct-dialog.h"
#include "ct-focus.h"
#include "ct-format.h"
#include "ct-print-lines.h"
#include "ct-report-lines.h"
#include "ct-reports-page.h"

/* The Reports screen: the merchant's day (GET /v1/reports/day) per store
 * and per till, by kind and tender, and the day's shifts with their
 * variances; on screen, on the receipt printer and through the print
 * dialog. The day is picked by typing it or stepping a day at a time. */

struct _CtReportsPage
{
  AdwBin         parent_instance;

  CtSession     *session;
  char          *date;         /* the day shown or asked for, YYYY-MM-DD */
  GPtrArray     *lines;        /* element-type CtReceiptLine: the report shown */
  char          *title;
  GCancellable  *cancellable;
  gboolean       loading;

  GtkEntry      *date_entry;
  GtkSpinner    *spinner;
  GtkLabel      *problem_label;
  GtkWidget     *report_box;
  GtkLabel      *title_label;
  GtkLabel      *empty_label;
  GtkGrid       *report_grid;
};

G_DEFINE_FINAL_TYPE (CtReportsPage, ct_reports_page, ADW_TYPE_BIN)

static void
set_problem (CtReportsPage *self,
             const char    *problem)
{
  ct_problem_label_set (self->problem_label, problem);
}

/* Today in the merchant's time zone, as the service counts days. */
static char *
today (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format_iso8601 (now);

  return ct_format_local_time (stamp, "%Y-%m-%d");
}

/* @text as a day, NULL when it is not one. */
static GDateTime *
parse_day (const char *text)
{
  g_autofree char *midnight = NULL;

  if (text == NULL || strlen (text) != 10)
    return NULL;
  midnight = g_strconcat (text, "T00:00:00Z", NULL);
  return g_date_time_new_from_iso8601 (midnight, NULL);
}

static void
update_actions (CtReportsPage *self)
{
  CtTillPrinter *printer = ct_session_get_printer (self->session);
  gboolean shown = self->lines != NULL && !self->loading;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "reports.print", shown);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "reports.print-receipt",
                                 shown && ct_till_printer_is_set (printer));
}

static void
show_report (CtReportsPage *self,
             GBytes        *body)
{
  static const char *headings[3];
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  const char *data = body ? g_bytes_get_data (body, &len) : NULL;

  headings[0] = _("Store");
  headings[1] = _("Till");
  g_clear_pointer (&self->lines, g_ptr_array_unref);
  g_clear_pointer (&self->title, g_free);
  if (data != NULL)
    {
      self->lines = ct_report_day_lines (data, len, ct_session_get_minor_units (self->session),
                                         ct_session_get_currency (self->session), &self->title, &error);
      if (self->lines == NULL)
        {
          g_autofree char *text = ct_format_error (error);

          set_problem (self, text);
        }
    }
  gtk_widget_set_visible (self->report_box, self->lines != NULL);
  gtk_label_set_label (self->title_label, self->title ? self->title : "");
  gtk_widget_set_visible (GTK_WIDGET (self->empty_label),
                          self->lines != NULL && ct_report_day_is_empty (data, len));
  ct_lines_grid_fill (self->report_grid, self->lines, headings);
  update_actions (self);
}

static void
set_loading (CtReportsPage *self,
             gboolean       loading)
{
  self->loading = loading;
  if (loading)
    gtk_spinner_start (self->spinner);
  else
    gtk_spinner_stop (self->spinner);
  update_actions (self);
}

static void
day_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(CtReportsPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = ct_client_reports_day_finish (CT_CLIENT (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  set_loading (self, FALSE);
  if (body == NULL)
    {
      g_autofree char *text = ct_format_error (error);

      set_problem (self, text);
      show_report (self, NULL);
      return;
    }
  set_problem (self, NULL);
  show_report (self, body);
}

/**
 * ct_reports_page_load:
 * @date: (nullable): YYYY-MM-DD; NULL: today in the merchant's time zone
 *
 * Shows the day's report, asking the card service off the main loop. A
 * text that is not a day is a sentence and nothing is asked.
 */
void
ct_reports_page_load (CtReportsPage *self,
                      const char    *date)
{
  g_autoptr(GDateTime) day = NULL;
  g_autofree char *wanted = NULL;

  g_return_if_fail (CT_IS_REPORTS_PAGE (self));

  wanted = date != NULL ? g_strstrip (g_strdup (date)) : today ();
  day = parse_day (wanted);
  if (day == NULL)
    {
      set_problem (self, _("A day is written year-month-day, for example 2026-12-02."));
      gtk_widget_grab_focus (GTK_WIDGET (self->date_entry));
      return;
    }

  g_free (self->date);
  self->date = g_date_time_format (day, "%Y-%m-%d");
  gtk_editable_set_text (GTK_EDITABLE (self->date_entry), self->date);

  /* The last day asked for is the one shown. */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  set_loading (self, TRUE);
  ct_client_reports_day_async (ct_session_get_client (self->session), self->date, self->cancellable,
                               day_cb, g_object_ref (self));
}

static void
step_day (CtReportsPage *self,
          int            days)
{
  g_autoptr(GDateTime) day = parse_day (self->date);
  g_autoptr(GDateTime) other = NULL;
  g_autofree char *text = NULL;

  if (day == NULL)
    {
      ct_reports_page_load (self, NULL);
      return;
    }
  other = g_date_time_add_days (day, days);
  text = g_date_time_format (other, "%Y-%m-%d");
  ct_reports_page_load (self, text);
}

static void
previous_day_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  step_day (CT_REPORTS_PAGE (widget), -1);
}

static void
next_day_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *param)
{
  step_day (CT_REPORTS_PAGE (widget), 1);
}

static void
today_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *param)
{
  ct_reports_page_load (CT_REPORTS_PAGE (widget), NULL);
}

static void
date_activate_cb (CtReportsPage *self)
{
  ct_reports_page_load (self, gtk_editable_get_text (GTK_EDITABLE (self->date_entry)));
}

static void
print_receipt_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *param)
{
  CtReportsPage *self = CT_REPORTS_PAGE (widget);

  if (self->lines != NULL)
    ct_print_lines_on_till (widget, ct_session_get_printer (self->session), self->title, self->lines);
}

static void
print_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *param)
{
  CtReportsPage *self = CT_REPORTS_PAGE (widget);

  if (self->lines != NULL)
    ct_print_lines_dialog (widget, _("cardtill day report"), self->title, NULL, self->lines);
}

static void
ct_reports_page_map (GtkWidget *widget)
{
  CtReportsPage *self = CT_REPORTS_PAGE (widget);

  GTK_WIDGET_CLASS (ct_reports_page_parent_class)->map (widget);
  /* Coming back to the screen shows the day again, as it is now. */
  ct_reports_page_load (self, self->date);
  ct_focus_soon (GTK_WIDGET (self->date_entry));
}

static void
ct_reports_page_dispose (GObject *object)
{
  CtReportsPage *self = CT_REPORTS_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), CT_TYPE_REPORTS_PAGE);
  g_clear_object (&self->session);
  g_clear_pointer (&self->date, g_free);
  g_clear_pointer (&self->lines, g_ptr_array_unref);
  g_clear_pointer (&self->title, g_free);

  G_OBJECT_CLASS (ct_reports_page_parent_class)->dispose (object);
}

static void
ct_reports_page_class_init (CtReportsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ct_reports_page_dispose;
  widget_class->map = ct_reports_page_map;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-reports-page.ui");
  gtk_widget_class_bind_template_child (widget_class, CtReportsPage, date_entry);
  gtk_widget_class_bind_template_child (widget_class, CtReportsPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, CtReportsPage, problem_label);
  gtk_widget_class_bind_template_child (widget_class, CtReportsPage, report_box);
  gtk_widget_class_bind_template_child (widget_class, CtReportsPage, title_label);
  gtk_widget_class_bind_template_child (widget_class, CtReportsPage, empty_label);
  gtk_widget_class_bind_template_child (widget_class, CtReportsPage, report_grid);
  gtk_widget_class_bind_template_callback (widget_class, date_activate_cb);

  gtk_widget_class_install_action (widget_class, "reports.previous-day", NULL, previous_day_action);
  gtk_widget_class_install_action (widget_class, "reports.next-day", NULL, next_day_action);
  gtk_widget_class_install_action (widget_class, "reports.today", NULL, today_action);
  gtk_widget_class_install_action (widget_class, "reports.print-receipt", NULL, print_receipt_action);
  gtk_widget_class_install_action (widget_class, "reports.print", NULL, print_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Page_Up, 0, "reports.previous-day", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Page_Down, 0, "reports.next-day", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_p, GDK_CONTROL_MASK, "reports.print", NULL);
}

static void
ct_reports_page_init (CtReportsPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
ct_reports_page_new (CtSession *session)
{
  CtReportsPage *self = g_object_new (CT_TYPE_REPORTS_PAGE, NULL);

  self->session = g_object_ref (session);
  if (ct_session_get_printer (session) != NULL)
    g_signal_connect_object (ct_session_get_settings (session), "changed::printer",
                             G_CALLBACK (update_actions), self, G_CONNECT_SWAPPED);
  show_report (self, NULL);

  return GTK_WIDGET (self);
}

/* For the tests: what the screen shows. */

const char *
ct_reports_page_get_date (CtReportsPage *self)
{
  g_return_val_if_fail (CT_IS_REPORTS_PAGE (self), NULL);
  return self->date;
}

gboolean
ct_reports_page_is_loading (CtReportsPage *self)
{
  g_return_val_if_fail (CT_IS_REPORTS_PAGE (self), FALSE);
  return self->loading;
}

const char *
ct_reports_page_get_problem (CtReportsPage *self)
{
  g_return_val_if_fail (CT_IS_REPORTS_PAGE (self), NULL);
  return ct_problem_label_get (self->problem_label);
}

GtkEntry *
ct_reports_page_get_date_entry (CtReportsPage *self)
{
  g_return_val_if_fail (CT_IS_REPORTS_PAGE (self), NULL);
  return self->date_entry;
}

/**
 * ct_reports_page_get_text:
 *
 * Returns: the report on screen, its title and a "label: value" line
 *   each; "" when none is shown.
 */
char *
ct_reports_page_get_text (CtReportsPage *self)
{
  g_return_val_if_fail (CT_IS_REPORTS_PAGE (self), NULL);
  return ct_lines_to_text (self->title, self->lines);
}
