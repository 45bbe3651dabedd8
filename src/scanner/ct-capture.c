/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-capture"
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ct-capture.h"

/* Reads the report captures a support engineer can make on a till:
 *
 * - Linux usbmon text (/sys/kernel/debug/usb/usbmon/Nu): only the "C Ii"
 *   lines (interrupt-in completions) carry reports. The text interface shows
 *   at most 32 bytes of data, so a line whose length field is larger than
 *   its data words is a truncated capture: its stream can never be decoded
 *   whole, and it is refused rather than decoded into half a number.
 * - hid-recorder recordings (hid-tools): "R:" descriptor, "I:" ids,
 *   "E: sec.usec len bytes" events, "D: n" to switch devices.
 * - plain hex, one report a line.
 */

#define MAX_LINE 65536

G_DEFINE_QUARK (ct-capture-error-quark, ct_capture_error)

static void
stream_free (gpointer data)
{
  CtCaptureStream *stream = data;

  for (guint i = 0; i < stream->reports->len; i++)
    g_free (g_array_index (stream->reports, CtCaptureReport, i).data);
  g_array_unref (stream->reports);
  g_free (stream->id);
  g_free (stream);
}

void
ct_capture_free (CtCapture *capture)
{
  if (capture == NULL)
    return;
  g_ptr_array_unref (capture->streams);
  g_free (capture);
}

const char *
ct_capture_format_to_string (CtCaptureFormat format)
{
  switch (format)
    {
    case CT_CAPTURE_FORMAT_USBMON:
      return "usbmon";
    case CT_CAPTURE_FORMAT_HID_RECORDER:
      return "hid-recorder";
    case CT_CAPTURE_FORMAT_HEX:
      return "hex";
    default:
      return "unknown";
    }
}

static CtCaptureStream *
get_stream (CtCapture  *capture,
            const char *id)
{
  CtCaptureStream *stream;

  for (guint i = 0; i < capture->streams->len; i++)
    {
      stream = g_ptr_array_index (capture->streams, i);
      if (strcmp (stream->id, id) == 0)
        return stream;
    }

  stream = g_new0 (CtCaptureStream, 1);
  stream->id = g_strdup (id);
  stream->mode_hint = CT_HID_MODE_AUTO;
  stream->reports = g_array_new (FALSE, TRUE, sizeof (CtCaptureReport));
  g_ptr_array_add (capture->streams, stream);
  return stream;
}

static void
stream_add (CtCaptureStream *stream,
            GByteArray      *bytes,
            guint            line)
{
  CtCaptureReport report;

  report.length = bytes->len;
  report.data = g_memdup2 (bytes->data, bytes->len);
  report.line = line;
  g_array_append_val (stream->reports, report);
}

/* Appends the bytes of one token of hex digits (even count). */
static gboolean
append_hex_token (GByteArray *out,
                  const char *token)
{
  gsize n = strlen (token);

  if (n == 0 || n % 2 != 0)
    return FALSE;
  for (gsize i = 0; i < n; i += 2)
    {
      int hi = g_ascii_xdigit_value (token[i]);
      int lo = g_ascii_xdigit_value (token[i + 1]);
      guint8 b;

      if (hi < 0 || lo < 0)
        return FALSE;
      b = (guint8) (hi * 16 + lo);
      g_byte_array_append (out, &b, 1);
    }
  return TRUE;
}

static gboolean
parse_uint (const char *text,
            guint       base,
            guint64     max,
            guint64    *out)
{
  guint64 value;

  if (text == NULL || *text == '\0')
    return FALSE;
  if (!g_ascii_string_to_unsigned (text, base, 0, max, &value, NULL))
    return FALSE;
  *out = value;
  return TRUE;
}

static gboolean
parse_int (const char *text,
           gint64     *out)
{
  return text != NULL && *text != '\0'
         && g_ascii_string_to_signed (text, 10, G_MININT32, G_MAXINT32, out, NULL);
}

