/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-csv"
#include "config.h"

#include "ct-csv.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <gnutls/crypto.h>
#include <string.h>

/* A streaming RFC 4180 reader. The file is read in fixed blocks and only the
 * current record is kept, so memory does not grow with the file. GB18030
 * input is converted to UTF-8 block by block before parsing, so the parser
 * itself only ever sees UTF-8. */

#define BLOCK_SIZE (256 * 1024)

G_DEFINE_QUARK (ct-csv-error-quark, ct_csv_error)

typedef enum
{
  STATE_FIELD_START,
  STATE_UNQUOTED,
  STATE_QUOTED,
  STATE_QUOTE_SEEN,
} ParseState;

struct _CtCsvReader
{
  GInputStream *stream;
  CtCsvEncoding encoding;
  GIConv        iconv;

  /* Raw bytes from the stream (only used for GB18030). */
  char         *raw;
  gsize         raw_len;

  /* UTF-8 text being parsed. */
  char         *buf;
  gsize         buf_size;
  gsize         buf_len;
  gsize         buf_pos;

  gboolean      eof;
  gboolean      at_start;
  gboolean      prev_cr;
  gboolean      skip_lf;
  guint64       line;
  guint64       bytes_read;
  gsize         max_record;

  /* The current record: fields separated by NUL bytes. */
  GString      *record;
  GArray       *offsets;
  GArray       *lengths;
  guint64       record_line;
  const char   *problem;
};

const char *
ct_csv_encoding_to_string (CtCsvEncoding encoding)
{
  switch (encoding)
    {
    case CT_CSV_ENCODING_AUTO:
      return "auto";
    case CT_CSV_ENCODING_UTF8:
      return "utf-8";
    case CT_CSV_ENCODING_GB18030:
      return "gb18030";
    default:
      g_return_val_if_reached ("auto");
    }
}

/**
 * ct_csv_encoding_from_string:
 * @text: "auto", "utf-8"/"utf8" or "gb18030"/"gbk" (any case)
 *
 * GBK is a subset of GB18030, so a GBK file is read as GB18030.
 */
gboolean
ct_csv_encoding_from_string (const char    *text,
                             CtCsvEncoding *out_encoding)
{
  g_return_val_if_fail (text != NULL, FALSE);

  if (g_ascii_strcasecmp (text, "auto") == 0)
    *out_encoding = CT_CSV_ENCODING_AUTO;
  else if (g_ascii_strcasecmp (text, "utf-8") == 0 || g_ascii_strcasecmp (text, "utf8") == 0)
    *out_encoding = CT_CSV_ENCODING_UTF8;
  else if (g_ascii_strcasecmp (text, "gb18030") == 0 || g_ascii_strcasecmp (text, "gbk") == 0
           || g_ascii_strcasecmp (text, "gb2312") == 0)
    *out_encoding = CT_CSV_ENCODING_GB18030;
  else
    return FALSE;
  return TRUE;
}

/* Line numbers go into translatable messages as text: a format macro
 * cannot be part of a message id. */
static char *
line_text (guint64 line)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT, line);
}

static guint
utf8_sequence_length (guchar lead)
{
  if (lead < 0x80)
    return 1;
  if (lead >= 0xC2 && lead <= 0xDF)
    return 2;
  if (lead >= 0xE0 && lead <= 0xEF)
    return 3;
  if (lead >= 0xF0 && lead <= 0xF4)
    return 4;
  return 0;
}

/* Counts line ends the way the reader does: CRLF, LF and CR each end one line. */
static guint64
count_lines (const char *data,
             gsize       len,
             gboolean   *prev_cr)
{
  guint64 n = 0;

  for (gsize i = 0; i < len; i++)
    {
      char c = data[i];

      if (c == '\r')
        n++;
      else if (c == '\n' && !*prev_cr)
        n++;
      *prev_cr = (c == '\r');
    }
  return n;
}

/* g_utf8_validate_len() with ASCII checked 8 bytes at a time: an export is
 * mostly ASCII, and GLib's check, byte by byte, was a tenth of the import's
 * reading. A valid multi-byte sequence holds no byte below 0x80, so each
 * run of bytes from 0x80 up is checked by GLib on its own, with the same
 * verdict and the same first bad byte (*@end) as a check of the whole. A
 * NUL byte is refused, as GLib does. */
