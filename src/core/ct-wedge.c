/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-wedge"
#include "config.h"

#include <string.h>

#include "ct-wedge.h"

/* The app's window-level key controller (capture phase) feeds every key
 * event here and does what the verdict says. Because GTK 4.8 cannot
 * re-deliver an event it has swallowed, held characters come back as text
 * ("release") for the app to insert into the focused editable. The app also
 * calls ct_wedge_flush_due() from a timeout one threshold after the last
 * held key, so a person's single keystroke appears without waiting for the
 * next one. */

struct _CtWedge
{
  guint     threshold_ms;
  guint32   last_ms;
  guint     count;     /* characters held */
  GString  *held;
};

CtWedge *
ct_wedge_new (guint threshold_ms)
{
  CtWedge *self = g_new0 (CtWedge, 1);

  self->threshold_ms = threshold_ms > 0 ? threshold_ms : CT_WEDGE_DEFAULT_THRESHOLD_MS;
  self->held = g_string_new (NULL);
  return self;
}

void
ct_wedge_free (CtWedge *self)
{
  if (self == NULL)
    return;
  g_string_free (self->held, TRUE);
  g_free (self);
}

void
ct_wedge_set_threshold (CtWedge *self,
                        guint    threshold_ms)
{
  g_return_if_fail (self != NULL);

  self->threshold_ms = threshold_ms > 0 ? threshold_ms : CT_WEDGE_DEFAULT_THRESHOLD_MS;
}

guint
ct_wedge_get_threshold (CtWedge *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->threshold_ms;
}

gboolean
ct_wedge_is_holding (CtWedge *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->count > 0;
}

void
ct_wedge_result_clear (CtWedgeResult *result)
{
  if (result == NULL)
    return;
  g_clear_pointer (&result->scan, g_free);
  g_clear_pointer (&result->release, g_free);
  result->verdict = CT_WEDGE_PASS;
}

/**
 * ct_wedge_flush:
 *
 * Returns: (transfer full) (nullable): the held characters, now released,
 *   or %NULL when nothing was held.
 */
char *
ct_wedge_flush (CtWedge *self)
{
  char *text;

  g_return_val_if_fail (self != NULL, NULL);

  if (self->count == 0)
    return NULL;
  text = g_strndup (self->held->str, self->held->len);
  g_string_truncate (self->held, 0);
  self->count = 0;
  return text;
}

static gboolean
gap_too_long (CtWedge *self,
              guint32  time_ms)
{
  /* Unsigned subtraction keeps working across the 32-bit wrap of event
   * times. */
  return (guint32) (time_ms - self->last_ms) > self->threshold_ms;
}

/**
 * ct_wedge_flush_due:
 * @now_ms: the current time on the clock of the event times
 *
 * Returns: (transfer full) (nullable): the held characters when the burst
 *   has gone quiet for longer than the threshold, else %NULL.
 */
char *
ct_wedge_flush_due (CtWedge *self,
                    guint32  now_ms)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->count == 0 || !gap_too_long (self, now_ms))
    return NULL;
  return ct_wedge_flush (self);
}

static gboolean
is_terminator (guint keyval)
{
  return keyval == CT_WEDGE_KEY_RETURN || keyval == CT_WEDGE_KEY_KP_ENTER
         || keyval == CT_WEDGE_KEY_TAB || keyval == CT_WEDGE_KEY_ISO_LEFT_TAB;
}

/**
 * ct_wedge_feed:
 * @keyval: the key symbol (GDK_KEY_*)
 * @ch: the character the key types, or 0 when it types none
 * @time_ms: the event time in milliseconds
 * @is_key_down: %TRUE for a press, %FALSE for a release
 * @is_repeat: %TRUE for an auto-repeated press
 * @is_modifier: %TRUE for Shift, Control and the like
 * @result: (out caller-allocates): what to do with the event
 */
void
ct_wedge_feed (CtWedge       *self,
               guint          keyval,
               gunichar       ch,
               guint32        time_ms,
               gboolean       is_key_down,
               gboolean       is_repeat,
               gboolean       is_modifier,
               CtWedgeResult *result)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (result != NULL);

  result->verdict = CT_WEDGE_PASS;
  result->scan = NULL;
  result->release = NULL;

  /* Releases and modifiers (a scanner presses Shift for capitals) neither
   * extend nor end a burst. */
  if (!is_key_down || is_modifier)
    return;

  /* Auto-repeat is a person holding a key: it ends a burst and goes
   * through as typed. */
  if (is_repeat)
    {
      result->release = ct_wedge_flush (self);
      return;
    }

  if (self->count > 0 && gap_too_long (self, time_ms))
    result->release = ct_wedge_flush (self);

  if (is_terminator (keyval))
    {
      if (self->count >= CT_WEDGE_MIN_SCAN)
        {
          result->verdict = CT_WEDGE_SCAN;
          result->scan = ct_wedge_flush (self);
        }
      else
        {
          char *held = ct_wedge_flush (self);

          if (held != NULL)
            {
              g_assert (result->release == NULL);
              result->release = held;
            }
        }
      return;
    }

  if (ch == 0 || !g_unichar_isprint (ch) || self->count >= CT_WEDGE_MAX_BURST)
    {
      /* Any other key ends the burst and goes through itself. */
      char *held = ct_wedge_flush (self);

      if (held != NULL)
        {
          g_assert (result->release == NULL);
          result->release = held;
        }
      if (ch == 0 || !g_unichar_isprint (ch))
        return;
    }

  g_string_append_unichar (self->held, ch);
  self->count++;
  self->last_ms = time_ms;
  result->verdict = CT_WEDGE_HOLD;
}
