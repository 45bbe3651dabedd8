/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-csv"
#include "config.h"

#include <check.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ct-csv.h"

static char *
fixture_path (const char *name)
{
  const char *top = g_getenv ("CT_TOP_SRCDIR");

  return g_build_filename (top != NULL ? top : ".", "tests", "fixtures", "import", name, NULL);
}

/* Reads every record of @data into "field|field\n" lines, with the line
 * number in front: "2:a|b". */
static char *
dump (const char    *data,
      gssize         len,
      CtCsvEncoding  encoding,
      GError       **error)
{
  g_autoptr(CtCsvReader) reader = NULL;
  g_autoptr(GString) out = g_string_new (NULL);

  if (len < 0)
    len = strlen (data);
  reader = ct_csv_reader_new_for_data (data, len, encoding);
  while (ct_csv_reader_next (reader, NULL, error))
    {
      g_string_append_printf (out, "%" G_GUINT64_FORMAT ":", ct_csv_reader_get_line (reader));
      for (guint i = 0; i < ct_csv_reader_get_n_fields (reader); i++)
        {
          if (i > 0)
            g_string_append_c (out, '|');
          g_string_append (out, ct_csv_reader_get_field (reader, i));
        }
      if (ct_csv_reader_get_problem (reader) != NULL)
        g_string_append (out, " !");
      g_string_append_c (out, '\n');
    }
  if (error != NULL && *error != NULL)
    return NULL;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

START_TEST (test_csv_plain_fields_and_lf)
{
  g_autofree char *s = dump ("a,b,c\n1,2,3\n", -1, CT_CSV_ENCODING_UTF8, NULL);

  ck_assert_str_eq (s, "1:a|b|c\n2:1|2|3\n");
}
END_TEST

START_TEST (test_csv_last_record_without_newline)
{
  g_autofree char *s = dump ("a,b\n1,", -1, CT_CSV_ENCODING_UTF8, NULL);

  ck_assert_str_eq (s, "1:a|b\n2:1|\n");
}
END_TEST

START_TEST (test_csv_quotes_doubled_quotes_commas)
{
  g_autofree char *s = dump ("\"a,b\",\"say \"\"hi\"\"\",\"\"\n", -1, CT_CSV_ENCODING_UTF8, NULL);

  ck_assert_str_eq (s, "1:a,b|say \"hi\"|\n");
}
END_TEST

START_TEST (test_csv_newlines_inside_quotes_count_lines)
{
  g_autofree char *s = dump ("x,\"one\r\ntwo\nthree\rfour\"\nnext,row\n", -1,
                             CT_CSV_ENCODING_UTF8, NULL);

  ck_assert_str_eq (s, "1:x|one\r\ntwo\nthree\rfour\n5:next|row\n");
}
END_TEST

START_TEST (test_csv_crlf_and_cr_line_ends)
{
  g_autofree char *crlf = dump ("a,b\r\nc,d\r\n", -1, CT_CSV_ENCODING_UTF8, NULL);
  g_autofree char *cr = dump ("a,b\rc,d\r", -1, CT_CSV_ENCODING_UTF8, NULL);
  g_autofree char *mixed = dump ("a\r\nb\nc\rd", -1, CT_CSV_ENCODING_UTF8, NULL);

  ck_assert_str_eq (crlf, "1:a|b\n2:c|d\n");
  ck_assert_str_eq (cr, "1:a|b\n2:c|d\n");
  ck_assert_str_eq (mixed, "1:a\n2:b\n3:c\n4:d\n");
}
END_TEST

START_TEST (test_csv_bom_is_skipped)
{
  g_autofree char *s = dump ("\xEF\xBB\xBF" "card_no,balance\n", -1, CT_CSV_ENCODING_UTF8, NULL);

  ck_assert_str_eq (s, "1:card_no|balance\n");
}
END_TEST

START_TEST (test_csv_blank_lines_are_blank_records)
{
  g_autoptr(CtCsvReader) reader = ct_csv_reader_new_for_data ("a\n\n,,\nb\n", 8,
                                                              CT_CSV_ENCODING_UTF8);

  ck_assert (ct_csv_reader_next (reader, NULL, NULL));
  ck_assert (!ct_csv_reader_is_blank (reader));
  ck_assert (ct_csv_reader_next (reader, NULL, NULL));
  ck_assert (ct_csv_reader_is_blank (reader));
  ck_assert_uint_eq (ct_csv_reader_get_line (reader), 2);
  ck_assert (ct_csv_reader_next (reader, NULL, NULL));
  ck_assert (ct_csv_reader_is_blank (reader));
  ck_assert (ct_csv_reader_next (reader, NULL, NULL));
  ck_assert_str_eq (ct_csv_reader_get_field (reader, 0), "b");
  ck_assert_uint_eq (ct_csv_reader_get_line (reader), 4);
  ck_assert (!ct_csv_reader_next (reader, NULL, NULL));
}
END_TEST

START_TEST (test_csv_unclosed_quote_at_eof_names_its_line)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *s = dump ("a,b\n1,2\n3,\"open\nmore\n", -1, CT_CSV_ENCODING_UTF8, &error);

  ck_assert_ptr_null (s);
  ck_assert (g_error_matches (error, CT_CSV_ERROR, CT_CSV_ERROR_UNCLOSED_QUOTE));
  ck_assert_msg (strstr (error->message, "Line 3") != NULL, "%s", error->message);
}
END_TEST

