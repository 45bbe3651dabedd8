/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-shift-page"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-client-shifts.h"
#include "ct-dialog.h"
#include "ct-focus.h"
#include "ct-format.h"
#include "ct-print-lines.h"
#include "ct-report-lines.h"
#include "ct-shift-page.h"

/* The Shift screen (交接班): the till's open shift, opening one with the
 * float, closing it with the cash counted, handing over to the next
 * cashier in one step, and the shift's report on screen and on paper.
 * Opening and closing go through the outbox, so they are taken offline
 * too and show "pending sync" until the service has them. */

struct _CtShiftPage
{
  AdwBin         parent_instance;

  CtSession     *session;
  CtShift       *shift;        /* the till's open shift, or its last one; NULL: none */
  GPtrArray     *report;       /* element-type CtReceiptLine: the report shown */
  char          *report_name;  /* its title */
  GCancellable  *cancellable;
  gboolean       busy;

  GtkLabel      *state_label;
  GtkSpinner    *spinner;
  GtkLabel      *detail_label;
  GtkLabel      *problem_label;
  GtkWidget     *open_box;
  GtkEntry      *float_entry;
  GtkWidget     *close_box;
  GtkEntry      *counted_entry;
  GtkEntry      *next_entry;
  GtkEntry      *next_float_entry;
  GtkWidget     *report_box;
  GtkLabel      *report_title;
  GtkGrid       *report_grid;
};

G_DEFINE_FINAL_TYPE (CtShiftPage, ct_shift_page, ADW_TYPE_BIN)

/* The cashier the till works for now: who opens and closes shifts. */
static const char *
current_operator (CtShiftPage *self)
{
  return ct_client_get_operator (ct_session_get_client (self->session));
}

static void
set_problem (CtShiftPage *self,
             const char  *problem)
{
  ct_problem_label_set (self->problem_label, problem);
}

static void
set_error (CtShiftPage  *self,
           const GError *error)
{
  g_autofree char *text = ct_format_error (error);

  set_problem (self, text);
}

static gboolean
shift_is_open (CtShiftPage *self)
{
  return self->shift != NULL && self->shift->open;
}

static void
set_busy (CtShiftPage *self,
          gboolean     busy)
{
  self->busy = busy;
  if (busy)
    gtk_spinner_start (self->spinner);
  else
    gtk_spinner_stop (self->spinner);
  /* One press, one request: a second Enter while the first is on its
   * way would close the next cashier's shift or open a second one. */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "shift.open", !busy && !shift_is_open (self));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "shift.close", !busy && shift_is_open (self));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "shift.handover", !busy && shift_is_open (self));
}

static void
show_report (CtShiftPage *self)
{
  gboolean shown = self->report != NULL;
  CtTillPrinter *printer = ct_session_get_printer (self->session);

  gtk_widget_set_visible (self->report_box, shown);
  gtk_label_set_label (self->report_title, self->report_name ? self->report_name : "");
  ct_lines_grid_fill (self->report_grid, self->report, NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "shift.print", shown);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "shift.print-receipt",
                                 shown && ct_till_printer_is_set (printer));
}

/* The report of @shift from the service's answer, or none while the
 * service has not answered. */
static void
take_report (CtShiftPage   *self,
             const CtShift *shift)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *title = NULL;
  gsize len = 0;
  const char *body;

  g_clear_pointer (&self->report, g_ptr_array_unref);
  g_clear_pointer (&self->report_name, g_free);
  if (shift != NULL && shift->answer != NULL)
    {
      body = g_bytes_get_data (shift->answer, &len);
      self->report = ct_report_shift_lines (body, len, ct_session_get_minor_units (self->session),
                                            ct_session_get_currency (self->session), &title, &error);
      if (self->report == NULL)
        g_warning ("The shift report cannot be read: %s", error->message);
      else if (shift->open)
        self->report_name = g_strdup (_("Shift Report So Far"));
      else
        self->report_name = g_steal_pointer (&title);
    }
  show_report (self);
}

