/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-wedge"
#include "config.h"

#include <string.h>

#include "ct-wedge.h"

/* The app's window-level key controller (capture phase) feeds every key
 * event here before the focused widget sees it, and swallows only what
 * the verdict says: the terminator of a scan. Every other key goes on to
 * the focused widget and its input method, so pinyin and the like work in
 * every field. The characters of a scan have then reached the field too;
 * the app takes them back out with ct_wedge_take_back(), comparing the
 * field with what it held when the burst began. */

struct _CtWedge
{
  guint     threshold_ms;
  guint32   last_ms;
  guint     count;     /* characters in the burst */
  GString  *burst;
};

CtWedge *
ct_wedge_new (guint threshold_ms)
{
  CtWedge *self = g_new0 (CtWedge, 1);

  self->threshold_ms = threshold_ms > 0 ? threshold_ms : CT_WEDGE_DEFAULT_THRESHOLD_MS;
  self->burst = g_string_new (NULL);
  return self;
}

void
ct_wedge_free (CtWedge *self)
{
  if (self == NULL)
    return;
  g_string_free (self->burst, TRUE);
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

/**
 * ct_wedge_get_burst_length:
 *
 * Returns: the number of characters of the burst under way (0 when the
 *   last key ended one or was not part of one).
 */
guint
ct_wedge_get_burst_length (CtWedge *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->count;
}

/**
 * ct_wedge_reset:
 *
 * Forgets the burst under way (the focus moved, the window lost the
 * keyboard).
 */
void
ct_wedge_reset (CtWedge *self)
{
  g_return_if_fail (self != NULL);

  g_string_truncate (self->burst, 0);
  self->count = 0;
}

void
ct_wedge_result_clear (CtWedgeResult *result)
{
  if (result == NULL)
    return;
  g_clear_pointer (&result->scan, g_free);
  result->verdict = CT_WEDGE_PASS;
  result->burst_started = FALSE;
}

static gboolean
gap_too_long (CtWedge *self,
              guint32  time_ms)
{
  /* Unsigned subtraction keeps working across the 32-bit wrap of event
   * times. */
  return (guint32) (time_ms - self->last_ms) > self->threshold_ms;
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
  result->burst_started = FALSE;
  result->scan = NULL;

  /* Releases and modifiers (a scanner presses Shift for capitals) neither
   * extend nor end a burst. */
  if (!is_key_down || is_modifier)
    return;

  /* Auto-repeat is a person holding a key: it ends a burst. */
  if (is_repeat)
    {
      ct_wedge_reset (self);
      return;
    }

  if (self->count > 0 && gap_too_long (self, time_ms))
    ct_wedge_reset (self);

  if (is_terminator (keyval))
    {
      if (self->count >= CT_WEDGE_MIN_SCAN)
        {
          result->verdict = CT_WEDGE_SCAN;
          result->scan = g_strndup (self->burst->str, self->burst->len);
        }
      ct_wedge_reset (self);
      return;
    }

  /* Any other key that types nothing ends the burst. */
  if (ch == 0 || !g_unichar_isprint (ch))
    {
      ct_wedge_reset (self);
      return;
    }

  if (self->count >= CT_WEDGE_MAX_BURST)
    ct_wedge_reset (self);

  result->burst_started = self->count == 0;
  g_string_append_unichar (self->burst, ch);
  self->count++;
  self->last_ms = time_ms;
}

/**
 * ct_wedge_take_back:
 * @before: the field's text when the burst began
 * @selection_start: the start of the selection (or the cursor) in @before, in characters
 * @selection_end: its end
 * @after: the field's text now
 * @scan: the scanned text
 * @out_text: (out) (transfer full): the field's new text
 * @out_position: (out): where the cursor goes in it
 * @out_missing: (out) (transfer full): the characters of @scan that have
 *   not reached the field yet (an input method may still deliver them), or
 *   %NULL when all were found
 *
 * Works out the field's text without the scan. Keys are typed at the
 * cursor, so what the burst put into the field lies between the text
 * before and after the cursor (or selection) of @before. The scan's
 * characters are found there in order and removed; anything else there is
 * text an input method composed, and stays. When nothing else was put
 * there, the field gets back exactly @before, a selection the first
 * key replaced included.
 *
 * A burst that put composed text into the field and none of its own
 * characters is a person typing fast through an input method (pinyin
 * letters become 王芳), not a scanner, whose characters arrive as typed.
 *
 * Returns: %FALSE for such a burst: it is not a scan, and the out
 *   arguments are not set.
 */
gboolean
ct_wedge_take_back (const char  *before,
                    int          selection_start,
                    int          selection_end,
                    const char  *after,
                    const char  *scan,
                    char       **out_text,
                    int         *out_position,
                    char       **out_missing)
{
  g_autofree gunichar *b = NULL;
  g_autofree gunichar *a = NULL;
  g_autofree gunichar *s = NULL;
  g_autofree gboolean *used = NULL;
  glong lb = 0, la = 0, ls = 0;
  glong prefix = 0, suffix = 0, matched = 0, kept = 0;
  GString *text;

  g_return_val_if_fail (before != NULL && after != NULL && scan != NULL, FALSE);
  g_return_val_if_fail (out_text != NULL && out_position != NULL && out_missing != NULL, FALSE);

  b = g_utf8_to_ucs4_fast (before, -1, &lb);
  a = g_utf8_to_ucs4_fast (after, -1, &la);
  s = g_utf8_to_ucs4_fast (scan, -1, &ls);

  selection_start = CLAMP (selection_start, 0, (int) lb);
  selection_end = CLAMP (selection_end, selection_start, (int) lb);

  while (prefix < selection_start && prefix < la && a[prefix] == b[prefix])
    prefix++;
  while (suffix < lb - selection_end && suffix < la - prefix
         && a[la - 1 - suffix] == b[lb - 1 - suffix])
    suffix++;

  /* An input method working asynchronously may commit the characters of
   * a fast burst out of order (seen with IBus: 8888…4016 arrived as
   * 6104…8888), so each character is matched with any unused one of the
   * scan. */
  used = g_new0 (gboolean, ls + 1);
  text = g_string_new (NULL);
  for (glong i = 0; i < prefix; i++)
    g_string_append_unichar (text, a[i]);
  for (glong i = prefix; i < la - suffix; i++)
    {
      glong j;

      for (j = 0; j < ls; j++)
        if (!used[j] && s[j] == a[i])
          break;
      if (j < ls)
        {
          used[j] = TRUE;
          matched++;
        }
      else
        {
          g_string_append_unichar (text, a[i]);
          kept++;
        }
    }

  if (matched == 0 && kept > 0)
    {
      g_string_free (text, TRUE);
      return FALSE;
    }

  if (kept == 0)
    {
      /* Only the scan went in: the field gets back what it held. */
      g_string_assign (text, before);
      *out_position = selection_end;
    }
  else
    {
      for (glong i = la - suffix; i < la; i++)
        g_string_append_unichar (text, a[i]);
      *out_position = (int) (prefix + kept);
    }

  *out_missing = NULL;
  if (matched < ls)
    {
      GString *missing = g_string_new (NULL);

      for (glong i = 0; i < ls; i++)
        if (!used[i])
          g_string_append_unichar (missing, s[i]);
      *out_missing = g_string_free (missing, FALSE);
    }

  *out_text = g_string_free (text, FALSE);
  return TRUE;
}
