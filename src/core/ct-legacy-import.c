/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-legacy-import"
#include "config.h"

#include "ct-legacy-import.h"

#include <glib/gi18n-lib.h>
#include <stdlib.h>
#include <string.h>

#include "ct-card-number.h"
#include "ct-money.h"
#include "ct-phone.h"

/* Reasons and errors are translated (a manager reads them in the preview,
 * the report and the dry run); the dry run's own words ("line N:",
 * "accepted N") are not, so scripts can read them. */

/* The file is read three times, each time as a stream: once for its bytes
 * (SHA-256 and encoding), once for the card numbers (a number on two lines
 * rejects both, so every line must be known before the first verdict; a
 * fourth pass when some numbers may repeat), and once to validate and hand
 * out rows. Only a 64-bit hash per row grows with the file. */

G_DEFINE_QUARK (ct-legacy-import-error-quark, ct_legacy_import_error)

typedef struct
{
  guint64 first_line;
  guint32 count;
  guint64 reported_line;   /* the line that carries the group's message; 0 before */
} DupInfo;

struct _CtLegacyImport
{
  GFile         *file;
  int            minor_units;
  char          *issuer_prefix;
  CtCsvSniff     sniff;

  GPtrArray     *columns;
  int            field_column[CT_IMPORT_N_FIELDS];
  guint64        n_rows;

  GArray        *dup_candidates; /* sorted hashes seen on more than one row */
  GStringChunk  *dup_keys;
  GHashTable    *dups;
  GArray        *dup_info;

  CtCsvReader   *reader;
  CtImportTotals totals;

  /* The current item's strings. */
  char          *card_no;
  char          *name;
  char          *phone;
  char          *level;
  char          *reason;
};

static const char * const field_names[CT_IMPORT_N_FIELDS] = {
  "card_no", "name", "phone", "balance", "points", "level",
};

/* Header names that map on their own, after trimming, ASCII lower-casing
 * and turning spaces and '-' into '_'. */
static const struct
{
  const char   *header;
  CtImportField field;
} header_aliases[] = {
  { "card_no", CT_IMPORT_FIELD_CARD_NO },
  { "cardno", CT_IMPORT_FIELD_CARD_NO },
  { "card_number", CT_IMPORT_FIELD_CARD_NO },
  { "card", CT_IMPORT_FIELD_CARD_NO },
  { "卡号", CT_IMPORT_FIELD_CARD_NO },
  { "会员卡号", CT_IMPORT_FIELD_CARD_NO },
  { "name", CT_IMPORT_FIELD_NAME },
  { "member_name", CT_IMPORT_FIELD_NAME },
  { "姓名", CT_IMPORT_FIELD_NAME },
  { "会员姓名", CT_IMPORT_FIELD_NAME },
  { "phone", CT_IMPORT_FIELD_PHONE },
  { "mobile", CT_IMPORT_FIELD_PHONE },
  { "手机号", CT_IMPORT_FIELD_PHONE },
  { "手机", CT_IMPORT_FIELD_PHONE },
  { "手机号码", CT_IMPORT_FIELD_PHONE },
  { "电话", CT_IMPORT_FIELD_PHONE },
  { "balance", CT_IMPORT_FIELD_BALANCE },
  { "余额", CT_IMPORT_FIELD_BALANCE },
  { "卡余额", CT_IMPORT_FIELD_BALANCE },
  { "储值余额", CT_IMPORT_FIELD_BALANCE },
  { "points", CT_IMPORT_FIELD_POINTS },
  { "积分", CT_IMPORT_FIELD_POINTS },
  { "level", CT_IMPORT_FIELD_LEVEL },
  { "等级", CT_IMPORT_FIELD_LEVEL },
  { "会员等级", CT_IMPORT_FIELD_LEVEL },
};

const char *
ct_import_field_to_string (CtImportField field)
{
  g_return_val_if_fail (field < CT_IMPORT_N_FIELDS, "");
  return field_names[field];
}

gboolean
ct_import_field_from_string (const char    *text,
                             CtImportField *out_field)
{
  g_return_val_if_fail (text != NULL, FALSE);

  for (guint i = 0; i < CT_IMPORT_N_FIELDS; i++)
    if (g_ascii_strcasecmp (text, field_names[i]) == 0)
      {
        *out_field = i;
        return TRUE;
      }
  return FALSE;
}

static char *
normalize_header (const char *header)
{
  char *s = g_strstrip (g_strdup (header));

  for (char *p = s; *p; p++)
    {
      if (*p == ' ' || *p == '-')
        *p = '_';
      else
        *p = g_ascii_tolower (*p);
    }
  return s;
}

/* Whether a header name maps to a field on its own. */
gboolean
ct_import_field_for_header (const char    *header,
                            CtImportField *out_field)
{
  g_autofree char *norm = NULL;

  g_return_val_if_fail (header != NULL, FALSE);

  norm = normalize_header (header);
  for (guint i = 0; i < G_N_ELEMENTS (header_aliases); i++)
    if (strcmp (norm, header_aliases[i].header) == 0)
      {
        *out_field = header_aliases[i].field;
        return TRUE;
      }
  return FALSE;
}

static char *
describe_column (CtLegacyImport *self,
                 guint           column)
{
  return g_strdup_printf (_("column %u (“%s”)"), column + 1,
                          (const char *) g_ptr_array_index (self->columns, column));
}