static void
show_state (CtShiftPage *self)
{
  const CtShift *shift = self->shift;
  g_autofree char *state = NULL;
  g_autofree char *detail = NULL;
  g_autofree char *float_text = NULL;

  if (shift_is_open (self))
    {
      float_text = ct_session_format_money (self->session, shift->float_amount);
      state = g_strdup_printf (_("Shift of %s is open"), shift->operator_name);
      if (shift->pending)
        detail = g_strdup_printf (_("Float %s · pending sync: the card service has not confirmed it yet"),
                                  float_text);
      else
        {
          g_autofree char *opened = ct_format_local_time (shift->opened_at, "%Y-%m-%d %H:%M");

          detail = g_strdup_printf (_("Opened %s · float %s · shift %s"), opened, float_text, shift->id);
        }
    }
  else
    {
      state = g_strdup (_("No shift is open"));
      if (shift != NULL && shift->pending)
        detail = g_strdup (_("The shift was closed on this till; its report comes when the card service has the close (pending sync)."));
      else
        detail = g_strdup_printf (_("Open a shift with the cash in the drawer. Cashier: %s"), current_operator (self));
    }

  gtk_label_set_label (self->state_label, state);
  gtk_label_set_label (self->detail_label, detail);
  gtk_widget_set_visible (self->open_box, !shift_is_open (self));
  gtk_widget_set_visible (self->close_box, shift_is_open (self));
  set_busy (self, self->busy);
}

static void
set_shift (CtShiftPage   *self,
           const CtShift *shift)
{
  if (shift != self->shift)
    {
      CtShift *copy = shift ? ct_shift_copy (shift) : NULL;

      g_clear_pointer (&self->shift, ct_shift_free);
      self->shift = copy;
    }
  show_state (self);
}

static void
current_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(CtShiftPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtShift) shift = ct_client_shift_current_finish (CT_CLIENT (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  set_busy (self, FALSE);
  if (error != NULL)
    {
      /* Offline: what this till did stays on screen. */
      set_error (self, error);
      show_state (self);
      return;
    }
  set_problem (self, NULL);
  set_shift (self, shift);
  take_report (self, shift);
}

/**
 * ct_shift_page_reload:
 *
 * Asks the card service for the till's current shift (off the main loop).
 */
void
ct_shift_page_reload (CtShiftPage *self)
{
  g_return_if_fail (CT_IS_SHIFT_PAGE (self));

  if (self->busy)
    return;
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  set_busy (self, TRUE);
  ct_client_shift_current_async (ct_session_get_client (self->session), self->cancellable,
                                 current_cb, g_object_ref (self));
}

/* An amount typed in @entry, or a sentence (and FALSE) naming @what. */
static gboolean
read_amount (CtShiftPage *self,
             GtkEntry    *entry,
             const char  *what,
             int64_t     *out)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
  g_autofree char *problem = NULL;

  if (ct_format_parse_amount (text, ct_session_get_minor_units (self->session), FALSE, out, &problem))
    return TRUE;

  {
    g_autofree char *sentence = g_strdup_printf ("%s: %s", what, problem);

    set_problem (self, sentence);
  }
  gtk_widget_grab_focus (GTK_WIDGET (entry));
  return FALSE;
}

static gboolean
have_operator (CtShiftPage *self)
{
  const char *name = current_operator (self);

  if (name != NULL && *name != '\0')
    return TRUE;
  set_problem (self, _("The till has no cashier name. Set it in Settings first."));
  return FALSE;
}

static void
open_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(CtShiftPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtShift) shift = ct_client_shift_open_finish (CT_CLIENT (object), result, &error);

  set_busy (self, FALSE);
  if (shift == NULL)
    {
      set_error (self, error);
      /* "A shift is open already": show the one that is. */
      if (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_SHIFT_OPEN))
        ct_shift_page_reload (self);
      return;
    }
  gtk_editable_set_text (GTK_EDITABLE (self->float_entry), "");
  set_shift (self, shift);
  take_report (self, NULL);
  ct_focus_soon (GTK_WIDGET (self->counted_entry));
}

static void
open_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  CtShiftPage *self = CT_SHIFT_PAGE (widget);
  int64_t float_amount;

  if (self->busy || shift_is_open (self))
    return;
  if (!have_operator (self) || !read_amount (self, self->float_entry, _("Float"), &float_amount))
    return;
  set_problem (self, NULL);
  set_busy (self, TRUE);
  ct_client_shift_open_async (ct_session_get_client (self->session), current_operator (self), float_amount,
                              NULL, open_cb, g_object_ref (self));
}