static gboolean
utf8_validate_len (const char  *text,
                   gsize        len,
                   const char **end)
{
  const guchar *p = (const guchar *) text, *e = p + len;

  while (p < e)
    {
      const guchar *run;

      while (e - p >= 8)
        {
          guint64 w;

          memcpy (&w, p, sizeof w);
          /* A byte from 0x80 up, or a zero byte. */
          if (((w | ((w - G_GUINT64_CONSTANT (0x0101010101010101)) & ~w)) & G_GUINT64_CONSTANT (0x8080808080808080))
              != 0)
            break;
          p += 8;
        }
      while (p < e && *p != 0 && *p < 0x80)
        p++;
      if (p == e)
        break;
      if (*p == 0)
        {
          if (end != NULL)
            *end = (const char *) p;
          return FALSE;
        }
      for (run = p; p < e && *p >= 0x80; p++)
        ;
      if (!g_utf8_validate_len ((const char *) run, p - run, end))
        return FALSE;
    }
  if (end != NULL)
    *end = (const char *) e;
  return TRUE;
}

/* Validates one block of a UTF-8 stream. @carry holds the start of a
 * sequence cut by the previous block. Returns the offset of the first bad
 * byte, or -1 when the block is fine. */
static gssize
utf8_validate_block (const guchar *data,
                     gsize         len,
                     guchar        carry[4],
                     guint        *n_carry,
                     gboolean      last)
{
  gsize start = 0;
  const char *end = NULL;

  if (*n_carry > 0)
    {
      guint need = utf8_sequence_length (carry[0]);
      guchar seq[4];

      memcpy (seq, carry, *n_carry);
      while (*n_carry < need && start < len)
        seq[(*n_carry)++] = data[start++];
      if (*n_carry < need)
        return last ? 0 : -1;
      if (!g_utf8_validate_len ((const char *) seq, need, NULL))
        return 0;
      *n_carry = 0;
    }

  if (utf8_validate_len ((const char *) data + start, len - start, &end))
    return -1;

  {
    gsize bad = (const guchar *) end - data;
    guint need = utf8_sequence_length (data[bad]);

    /* A sequence cut by the block's end is carried over, not refused. */
    if (!last && need > 1 && len - bad < need)
      {
        for (gsize i = bad + 1; i < len; i++)
          if ((data[i] & 0xC0) != 0x80)
            return bad;
        *n_carry = len - bad;
        memcpy (carry, data + bad, *n_carry);
        return -1;
      }
    return bad;
  }
}

static gboolean
gb18030_validate_file (GFile         *file,
                       guint64       *out_bad_line,
                       guchar        *out_bad_byte,
                       GCancellable  *cancellable,
                       GError       **error)
{
  g_autoptr(GFileInputStream) in = NULL;
  g_autofree char *block = g_malloc (BLOCK_SIZE + 8);
  g_autofree char *scratch = g_malloc (BLOCK_SIZE * 2 + 64);
  GIConv cd;
  gsize leftover = 0;
  guint64 line = 1;
  gboolean prev_cr = FALSE;
  gboolean ok = TRUE;

  *out_bad_line = 0;
  *out_bad_byte = 0;

  in = g_file_read (file, cancellable, error);
  if (in == NULL)
    return FALSE;

  cd = g_iconv_open ("UTF-8", "GB18030");
  if (cd == (GIConv) -1)
    {
      g_set_error_literal (error, CT_CSV_ERROR, CT_CSV_ERROR_ENCODING,
                           _("This system cannot convert GB18030 text"));
      return FALSE;
    }

  for (;;)
    {
      gssize n = g_input_stream_read (G_INPUT_STREAM (in), block + leftover,
                                      BLOCK_SIZE, cancellable, error);
      gsize avail;
      char *inp;
      gsize inleft;

      if (n < 0)
        {
          g_iconv_close (cd);
          return FALSE;
        }
      avail = leftover + (gsize) n;
      if (avail == 0)
        break;

      inp = block;
      inleft = avail;
      while (inleft > 0)
        {
          char *outp = scratch;
          gsize outleft = BLOCK_SIZE * 2 + 64;
          gsize r = g_iconv (cd, &inp, &inleft, &outp, &outleft);

          if (r != (gsize) -1)
            continue;
          if (errno == E2BIG)
            continue;
          if (errno == EINVAL && n > 0)
            break;
          /* EILSEQ, or a sequence cut by the end of the file. */
          ok = FALSE;
          break;
        }

      if (!ok)
        {
          gsize bad = inp - block;

          line += count_lines (block, bad, &prev_cr);
          *out_bad_line = line;
          *out_bad_byte = (guchar) block[bad];
          break;
        }

      line += count_lines (block, inp - block, &prev_cr);
      leftover = inleft;
      memmove (block, inp, leftover);
      if (n == 0)
        break;
    }

  g_iconv_close (cd);
  return TRUE;
}