START_TEST (test_csv_text_after_closing_quote_is_a_row_problem)
{
  g_autofree char *s = dump ("\"ab\"c,d\nok,row\n", -1, CT_CSV_ENCODING_UTF8, NULL);

  ck_assert_str_eq (s, "1:abc|d !\n2:ok|row\n");
}
END_TEST

START_TEST (test_csv_invalid_utf8_is_a_row_problem)
{
  g_autofree char *s = dump ("a,\xff\nb,c\n", -1, CT_CSV_ENCODING_UTF8, NULL);

  ck_assert_str_eq (s, "1:a|\xff !\n2:b|c\n");
}
END_TEST

/* The reader's check of a field's text (ASCII 8 bytes at a time, GLib for
 * the rest) gives GLib's verdict on every field: fields made of ASCII and
 * the bytes that start, continue or spoil a sequence (overlong forms,
 * surrogates, past U+10FFFF, cut sequences), at every offset. */
START_TEST (test_csv_utf8_check_agrees_with_glib)
{
  static const guchar high[] = { 0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xA0, 0xE4, 0xB8,
                                 0xAD, 0xED, 0x9F, 0xEF, 0xF0, 0x90, 0xF4, 0x8F, 0xF5, 0xFF };
  GRand *rand = g_rand_new_with_seed (17);
  guint bad = 0;

  for (guint i = 0; i < 20000; i++)
    {
      g_autoptr(GString) field = g_string_new (NULL);
      g_autoptr(GString) data = NULL;
      g_autoptr(CtCsvReader) reader = NULL;
      guint len = g_rand_int_range (rand, 1, 40);
      gboolean valid;

      for (guint k = 0; k < len; k++)
        {
          if (g_rand_int_range (rand, 0, 4) == 0)
            g_string_append_c (field, (char) high[g_rand_int_range (rand, 0, G_N_ELEMENTS (high))]);
          else if (g_rand_int_range (rand, 0, 8) == 0)
            g_string_append (field, "\xe4\xb8\xad"); /* 中, whole */
          else
            g_string_append_c (field, (char) g_rand_int_range (rand, 'a', 'z' + 1));
        }
      valid = g_utf8_validate_len (field->str, field->len, NULL);
      bad += !valid;
      data = g_string_new ("x,");
      g_string_append_len (data, field->str, field->len);
      g_string_append_c (data, '\n');
      reader = ct_csv_reader_new_for_data (data->str, data->len, CT_CSV_ENCODING_UTF8);
      ck_assert (ct_csv_reader_next (reader, NULL, NULL));
      ck_assert_msg ((ct_csv_reader_get_problem (reader) == NULL) == valid, "field %u: GLib says %s",
                     i, valid ? "valid" : "invalid");
    }
  /* Both verdicts were tried many times. */
  ck_assert_uint_gt (bad, 1000);
  ck_assert_uint_lt (bad, 19000);
  g_rand_free (rand);
}
END_TEST