static gboolean
resolve_mapping (CtLegacyImport         *self,
                 const CtImportOptions  *options,
                 GError                **error)
{
  int mapped[CT_IMPORT_N_FIELDS];
  g_autofree int *column_field = g_new (int, self->columns->len);
  g_autofree gboolean *explicit = g_new0 (gboolean, self->columns->len);

  for (guint f = 0; f < CT_IMPORT_N_FIELDS; f++)
    mapped[f] = -1;
  for (guint c = 0; c < self->columns->len; c++)
    column_field[c] = -1;

  /* Explicit --map entries first: they win over the automatic names. */
  for (guint m = 0; options->maps != NULL && options->maps[m] != NULL; m++)
    {
      const char *eq = strrchr (options->maps[m], '=');
      g_autofree char *column = NULL;
      g_autofree char *field = NULL;
      CtImportField f;
      gboolean ignore;
      int found = -1;

      if (eq == NULL || eq == options->maps[m])
        {
          g_set_error (error, CT_LEGACY_IMPORT_ERROR, CT_LEGACY_IMPORT_ERROR_MAPPING,
                       _("“%s” is not a mapping; write COLUMN=FIELD, for example 余额=balance"),
                       options->maps[m]);
          return FALSE;
        }
      column = g_strstrip (g_strndup (options->maps[m], eq - options->maps[m]));
      field = g_strstrip (g_strdup (eq + 1));
      ignore = g_ascii_strcasecmp (field, "ignore") == 0;
      if (!ignore && !ct_import_field_from_string (field, &f))
        {
          g_set_error (error, CT_LEGACY_IMPORT_ERROR, CT_LEGACY_IMPORT_ERROR_MAPPING,
                       _("“%s” is not a field; use card_no, name, phone, balance, points, level or ignore"),
                       field);
          return FALSE;
        }

      for (guint c = 0; c < self->columns->len && found < 0; c++)
        {
          g_autofree char *name = g_strstrip (g_strdup (g_ptr_array_index (self->columns, c)));

          if (strcmp (name, column) == 0)
            found = c;
        }
      for (guint c = 0; c < self->columns->len && found < 0; c++)
        {
          g_autofree char *name = g_strstrip (g_strdup (g_ptr_array_index (self->columns, c)));

          if (g_ascii_strcasecmp (name, column) == 0)
            found = c;
        }
      if (found < 0)
        {
          g_set_error (error, CT_LEGACY_IMPORT_ERROR, CT_LEGACY_IMPORT_ERROR_MAPPING,
                       _("The header has no column named “%s”"), column);
          return FALSE;
        }
      if (explicit[found])
        {
          g_set_error (error, CT_LEGACY_IMPORT_ERROR, CT_LEGACY_IMPORT_ERROR_MAPPING,
                       _("Column “%s” is mapped twice"), column);
          return FALSE;
        }
      explicit[found] = TRUE;
      if (ignore)
        continue;
      if (mapped[f] >= 0)
        {
          g_autofree char *a = describe_column (self, mapped[f]);
          g_autofree char *b = describe_column (self, found);

          g_set_error (error, CT_LEGACY_IMPORT_ERROR, CT_LEGACY_IMPORT_ERROR_MAPPING,
                       _("Both %s and %s are mapped to %s"), a, b, field_names[f]);
          return FALSE;
        }
      mapped[f] = found;
      column_field[found] = f;
    }

  for (guint c = 0; c < self->columns->len; c++)
    {
      CtImportField f;

      if (explicit[c] || !ct_import_field_for_header (g_ptr_array_index (self->columns, c), &f))
        continue;
      if (mapped[f] >= 0 && explicit[mapped[f]])
        continue; /* an explicit mapping took this field */
      if (mapped[f] >= 0)
        {
          g_autofree char *a = describe_column (self, mapped[f]);
          g_autofree char *b = describe_column (self, c);

          g_set_error (error, CT_LEGACY_IMPORT_ERROR, CT_LEGACY_IMPORT_ERROR_MAPPING,
                       _("Both %s and %s look like %s; choose one with --map COLUMN=%s "
                         "and COLUMN=ignore"), a, b, field_names[f], field_names[f]);
          return FALSE;
        }
      mapped[f] = c;
      column_field[c] = f;
    }

  if (mapped[CT_IMPORT_FIELD_CARD_NO] < 0)
    {
      g_set_error_literal (error, CT_LEGACY_IMPORT_ERROR, CT_LEGACY_IMPORT_ERROR_MAPPING,
                           _("The file has no card number column (card_no or 卡号); name it with "
                             "--map COLUMN=card_no"));
      return FALSE;
    }
  if (mapped[CT_IMPORT_FIELD_BALANCE] < 0)
    {
      g_set_error_literal (error, CT_LEGACY_IMPORT_ERROR, CT_LEGACY_IMPORT_ERROR_MAPPING,
                           _("The file has no balance column (balance or 余额); name it with "
                             "--map COLUMN=balance"));
      return FALSE;
    }

  memcpy (self->field_column, mapped, sizeof mapped);
  return TRUE;
}

/* Opens a reader on the file and moves it past the header row (leading
 * blank lines are skipped). Stores the header when @keep_header. */