/* The line (from 1) that byte @offset of @file is on, counted as the
 * reader counts them; the file is read again up to there, for an error's
 * message only. */
static guint64
line_at_offset (GFile   *file,
                guint64  offset)
{
  g_autoptr(GFileInputStream) in = g_file_read (file, NULL, NULL);
  g_autofree char *block = g_malloc (BLOCK_SIZE);
  guint64 line = 1;
  gboolean prev_cr = FALSE;

  while (in != NULL && offset > 0)
    {
      gssize n = g_input_stream_read (G_INPUT_STREAM (in), block, MIN (offset, BLOCK_SIZE), NULL, NULL);

      if (n <= 0)
        break;
      line += count_lines (block, n, &prev_cr);
      offset -= n;
    }
  return line;
}

/**
 * ct_csv_sniff_file:
 * @forced: %CT_CSV_ENCODING_AUTO to detect, or the encoding the user chose
 *
 * Reads the whole file once: its SHA-256, its size, and its encoding. A file
 * that is valid UTF-8 throughout is UTF-8; otherwise it must be valid
 * GB18030 (which covers GBK and GB2312). A NUL byte marks a binary file, and
 * UTF-16 is refused with advice, since spreadsheet programs offer both.
 */
gboolean
ct_csv_sniff_file (GFile          *file,
                   CtCsvEncoding   forced,
                   CtCsvSniff     *out_sniff,
                   GCancellable   *cancellable,
                   GError        **error)
{
  g_autoptr(GFileInputStream) in = NULL;
  gnutls_hash_hd_t sum = NULL;
  guint8 digest[32];
  g_autofree guchar *block = g_malloc (BLOCK_SIZE);
  guchar carry[4];
  guint n_carry = 0;
  gboolean utf8_ok = (forced != CT_CSV_ENCODING_GB18030);
  guint64 utf8_bad_offset = 0;
  gboolean first = TRUE;

  g_return_val_if_fail (G_IS_FILE (file), FALSE);
  g_return_val_if_fail (out_sniff != NULL, FALSE);

  memset (out_sniff, 0, sizeof *out_sniff);

  in = g_file_read (file, cancellable, error);
  if (in == NULL)
    return FALSE;
  /* GnuTLS's SHA-256 uses the processor's SHA instructions where it has
   * them; GLib's is software alone. */
  if (gnutls_hash_init (&sum, GNUTLS_DIG_SHA256) < 0)
    g_error ("SHA-256 is not available");

  /* Lines are counted only for an error's message (line_at_offset()):
   * counting them in every block was another pass over the file. */
  for (;;)
    {
      gssize n = g_input_stream_read (G_INPUT_STREAM (in), block, BLOCK_SIZE,
                                      cancellable, error);
      const guchar *nul;

      if (n < 0)
        goto failed;

      if (first && n >= 2
          && ((block[0] == 0xFF && block[1] == 0xFE) || (block[0] == 0xFE && block[1] == 0xFF)))
        {
          g_set_error_literal (error, CT_CSV_ERROR, CT_CSV_ERROR_ENCODING,
                               _("The file is UTF-16 text; save it as CSV in UTF-8 (or GB18030) and try again"));
          goto failed;
        }
      if (first && n >= 3 && block[0] == 0xEF && block[1] == 0xBB && block[2] == 0xBF)
        out_sniff->has_bom = TRUE;
      first = FALSE;

      nul = memchr (block, 0, n);
      if (nul != NULL)
        {
          g_autofree char *where = line_text (line_at_offset (file, out_sniff->size + (nul - block)));

          g_set_error (error, CT_CSV_ERROR, CT_CSV_ERROR_BINARY,
                       _("Line %s holds a NUL byte: this is a binary file, not CSV text"), where);
          goto failed;
        }

      gnutls_hash (sum, block, n);

      if (utf8_ok)
        {
          gssize bad = utf8_validate_block (block, n, carry, &n_carry, n == 0);

          if (bad >= 0)
            {
              utf8_ok = FALSE;
              utf8_bad_offset = out_sniff->size + bad;
            }
        }
      out_sniff->size += n;

      if (n == 0)
        break;
    }

  gnutls_hash_deinit (sum, digest);
  for (guint i = 0; i < sizeof digest; i++)
    {
      static const char hex[] = "0123456789abcdef";

      out_sniff->sha256[2 * i] = hex[digest[i] >> 4];
      out_sniff->sha256[2 * i + 1] = hex[digest[i] & 15];
    }
  out_sniff->sha256[2 * sizeof digest] = '\0';

  if (utf8_ok)
    {
      out_sniff->encoding = CT_CSV_ENCODING_UTF8;
      return TRUE;
    }

  if (forced == CT_CSV_ENCODING_UTF8)
    {
      g_autofree char *where = line_text (line_at_offset (file, utf8_bad_offset));

      g_set_error (error, CT_CSV_ERROR, CT_CSV_ERROR_ENCODING,
                   _("Line %s is not valid UTF-8 text; is the file GB18030 (GBK)?"), where);
      return FALSE;
    }

  {
    guint64 bad_line = 0;
    guchar bad_byte = 0;

    if (!gb18030_validate_file (file, &bad_line, &bad_byte, cancellable, error))
      return FALSE;
    if (bad_line != 0)
      {
        g_autofree char *where = line_text (forced == CT_CSV_ENCODING_GB18030
                                            ? bad_line
                                            : MAX (bad_line, line_at_offset (file, utf8_bad_offset)));

        if (forced == CT_CSV_ENCODING_GB18030)
          g_set_error (error, CT_CSV_ERROR, CT_CSV_ERROR_ENCODING,
                       _("Line %s is not valid GB18030 text (byte 0x%02X)"), where, bad_byte);
        else
          g_set_error (error, CT_CSV_ERROR, CT_CSV_ERROR_ENCODING,
                       _("The file is neither UTF-8 nor GB18030 text (line %s is not valid in "
                         "either); save it as CSV in UTF-8"), where);
        return FALSE;
      }
  }

  out_sniff->encoding = CT_CSV_ENCODING_GB18030;
  return TRUE;

failed:
  gnutls_hash_deinit (sum, NULL);
  return FALSE;
}