static void
close_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(CtShiftPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtShift) next = NULL;
  g_autoptr(CtShift) closed = ct_client_shift_close_finish (CT_CLIENT (object), result, &next, &error);

  set_busy (self, FALSE);
  if (closed == NULL)
    {
      set_error (self, error);
      /* Closed before (another request, another window): show it as it is. */
      if (g_error_matches (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_SHIFT_CLOSED))
        ct_shift_page_reload (self);
      return;
    }
  if (error != NULL)
    set_error (self, error);
  else
    set_problem (self, NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->counted_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->next_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->next_float_entry), "");
  set_shift (self, next != NULL ? next : closed);
  take_report (self, closed);
  ct_focus_soon (GTK_WIDGET (next != NULL ? self->counted_entry : self->float_entry));
}

/* Closes the open shift; with the next cashier's name, hands over. */
static void
close_shift (CtShiftPage *self,
             gboolean     handover)
{
  const char *next = gtk_editable_get_text (GTK_EDITABLE (self->next_entry));
  g_autofree char *next_name = g_strstrip (g_strdup (next));
  int64_t counted = 0, next_float = 0;

  if (self->busy || !shift_is_open (self) || !have_operator (self))
    return;
  if (!read_amount (self, self->counted_entry, _("Counted cash"), &counted))
    return;
  if (handover && *next_name == '\0')
    {
      set_problem (self, _("Type the name of the cashier who takes over."));
      gtk_widget_grab_focus (GTK_WIDGET (self->next_entry));
      return;
    }
  if (handover && !read_amount (self, self->next_float_entry, _("Their float"), &next_float))
    return;

  set_problem (self, NULL);
  set_busy (self, TRUE);
  /* The shift's own id when the service told it: a close sent twice is
   * then refused, never taken as closing the next cashier's shift. */
  ct_client_shift_close_async (ct_session_get_client (self->session), self->shift->id, current_operator (self),
                               counted, handover ? next_name : NULL, next_float,
                               NULL, close_cb, g_object_ref (self));
}

static void
close_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *param)
{
  close_shift (CT_SHIFT_PAGE (widget), FALSE);
}

static void
handover_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *param)
{
  close_shift (CT_SHIFT_PAGE (widget), TRUE);
}

static void
float_activate_cb (CtShiftPage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "shift.open", NULL);
}

/* Enter after the counted cash closes; with a next cashier typed it
 * hands over. */
static void
counted_activate_cb (CtShiftPage *self)
{
  const char *next = gtk_editable_get_text (GTK_EDITABLE (self->next_entry));

  close_shift (self, *next != '\0');
}

static void
handover_activate_cb (CtShiftPage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "shift.handover", NULL);
}

static void
print_receipt_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *param)
{
  CtShiftPage *self = CT_SHIFT_PAGE (widget);

  if (self->report != NULL)
    ct_print_lines_on_till (widget, ct_session_get_printer (self->session), self->report_name, self->report);
}

static void
print_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *param)
{
  CtShiftPage *self = CT_SHIFT_PAGE (widget);

  if (self->report != NULL)
    ct_print_lines_dialog (widget, _("cardtill shift report"), self->report_name, NULL, self->report);
}

static void
reload_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  ct_shift_page_reload (CT_SHIFT_PAGE (widget));
}

static void
ct_shift_page_map (GtkWidget *widget)
{
  CtShiftPage *self = CT_SHIFT_PAGE (widget);

  GTK_WIDGET_CLASS (ct_shift_page_parent_class)->map (widget);
  ct_shift_page_reload (self);
  ct_focus_soon (GTK_WIDGET (shift_is_open (self) ? self->counted_entry : self->float_entry));
}

static void
ct_shift_page_dispose (GObject *object)
{
  CtShiftPage *self = CT_SHIFT_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), CT_TYPE_SHIFT_PAGE);
  g_clear_object (&self->session);
  g_clear_pointer (&self->shift, ct_shift_free);
  g_clear_pointer (&self->report, g_ptr_array_unref);
  g_clear_pointer (&self->report_name, g_free);

  G_OBJECT_CLASS (ct_shift_page_parent_class)->dispose (object);
}