static CtCsvReader *
open_reader (CtLegacyImport  *self,
             gboolean         keep_header,
             GCancellable    *cancellable,
             GError         **error)
{
  g_autoptr(GFileInputStream) in = NULL;
  g_autoptr(CtCsvReader) reader = NULL;
  g_autoptr(GError) local_error = NULL;

  in = g_file_read (self->file, cancellable, error);
  if (in == NULL)
    return NULL;
  reader = ct_csv_reader_new (G_INPUT_STREAM (in), self->sniff.encoding);

  for (;;)
    {
      if (!ct_csv_reader_next (reader, cancellable, &local_error))
        {
          if (local_error != NULL)
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return NULL;
            }
          g_set_error (error, CT_LEGACY_IMPORT_ERROR, CT_LEGACY_IMPORT_ERROR_EMPTY,
                       _("The file is empty: it has no header row"));
          return NULL;
        }
      if (!ct_csv_reader_is_blank (reader))
        break;
    }

  if (keep_header)
    {
      if (ct_csv_reader_get_problem (reader) != NULL)
        {
          g_autofree char *line = g_strdup_printf ("%" G_GUINT64_FORMAT, ct_csv_reader_get_line (reader));

          g_set_error (error, CT_LEGACY_IMPORT_ERROR, CT_LEGACY_IMPORT_ERROR_HEADER,
                       _("Line %s: the header row is malformed: %s"), line,
                       _(ct_csv_reader_get_problem (reader)));
          return NULL;
        }
      for (guint i = 0; i < ct_csv_reader_get_n_fields (reader); i++)
        g_ptr_array_add (self->columns, g_strdup (ct_csv_reader_get_field (reader, i)));
    }

  return g_steal_pointer (&reader);
}

static char *
cell_dup_stripped (CtCsvReader *reader,
                   int          column)
{
  const char *start, *end;

  if (column < 0)
    return g_strdup ("");
  /* g_strstrip (g_strdup ()) without its three passes over the cell and
   * its move of the rest: a tenth of the client's time per row. */
  start = ct_csv_reader_get_field (reader, column);
  while (g_ascii_isspace (*start))
    start++;
  end = start + strlen (start);
  while (end > start && g_ascii_isspace (end[-1]))
    end--;
  return g_strndup (start, end - start);
}

/* A 64-bit hash of a card number (FNV-1a, then a finalising mix). */
static guint64
number_hash (const char *number)
{
  guint64 h = G_GUINT64_CONSTANT (0xcbf29ce484222325);

  for (const guchar *p = (const guchar *) number; *p; p++)
    {
      h ^= *p;
      h *= G_GUINT64_CONSTANT (0x100000001b3);
    }
  h ^= h >> 33;
  h *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
  h ^= h >> 33;
  return h;
}

static int
compare_u64 (gconstpointer a,
             gconstpointer b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return x < y ? -1 : x > y;
}

/* Sorts @a in place: a radix sort, 16 bits a pass, through a second array
 * of the same size. g_array_sort() of a million hashes, a comparison
 * function called for each of 20 million comparisons, was a fifth of
 * the time the import reads the file before its first row is sent. */
static void
sort_u64 (GArray *a)
{
  g_autofree guint64 *tmp = g_new (guint64, MAX (a->len, 1));
  g_autofree guint *count = g_new (guint, 65536);
  guint64 *from = (guint64 *) (gpointer) a->data, *to = tmp;

  for (guint shift = 0; shift < 64; shift += 16)
    {
      guint sum = 0;

      memset (count, 0, 65536 * sizeof *count);
      for (guint i = 0; i < a->len; i++)
        count[(from[i] >> shift) & 0xffff]++;
      for (guint d = 0; d < 65536; d++)
        {
          guint c = count[d];

          count[d] = sum;
          sum += c;
        }
      for (guint i = 0; i < a->len; i++)
        to[count[(from[i] >> shift) & 0xffff]++] = from[i];
      {
        guint64 *t = from;

        from = to;
        to = t;
      }
    }
  /* Four passes: the sorted values are back in @a. */
}

static gboolean
is_candidate (CtLegacyImport *self,
              guint64         hash)
{
  return self->dup_candidates->len > 0
         && bsearch (&hash, self->dup_candidates->data, self->dup_candidates->len,
                     sizeof (guint64), compare_u64) != NULL;
}

/* Reads the card number of every row. A first pass keeps only a 64-bit
 * hash per row (8 bytes a row, the one thing that grows with the file);
 * the hashes seen twice are candidates, and only when there are any does a
 * second pass count the exact numbers of the candidate rows. */