/**
 * ct_csv_reader_new:
 * @stream: the file's bytes
 * @encoding: %CT_CSV_ENCODING_UTF8 or %CT_CSV_ENCODING_GB18030 (from
 *   ct_csv_sniff_file()); %CT_CSV_ENCODING_AUTO reads UTF-8
 *
 * A UTF-8 byte order mark at the start is skipped.
 */
CtCsvReader *
ct_csv_reader_new (GInputStream  *stream,
                   CtCsvEncoding  encoding)
{
  CtCsvReader *self;

  g_return_val_if_fail (G_IS_INPUT_STREAM (stream), NULL);

  self = g_new0 (CtCsvReader, 1);
  self->stream = g_object_ref (stream);
  self->encoding = encoding == CT_CSV_ENCODING_GB18030 ? CT_CSV_ENCODING_GB18030
                                                       : CT_CSV_ENCODING_UTF8;
  self->iconv = (GIConv) -1;
  if (self->encoding == CT_CSV_ENCODING_GB18030)
    {
      self->iconv = g_iconv_open ("UTF-8", "GB18030");
      self->raw = g_malloc (BLOCK_SIZE * 2);
      self->buf_size = BLOCK_SIZE * 2 + 64;
    }
  else
    self->buf_size = BLOCK_SIZE;
  self->buf = g_malloc (self->buf_size);
  self->at_start = TRUE;
  self->line = 1;
  self->max_record = CT_CSV_DEFAULT_MAX_RECORD;
  self->record = g_string_sized_new (256);
  self->offsets = g_array_new (FALSE, FALSE, sizeof (gsize));
  self->lengths = g_array_new (FALSE, FALSE, sizeof (gsize));
  return self;
}

CtCsvReader *
ct_csv_reader_new_for_data (const char    *data,
                            gsize          len,
                            CtCsvEncoding  encoding)
{
  g_autoptr(GInputStream) stream = NULL;

  stream = g_memory_input_stream_new_from_data (g_memdup2 (data, len), len, g_free);
  return ct_csv_reader_new (stream, encoding);
}

