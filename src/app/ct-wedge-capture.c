/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-wedge-capture"

#include "config.h"

#include <string.h>

#include "ct-wedge.h"
#include "ct-wedge-capture.h"

/* The keyboard-wedge capture of the main window (docs/scanner.md). A key
 * controller in the capture phase sees every key before the focused
 * widget, feeds it to the timing rule and lets it go on: the focused
 * field's input method sees every key, so pinyin works everywhere. When a
 * fast burst ends with its terminator, the terminator is swallowed and
 * what the burst typed is taken back out of the field the burst began in.
 * An input method may deliver the last characters a little later than
 * their keys; those are caught as they arrive, for a short while. */

/* How long characters of a scan may still arrive after its terminator. */
#define LATE_TEXT_MS 3000

struct _CtWedgeCapture
{
  GtkWindow       *window;
  GtkEventController *controller;
  CtWedge         *wedge;
  CtWedgeScanFunc  scan_func;
  gpointer         user_data;
  guint            down_keyval;

  /* The field as it was when the burst began. */
  GWeakRef         field;
  char            *field_text;
  int              field_start;
  int              field_end;

  /* Characters of the last scan still on their way into a field. */
  GWeakRef         late_field;
  gulong           late_handler;
  char            *late_text;
  guint            late_timeout;
};

static void
late_stop (CtWedgeCapture *self)
{
  g_autoptr(GtkWidget) field = g_weak_ref_get (&self->late_field);

  if (field != NULL && self->late_handler != 0)
    g_signal_handler_disconnect (field, self->late_handler);
  self->late_handler = 0;
  g_weak_ref_set (&self->late_field, NULL);
  g_clear_pointer (&self->late_text, g_free);
  g_clear_handle_id (&self->late_timeout, g_source_remove);
}

static gboolean
late_timeout_cb (gpointer user_data)
{
  CtWedgeCapture *self = user_data;

  self->late_timeout = 0;
  late_stop (self);
  return G_SOURCE_REMOVE;
}

/* Removes the characters of @text from @pending (any order), or returns
 * FALSE, leaving @pending alone, when one of them is not there. */
static gboolean
take_from_pending (char       *pending,
                   const char *text,
                   gsize       length)
{
  g_autofree char *rest = g_strdup (pending);

  for (const char *p = text; p < text + length; p = g_utf8_next_char (p))
    {
      char one[8] = { 0 };
      char *found;

      g_unichar_to_utf8 (g_utf8_get_char (p), one);
      found = strstr (rest, one);
      if (found == NULL)
        return FALSE;
      memmove (found, found + strlen (one), strlen (found + strlen (one)) + 1);
    }
  strcpy (pending, rest);
  return TRUE;
}

static void
late_insert_cb (GtkEditable *editable,
                const char  *text,
                int          length,
                int         *position,
                gpointer     user_data)
{
  CtWedgeCapture *self = user_data;
  gsize n = length < 0 ? strlen (text) : (gsize) length;

  if (self->late_text == NULL || n == 0 || !take_from_pending (self->late_text, text, n))
    return;

  /* The rest of the scan, arriving after its terminator. */
  g_signal_stop_emission_by_name (editable, "insert-text");
  if (*self->late_text == '\0')
    late_stop (self);
}

static void
late_watch (CtWedgeCapture *self,
            GtkWidget      *field,
            const char     *missing)
{
  late_stop (self);
  self->late_text = g_strdup (missing);
  g_weak_ref_set (&self->late_field, field);
  self->late_handler = g_signal_connect (field, "insert-text", G_CALLBACK (late_insert_cb), self);
  self->late_timeout = g_timeout_add (LATE_TEXT_MS, late_timeout_cb, self);
}

static GtkEditable *
focused_field (CtWedgeCapture *self)
{
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self->window));

  if (focus == NULL || !GTK_IS_EDITABLE (focus) || !gtk_editable_get_editable (GTK_EDITABLE (focus)))
    return NULL;
  return GTK_EDITABLE (focus);
}

static void
note_field (CtWedgeCapture *self)
{
  GtkEditable *field = focused_field (self);

  g_clear_pointer (&self->field_text, g_free);
  g_weak_ref_set (&self->field, field);
  if (field == NULL)
    return;

  self->field_text = g_strdup (gtk_editable_get_text (field));
  if (!gtk_editable_get_selection_bounds (field, &self->field_start, &self->field_end))
    self->field_start = self->field_end = gtk_editable_get_position (field);
}

static void
reset_input_method (GtkWidget *field)
{
  GtkWidget *entry = gtk_widget_get_ancestor (field, GTK_TYPE_ENTRY);

  /* A scan of letters may sit in the input method's preedit: drop it. */
  if (entry != NULL)
    gtk_entry_reset_im_context (GTK_ENTRY (entry));
}

/* Takes the scan's characters back out of the field the burst began in.
 * Returns FALSE when the burst was a person typing through an input
 * method rather than a scan. */
