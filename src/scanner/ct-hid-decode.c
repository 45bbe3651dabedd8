/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-hid-decode"
#include "config.h"

#include <string.h>

#include "ct-hid-decode.h"

/* Decodes the reports of a USB barcode scanner into complete scans.
 *
 * Keyboard mode reads boot protocol reports (modifier byte, reserved byte,
 * six key usages) through the US usage table, whatever layout the host
 * uses, so a scanner can never be garbled by the till's keyboard settings.
 * A character is emitted when its key goes down: a key that stays in the
 * next report (rollover, a repeated report) is not emitted again.
 *
 * HID POS mode reads the scanned data report of usage page 0x8C in the
 * layout USB POS scanners use: report id 0x02, the data length, three
 * bytes of AIM symbology identifier, the data, and in the last byte of the
 * report a flag saying that the code continues in the next report.
 *
 * The decoder never hands out part of a code: after an error inside a
 * code, everything up to the next terminator is dropped. */

#define KEYS_PER_REPORT 6
#define BOOT_REPORT_SIZE 8
#define POS_REPORT_ID 0x02
#define POS_HEADER_SIZE 5

#define MOD_CTRL  (0x01 | 0x10)
#define MOD_SHIFT (0x02 | 0x20)
#define MOD_ALT   (0x04 | 0x40)
#define MOD_GUI   (0x08 | 0x80)

#define USAGE_ENTER       0x28
#define USAGE_TAB         0x2b
#define USAGE_CAPS_LOCK   0x39
#define USAGE_SCROLL_LOCK 0x47
#define USAGE_NUM_LOCK    0x53
#define USAGE_KP_ENTER    0x58
#define USAGE_ERROR_ROLLOVER 0x01
#define USAGE_POST_FAIL      0x02
#define USAGE_ERROR_UNDEFINED 0x03

struct _CtHidDecoder
{
  CtHidMode mode;
  guint8    prev_keys[KEYS_PER_REPORT];
  gboolean  caps_lock;
  gboolean  discarding;
  char      symbology[4];
  char     *prefix;
  gsize     prefix_len;
  char     *suffix;
  gsize     suffix_len;
  gboolean  has_layout;
  CtHidPosLayout layout;
  gsize     length;
  char      buffer[CT_HID_MAX_SCAN + 1];
};

/* The US layout: usages 0x04..0x38 unshifted and shifted. */
static const char us_plain[] =
  "abcdefghijklmnopqrstuvwxyz1234567890" /* 0x04..0x27 */
  "\0\0\0\0 -=[]\\#;'`,./";              /* 0x28..0x38 */
static const char us_shift[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZ!@#$%^&*()"
  "\0\0\0\0 _+{}|~:\"~<>?";

G_DEFINE_QUARK (ct-hid-error-quark, ct_hid_error)

CtScan *
ct_scan_new (const char *text,
             gsize       length,
             const char *symbology,
             CtHidMode   mode)
{
  CtScan *scan = g_new0 (CtScan, 1);

  scan->text = g_malloc (length + 1);
  if (length > 0)
    memcpy (scan->text, text, length);
  scan->text[length] = '\0';
  scan->length = length;
  if (symbology != NULL)
    g_strlcpy (scan->symbology, symbology, sizeof scan->symbology);
  scan->mode = mode;
  return scan;
}

CtScan *
ct_scan_copy (const CtScan *scan)
{
  g_return_val_if_fail (scan != NULL, NULL);

  CtScan *copy = ct_scan_new (scan->text, scan->length, scan->symbology, scan->mode);

  copy->decoded_at = scan->decoded_at;
  return copy;
}

void
ct_scan_free (CtScan *scan)
{
  if (scan == NULL)
    return;
  g_free (scan->text);
  g_free (scan);
}

/**
 * ct_hid_escape_bytes:
 * @bytes: bytes that may or may not be UTF-8
 * @length: their number
 *
 * Returns: the bytes as printable UTF-8: valid characters as they are,
 *   invalid bytes and control characters as `\xNN`.
 */
char *
ct_hid_escape_bytes (const char *bytes,
                     gsize       length)
{
  GString *out = g_string_sized_new (length + 1);
  const char *p = bytes;
  const char *end = bytes + length;

  while (p < end)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);

      if (c == (gunichar) -1 || c == (gunichar) -2 || c < 0x20 || c == 0x7f
          || (c >= 0x80 && c < 0xa0))
        {
          const char *next = p + 1;

          /* A valid control character is escaped byte by byte as well. */
          if (c != (gunichar) -1 && c != (gunichar) -2)
            next = g_utf8_next_char (p);
          for (; p < next; p++)
            g_string_append_printf (out, "\\x%02X", (guint8) *p);
          continue;
        }

      {
        const char *next = g_utf8_next_char (p);

        g_string_append_len (out, p, next - p);
        p = next;
      }
    }
  return g_string_free (out, FALSE);
}