void
ct_csv_reader_free (CtCsvReader *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->stream);
  if (self->iconv != (GIConv) -1)
    g_iconv_close (self->iconv);
  g_free (self->raw);
  g_free (self->buf);
  g_string_free (self->record, TRUE);
  g_array_unref (self->offsets);
  g_array_unref (self->lengths);
  g_free (self);
}

void
ct_csv_reader_set_max_record (CtCsvReader *self,
                              gsize        max_record)
{
  g_return_if_fail (self != NULL);
  self->max_record = MAX (max_record, 16);
}

/* Refills self->buf with the next block of UTF-8 text. Returns FALSE on
 * error; at the end of the stream buf_len is 0 and eof is set. */
static gboolean
reader_fill (CtCsvReader   *self,
             GCancellable  *cancellable,
             GError       **error)
{
  self->buf_pos = 0;
  self->buf_len = 0;

  if (self->eof)
    return TRUE;

  if (self->encoding == CT_CSV_ENCODING_UTF8)
    {
      gssize n = g_input_stream_read (self->stream, self->buf, self->buf_size,
                                      cancellable, error);
      if (n < 0)
        return FALSE;
      if (n == 0)
        self->eof = TRUE;
      self->buf_len = n;
      self->bytes_read += n;
    }
  else
    {
      while (self->buf_len == 0 && !self->eof)
        {
          gssize n;
          char *inp = self->raw;
          gsize inleft;
          char *outp = self->buf;
          gsize outleft = self->buf_size;

          if (self->iconv == (GIConv) -1)
            {
              g_set_error_literal (error, CT_CSV_ERROR, CT_CSV_ERROR_ENCODING,
                                   _("This system cannot convert GB18030 text"));
              return FALSE;
            }

          n = g_input_stream_read (self->stream, self->raw + self->raw_len,
                                   BLOCK_SIZE * 2 - self->raw_len, cancellable, error);
          if (n < 0)
            return FALSE;
          self->bytes_read += n;
          inleft = self->raw_len + n;
          if (n == 0)
            {
              self->eof = TRUE;
              if (inleft == 0)
                break;
            }

          while (inleft > 0)
            {
              gsize r = g_iconv (self->iconv, &inp, &inleft, &outp, &outleft);

              if (r != (gsize) -1 || errno == E2BIG)
                {
                  /* The output buffer holds twice a block, which the
                   * conversion never needs, but stay safe. */
                  if (r == (gsize) -1)
                    break;
                  continue;
                }
              if (errno == EINVAL && !self->eof)
                break;
              {
                g_autofree char *where = line_text (self->line);

                g_set_error (error, CT_CSV_ERROR, CT_CSV_ERROR_ENCODING,
                             _("Line %s (or just after) is not valid GB18030 text"), where);
              }
              return FALSE;
            }
          self->raw_len = inleft;
          memmove (self->raw, inp, inleft);
          self->buf_len = outp - self->buf;
        }
    }

  if (self->at_start && self->buf_len > 0)
    {
      self->at_start = FALSE;
      if (self->buf_len >= 3 && memcmp (self->buf, "\xEF\xBB\xBF", 3) == 0)
        self->buf_pos = 3;
    }
  return TRUE;
}

static inline void
end_field (CtCsvReader *self,
           gsize       *field_start)
{
  gsize len = self->record->len - *field_start;

  g_array_append_val (self->offsets, *field_start);
  g_array_append_val (self->lengths, len);
  g_string_append_c (self->record, '\0');
  *field_start = self->record->len;
}