static gboolean
count_card_numbers (CtLegacyImport  *self,
                    GCancellable    *cancellable,
                    GError         **error)
{
  g_autoptr(CtCsvReader) reader = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GArray) hashes = NULL;
  int column = self->field_column[CT_IMPORT_FIELD_CARD_NO];

  reader = open_reader (self, FALSE, cancellable, error);
  if (reader == NULL)
    return FALSE;
  hashes = g_array_sized_new (FALSE, FALSE, sizeof (guint64),
                              (guint) MIN (self->sniff.size / 24 + 16, G_MAXUINT / 2));

  while (ct_csv_reader_next (reader, cancellable, &local_error))
    {
      g_autofree char *number = NULL;
      guint64 hash;

      /* A malformed row still counts: its number is on the line too. */
      if (ct_csv_reader_is_blank (reader))
        continue;
      self->n_rows++;
      number = ct_card_number_normalize (ct_csv_reader_get_field (reader, column),
                                         self->issuer_prefix, NULL, NULL);
      if (number == NULL)
        continue;
      hash = number_hash (number);
      g_array_append_val (hashes, hash);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  g_clear_pointer (&reader, ct_csv_reader_free);

  sort_u64 (hashes);
  for (guint i = 1; i < hashes->len; i++)
    {
      guint64 h = g_array_index (hashes, guint64, i);

      if (h == g_array_index (hashes, guint64, i - 1)
          && (self->dup_candidates->len == 0
              || g_array_index (self->dup_candidates, guint64, self->dup_candidates->len - 1) != h))
        g_array_append_val (self->dup_candidates, h);
    }
  g_clear_pointer (&hashes, g_array_unref);
  if (self->dup_candidates->len == 0)
    return TRUE;

  reader = open_reader (self, FALSE, cancellable, error);
  if (reader == NULL)
    return FALSE;
  while (ct_csv_reader_next (reader, cancellable, &local_error))
    {
      g_autofree char *number = NULL;
      gpointer value;

      if (ct_csv_reader_is_blank (reader))
        continue;
      number = ct_card_number_normalize (ct_csv_reader_get_field (reader, column),
                                         self->issuer_prefix, NULL, NULL);
      if (number == NULL || !is_candidate (self, number_hash (number)))
        continue;

      value = g_hash_table_lookup (self->dups, number);
      if (value != NULL)
        {
          DupInfo *info = &g_array_index (self->dup_info, DupInfo, GPOINTER_TO_UINT (value) - 1);

          if (info->count < G_MAXUINT32)
            info->count++;
        }
      else
        {
          DupInfo info = { ct_csv_reader_get_line (reader), 1 };

          g_array_append_val (self->dup_info, info);
          g_hash_table_insert (self->dups, g_string_chunk_insert (self->dup_keys, number),
                               GUINT_TO_POINTER (self->dup_info->len));
        }
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

/**
 * ct_legacy_import_open:
 * @file: the CSV export
 * @options: encoding, extra column mappings, currency and issuer prefix
 *
 * Reads the file's bytes (batch id, encoding), its header (the column
 * mapping) and its card numbers (duplicates), so that ct_legacy_import_next()
 * can give each row its verdict. Errors here concern the whole file: not
 * text, wrong encoding, empty, a required column missing, an unclosed quote.
 *
 * Returns: (transfer full): the import, positioned at the first data row
 */
CtLegacyImport *
ct_legacy_import_open (GFile                  *file,
                       const CtImportOptions  *options,
                       GCancellable           *cancellable,
                       GError                **error)
{
  g_autoptr(CtLegacyImport) self = NULL;
  g_autoptr(CtCsvReader) header_reader = NULL;

  g_return_val_if_fail (G_IS_FILE (file), NULL);
  g_return_val_if_fail (options != NULL, NULL);
  g_return_val_if_fail (options->minor_units >= 0
                        && options->minor_units <= CT_MONEY_MINOR_UNITS_MAX, NULL);

  self = g_new0 (CtLegacyImport, 1);
  self->file = g_object_ref (file);
  self->minor_units = options->minor_units;
  self->issuer_prefix = g_strdup (options->issuer_prefix != NULL ? options->issuer_prefix
                                                                 : CT_CARD_NUMBER_DEFAULT_PREFIX);
  self->columns = g_ptr_array_new_with_free_func (g_free);
  self->dup_candidates = g_array_new (FALSE, FALSE, sizeof (guint64));
  self->dup_keys = g_string_chunk_new (64 * 1024);
  self->dups = g_hash_table_new (g_str_hash, g_str_equal);
  self->dup_info = g_array_new (FALSE, FALSE, sizeof (DupInfo));

  if (!ct_csv_sniff_file (file, options->encoding, &self->sniff, cancellable, error))
    return NULL;

  header_reader = open_reader (self, TRUE, cancellable, error);
  if (header_reader == NULL)
    return NULL;
  g_clear_pointer (&header_reader, ct_csv_reader_free);

  if (!resolve_mapping (self, options, error))
    return NULL;
  if (!count_card_numbers (self, cancellable, error))
    return NULL;

  if (!ct_legacy_import_rewind (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

void
ct_legacy_import_free (CtLegacyImport *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->file);
  g_free (self->issuer_prefix);
  g_ptr_array_unref (self->columns);
  g_array_unref (self->dup_candidates);
  g_string_chunk_free (self->dup_keys);
  g_hash_table_unref (self->dups);
  g_array_unref (self->dup_info);
  g_clear_pointer (&self->reader, ct_csv_reader_free);
  g_free (self->card_no);
  g_free (self->name);
  g_free (self->phone);
  g_free (self->level);
  g_free (self->reason);
  g_free (self);
}

/* The batch id: the hex SHA-256 of the file's bytes. */
const char *
ct_legacy_import_get_batch_id (CtLegacyImport *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->sniff.sha256;
}

CtCsvEncoding
ct_legacy_import_get_encoding (CtLegacyImport *self)
{
  g_return_val_if_fail (self != NULL, CT_CSV_ENCODING_AUTO);
  return self->sniff.encoding;
}

guint64
ct_legacy_import_get_size (CtLegacyImport *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->sniff.size;
}

/* Data rows in the file (blank lines not counted). */
guint64
ct_legacy_import_get_n_rows (CtLegacyImport *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_rows;
}

guint
ct_legacy_import_get_n_columns (CtLegacyImport *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->columns->len;
}

const char *
ct_legacy_import_get_column_name (CtLegacyImport *self,
                                  guint           column)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (column < self->columns->len, NULL);
  return g_ptr_array_index (self->columns, column);
}

/* The column (0-based) a field is read from, or -1. */
int
ct_legacy_import_get_column (CtLegacyImport *self,
                             CtImportField   field)
{
  g_return_val_if_fail (self != NULL, -1);
  g_return_val_if_fail (field < CT_IMPORT_N_FIELDS, -1);
  return self->field_column[field];
}

/* Starts the rows over from the first one, with zero totals. */
gboolean
ct_legacy_import_rewind (CtLegacyImport  *self,
                         GError         **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  g_clear_pointer (&self->reader, ct_csv_reader_free);
  memset (&self->totals, 0, sizeof self->totals);
  self->reader = open_reader (self, FALSE, NULL, error);
  return self->reader != NULL;
}

static gboolean
reject (CtImportItem *item,
        const char   *code)
{
  item->accepted = FALSE;
  item->code = code;
  return FALSE;
}

static gboolean
take_reason (CtLegacyImport *self,
             CtImportItem   *item,
             const char     *code,
             char           *reason)
{
  g_free (self->reason);
  self->reason = reason;
  item->reason = reason;
  return reject (item, code);
}

static gboolean
parse_points (const char *text,
              int64_t    *out_points)
{
  int64_t v = 0;

  if (*text == '\0')
    {
      *out_points = 0;
      return TRUE;
    }
  for (const char *p = text; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c >= 0xFF10 && c <= 0xFF19)
        c = c - 0xFF10 + '0';
      if (c < '0' || c > '9')
        return FALSE;
      if (v > CT_MONEY_MAX / 10)
        return FALSE;
      v = v * 10 + (c - '0');
    }
  if (v > CT_MONEY_MAX)
    return FALSE;
  *out_points = v;
  return TRUE;
}

/* Free text (name, level): one line, at most @max characters, neutralised
 * when it starts like a spreadsheet formula. Returns NULL when empty. */
/* A line break typed into a name in the old system is folded into a
 * space: the member's balance does not stay behind for it. */
static char *
fold_line_breaks (char *text)
{
  GString *out;
  gboolean in_break = FALSE;

  if (strpbrk (text, "\r\n") == NULL)
    return text;
  out = g_string_new (NULL);
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\r' || *p == '\n')
        {
          in_break = TRUE;
          continue;
        }
      if (in_break)
        {
          /* One space for the break and the blanks around it. */
          while (out->len > 0 && out->str[out->len - 1] == ' ')
            g_string_truncate (out, out->len - 1);
          if (*p == ' ')
            continue;
          g_string_append_c (out, ' ');
          in_break = FALSE;
        }
      g_string_append_c (out, *p);
    }
  g_free (text);
  return g_strstrip (g_string_free (out, FALSE));
}

/* @too_long_reason is untranslated (N_()) and translated only for a row
 * it rejects: gettext for every row's name and level was a twentieth of
 * the client's time per row. */
static gboolean
check_text (CtLegacyImport  *self,
            CtImportItem    *item,
            const char      *too_long_reason,
            char           **inout_text,
            guint            max)
{
  gboolean shown = item->name == *inout_text;
  char *text;

  *inout_text = fold_line_breaks (*inout_text);
  text = *inout_text;
  if (shown)
    item->name = text;
  if (g_utf8_strlen (text, -1) > (glong) max)
    return take_reason (self, item, "invalid_text", g_strdup_printf (_(too_long_reason), max));
  if (*text == '\0')
    {
      g_clear_pointer (inout_text, g_free);
      return TRUE;
    }
  if (ct_csv_text_is_formula_like (text))
    {
      *inout_text = ct_csv_neutralize_formula (text);
      g_free (text);
    }
  return TRUE;
}

/* The card number of a row: valid, outside the range this system issues,
 * and on one line of the file only. FALSE (the row rejected, @item saying
 * why) otherwise. */
static gboolean
check_card_number (CtLegacyImport *self,
                   CtImportItem   *item,
                   const char     *card_cell)
{
  g_autoptr(GError) local_error = NULL;
  CtCardNumberKind kind;
  gpointer dup;

  if (*card_cell == '\0')
    return take_reason (self, item, "invalid_card_no", g_strdup (_("the card number is empty")));
  {
    char *number = ct_card_number_normalize (card_cell, self->issuer_prefix, &kind, &local_error);

    /* A wrong check digit means the number lies in the issued range. */
    if (number == NULL
        && !g_error_matches (local_error, CT_CARD_NUMBER_ERROR, CT_CARD_NUMBER_ERROR_CHECK_DIGIT))
      return take_reason (self, item, "invalid_card_no", g_strdup (local_error->message));
    if (number != NULL)
      {
        g_free (self->card_no);
        self->card_no = number;
        item->card_no = number;
      }
  }
  if (local_error != NULL || ct_card_number_in_issuer_range (self->card_no, self->issuer_prefix))
    {
      /* The number would be accepted but the row is rejected: report the
       * cell as it was. */
      g_free (self->card_no);
      self->card_no = g_strdup (card_cell);
      item->card_no = self->card_no;
      return take_reason (self, item, "card_in_issued_range",
                          g_strdup_printf (_("card number “%s” lies in the range this system issues "
                                             "(numbers starting %s); give the member a new card"),
                                           card_cell, self->issuer_prefix));
    }

  dup = is_candidate (self, number_hash (self->card_no))
          ? g_hash_table_lookup (self->dups, self->card_no) : NULL;
  if (dup != NULL)
    {
      DupInfo *info = &g_array_index (self->dup_info, DupInfo, GPOINTER_TO_UINT (dup) - 1);

      if (info->count > 1 && info->reported_line != 0 && info->reported_line != item->line)
        {
          g_autofree char *first = g_strdup_printf ("%" G_GUINT64_FORMAT, info->reported_line);

          /* The group's message is on its first line: a million copies of
           * one number make one message, not a million. */
          item->duplicate_of = info->reported_line;
          return take_reason (self, item, "duplicate_card_no",
                              g_strdup_printf (_("same card number as line %s"), first));
        }
      if (info->count > 1)
        {
          g_autofree char *first = g_strdup_printf ("%" G_GUINT64_FORMAT, info->first_line);

          info->reported_line = item->line;
          return take_reason (self, item, "duplicate_card_no",
                              g_strdup_printf (_("card number “%s” is on %u lines of the file "
                                                 "(first on line %s); none of them is imported"),
                                               self->card_no, info->count, first));
        }
    }
  return TRUE;
}

static gboolean
validate_row (CtLegacyImport *self,
              CtImportItem   *item)
{
  CtCsvReader *reader = self->reader;
  guint n_fields = ct_csv_reader_get_n_fields (reader);
  guint n_columns = self->columns->len;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *card_cell = NULL;
  g_autofree char *balance_cell = NULL;
  g_autofree char *points_cell = NULL;
  g_autofree char *phone_cell = NULL;
  int64_t total;

  g_clear_pointer (&self->card_no, g_free);
  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->phone, g_free);
  g_clear_pointer (&self->level, g_free);

  card_cell = cell_dup_stripped (reader, self->field_column[CT_IMPORT_FIELD_CARD_NO]);
  /* The name is shown with a rejected row too (the preview), so it is read
   * first; it is checked further down. */
  self->name = cell_dup_stripped (reader, self->field_column[CT_IMPORT_FIELD_NAME]);
  item->name = *self->name != '\0' && g_utf8_validate (self->name, -1, NULL) ? self->name : NULL;
  self->card_no = g_strdup (card_cell);
  item->card_no = self->card_no;

  if (ct_csv_reader_get_problem (reader) != NULL)
    return take_reason (self, item, "malformed_row",
                        g_strdup_printf (_("the row is malformed: %s"),
                                         _(ct_csv_reader_get_problem (reader))));

  if (n_fields < n_columns)
    return take_reason (self, item, "malformed_row",
                        g_strdup_printf (_("the row has %u fields but the header has %u"),
                                         n_fields, n_columns));
  for (guint i = n_columns; i < n_fields; i++)
    if (ct_csv_reader_get_field_length (reader, i) != 0)
      return take_reason (self, item, "malformed_row",
                          g_strdup_printf (_("the row has %u fields but the header has %u"),
                                           n_fields, n_columns));

  if (!check_card_number (self, item, card_cell))
    return FALSE;

  /* Balance, in major units. */
  balance_cell = cell_dup_stripped (reader, self->field_column[CT_IMPORT_FIELD_BALANCE]);
  if (*balance_cell == '\0')
    return take_reason (self, item, "invalid_amount", g_strdup (_("the balance is empty")));
  if (balance_cell[0] == '-' || g_str_has_prefix (balance_cell, "－")
      || g_str_has_prefix (balance_cell, "−"))
    return take_reason (self, item, "invalid_amount",
                        g_strdup_printf (_("the balance “%s” is negative"), balance_cell));
  if (!ct_money_parse (balance_cell, self->minor_units, CT_MONEY_PARSE_DEFAULT,
                       &item->balance, &local_error))
    return take_reason (self, item, "invalid_amount",
                        g_strdup_printf (_("balance: %s"), local_error->message));

  /* Points. */
  points_cell = cell_dup_stripped (reader, self->field_column[CT_IMPORT_FIELD_POINTS]);
  if (!parse_points (points_cell, &item->points))
    return take_reason (self, item, "invalid_points",
                        g_strdup_printf (_("points “%s” is not a whole number of 0 or more"),
                                         points_cell));

  /* Phone. */
  phone_cell = cell_dup_stripped (reader, self->field_column[CT_IMPORT_FIELD_PHONE]);
  if (*phone_cell != '\0')
    {
      g_autoptr(GError) phone_error = NULL;

      self->phone = ct_phone_normalize (phone_cell, &phone_error);
      if (self->phone == NULL)
        return take_reason (self, item, "invalid_phone", g_strdup (phone_error->message));
    }

  /* Free text. */
  if (!check_text (self, item, N_("the name is longer than %u characters"), &self->name,
                   CT_IMPORT_NAME_MAX))
    return FALSE;
  item->name = self->name;
  self->level = cell_dup_stripped (reader, self->field_column[CT_IMPORT_FIELD_LEVEL]);
  if (!check_text (self, item, N_("the level is longer than %u characters"), &self->level,
                   CT_IMPORT_LEVEL_MAX))
    return FALSE;

  if (!ct_money_add (self->totals.total_balance, item->balance, &total, NULL)
      || total > CT_MONEY_MAX)
    return take_reason (self, item, "invalid_amount",
                        g_strdup (_("the file's total balance would exceed the largest amount "
                                    "the system holds; split the file")));
  if (self->totals.total_points + item->points > CT_MONEY_MAX)
    return take_reason (self, item, "invalid_points",
                        g_strdup (_("the file's total points would exceed the largest number "
                                    "the system holds; split the file")));

  item->accepted = TRUE;
  item->name = self->name;
  item->phone = self->phone;
  item->level = self->level;
  return TRUE;
}