char *
ct_scan_to_display (const CtScan *scan)
{
  g_return_val_if_fail (scan != NULL, NULL);

  return ct_hid_escape_bytes (scan->text, scan->length);
}

const char *
ct_hid_mode_to_string (CtHidMode mode)
{
  switch (mode)
    {
    case CT_HID_MODE_AUTO:
      return "auto";
    case CT_HID_MODE_KEYBOARD:
      return "keyboard";
    case CT_HID_MODE_POS:
      return "pos";
    default:
      return "unknown";
    }
}

gboolean
ct_hid_mode_from_string (const char *text,
                         CtHidMode  *out_mode)
{
  g_return_val_if_fail (out_mode != NULL, FALSE);

  if (g_strcmp0 (text, "auto") == 0)
    *out_mode = CT_HID_MODE_AUTO;
  else if (g_strcmp0 (text, "keyboard") == 0)
    *out_mode = CT_HID_MODE_KEYBOARD;
  else if (g_strcmp0 (text, "pos") == 0)
    *out_mode = CT_HID_MODE_POS;
  else
    return FALSE;
  return TRUE;
}

/**
 * ct_hid_decoder_set_pos_layout:
 * @layout: (nullable): the device's layout, or %NULL for the common one
 */
void
ct_hid_decoder_set_pos_layout (CtHidDecoder         *self,
                               const CtHidPosLayout *layout)
{
  g_return_if_fail (self != NULL);

  self->has_layout = layout != NULL;
  if (layout != NULL)
    self->layout = *layout;
}

CtHidDecoder *
ct_hid_decoder_new (CtHidMode mode)
{
  CtHidDecoder *self = g_new0 (CtHidDecoder, 1);

  self->mode = mode;
  return self;
}

void
ct_hid_decoder_free (CtHidDecoder *self)
{
  if (self == NULL)
    return;
  g_free (self->prefix);
  g_free (self->suffix);
  g_free (self);
}

CtHidMode
ct_hid_decoder_get_mode (CtHidDecoder *self)
{
  g_return_val_if_fail (self != NULL, CT_HID_MODE_AUTO);

  return self->mode;
}

/**
 * ct_hid_decoder_set_prefix:
 * @prefix: (nullable): text the scanner puts before every code, or %NULL
 *
 * A configured prefix is removed from the start of a scan when present.
 */
void
ct_hid_decoder_set_prefix (CtHidDecoder *self,
                           const char   *prefix)
{
  g_return_if_fail (self != NULL);

  g_free (self->prefix);
  self->prefix = (prefix != NULL && *prefix) ? g_strdup (prefix) : NULL;
  self->prefix_len = self->prefix ? strlen (self->prefix) : 0;
}

void
ct_hid_decoder_set_suffix (CtHidDecoder *self,
                           const char   *suffix)
{
  g_return_if_fail (self != NULL);

  g_free (self->suffix);
  self->suffix = (suffix != NULL && *suffix) ? g_strdup (suffix) : NULL;
  self->suffix_len = self->suffix ? strlen (self->suffix) : 0;
}