/* The sniff counts lines only for an error: a bad byte or a NUL past the
 * first blocks of the file is still named by its line. */
START_TEST (test_csv_sniff_names_lines_past_the_first_block)
{
  g_autofree char *dir = g_dir_make_tmp ("ct-csv-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "long.csv", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  const char *ends[] = { "\n", "\r\n", "\r" };

  for (guint e = 0; e < G_N_ELEMENTS (ends); e++)
    for (guint kind = 0; kind < 2; kind++)
      {
        g_autoptr(GString) data = g_string_new ("card_no,balance");
        g_autoptr(GError) error = NULL;
        g_autofree char *needle = NULL;
        CtCsvSniff sniff;
        guint line = 1;

        g_string_append (data, ends[e]);
        while (data->len < 700 * 1024)
          {
            g_string_append_printf (data, "C%06u,%u.00%s", line, line % 100, ends[e]);
            line++;
          }
        line++;
        /* A byte that is not UTF-8 (and, after "C", not GB18030 either),
         * or a NUL. */
        g_string_append_len (data, kind == 0 ? "C\xff,1.00" : "C\0,1.00", 7);
        g_string_append (data, ends[e]);
        g_string_append_printf (data, "C999999,1.00%s", ends[e]);
        ck_assert (g_file_set_contents (path, data->str, data->len, NULL));

        needle = g_strdup_printf ("Line %u ", line);
        ck_assert (!ct_csv_sniff_file (file, kind == 0 ? CT_CSV_ENCODING_UTF8 : CT_CSV_ENCODING_AUTO, &sniff,
                                       NULL, &error));
        ck_assert_msg (strstr (error->message, needle) != NULL, "%s: %s", needle, error->message);
        g_unlink (path);
      }
  g_rmdir (dir);
}
END_TEST

START_TEST (test_csv_record_too_long_is_refused)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) data = g_string_new ("x\n\"");
  g_autoptr(CtCsvReader) reader = NULL;

  for (int i = 0; i < 200; i++)
    g_string_append (data, "0123456789");
  reader = ct_csv_reader_new_for_data (data->str, data->len, CT_CSV_ENCODING_UTF8);
  ct_csv_reader_set_max_record (reader, 1000);
  ck_assert (ct_csv_reader_next (reader, NULL, NULL));
  ck_assert (!ct_csv_reader_next (reader, NULL, &error));
  ck_assert (g_error_matches (error, CT_CSV_ERROR, CT_CSV_ERROR_RECORD_TOO_LONG));
  ck_assert_msg (strstr (error->message, "Line 2") != NULL, "%s", error->message);
}
END_TEST

/* Fields, quotes and CRLF pairs cut by the reader's block boundary (256 KiB)
 * must come out whole. */
START_TEST (test_csv_records_across_block_boundaries)
{
  g_autoptr(GString) data = g_string_new (NULL);
  g_autoptr(CtCsvReader) reader = NULL;
  guint n = 0;

  for (guint i = 0; data->len < 600 * 1024; i++)
    g_string_append_printf (data, "C%06u,\"q,%u\"\"x\",%u.00\r\n", i, i, i % 1000);
  reader = ct_csv_reader_new_for_data (data->str, data->len, CT_CSV_ENCODING_UTF8);
  while (ct_csv_reader_next (reader, NULL, NULL))
    {
      g_autofree char *f0 = g_strdup_printf ("C%06u", n);
      g_autofree char *f1 = g_strdup_printf ("q,%u\"x", n);

      ck_assert_uint_eq (ct_csv_reader_get_n_fields (reader), 3);
      ck_assert_str_eq (ct_csv_reader_get_field (reader, 0), f0);
      ck_assert_str_eq (ct_csv_reader_get_field (reader, 1), f1);
      ck_assert_uint_eq (ct_csv_reader_get_line (reader), n + 1);
      ck_assert_ptr_null (ct_csv_reader_get_problem (reader));
      n++;
    }
  ck_assert_uint_gt (n, 20000);
  ck_assert_uint_eq (ct_csv_reader_get_bytes_read (reader), data->len);
}
END_TEST