/**
 * ct_legacy_import_next:
 * @out_item: (out caller-allocates): the row and its verdict
 *
 * Reads the next data row (blank lines are skipped) and validates it.
 *
 * Returns: %TRUE with @out_item filled; %FALSE at the end (@error unset) or
 *   on an error that stops the whole file (@error set)
 */
gboolean
ct_legacy_import_next (CtLegacyImport  *self,
                       CtImportItem    *out_item,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (out_item != NULL, FALSE);

  if (self->reader == NULL)
    return FALSE;

  for (;;)
    {
      if (!ct_csv_reader_next (self->reader, cancellable, error))
        return FALSE;
      if (!ct_csv_reader_is_blank (self->reader))
        break;
      self->totals.blank++;
    }

  memset (out_item, 0, sizeof *out_item);
  out_item->line = ct_csv_reader_get_line (self->reader);
  self->totals.rows++;
  if (validate_row (self, out_item))
    {
      self->totals.accepted++;
      self->totals.total_balance += out_item->balance;
      self->totals.total_points += out_item->points;
    }
  else
    {
      out_item->balance = 0;
      out_item->points = 0;
      self->totals.rejected++;
    }
  return TRUE;
}

guint64
ct_legacy_import_get_bytes_read (CtLegacyImport *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->reader != NULL ? ct_csv_reader_get_bytes_read (self->reader) : 0;
}

