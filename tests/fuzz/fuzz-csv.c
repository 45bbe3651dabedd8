/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "fuzz-csv"
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "ct-csv.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Reads @data as CSV in @encoding with a small record limit. Every valid
 * record written back with ct_csv_append_field() must read back the same:
 * the writer and the reader agree on quoting. */
static void
read_all (const uint8_t *data,
          size_t         size,
          CtCsvEncoding  encoding)
{
  g_autoptr(CtCsvReader) reader = ct_csv_reader_new_for_data ((const char *) data, size, encoding);
  g_autoptr(GError) error = NULL;
  guint64 last_line = 0;
  guint records = 0;

  ct_csv_reader_set_max_record (reader, 4096);
  while (ct_csv_reader_next (reader, NULL, &error))
    {
      guint n = ct_csv_reader_get_n_fields (reader);
      g_autoptr(GString) line = g_string_new (NULL);
      g_autoptr(CtCsvReader) again = NULL;
      gboolean clean = ct_csv_reader_get_problem (reader) == NULL;

      g_assert (n >= 1);
      g_assert (ct_csv_reader_get_line (reader) > last_line || records == 0);
      last_line = ct_csv_reader_get_line (reader);
      records++;

      for (guint i = 0; i < n; i++)
        {
          const char *f = ct_csv_reader_get_field (reader, i);

          g_assert (strlen (f) <= ct_csv_reader_get_field_length (reader, i));
          if (strlen (f) != ct_csv_reader_get_field_length (reader, i))
            clean = FALSE; /* a NUL inside a field: binary input */
          if (i > 0)
            g_string_append_c (line, ',');
          ct_csv_append_field (line, f, FALSE);
        }
      if (!clean || (n == 1 && ct_csv_reader_get_field_length (reader, 0) == 0))
        continue;

      again = ct_csv_reader_new_for_data (line->str, line->len, CT_CSV_ENCODING_UTF8);
      g_assert (ct_csv_reader_next (again, NULL, NULL));
      g_assert_cmpuint (ct_csv_reader_get_n_fields (again), ==, n);
      for (guint i = 0; i < n; i++)
        g_assert_cmpstr (ct_csv_reader_get_field (again, i), ==, ct_csv_reader_get_field (reader, i));
    }
  if (error != NULL)
    g_assert (error->domain == CT_CSV_ERROR || error->domain == G_IO_ERROR);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  read_all (data, size, CT_CSV_ENCODING_UTF8);
  read_all (data, size, CT_CSV_ENCODING_GB18030);
  {
    g_autofree char *text = g_strndup ((const char *) data, size);
    g_autofree char *n = ct_csv_neutralize_formula (text);

    g_assert (!ct_csv_text_is_formula_like (n) || n[0] == '\'');
  }
  return 0;
}