START_TEST (test_csv_gb18030_is_converted_to_utf8)
{
  g_autofree char *gb = g_convert ("卡号,姓名\nG1,欧阳娜娜\n", -1, "GB18030", "UTF-8",
                                   NULL, NULL, NULL);
  g_autofree char *s = NULL;

  ck_assert_ptr_nonnull (gb);
  s = dump (gb, -1, CT_CSV_ENCODING_GB18030, NULL);
  ck_assert_str_eq (s, "1:卡号|姓名\n2:G1|欧阳娜娜\n");
}
END_TEST

/* Multi-byte GB18030 characters (two and four bytes) cut by the reader's
 * block boundary must convert whole: the same rows as the UTF-8 original. */
START_TEST (test_csv_gb18030_across_block_boundaries)
{
  g_autoptr(GString) utf8 = g_string_new ("\xEF\xBB\xBF卡号,姓名\n");
  g_autofree char *gb = NULL;
  gsize gb_len = 0;
  g_autoptr(CtCsvReader) a = NULL;
  g_autoptr(CtCsvReader) b = NULL;
  guint n = 0;

  for (guint i = 0; utf8->len < 900 * 1024; i++)
    g_string_append_printf (utf8, "G%06u,\"欧阳娜娜𠀀%u, 张\"\n", i, i);
  gb = g_convert (utf8->str, utf8->len, "GB18030", "UTF-8", NULL, &gb_len, NULL);
  ck_assert_ptr_nonnull (gb);
  a = ct_csv_reader_new_for_data (utf8->str, utf8->len, CT_CSV_ENCODING_UTF8);
  b = ct_csv_reader_new_for_data (gb, gb_len, CT_CSV_ENCODING_GB18030);
  while (ct_csv_reader_next (a, NULL, NULL))
    {
      ck_assert (ct_csv_reader_next (b, NULL, NULL));
      ck_assert_uint_eq (ct_csv_reader_get_n_fields (b), ct_csv_reader_get_n_fields (a));
      ck_assert_str_eq (ct_csv_reader_get_field (b, 0), ct_csv_reader_get_field (a, 0));
      ck_assert_str_eq (ct_csv_reader_get_field (b, 1), ct_csv_reader_get_field (a, 1));
      ck_assert_uint_eq (ct_csv_reader_get_line (b), ct_csv_reader_get_line (a));
      n++;
    }
  ck_assert (!ct_csv_reader_next (b, NULL, NULL));
  ck_assert_uint_gt (n, 20000);
}
END_TEST

START_TEST (test_csv_gb18030_truncated_character_is_an_error)
{
  g_autoptr(GError) error = NULL;
  /* "卡号" in GB18030 is BF A8 BA C5: cut after the first byte of 号. */
  g_autofree char *s = dump ("a,\xBF\xA8\xBA", 5, CT_CSV_ENCODING_GB18030, &error);

  ck_assert_ptr_null (s);
  ck_assert (g_error_matches (error, CT_CSV_ERROR, CT_CSV_ERROR_ENCODING));
}
END_TEST

static gboolean
sniff (const char    *fixture,
       CtCsvEncoding  forced,
       CtCsvSniff    *out,
       GError       **error)
{
  g_autofree char *path = fixture_path (fixture);
  g_autoptr(GFile) file = g_file_new_for_path (path);

  return ct_csv_sniff_file (file, forced, out, NULL, error);
}