/* Takes @c into the record being read; TRUE when it ended the record. */
static inline gboolean
take_char (CtCsvReader *self,
           ParseState  *state,
           gsize       *field_start,
           char         c)
{
  switch (*state)
    {
    case STATE_FIELD_START:
    case STATE_UNQUOTED:
      if (c == ',')
        {
          end_field (self, field_start);
          *state = STATE_FIELD_START;
        }
      else if (c == '\r' || c == '\n')
        {
          self->line++;
          self->prev_cr = FALSE;
          self->skip_lf = (c == '\r');
          end_field (self, field_start);
          return TRUE;
        }
      else if (c == '"' && *state == STATE_FIELD_START)
        *state = STATE_QUOTED;
      else
        {
          /* Copy the rest of the plain field in one go. */
          const char *p = self->buf + self->buf_pos;
          const char *end = self->buf + self->buf_len;

          while (p < end && *p != ',' && *p != '\r' && *p != '\n')
            p++;
          g_string_append_c (self->record, c);
          g_string_append_len (self->record, self->buf + self->buf_pos,
                               p - (self->buf + self->buf_pos));
          self->buf_pos = p - self->buf;
          *state = STATE_UNQUOTED;
        }
      self->prev_cr = FALSE;
      return FALSE;

    case STATE_QUOTED:
      if (c == '"')
        *state = STATE_QUOTE_SEEN;
      else
        {
          if (c == '\r' || (c == '\n' && !self->prev_cr))
            self->line++;
          g_string_append_c (self->record, c);
        }
      self->prev_cr = (c == '\r');
      return FALSE;

    case STATE_QUOTE_SEEN:
      if (c == '"')
        {
          g_string_append_c (self->record, '"');
          *state = STATE_QUOTED;
        }
      else if (c == ',')
        {
          end_field (self, field_start);
          *state = STATE_FIELD_START;
        }
      else if (c == '\r' || c == '\n')
        {
          self->line++;
          self->skip_lf = (c == '\r');
          self->prev_cr = FALSE;
          end_field (self, field_start);
          return TRUE;
        }
      else
        {
          self->problem = N_("text follows a closing quote inside a field");
          g_string_append_c (self->record, c);
          *state = STATE_UNQUOTED;
        }
      self->prev_cr = FALSE;
      return FALSE;

    default:
      g_assert_not_reached ();
    }
}

/* The error of a record past the size limit; a quoted field that runs on
 * is most likely a missing closing quote. Always FALSE. */
static gboolean
record_too_long (CtCsvReader  *self,
                 ParseState    state,
                 GError      **error)
{
  g_autofree char *where = line_text (self->record_line);
  g_autofree char *limit = g_strdup_printf ("%" G_GSIZE_FORMAT, self->max_record);

  if (state == STATE_QUOTED)
    g_set_error (error, CT_CSV_ERROR, CT_CSV_ERROR_RECORD_TOO_LONG,
                 _("Line %s: a quoted field opens here and runs on for more than %s bytes; "
                   "is a closing quote missing?"), where, limit);
  else
    g_set_error (error, CT_CSV_ERROR, CT_CSV_ERROR_RECORD_TOO_LONG,
                 _("Line %s: the row is longer than %s bytes"), where, limit);
  return FALSE;
}

/* A complete record: its fields must be text in the file's encoding. */
static gboolean
record_done (CtCsvReader *self)
{
  for (guint i = 0; i < self->lengths->len && self->problem == NULL; i++)
    {
      const char *f = self->record->str + g_array_index (self->offsets, gsize, i);
      gsize len = g_array_index (self->lengths, gsize, i);

      if (!utf8_validate_len (f, len, NULL))
        self->problem = N_("the row is not valid text in the file's encoding");
    }
  return TRUE;
}

/**
 * ct_csv_reader_next:
 *
 * Reads the next record. Returns %TRUE when one was read, %FALSE at the end
 * of the input (@error unset) or on an error (@error set). A record whose
 * quotes are malformed or whose text is not valid UTF-8 is still returned,
 * with ct_csv_reader_get_problem() saying what is wrong, so the caller can
 * reject that line alone.
 */
gboolean
ct_csv_reader_next (CtCsvReader   *self,
                    GCancellable  *cancellable,
                    GError       **error)
{
  ParseState state = STATE_FIELD_START;
  gboolean started = FALSE;
  gsize field_start = 0;

  g_return_val_if_fail (self != NULL, FALSE);

  g_string_truncate (self->record, 0);
  g_array_set_size (self->offsets, 0);
  g_array_set_size (self->lengths, 0);
  self->problem = NULL;
  self->record_line = self->line;

  for (;;)
    {
      char c;

      if (self->buf_pos >= self->buf_len)
        {
          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            return FALSE;
          if (!reader_fill (self, cancellable, error))
            return FALSE;
          if (self->buf_pos >= self->buf_len)
            break;
        }

      c = self->buf[self->buf_pos++];

      if (self->skip_lf)
        {
          self->skip_lf = FALSE;
          if (c == '\n')
            {
              self->prev_cr = FALSE;
              continue;
            }
        }

      if (!started)
        {
          started = TRUE;
          self->record_line = self->line;
        }
      if (take_char (self, &state, &field_start, c))
        return record_done (self);
      if (self->record->len > self->max_record)
        return record_too_long (self, state, error);
    }

  /* End of input. */
  if (!started)
    return FALSE;
  if (state == STATE_QUOTED)
    {
      g_autofree char *where = line_text (self->record_line);

      g_set_error (error, CT_CSV_ERROR, CT_CSV_ERROR_UNCLOSED_QUOTE,
                   _("Line %s: a quoted field opens here and is never closed"), where);
      return FALSE;
    }
  end_field (self, &field_start);
  return record_done (self);
}