static char **
split_tokens (const char *line)
{
  GPtrArray *tokens = g_ptr_array_new ();
  const char *p = line;

  while (*p)
    {
      const char *start;

      while (*p == ' ' || *p == '\t')
        p++;
      if (*p == '\0')
        break;
      start = p;
      while (*p && *p != ' ' && *p != '\t')
        p++;
      g_ptr_array_add (tokens, g_strndup (start, p - start));
    }
  g_ptr_array_add (tokens, NULL);
  return (char **) g_ptr_array_free (tokens, FALSE);
}

static gboolean
is_usbmon_line (char **tok)
{
  guint n = g_strv_length (tok);
  guint64 v;

  if (n < 4)
    return FALSE;
  if (!parse_uint (tok[0], 16, G_MAXUINT64, &v))
    return FALSE;
  if (!parse_uint (tok[1], 10, G_MAXUINT64, &v))
    return FALSE;
  if (strcmp (tok[2], "S") != 0 && strcmp (tok[2], "C") != 0 && strcmp (tok[2], "E") != 0)
    return FALSE;
  if (strlen (tok[3]) < 4 || strchr ("CZIB", tok[3][0]) == NULL
      || (tok[3][1] != 'i' && tok[3][1] != 'o') || tok[3][2] != ':')
    return FALSE;
  return TRUE;
}

static gboolean
is_recorder_line (const char *line)
{
  return g_ascii_isupper (line[0]) && line[1] == ':'
         && (line[2] == ' ' || line[2] == '\0');
}

static gboolean
parse_hex_line (const char *line,
                GByteArray *out)
{
  g_auto(GStrv) tok = split_tokens (line);

  if (tok[0] == NULL)
    return FALSE;
  for (guint i = 0; tok[i]; i++)
    {
      const char *t = tok[i];

      if (g_str_has_prefix (t, "0x") || g_str_has_prefix (t, "0X"))
        t += 2;
      if (!append_hex_token (out, t))
        return FALSE;
    }
  return TRUE;
}

/* One "C Ii:BUS:DEV:EP STATUS[:INTERVAL] LENGTH = WORDS…" line. */
static gboolean
parse_usbmon_line (CtCapture  *capture,
                   char      **tok,
                   guint       lineno,
                   GError    **error)
{
  g_auto(GStrv) addr = NULL;
  g_autoptr(GByteArray) bytes = NULL;
  g_autofree char *id = NULL;
  CtCaptureStream *stream;
  guint64 bus, dev, ep, length;
  gint64 status;
  guint n = g_strv_length (tok);
  char *colon;

  if (strcmp (tok[2], "C") != 0 || tok[3][0] != 'I' || tok[3][1] != 'i')
    return TRUE;

  addr = g_strsplit (tok[3], ":", -1);
  if (g_strv_length (addr) == 4)
    {
      if (!parse_uint (addr[1], 10, 999, &bus) || !parse_uint (addr[2], 10, 999, &dev)
          || !parse_uint (addr[3], 10, 31, &ep))
        goto bad;
    }
  else if (g_strv_length (addr) == 3)
    {
      /* The old text API has no bus number. */
      bus = 0;
      if (!parse_uint (addr[1], 10, 999, &dev) || !parse_uint (addr[2], 10, 31, &ep))
        goto bad;
    }
  else
    goto bad;

  if (n < 6)
    goto bad;
  colon = strchr (tok[4], ':');
  if (colon != NULL)
    *colon = '\0';
  if (!parse_int (tok[4], &status))
    goto bad;
  if (!parse_uint (tok[5], 10, 1 << 20, &length))
    goto bad;

  /* Cancelled or failed transfers (an unplug, the driver closing) carry
   * nothing to decode. */
  if (status != 0 || length == 0)
    return TRUE;

  id = g_strdup_printf ("%u:%03u:%u", (guint) bus, (guint) dev, (guint) ep);
  stream = get_stream (capture, id);

  bytes = g_byte_array_new ();
  if (n >= 7 && strcmp (tok[6], "=") == 0)
    {
      for (guint i = 7; i < n; i++)
        if (!append_hex_token (bytes, tok[i]))
          goto bad;
    }
  else if (n >= 7)
    {
      /* A tag other than "=" means the data was not captured. */
      if (strlen (tok[6]) != 1)
        goto bad;
    }

  if (bytes->len > length)
    goto bad;
  if (bytes->len < length)
    {
      if (stream->truncated_line == 0)
        {
          stream->truncated_line = lineno;
          stream->truncated_length = length;
          stream->truncated_shown = bytes->len;
        }
      return TRUE;
    }

  stream_add (stream, bytes, lineno);
  return TRUE;

bad:
  g_set_error (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_BAD_LINE,
               "line %u: malformed usbmon interrupt-in line", lineno);
  return FALSE;
}