START_TEST (test_csv_sniff_detects_utf8_and_gb18030)
{
  CtCsvSniff s;

  ck_assert (sniff ("utf8-basic.csv", CT_CSV_ENCODING_AUTO, &s, NULL));
  ck_assert_int_eq (s.encoding, CT_CSV_ENCODING_UTF8);
  ck_assert (!s.has_bom);
  ck_assert_uint_eq (strlen (s.sha256), 64);

  ck_assert (sniff ("utf8-bom-chinese.csv", CT_CSV_ENCODING_AUTO, &s, NULL));
  ck_assert_int_eq (s.encoding, CT_CSV_ENCODING_UTF8);
  ck_assert (s.has_bom);

  ck_assert (sniff ("gb18030-chinese.csv", CT_CSV_ENCODING_AUTO, &s, NULL));
  ck_assert_int_eq (s.encoding, CT_CSV_ENCODING_GB18030);
}
END_TEST

START_TEST (test_csv_sniff_sha256_is_of_the_file_bytes)
{
  CtCsvSniff s;
  g_autofree char *path = fixture_path ("utf8-basic.csv");
  g_autofree char *contents = NULL;
  gsize len;
  g_autofree char *expected = NULL;

  ck_assert (g_file_get_contents (path, &contents, &len, NULL));
  expected = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, len);
  ck_assert (sniff ("utf8-basic.csv", CT_CSV_ENCODING_AUTO, &s, NULL));
  ck_assert_str_eq (s.sha256, expected);
  ck_assert_uint_eq (s.size, len);
}
END_TEST

START_TEST (test_csv_sniff_refuses_binary_utf16_and_unknown_encodings)
{
  CtCsvSniff s;
  g_autoptr(GError) e1 = NULL;
  g_autoptr(GError) e2 = NULL;
  g_autoptr(GError) e3 = NULL;

  ck_assert (!sniff ("binary.csv", CT_CSV_ENCODING_AUTO, &s, &e1));
  ck_assert (g_error_matches (e1, CT_CSV_ERROR, CT_CSV_ERROR_BINARY));
  ck_assert_msg (strstr (e1->message, "Line 2") != NULL, "%s", e1->message);

  ck_assert (!sniff ("utf16.csv", CT_CSV_ENCODING_AUTO, &s, &e2));
  ck_assert (g_error_matches (e2, CT_CSV_ERROR, CT_CSV_ERROR_ENCODING));
  ck_assert_msg (strstr (e2->message, "UTF-16") != NULL, "%s", e2->message);

  ck_assert (!sniff ("neither-encoding.csv", CT_CSV_ENCODING_AUTO, &s, &e3));
  ck_assert (g_error_matches (e3, CT_CSV_ERROR, CT_CSV_ERROR_ENCODING));
  ck_assert_msg (strstr (e3->message, "line 2") != NULL, "%s", e3->message);
}
END_TEST

START_TEST (test_csv_sniff_forced_encoding_is_checked)
{
  CtCsvSniff s;
  g_autoptr(GError) error = NULL;

  /* GB18030 bytes are not UTF-8: forcing UTF-8 names the first bad line. */
  ck_assert (!sniff ("gb18030-chinese.csv", CT_CSV_ENCODING_UTF8, &s, &error));
  ck_assert (g_error_matches (error, CT_CSV_ERROR, CT_CSV_ERROR_ENCODING));
  ck_assert_msg (strstr (error->message, "Line 1") != NULL, "%s", error->message);

  /* Plain ASCII is valid in both; forcing GB18030 is honoured. */
  ck_assert (sniff ("cr-only.csv", CT_CSV_ENCODING_GB18030, &s, NULL));
  ck_assert_int_eq (s.encoding, CT_CSV_ENCODING_GB18030);
}
END_TEST