/**
 * ct_hid_decoder_reset:
 *
 * Forgets a partial code and the key state, as when the device went away.
 * The decided mode stays.
 */
void
ct_hid_decoder_reset (CtHidDecoder *self)
{
  g_return_if_fail (self != NULL);

  memset (self->prev_keys, 0, sizeof self->prev_keys);
  self->caps_lock = FALSE;
  self->discarding = FALSE;
  self->length = 0;
  self->symbology[0] = '\0';
}

gboolean
ct_hid_decoder_has_partial (CtHidDecoder *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->length > 0 || self->discarding;
}

static void
drop_partial (CtHidDecoder *self)
{
  /* Whatever follows up to the next terminator belongs to the code that
   * went wrong, so it is dropped too. */
  if (self->length > 0 || self->symbology[0] != '\0')
    self->discarding = TRUE;
  self->length = 0;
  self->symbology[0] = '\0';
}

static gboolean
is_aim_char (char c)
{
  return g_ascii_isalnum (c);
}

static CtScan *
finish_scan (CtHidDecoder *self)
{
  const char *p = self->buffer;
  gsize len = self->length;
  char symbology[4] = { 0 };
  CtScan *scan = NULL;

  memcpy (symbology, self->symbology, sizeof symbology);

  if (self->prefix_len > 0 && len >= self->prefix_len
      && memcmp (p, self->prefix, self->prefix_len) == 0)
    {
      p += self->prefix_len;
      len -= self->prefix_len;
    }

  /* An AIM identifier is "]" + symbology character + modifier. */
  if (len >= 3 && p[0] == ']' && g_ascii_isalpha (p[1]) && is_aim_char (p[2]))
    {
      if (symbology[0] == '\0')
        memcpy (symbology, p, 3);
      symbology[3] = '\0';
      p += 3;
      len -= 3;
    }

  if (self->suffix_len > 0 && len >= self->suffix_len
      && memcmp (p + len - self->suffix_len, self->suffix, self->suffix_len) == 0)
    len -= self->suffix_len;

  if (len > 0)
    {
      scan = ct_scan_new (p, len, symbology, self->mode);
      scan->decoded_at = g_get_monotonic_time ();
    }

  self->length = 0;
  self->symbology[0] = '\0';
  return scan;
}

static gboolean
append (CtHidDecoder *self,
        const char   *bytes,
        gsize         n,
        GError      **error)
{
  if (self->discarding)
    return TRUE;
  if (self->length + n > CT_HID_MAX_SCAN)
    {
      drop_partial (self);
      g_set_error (error, CT_HID_ERROR, CT_HID_ERROR_TOO_LONG,
                   "Code longer than %d bytes, dropped", CT_HID_MAX_SCAN);
      return FALSE;
    }
  memcpy (self->buffer + self->length, bytes, n);
  self->length += n;
  return TRUE;
}

/* Maps a usage to the character a US keyboard produces, or returns 0. */
static char
usage_to_char (guint8   usage,
               guint8   modifiers,
               gboolean caps_lock)
{
  gboolean shift = (modifiers & MOD_SHIFT) != 0;
  char c = 0;

  if (usage >= 0x04 && usage <= 0x38)
    {
      gboolean letter = usage <= 0x1d;

      if (letter && caps_lock)
        shift = !shift;
      c = shift ? us_shift[usage - 0x04] : us_plain[usage - 0x04];
    }
  else if (usage >= 0x59 && usage <= 0x61)
    c = '1' + (usage - 0x59);
  else
    {
      switch (usage)
        {
        case 0x54: c = '/'; break;
        case 0x55: c = '*'; break;
        case 0x56: c = '-'; break;
        case 0x57: c = '+'; break;
        case 0x62: c = '0'; break;
        case 0x63: c = '.'; break;
        case 0x64: c = shift ? '|' : '\\'; break;
        default: c = 0; break;
        }
    }

  if (c != 0 && (modifiers & MOD_CTRL) != 0)
    {
      /* Scanners send control characters (GS for GS1 data) as Ctrl+key. */
      char upper = g_ascii_toupper (c);

      if (upper >= 'A' && upper <= '_')
        return upper - '@';
      return 0;
    }
  return c;
}