guint
ct_csv_reader_get_n_fields (CtCsvReader *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->offsets->len;
}

/* Returns "" for a field the record does not have. */
const char *
ct_csv_reader_get_field (CtCsvReader *self,
                         guint        index)
{
  g_return_val_if_fail (self != NULL, "");
  if (index >= self->offsets->len)
    return "";
  return self->record->str + g_array_index (self->offsets, gsize, index);
}

gsize
ct_csv_reader_get_field_length (CtCsvReader *self,
                                guint        index)
{
  g_return_val_if_fail (self != NULL, 0);
  if (index >= self->lengths->len)
    return 0;
  return g_array_index (self->lengths, gsize, index);
}

/* The physical line (1-based) on which the current record starts. */
guint64
ct_csv_reader_get_line (CtCsvReader *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->record_line;
}

/* TRUE when every field of the record is empty: an empty line, or a line of
 * separators only, as spreadsheet exports leave them. */
gboolean
ct_csv_reader_is_blank (CtCsvReader *self)
{
  g_return_val_if_fail (self != NULL, TRUE);
  for (guint i = 0; i < self->lengths->len; i++)
    if (g_array_index (self->lengths, gsize, i) != 0)
      return FALSE;
  return TRUE;
}

/* What is wrong with the current record, or NULL: an untranslated message
 * (mark it with _() where it is shown). */
const char *
ct_csv_reader_get_problem (CtCsvReader *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->problem;
}

/* Raw bytes taken from the stream so far: for a progress bar. */
guint64
ct_csv_reader_get_bytes_read (CtCsvReader *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->bytes_read;
}

/* A spreadsheet takes a cell starting with one of these as a formula (or, for
 * tab and CR, may shift it into one). */
gboolean
ct_csv_text_is_formula_like (const char *text)
{
  if (text == NULL)
    return FALSE;
  switch (text[0])
    {
    case '=':
    case '+':
    case '-':
    case '@':
    case '\t':
    case '\r':
      return TRUE;
    default:
      return FALSE;
    }
}

/* Returns @text with a leading ' when it starts like a formula. */
char *
ct_csv_neutralize_formula (const char *text)
{
  if (text == NULL)
    return NULL;
  if (ct_csv_text_is_formula_like (text))
    return g_strconcat ("'", text, NULL);
  return g_strdup (text);
}

/**
 * ct_csv_append_field:
 * @formula_safe: neutralise a formula-like value with a leading '
 *
 * Appends @value as one RFC 4180 field (quoted when it must be). Text that is
 * not valid UTF-8 is repaired first, so the output is always UTF-8.
 */
void
ct_csv_append_field (GString    *out,
                     const char *value,
                     gboolean    formula_safe)
{
  g_autofree char *valid = NULL;
  const char *v;

  g_return_if_fail (out != NULL);

  if (value == NULL)
    return;
  if (!g_utf8_validate (value, -1, NULL))
    {
      valid = g_utf8_make_valid (value, -1);
      value = valid;
    }

  /* A leading byte order mark is quoted so that a reader at the start of a
   * file does not take it for the file's own mark. */
  if (strpbrk (value, ",\"\r\n") == NULL && !g_str_has_prefix (value, "\xEF\xBB\xBF")
      && !(formula_safe && ct_csv_text_is_formula_like (value)))
    {
      g_string_append (out, value);
      return;
    }

  g_string_append_c (out, '"');
  if (formula_safe && ct_csv_text_is_formula_like (value))
    g_string_append_c (out, '\'');
  for (v = value; *v; v++)
    {
      if (*v == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *v);
    }
  g_string_append_c (out, '"');
}