static gboolean
parse_recorder_line (CtCapture  *capture,
                     const char *line,
                     guint       lineno,
                     guint      *device,
                     GError    **error)
{
  g_auto(GStrv) tok = NULL;
  g_autoptr(GByteArray) bytes = NULL;
  g_autofree char *id = NULL;
  guint64 v;
  guint n;

  if (!is_recorder_line (line))
    {
      g_set_error (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_BAD_LINE,
                   "line %u: not an hid-recorder line", lineno);
      return FALSE;
    }

  tok = split_tokens (line + 2);
  n = g_strv_length (tok);
  switch (line[0])
    {
    case 'D':
      if (n != 1 || !parse_uint (tok[0], 10, 1000, &v))
        goto bad;
      *device = (guint) v;
      return TRUE;

    case 'R':
    case 'E':
      {
        guint first = line[0] == 'E' ? 1 : 0;

        if (n < first + 1 || !parse_uint (tok[first], 10, 1 << 16, &v))
          goto bad;
        if (line[0] == 'E' && strchr (tok[0], '.') == NULL)
          goto bad;
        bytes = g_byte_array_new ();
        for (guint i = first + 1; i < n; i++)
          if (!append_hex_token (bytes, tok[i]) || bytes->len > v)
            goto bad;
        if (bytes->len != v)
          goto bad;

        id = g_strdup_printf ("%u", *device);
        if (line[0] == 'R')
          {
            CtCaptureStream *stream = get_stream (capture, id);

            stream->mode_hint = ct_hid_mode_from_report_descriptor (bytes->data, bytes->len);
            stream->has_pos_layout = ct_hid_pos_layout_from_descriptor (bytes->data, bytes->len,
                                                                        &stream->pos_layout);
          }
        else if (bytes->len > 0)
          stream_add (get_stream (capture, id), bytes, lineno);
        return TRUE;
      }

    default:
      /* N: name, P: physical path, I: bus and ids, and future keys. */
      return TRUE;
    }

bad:
  g_set_error (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_BAD_LINE,
               "line %u: malformed hid-recorder \"%c:\" line", lineno, line[0]);
  return FALSE;
}

/**
 * ct_capture_parse:
 * @text: the capture file's bytes
 * @length: their number
 *
 * Recognises the format from the first line that is not empty or a comment
 * and reads every report of every source in it.
 *
 * Returns: (transfer full): the capture, or %NULL with @error set.
 */