static void
ct_shift_page_class_init (CtShiftPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ct_shift_page_dispose;
  widget_class->map = ct_shift_page_map;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/cardtill/Cardtill/ct-shift-page.ui");
  gtk_widget_class_bind_template_child (widget_class, CtShiftPage, state_label);
  gtk_widget_class_bind_template_child (widget_class, CtShiftPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, CtShiftPage, detail_label);
  gtk_widget_class_bind_template_child (widget_class, CtShiftPage, problem_label);
  gtk_widget_class_bind_template_child (widget_class, CtShiftPage, open_box);
  gtk_widget_class_bind_template_child (widget_class, CtShiftPage, float_entry);
  gtk_widget_class_bind_template_child (widget_class, CtShiftPage, close_box);
  gtk_widget_class_bind_template_child (widget_class, CtShiftPage, counted_entry);
  gtk_widget_class_bind_template_child (widget_class, CtShiftPage, next_entry);
  gtk_widget_class_bind_template_child (widget_class, CtShiftPage, next_float_entry);
  gtk_widget_class_bind_template_child (widget_class, CtShiftPage, report_box);
  gtk_widget_class_bind_template_child (widget_class, CtShiftPage, report_title);
  gtk_widget_class_bind_template_child (widget_class, CtShiftPage, report_grid);
  gtk_widget_class_bind_template_callback (widget_class, float_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, counted_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, handover_activate_cb);

  gtk_widget_class_install_action (widget_class, "shift.open", NULL, open_action);
  gtk_widget_class_install_action (widget_class, "shift.close", NULL, close_action);
  gtk_widget_class_install_action (widget_class, "shift.handover", NULL, handover_action);
  gtk_widget_class_install_action (widget_class, "shift.print-receipt", NULL, print_receipt_action);
  gtk_widget_class_install_action (widget_class, "shift.print", NULL, print_action);
  gtk_widget_class_install_action (widget_class, "shift.reload", NULL, reload_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_p, GDK_CONTROL_MASK, "shift.print", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK, "shift.reload", NULL);
}

static void
ct_shift_page_init (CtShiftPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
ct_shift_page_new (CtSession *session)
{
  CtShiftPage *self = g_object_new (CT_TYPE_SHIFT_PAGE, NULL);

  self->session = g_object_ref (session);
  if (ct_session_get_printer (session) != NULL)
    g_signal_connect_object (ct_session_get_settings (session), "changed::printer",
                             G_CALLBACK (show_report), self, G_CONNECT_SWAPPED);
  show_state (self);
  show_report (self);

  return GTK_WIDGET (self);
}

/* For the tests: what the screen says. */

const char *
ct_shift_page_get_state_text (CtShiftPage *self)
{
  g_return_val_if_fail (CT_IS_SHIFT_PAGE (self), NULL);
  return gtk_label_get_label (self->state_label);
}

const char *
ct_shift_page_get_problem (CtShiftPage *self)
{
  g_return_val_if_fail (CT_IS_SHIFT_PAGE (self), NULL);
  return ct_problem_label_get (self->problem_label);
}

gboolean
ct_shift_page_is_busy (CtShiftPage *self)
{
  g_return_val_if_fail (CT_IS_SHIFT_PAGE (self), FALSE);
  return self->busy;
}

/**
 * ct_shift_page_get_shift:
 *
 * Returns: (nullable): the shift shown (open, or the last one).
 */
const CtShift *
ct_shift_page_get_shift (CtShiftPage *self)
{
  g_return_val_if_fail (CT_IS_SHIFT_PAGE (self), NULL);
  return self->shift;
}

/**
 * ct_shift_page_get_report_text:
 *
 * Returns: the report on screen, a "label: value" line each; "" when none.
 */
char *
ct_shift_page_get_report_text (CtShiftPage *self)
{
  g_return_val_if_fail (CT_IS_SHIFT_PAGE (self), NULL);
  return ct_lines_to_text (self->report_name, self->report);
}

GtkEntry *
ct_shift_page_get_entry (CtShiftPage *self,
                         const char  *name)
{
  g_return_val_if_fail (CT_IS_SHIFT_PAGE (self), NULL);

  if (g_strcmp0 (name, "float") == 0)
    return self->float_entry;
  if (g_strcmp0 (name, "counted") == 0)
    return self->counted_entry;
  if (g_strcmp0 (name, "next") == 0)
    return self->next_entry;
  if (g_strcmp0 (name, "next-float") == 0)
    return self->next_float_entry;
  g_return_val_if_reached (NULL);
}