START_TEST (test_csv_encoding_names)
{
  CtCsvEncoding e;

  ck_assert (ct_csv_encoding_from_string ("GBK", &e));
  ck_assert_int_eq (e, CT_CSV_ENCODING_GB18030);
  ck_assert (ct_csv_encoding_from_string ("utf-8", &e));
  ck_assert_int_eq (e, CT_CSV_ENCODING_UTF8);
  ck_assert (ct_csv_encoding_from_string ("auto", &e));
  ck_assert_int_eq (e, CT_CSV_ENCODING_AUTO);
  ck_assert (!ct_csv_encoding_from_string ("latin1", &e));
  ck_assert_str_eq (ct_csv_encoding_to_string (CT_CSV_ENCODING_GB18030), "gb18030");
}
END_TEST

START_TEST (test_csv_formula_cells_are_neutralised)
{
  const char *formulas[] = { "=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx" };
  g_autofree char *plain = ct_csv_neutralize_formula ("Alice");

  for (guint i = 0; i < G_N_ELEMENTS (formulas); i++)
    {
      g_autofree char *n = ct_csv_neutralize_formula (formulas[i]);

      ck_assert (n[0] == '\'');
      ck_assert_str_eq (n + 1, formulas[i]);
    }
  ck_assert_str_eq (plain, "Alice");
}
END_TEST

START_TEST (test_csv_append_field_quotes_and_neutralises)
{
  g_autoptr(GString) out = g_string_new (NULL);

  ct_csv_append_field (out, "plain", TRUE);
  g_string_append_c (out, ',');
  ct_csv_append_field (out, "a,\"b\"", TRUE);
  g_string_append_c (out, ',');
  ct_csv_append_field (out, "=cmd|' /C calc'!A0", TRUE);
  g_string_append_c (out, ',');
  ct_csv_append_field (out, "-5", FALSE);
  ck_assert_str_eq (out->str, "plain,\"a,\"\"b\"\"\",\"'=cmd|' /C calc'!A0\",-5");
}
END_TEST

static Suite *
csv_suite (void)
{
  Suite *s = suite_create ("csv");
  TCase *tc = tcase_create ("reader");

  tcase_add_test (tc, test_csv_plain_fields_and_lf);
  tcase_add_test (tc, test_csv_last_record_without_newline);
  tcase_add_test (tc, test_csv_quotes_doubled_quotes_commas);
  tcase_add_test (tc, test_csv_newlines_inside_quotes_count_lines);
  tcase_add_test (tc, test_csv_crlf_and_cr_line_ends);
  tcase_add_test (tc, test_csv_bom_is_skipped);
  tcase_add_test (tc, test_csv_blank_lines_are_blank_records);
  tcase_add_test (tc, test_csv_unclosed_quote_at_eof_names_its_line);
  tcase_add_test (tc, test_csv_text_after_closing_quote_is_a_row_problem);
  tcase_add_test (tc, test_csv_invalid_utf8_is_a_row_problem);
  tcase_add_test (tc, test_csv_utf8_check_agrees_with_glib);
  tcase_add_test (tc, test_csv_record_too_long_is_refused);
  tcase_add_test (tc, test_csv_records_across_block_boundaries);
  tcase_add_test (tc, test_csv_gb18030_is_converted_to_utf8);
  tcase_add_test (tc, test_csv_gb18030_across_block_boundaries);
  tcase_add_test (tc, test_csv_gb18030_truncated_character_is_an_error);
  suite_add_tcase (s, tc);

  tc = tcase_create ("sniff");
  tcase_add_test (tc, test_csv_sniff_detects_utf8_and_gb18030);
  tcase_add_test (tc, test_csv_sniff_sha256_is_of_the_file_bytes);
  tcase_add_test (tc, test_csv_sniff_refuses_binary_utf16_and_unknown_encodings);
  tcase_add_test (tc, test_csv_sniff_forced_encoding_is_checked);
  tcase_add_test (tc, test_csv_sniff_names_lines_past_the_first_block);
  tcase_add_test (tc, test_csv_encoding_names);
  suite_add_tcase (s, tc);

  tc = tcase_create ("writer");
  tcase_add_test (tc, test_csv_formula_cells_are_neutralised);
  tcase_add_test (tc, test_csv_append_field_quotes_and_neutralises);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *runner = srunner_create (csv_suite ());
  int failed;

  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