static gboolean
take_back (CtWedgeCapture *self,
           const char     *scan)
{
  g_autoptr(GtkWidget) field = g_weak_ref_get (&self->field);
  g_autofree char *before = g_steal_pointer (&self->field_text);
  g_autofree char *text = NULL;
  g_autofree char *missing = NULL;
  int position = 0;

  g_weak_ref_set (&self->field, NULL);
  if (field == NULL || before == NULL)
    return TRUE;

  if (!ct_wedge_take_back (before, self->field_start, self->field_end,
                           gtk_editable_get_text (GTK_EDITABLE (field)), scan,
                           &text, &position, &missing))
    {
      g_debug ("burst \"%s\" put only composed text into the field: not a scan", scan);
      return FALSE;
    }
  g_debug ("scan \"%s\": field \"%s\" -> \"%s\", still to come \"%s\"", scan,
           gtk_editable_get_text (GTK_EDITABLE (field)), text, missing ? missing : "");

  if (g_strcmp0 (text, gtk_editable_get_text (GTK_EDITABLE (field))) != 0)
    {
      gtk_editable_set_text (GTK_EDITABLE (field), text);
      gtk_editable_set_position (GTK_EDITABLE (field), position);
    }
  if (missing != NULL)
    {
      reset_input_method (field);
      late_watch (self, field, missing);
    }
  return TRUE;
}

/**
 * ct_wedge_capture_key:
 * @time_ms: the event's time stamp
 *
 * Feeds one key event to the keyboard-wedge rule.
 *
 * Returns: %TRUE when the event ended a scan and must not reach the
 *   focused widget.
 */
gboolean
ct_wedge_capture_key (CtWedgeCapture  *self,
                      guint            keyval,
                      guint32          time_ms,
                      gboolean         is_key_down,
                      gboolean         is_repeat,
                      GdkModifierType  state)
{
  CtWedgeResult result = { 0 };
  gunichar ch = gdk_keyval_to_unicode (keyval);
  gboolean is_modifier;
  gboolean taken = FALSE;

  g_return_val_if_fail (self != NULL, FALSE);

  /* Shortcuts are never part of a scan. */
  if (state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SUPER_MASK))
    ch = 0;

  is_modifier = keyval == GDK_KEY_Shift_L || keyval == GDK_KEY_Shift_R ||
                keyval == GDK_KEY_Caps_Lock || keyval == GDK_KEY_ISO_Level3_Shift;

  ct_wedge_feed (self->wedge, keyval, ch, time_ms, is_key_down, is_repeat, is_modifier, &result);

  if (result.burst_started)
    note_field (self);

  if (result.verdict == CT_WEDGE_SCAN && take_back (self, result.scan))
    {
      self->scan_func (result.scan, self->user_data);
      taken = TRUE;
    }

  ct_wedge_result_clear (&result);
  return taken;
}

/* The key event's time in milliseconds, or now when GTK gives no event. */
static guint32
key_time (GtkEventControllerKey *controller)
{
  GdkEvent *event = gtk_event_controller_get_current_event (GTK_EVENT_CONTROLLER (controller));

  return event ? gdk_event_get_time (event) : (guint32) (g_get_monotonic_time () / 1000);
}

static gboolean
key_pressed_cb (GtkEventControllerKey *controller,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                CtWedgeCapture        *self)
{
  guint32 time = key_time (controller);
  gboolean repeat = self->down_keyval == keyval;

  /* GDK 4.8 has no repeat flag: a second press without a release is an
   * auto-repeat. */
  self->down_keyval = keyval;

  return ct_wedge_capture_key (self, keyval, time, TRUE, repeat, state);
}

static void
key_released_cb (GtkEventControllerKey *controller,
                 guint                  keyval,
                 guint                  keycode,
                 GdkModifierType        state,
                 CtWedgeCapture        *self)
{
  guint32 time = key_time (controller);

  if (self->down_keyval == keyval)
    self->down_keyval = 0;

  ct_wedge_capture_key (self, keyval, time, FALSE, FALSE, state);
}

/**
 * ct_wedge_capture_new:
 * @window: the window whose keys are watched; it must outlive the capture
 * @scan_func: called with each scan
 */
CtWedgeCapture *
ct_wedge_capture_new (GtkWindow       *window,
                      CtWedgeScanFunc  scan_func,
                      gpointer         user_data)
{
  CtWedgeCapture *self = g_new0 (CtWedgeCapture, 1);
  GtkEventController *controller;

  self->window = window;
  self->wedge = ct_wedge_new (CT_WEDGE_DEFAULT_THRESHOLD_MS);
  self->scan_func = scan_func;
  self->user_data = user_data;
  g_weak_ref_init (&self->field, NULL);
  g_weak_ref_init (&self->late_field, NULL);

  /* Capture phase: the window sees every key before the focused widget,
   * so the terminator of a scan can be kept from it. */
  controller = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  g_signal_connect (controller, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  g_signal_connect (controller, "key-released", G_CALLBACK (key_released_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (window), controller);
  self->controller = controller;

  return self;
}

void
ct_wedge_capture_free (CtWedgeCapture *self)
{
  if (self == NULL)
    return;

  g_signal_handlers_disconnect_by_data (self->controller, self);
  late_stop (self);
  g_weak_ref_clear (&self->field);
  g_weak_ref_clear (&self->late_field);
  g_free (self->field_text);
  ct_wedge_free (self->wedge);
  g_free (self);
}

void
ct_wedge_capture_set_threshold (CtWedgeCapture *self,
                                guint           threshold_ms)
{
  g_return_if_fail (self != NULL);

  ct_wedge_set_threshold (self->wedge, threshold_ms);
}