void
ct_legacy_import_get_totals (CtLegacyImport *self,
                             CtImportTotals *out_totals)
{
  g_return_if_fail (self != NULL);
  *out_totals = self->totals;
}

/* "line N: reason", as the dry run prints each rejected row. */
char *
ct_import_format_reject (guint64     line,
                         const char *reason)
{
  return g_strdup_printf ("line %" G_GUINT64_FORMAT ": %s", line, reason);
}

/* The dry run's summary, one fact per line, amounts in major units. */
char *
ct_import_format_totals (const CtImportTotals *totals,
                         int                   minor_units)
{
  g_autofree char *balance = ct_money_format_plain (totals->total_balance, minor_units);

  return g_strdup_printf ("accepted %" G_GUINT64_FORMAT "\n"
                          "rejected %" G_GUINT64_FORMAT "\n"
                          "total balance %s\n"
                          "total points %" G_GINT64_FORMAT "\n",
                          totals->accepted, totals->rejected, balance, totals->total_points);
}

/* Chunks: the body of one POST /v1/imports, built row by row so that its
 * size is known exactly before a row is added. */

struct _CtImportChunker
{
  char    *prefix;
  GString *rows;
  guint    n_rows;
};

/* The chunk's JSON is written without printf: a chunk of 5,000 rows made
 * 10,000 formatted appends, a tenth of the client's time per row. */