CtCapture *
ct_capture_parse (const char  *text,
                  gsize        length,
                  GError     **error)
{
  g_autoptr(CtCapture) capture = g_new0 (CtCapture, 1);
  const char *p = text;
  const char *end = text + length;
  gboolean decided = FALSE;
  guint lineno = 0;
  guint device = 0;

  g_return_val_if_fail (text != NULL || length == 0, NULL);

  capture->streams = g_ptr_array_new_with_free_func (stream_free);

  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);
      const char *line_end = nl ? nl : end;
      g_autofree char *line = NULL;
      gsize line_len = line_end - p;

      lineno++;
      if (line_len > 0 && p[line_len - 1] == '\r')
        line_len--;
      if (line_len > MAX_LINE || memchr (p, '\0', line_len) != NULL)
        {
          g_set_error (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_UNRECOGNISED,
                       "line %u: binary data, not a text capture", lineno);
          return NULL;
        }
      line = g_strndup (p, line_len);
      p = nl ? nl + 1 : end;

      g_strstrip (line);
      if (line[0] == '\0' || line[0] == '#')
        continue;

      if (!decided)
        {
          g_auto(GStrv) tok = split_tokens (line);
          g_autoptr(GByteArray) probe = g_byte_array_new ();

          if (is_recorder_line (line))
            capture->format = CT_CAPTURE_FORMAT_HID_RECORDER;
          else if (is_usbmon_line (tok))
            capture->format = CT_CAPTURE_FORMAT_USBMON;
          else if (parse_hex_line (line, probe))
            capture->format = CT_CAPTURE_FORMAT_HEX;
          else
            {
              g_set_error (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_UNRECOGNISED,
                           "line %u: not a usbmon capture, an hid-recorder recording or hex report lines",
                           lineno);
              return NULL;
            }
          decided = TRUE;
        }

      switch (capture->format)
        {
        case CT_CAPTURE_FORMAT_USBMON:
          {
            g_auto(GStrv) tok = split_tokens (line);

            if (!is_usbmon_line (tok))
              {
                g_set_error (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_BAD_LINE,
                             "line %u: not a usbmon line", lineno);
                return NULL;
              }
            if (!parse_usbmon_line (capture, tok, lineno, error))
              return NULL;
          }
          break;

        case CT_CAPTURE_FORMAT_HID_RECORDER:
          if (!parse_recorder_line (capture, line, lineno, &device, error))
            return NULL;
          break;

        case CT_CAPTURE_FORMAT_HEX:
          {
            g_autoptr(GByteArray) bytes = g_byte_array_new ();

            if (!parse_hex_line (line, bytes))
              {
                g_set_error (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_BAD_LINE,
                             "line %u: not a line of hex bytes", lineno);
                return NULL;
              }
            stream_add (get_stream (capture, "hex"), bytes, lineno);
          }
          break;

        default:
          g_assert_not_reached ();
        }
    }

  if (!decided)
    {
      g_set_error (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_UNRECOGNISED,
                   "The capture is empty");
      return NULL;
    }
  return g_steal_pointer (&capture);
}

/* "BUS:DEV" or "BUS:DEV:EP" against a usbmon stream id "1:003:1"; a bare
 * number against an hid-recorder device. Numbers compare as numbers. */
static gboolean
device_matches (const char *want,
                const char *id)
{
  g_auto(GStrv) w = g_strsplit (want, ":", -1);
  g_auto(GStrv) s = g_strsplit (id, ":", -1);
  guint wn = g_strv_length (w);

  if (wn == 0 || wn > g_strv_length (s))
    return FALSE;
  if (wn == 1 && g_strv_length (s) != 1)
    return FALSE;
  for (guint i = 0; i < wn; i++)
    {
      guint64 a, b;

      if (!parse_uint (w[i], 10, G_MAXUINT32, &a) || !parse_uint (s[i], 10, G_MAXUINT32, &b))
        return FALSE;
      if (a != b)
        return FALSE;
    }
  return TRUE;
}

static char *
list_ids (GPtrArray *streams)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < streams->len; i++)
    {
      CtCaptureStream *stream = g_ptr_array_index (streams, i);

      if (s->len > 0)
        g_string_append (s, ", ");
      g_string_append (s, stream->id);
    }
  return g_string_free (s, FALSE);
}

/**
 * ct_capture_decode:
 * @device: (nullable): "BUS:DEV[:EP]" to pick one source, or %NULL for all
 * @mode: %CT_HID_MODE_AUTO to use the descriptor or report size
 * @out_scans: (out): the scans, in order, of #CtScan
 * @out_warnings: (out): "line N: …" for reports that were dropped
 *
 * Decodes the chosen sources. Exactly one source may produce scans; more
 * than one is an error naming them, so that a keyboard typing on the same
 * bus is never mixed into a scanner's codes.
 */