static gboolean
key_down (CtHidDecoder *self,
          guint8        usage,
          guint8        modifiers,
          CtScan      **out_scan,
          GError      **error)
{
  char c;

  if (usage == USAGE_ENTER || usage == USAGE_KP_ENTER || usage == USAGE_TAB)
    {
      if (self->discarding)
        {
          self->discarding = FALSE;
          self->length = 0;
          self->symbology[0] = '\0';
          return TRUE;
        }
      if (*out_scan == NULL)
        *out_scan = finish_scan (self);
      else
        {
          /* Two codes ended in one report: keep the first, drop the second
           * rather than hand out something that was never checked. */
          self->length = 0;
        }
      return TRUE;
    }

  if (usage == USAGE_CAPS_LOCK)
    {
      self->caps_lock = !self->caps_lock;
      return TRUE;
    }
  if (usage == USAGE_NUM_LOCK || usage == USAGE_SCROLL_LOCK
      || (usage >= 0xe0 && usage <= 0xe7))
    return TRUE;

  if ((modifiers & (MOD_ALT | MOD_GUI)) == 0)
    {
      c = usage_to_char (usage, modifiers, self->caps_lock);
      if (c != 0)
        return append (self, &c, 1, error);
    }

  drop_partial (self);
  g_set_error (error, CT_HID_ERROR, CT_HID_ERROR_UNKNOWN_USAGE,
               "Key usage 0x%02X (modifiers 0x%02X) is not part of a code",
               usage, modifiers);
  return FALSE;
}