static void
append_json_string (GString    *out,
                    const char *s)
{
  const char *run;

  if (s == NULL)
    {
      g_string_append_len (out, "null", 4);
      return;
    }
  g_string_append_c (out, '"');
  run = s;
  for (const char *p = s; *p; p++)
    {
      guchar c = (guchar) *p;

      if (c != '"' && c != '\\' && c >= 0x20)
        continue;
      g_string_append_len (out, run, p - run);
      run = p + 1;
      if (c == '"' || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
        }
      else
        g_string_append_printf (out, "\\u%04x", c);
    }
  g_string_append (out, run);
  g_string_append_c (out, '"');
}

static void
append_int (GString *out,
            int64_t  v)
{
  char buf[24];
  char *p = buf + sizeof buf;
  guint64 u = v < 0 ? -(guint64) v : (guint64) v;

  do
    *--p = (char) ('0' + u % 10);
  while ((u /= 10) != 0);
  if (v < 0)
    *--p = '-';
  g_string_append_len (out, p, buf + sizeof buf - p);
}

/**
 * ct_import_chunker_new:
 * @operator_name: (nullable): the cashier recorded on the import
 *   transactions
 */
CtImportChunker *
ct_import_chunker_new (const char *batch_id,
                       const char *operator_name,
                       const char *manager_id,
                       const char *manager_pin)
{
  CtImportChunker *self;
  GString *prefix = g_string_new ("{\"batch_id\":");

  g_return_val_if_fail (batch_id != NULL, NULL);

  append_json_string (prefix, batch_id);
  if (operator_name != NULL)
    {
      g_string_append (prefix, ",\"operator\":");
      append_json_string (prefix, operator_name);
    }
  g_string_append (prefix, ",\"manager\":{\"id\":");
  append_json_string (prefix, manager_id != NULL ? manager_id : "");
  g_string_append (prefix, ",\"pin\":");
  append_json_string (prefix, manager_pin != NULL ? manager_pin : "");
  g_string_append (prefix, "},\"rows\":[");

  self = g_new0 (CtImportChunker, 1);
  self->prefix = g_string_free (prefix, FALSE);
  self->rows = g_string_sized_new (64 * 1024);
  return self;
}