gboolean
ct_capture_decode (CtCapture   *capture,
                   const char  *device,
                   CtHidMode    mode,
                   const char  *prefix,
                   const char  *suffix,
                   GPtrArray  **out_scans,
                   GPtrArray  **out_warnings,
                   GError     **error)
{
  g_autoptr(GPtrArray) selected = g_ptr_array_new ();
  g_autoptr(GPtrArray) candidates = g_ptr_array_new ();
  g_autoptr(GPtrArray) scans = NULL;
  g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  CtCaptureStream *chosen = NULL;

  g_return_val_if_fail (capture != NULL, FALSE);
  g_return_val_if_fail (out_scans != NULL, FALSE);

  for (guint i = 0; i < capture->streams->len; i++)
    {
      CtCaptureStream *stream = g_ptr_array_index (capture->streams, i);

      if (device == NULL || capture->format == CT_CAPTURE_FORMAT_HEX
          || device_matches (device, stream->id))
        g_ptr_array_add (selected, stream);
    }

  if (selected->len == 0)
    {
      g_autofree char *ids = list_ids (capture->streams);

      if (device != NULL)
        g_set_error (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_NO_DEVICE,
                     "No interrupt-in reports from device %s in the capture%s%s",
                     device, *ids ? "; it has " : "", ids);
      else
        g_set_error (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_NO_SCANS,
                     "The capture holds no interrupt-in reports");
      return FALSE;
    }

  for (guint i = 0; i < selected->len; i++)
    {
      CtCaptureStream *stream = g_ptr_array_index (selected, i);
      g_autoptr(CtHidDecoder) decoder = NULL;
      g_autoptr(GPtrArray) stream_scans = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_scan_free);
      CtCaptureReport *last = NULL;

      if (stream->truncated_line != 0)
        {
          g_ptr_array_add (candidates, stream);
          continue;
        }

      decoder = ct_hid_decoder_new (mode != CT_HID_MODE_AUTO ? mode : stream->mode_hint);
      ct_hid_decoder_set_prefix (decoder, prefix);
      ct_hid_decoder_set_suffix (decoder, suffix);
      if (stream->has_pos_layout)
        ct_hid_decoder_set_pos_layout (decoder, &stream->pos_layout);
      for (guint r = 0; r < stream->reports->len; r++)
        {
          CtCaptureReport *report = &g_array_index (stream->reports, CtCaptureReport, r);
          g_autoptr(GError) local_error = NULL;
          CtScan *scan = NULL;

          last = report;
          if (!ct_hid_decoder_feed (decoder, report->data, report->length, &scan, &local_error))
            g_ptr_array_add (warnings, g_strdup_printf ("%s line %u: %s", stream->id,
                                                        report->line, local_error->message));
          if (scan != NULL)
            g_ptr_array_add (stream_scans, scan);
        }
      if (last != NULL && ct_hid_decoder_has_partial (decoder))
        g_ptr_array_add (warnings, g_strdup_printf ("%s line %u: the capture ends inside a code, which was dropped",
                                                    stream->id, last->line));

      if (stream_scans->len > 0)
        {
          g_ptr_array_add (candidates, stream);
          if (scans == NULL)
            scans = g_steal_pointer (&stream_scans);
        }
    }

  if (candidates->len > 1)
    {
      g_autofree char *ids = list_ids (candidates);

      g_set_error (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_AMBIGUOUS,
                   "More than one device in the capture sends codes (%s): pick one with --device",
                   ids);
      return FALSE;
    }
  if (candidates->len == 0)
    {
      g_set_error (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_NO_SCANS,
                   "No complete code in the capture%s%s",
                   warnings->len > 0 ? ": " : "",
                   warnings->len > 0 ? (const char *) g_ptr_array_index (warnings, 0) : "");
      return FALSE;
    }

  chosen = g_ptr_array_index (candidates, 0);
  if (chosen->truncated_line != 0)
    {
      g_set_error (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_TRUNCATED,
                   "Truncated capture: line %u of device %s has a %" G_GSIZE_FORMAT "-byte report but only %" G_GSIZE_FORMAT " bytes were captured (usbmon's text interface cuts data at 32 bytes; use hid-recorder)",
                   chosen->truncated_line, chosen->id, chosen->truncated_length,
                   chosen->truncated_shown);
      return FALSE;
    }

  *out_scans = g_steal_pointer (&scans);
  if (out_warnings != NULL)
    *out_warnings = g_steal_pointer (&warnings);
  return TRUE;
}