static gboolean
feed_keyboard (CtHidDecoder *self,
               const guint8 *report,
               gsize         length,
               CtScan      **out_scan,
               GError      **error)
{
  const guint8 *keys;
  guint8 modifiers;
  g_autoptr(GError) local_error = NULL;
  gboolean ok = TRUE;

  /* A keyboard interface in report protocol with report ids puts the id
   * in front of the boot layout. */
  if (length == BOOT_REPORT_SIZE + 1 && report[0] != 0)
    {
      report++;
      length--;
    }

  if (length < BOOT_REPORT_SIZE)
    {
      drop_partial (self);
      g_set_error (error, CT_HID_ERROR, CT_HID_ERROR_SHORT_REPORT,
                   "Keyboard report of %" G_GSIZE_FORMAT " bytes, expected %d",
                   length, BOOT_REPORT_SIZE);
      return FALSE;
    }
  if (length > BOOT_REPORT_SIZE)
    {
      drop_partial (self);
      g_set_error (error, CT_HID_ERROR, CT_HID_ERROR_BAD_REPORT,
                   "Keyboard report of %" G_GSIZE_FORMAT " bytes, expected %d",
                   length, BOOT_REPORT_SIZE);
      return FALSE;
    }

  keys = report + 2;
  modifiers = report[0];

  /* A rollover error report says "too many keys": it carries no key state,
   * so the previous state stays and nothing is emitted. */
  for (guint i = 0; i < KEYS_PER_REPORT; i++)
    if (keys[i] == USAGE_ERROR_ROLLOVER || keys[i] == USAGE_POST_FAIL
        || keys[i] == USAGE_ERROR_UNDEFINED)
      return TRUE;

  for (guint i = 0; i < KEYS_PER_REPORT; i++)
    {
      guint8 usage = keys[i];
      gboolean was_down = FALSE;
      gboolean seen_before = FALSE;

      if (usage == 0)
        continue;
      for (guint j = 0; j < KEYS_PER_REPORT; j++)
        if (self->prev_keys[j] == usage)
          was_down = TRUE;
      /* A usage listed twice in one report is one key. */
      for (guint j = 0; j < i; j++)
        if (keys[j] == usage)
          seen_before = TRUE;
      if (was_down || seen_before)
        continue;

      if (ok)
        ok = key_down (self, usage, modifiers, out_scan, &local_error);
      else
        key_down (self, usage, modifiers, out_scan, NULL);
    }

  memcpy (self->prev_keys, keys, KEYS_PER_REPORT);

  /* A code completed in this report is handed out even when a later key
   * of the same report was bad: that key only spoiled what followed. */
  if (*out_scan != NULL)
    return TRUE;
  if (!ok)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

static void
take_symbology (CtHidDecoder *self,
                const guint8  sym[3])
{
  if (sym[0] == ']' && g_ascii_isalpha (sym[1]) && is_aim_char (sym[2]))
    {
      memcpy (self->symbology, sym, 3);
      self->symbology[3] = '\0';
    }
  else if (g_ascii_isalpha (sym[0]) && is_aim_char (sym[1]))
    {
      /* Without the bracket: the code character and the modifier. */
      self->symbology[0] = ']';
      self->symbology[1] = sym[0];
      self->symbology[2] = sym[1];
      self->symbology[3] = '\0';
    }
  else
    self->symbology[0] = '\0';
}

/* The parts of a report in the device's own layout. */
static gboolean
split_with_layout (CtHidDecoder  *self,
                   const guint8  *report,
                   gsize          length,
                   const guint8 **data,
                   gsize         *data_len,
                   guint8         sym[3],
                   gboolean      *more,
                   GError       **error)
{
  const CtHidPosLayout *l = &self->layout;

  if (l->report_id != 0 && report[0] != l->report_id)
    {
      g_set_error (error, CT_HID_ERROR, CT_HID_ERROR_BAD_REPORT,
                   "Report id 0x%02X is not a scanned data report", report[0]);
      return FALSE;
    }
  if (length < l->report_length)
    {
      drop_partial (self);
      g_set_error (error, CT_HID_ERROR, CT_HID_ERROR_SHORT_REPORT,
                   "HID POS report of %" G_GSIZE_FORMAT " bytes, the device's layout has %" G_GSIZE_FORMAT,
                   length, l->report_length);
      return FALSE;
    }

  *data = report + l->data_offset;
  if (l->count_offset != CT_HID_POS_ABSENT)
    {
      *data_len = report[l->count_offset];
      if (*data_len > l->data_length)
        {
          drop_partial (self);
          g_set_error (error, CT_HID_ERROR, CT_HID_ERROR_BAD_REPORT,
                       "HID POS report says %" G_GSIZE_FORMAT " data bytes but holds at most %" G_GSIZE_FORMAT,
                       *data_len, l->data_length);
          return FALSE;
        }
    }
  else
    {
      /* No byte count: the data is padded with zeros. */
      *data_len = l->data_length;
      while (*data_len > 0 && (*data)[*data_len - 1] == 0)
        (*data_len)--;
    }
  for (guint k = 0; k < 3; k++)
    sym[k] = l->symbology_offset[k] != CT_HID_POS_ABSENT ? report[l->symbology_offset[k]] : 0;
  *more = l->more_bit != CT_HID_POS_ABSENT
          && (report[l->more_bit / 8] & (1u << (l->more_bit % 8))) != 0;
  return TRUE;
}

/* The parts of a report in the common layout: id 0x02, byte count, three
 * symbology identifier bytes, the data, and the flags in the last byte. */
static gboolean
split_common (CtHidDecoder  *self,
              const guint8  *report,
              gsize          length,
              const guint8 **data,
              gsize         *data_len,
              guint8         sym[3],
              gboolean      *more,
              GError       **error)
{
  if (length < POS_HEADER_SIZE + 1)
    {
      drop_partial (self);
      g_set_error (error, CT_HID_ERROR, CT_HID_ERROR_SHORT_REPORT,
                   "HID POS report of %" G_GSIZE_FORMAT " bytes is too short",
                   length);
      return FALSE;
    }
  if (report[0] != POS_REPORT_ID)
    {
      g_set_error (error, CT_HID_ERROR, CT_HID_ERROR_BAD_REPORT,
                   "Report id 0x%02X is not a scanned data report", report[0]);
      return FALSE;
    }

  *data_len = report[1];
  if (POS_HEADER_SIZE + *data_len > length - 1)
    {
      drop_partial (self);
      g_set_error (error, CT_HID_ERROR, CT_HID_ERROR_BAD_REPORT,
                   "HID POS report says %" G_GSIZE_FORMAT " data bytes but holds at most %" G_GSIZE_FORMAT,
                   *data_len, length - 1 - POS_HEADER_SIZE);
      return FALSE;
    }
  *data = report + POS_HEADER_SIZE;
  memcpy (sym, report + 2, 3);
  *more = (report[length - 1] & 0x01) != 0;
  return TRUE;
}

static gboolean
feed_pos (CtHidDecoder *self,
          const guint8 *report,
          gsize         length,
          CtScan      **out_scan,
          GError      **error)
{
  const guint8 *data = NULL;
  gsize data_len = 0;
  guint8 sym[3];
  gboolean more = FALSE;
  gboolean ok;

  if (self->has_layout)
    ok = split_with_layout (self, report, length, &data, &data_len, sym, &more, error);
  else
    ok = split_common (self, report, length, &data, &data_len, sym, &more, error);
  if (!ok)
    return FALSE;

  if (self->length == 0 && !self->discarding)
    take_symbology (self, sym);

  if (!append (self, (const char *) data, data_len, error))
    return FALSE;

  if (!more)
    {
      if (self->discarding)
        {
          self->discarding = FALSE;
          self->length = 0;
          self->symbology[0] = '\0';
        }
      else
        *out_scan = finish_scan (self);
    }
  return TRUE;
}

/**
 * ct_hid_decoder_feed:
 * @report: one input report as the device sent it
 * @length: its size in bytes
 * @out_scan: (out): set to a complete scan, or %NULL
 *
 * Returns: %FALSE with @error set when the report is bad (the code it was
 *   part of is dropped); %TRUE otherwise, with @out_scan set when the
 *   report completed a code.
 */
gboolean
ct_hid_decoder_feed (CtHidDecoder *self,
                     const guint8 *report,
                     gsize         length,
                     CtScan      **out_scan,
                     GError      **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (report != NULL || length == 0, FALSE);
  g_return_val_if_fail (out_scan != NULL && *out_scan == NULL, FALSE);

  if (length == 0)
    {
      g_set_error (error, CT_HID_ERROR, CT_HID_ERROR_SHORT_REPORT,
                   "Empty report");
      return FALSE;
    }

  if (self->mode == CT_HID_MODE_AUTO)
    {
      if (self->has_layout && length >= self->layout.report_length
          && (self->layout.report_id == 0 || report[0] == self->layout.report_id))
        self->mode = CT_HID_MODE_POS;
      else if (length == BOOT_REPORT_SIZE)
        self->mode = CT_HID_MODE_KEYBOARD;
      else if (length > POS_HEADER_SIZE && report[0] == POS_REPORT_ID)
        self->mode = CT_HID_MODE_POS;
      else if (length == BOOT_REPORT_SIZE + 1 && report[0] != 0)
        self->mode = CT_HID_MODE_KEYBOARD;
      else
        {
          g_set_error (error, CT_HID_ERROR, CT_HID_ERROR_BAD_REPORT,
                       "A report of %" G_GSIZE_FORMAT " bytes is neither a boot keyboard nor a HID POS scanned data report",
                       length);
          return FALSE;
        }
    }

  switch (self->mode)
    {
    case CT_HID_MODE_KEYBOARD:
      return feed_keyboard (self, report, length, out_scan, error);
    case CT_HID_MODE_POS:
      return feed_pos (self, report, length, out_scan, error);
    case CT_HID_MODE_AUTO:
    default:
      g_assert_not_reached ();
    }
  return FALSE;
}