void
ct_import_chunker_free (CtImportChunker *self)
{
  if (self == NULL)
    return;
  g_free (self->prefix);
  g_string_free (self->rows, TRUE);
  g_free (self);
}

/**
 * ct_import_chunker_add:
 * @item: an accepted row
 *
 * Returns: %FALSE when the chunk is full (5000 rows or 4 MiB): take it with
 *   ct_import_chunker_take() and add the row again.
 */
gboolean
ct_import_chunker_add (CtImportChunker    *self,
                       const CtImportItem *item)
{
  gsize before;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (item != NULL && item->accepted, FALSE);

  if (self->n_rows >= CT_IMPORT_CHUNK_MAX_ROWS)
    return FALSE;

  before = self->rows->len;
  if (self->n_rows > 0)
    g_string_append_c (self->rows, ',');
  g_string_append (self->rows, "{\"line\":");
  append_int (self->rows, (int64_t) item->line);
  g_string_append (self->rows, ",\"card_no\":");
  append_json_string (self->rows, item->card_no);
  g_string_append (self->rows, ",\"name\":");
  append_json_string (self->rows, item->name);
  g_string_append (self->rows, ",\"phone\":");
  append_json_string (self->rows, item->phone);
  g_string_append (self->rows, ",\"balance\":");
  append_int (self->rows, item->balance);
  g_string_append (self->rows, ",\"points\":");
  append_int (self->rows, item->points);
  g_string_append (self->rows, ",\"level\":");
  append_json_string (self->rows, item->level);
  g_string_append_c (self->rows, '}');

  if (self->n_rows > 0 && strlen (self->prefix) + self->rows->len + 2 > CT_IMPORT_CHUNK_MAX_BYTES)
    {
      g_string_truncate (self->rows, before);
      return FALSE;
    }
  self->n_rows++;
  return TRUE;
}

guint
ct_import_chunker_get_n_rows (CtImportChunker *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_rows;
}

/* Returns the chunk's body (NULL when empty) and starts a new chunk. */
GBytes *
ct_import_chunker_take (CtImportChunker *self)
{
  GString *body;

  g_return_val_if_fail (self != NULL, NULL);

  if (self->n_rows == 0)
    return NULL;
  body = g_string_sized_new (strlen (self->prefix) + self->rows->len + 2);
  g_string_append (body, self->prefix);
  g_string_append_len (body, self->rows->str, self->rows->len);
  g_string_append (body, "]}");
  g_string_truncate (self->rows, 0);
  self->n_rows = 0;
  return g_string_free_to_bytes (body);
}

/* The report file: every rejected row and why, as CSV that a spreadsheet
 * opens safely (UTF-8 with a byte order mark so that Excel and WPS see the
 * encoding; every formula-like cell neutralised). */

struct _CtImportReport
{
  GOutputStream *out;
  GString       *buf;
};

static gboolean
report_flush (CtImportReport  *self,
              GError         **error)
{
  if (self->buf->len == 0)
    return TRUE;
  if (!g_output_stream_write_all (self->out, self->buf->str, self->buf->len, NULL, NULL, error))
    return FALSE;
  g_string_truncate (self->buf, 0);
  return TRUE;
}

CtImportReport *
ct_import_report_new (GFile   *file,
                      GError **error)
{
  CtImportReport *self;
  GFileOutputStream *out;

  g_return_val_if_fail (G_IS_FILE (file), NULL);

  out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, error);
  if (out == NULL)
    return NULL;
  self = g_new0 (CtImportReport, 1);
  self->out = G_OUTPUT_STREAM (out);
  self->buf = g_string_sized_new (64 * 1024);
  g_string_append (self->buf, "\xEF\xBB\xBF" "line,card_no,code,reason\r\n");
  return self;
}

gboolean
ct_import_report_add (CtImportReport  *self,
                      guint64          line,
                      const char      *card_no,
                      const char      *code,
                      const char      *reason,
                      GError         **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  g_string_append_printf (self->buf, "%" G_GUINT64_FORMAT ",", line);
  ct_csv_append_field (self->buf, card_no != NULL ? card_no : "", TRUE);
  g_string_append_c (self->buf, ',');
  ct_csv_append_field (self->buf, code != NULL ? code : "", TRUE);
  g_string_append_c (self->buf, ',');
  ct_csv_append_field (self->buf, reason != NULL ? reason : "", TRUE);
  g_string_append (self->buf, "\r\n");
  if (self->buf->len > 60 * 1024)
    return report_flush (self, error);
  return TRUE;
}

gboolean
ct_import_report_close (CtImportReport  *self,
                        GError         **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (!report_flush (self, error))
    return FALSE;
  return g_output_stream_close (self->out, NULL, error);
}

void
ct_import_report_free (CtImportReport *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->out);
  g_string_free (self->buf, TRUE);
  g_free (self);
}
