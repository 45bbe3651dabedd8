/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-legacy-import"
#include "config.h"

#include <check.h>
#include <glib/gstdio.h>
#include <json-c/json.h>
#include <string.h>
#include <unistd.h>

#include "ct-legacy-import.h"
#include "ct-legacy-import-send.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (json_object, json_object_put)

static char *
fixture_path (const char *name)
{
  const char *top = g_getenv ("CT_TOP_SRCDIR");

  return g_build_filename (top != NULL ? top : ".", "tests", "fixtures", "import", name, NULL);
}

static CtLegacyImport *
open_fixture (const char         *name,
              CtCsvEncoding       encoding,
              const char * const *maps,
              GError            **error)
{
  g_autofree char *path = fixture_path (name);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  CtImportOptions options = { encoding, maps, 2, NULL };

  return ct_legacy_import_open (file, &options, NULL, error);
}

/* What `cardtill-cli import --dry-run` prints: each rejected line, then the
 * totals. */
static char *
dry_run (CtLegacyImport *import)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *totals_text = NULL;
  CtImportItem item;
  CtImportTotals totals;

  while (ct_legacy_import_next (import, &item, NULL, &error))
    {
      /* As the CLI: a repeated card number is said once, on its group's line. */
      if (!item.accepted && item.duplicate_of == 0)
        {
          g_autofree char *line = ct_import_format_reject (item.line, item.reason);

          g_string_append_printf (out, "%s\n", line);
        }
    }
  ck_assert_ptr_null (error);
  ct_legacy_import_get_totals (import, &totals);
  totals_text = ct_import_format_totals (&totals, 2);
  g_string_append (out, totals_text);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Compares line by line so a failure names the first differing line. */
static void
assert_lines_equal (const char *actual,
                    const char *expected)
{
  g_auto(GStrv) a = g_strsplit (actual, "\n", -1);
  g_auto(GStrv) e = g_strsplit (expected, "\n", -1);
  guint n = MAX (g_strv_length (a), g_strv_length (e));

  for (guint i = 0; i < n; i++)
    {
      const char *al = i < g_strv_length (a) ? a[i] : "<missing>";
      const char *el = i < g_strv_length (e) ? e[i] : "<missing>";

      ck_assert_msg (strcmp (al, el) == 0, "output line %u:\n  got      %s\n  expected %s",
                     i + 1, al, el);
    }
}

static void
assert_dry_run_matches (const char         *fixture,
                        const char * const *maps)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtLegacyImport) import = open_fixture (fixture, CT_CSV_ENCODING_AUTO, maps, &error);
  g_autofree char *expected_name = g_strconcat (fixture, ".dry-run", NULL);
  g_autofree char *expected_path = fixture_path (expected_name);
  g_autofree char *expected = NULL;
  g_autofree char *actual = NULL;

  ck_assert_msg (import != NULL, "%s: %s", fixture, error ? error->message : "");
  ck_assert (g_file_get_contents (expected_path, &expected, NULL, NULL));
  actual = dry_run (import);
  assert_lines_equal (actual, expected);
}

START_TEST (test_import_dry_run_utf8)
{
  assert_dry_run_matches ("utf8-basic.csv", NULL);
}
END_TEST

START_TEST (test_import_dry_run_bom_chinese_headers)
{
  assert_dry_run_matches ("utf8-bom-chinese.csv", NULL);
}
END_TEST

START_TEST (test_import_dry_run_gb18030)
{
  assert_dry_run_matches ("gb18030-chinese.csv", NULL);
}
END_TEST

START_TEST (test_import_dry_run_crlf_quoted)
{
  assert_dry_run_matches ("crlf-quoted.csv", NULL);
}
END_TEST

START_TEST (test_import_dry_run_bad_rows_every_kind)
{
  assert_dry_run_matches ("bad-rows.csv", NULL);
}
END_TEST

START_TEST (test_import_rows_are_normalised)
{
  g_autoptr(CtLegacyImport) import = open_fixture ("utf8-basic.csv", CT_CSV_ENCODING_AUTO,
                                                   NULL, NULL);
  CtImportItem item;

  ck_assert_ptr_nonnull (import);
  ck_assert_str_eq (ct_legacy_import_get_batch_id (import),
                    ct_legacy_import_get_batch_id (import));
  ck_assert_uint_eq (ct_legacy_import_get_n_rows (import), 4);

  ck_assert (ct_legacy_import_next (import, &item, NULL, NULL));
  ck_assert (item.accepted);
  ck_assert_uint_eq (item.line, 2);
  ck_assert_str_eq (item.card_no, "A1001");
  ck_assert_str_eq (item.name, "Alice Wang");
  ck_assert_str_eq (item.phone, "13800138000");
  ck_assert_int_eq (item.balance, 10000);
  ck_assert_int_eq (item.points, 120);
  ck_assert_str_eq (item.level, "gold");

  ck_assert (ct_legacy_import_next (import, &item, NULL, NULL));
  ck_assert (item.accepted);
  ck_assert_int_eq (item.balance, 0);
  ck_assert_ptr_null (item.phone);
  ck_assert_ptr_null (item.level);

  ck_assert (ct_legacy_import_next (import, &item, NULL, NULL));
  ck_assert_str_eq (item.card_no, "A1003");
  ck_assert_str_eq (item.phone, "13800138001");
  ck_assert_int_eq (item.balance, 123450);

  ck_assert (ct_legacy_import_next (import, &item, NULL, NULL));
  ck_assert_int_eq (item.balance, 1200);
  ck_assert_int_eq (item.points, 0);
  ck_assert (!ct_legacy_import_next (import, &item, NULL, NULL));
}
END_TEST

START_TEST (test_import_gb18030_names_arrive_as_utf8)
{
  g_autoptr(CtLegacyImport) import = open_fixture ("gb18030-chinese.csv", CT_CSV_ENCODING_AUTO,
                                                   NULL, NULL);
  CtImportItem item;

  ck_assert_ptr_nonnull (import);
  ck_assert_int_eq (ct_legacy_import_get_encoding (import), CT_CSV_ENCODING_GB18030);
  ck_assert_str_eq (ct_legacy_import_get_column_name (import, 1), "姓名");
  ck_assert (ct_legacy_import_next (import, &item, NULL, NULL));
  ck_assert (ct_legacy_import_next (import, &item, NULL, NULL));
  ck_assert_str_eq (item.name, "欧阳娜娜");
  ck_assert_str_eq (item.level, "钻石卡");
  ck_assert_int_eq (item.balance, 120000);
}
END_TEST

START_TEST (test_import_formula_text_is_neutralised)
{
  g_autoptr(CtLegacyImport) import = open_fixture ("bad-rows.csv", CT_CSV_ENCODING_AUTO,
                                                   NULL, NULL);
  CtImportItem item;
  gboolean seen = FALSE;
  gboolean seen_tab = FALSE;

  while (ct_legacy_import_next (import, &item, NULL, NULL))
    if (item.line == 17)
      {
        ck_assert (item.accepted);
        ck_assert_str_eq (item.name, "'=HYPERLINK(\"http://x\")");
        ck_assert_str_eq (item.level, "'@vip");
        seen = TRUE;
      }
    else if (item.line == 26)
      {
        /* A leading tab is trimmed; the formula behind it is still caught. */
        ck_assert (item.accepted);
        ck_assert_str_eq (item.level, "'=cmd");
        seen_tab = TRUE;
      }
  ck_assert (seen);
  ck_assert (seen_tab);
}
END_TEST

START_TEST (test_import_duplicates_reject_every_line)
{
  g_autoptr(GString) data = g_string_new ("card_no,balance\n");
  g_autofree char *path = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(CtLegacyImport) import = NULL;
  CtImportOptions options = { CT_CSV_ENCODING_AUTO, NULL, 2, NULL };
  CtImportItem item;
  CtImportTotals totals;
  int fd;

  /* 10,000 lines of one number and one good line. */
  for (guint i = 0; i < 10000; i++)
    g_string_append (data, "DUP1,1.00\n");
  g_string_append (data, "DUP2,2.00\n");
  fd = g_file_open_tmp ("ct-import-XXXXXX.csv", &path, NULL);
  ck_assert_int_ge (fd, 0);
  close (fd);
  ck_assert (g_file_set_contents (path, data->str, data->len, NULL));
  file = g_file_new_for_path (path);
  import = ct_legacy_import_open (file, &options, NULL, NULL);
  ck_assert_ptr_nonnull (import);

  while (ct_legacy_import_next (import, &item, NULL, NULL))
    {
      if (item.line <= 10001)
        {
          ck_assert (!item.accepted);
          ck_assert_str_eq (item.code, "duplicate_card_no");
        }
      else
        ck_assert (item.accepted);
    }
  ct_legacy_import_get_totals (import, &totals);
  ck_assert_uint_eq (totals.accepted, 1);
  ck_assert_uint_eq (totals.rejected, 10000);
  ck_assert_int_eq (totals.total_balance, 200);
  g_unlink (path);
}
END_TEST

/* A malformed line still holds its card number: the well-formed line with
 * the same number is not imported either. */
START_TEST (test_import_duplicate_of_a_malformed_line_is_rejected_too)
{
  static const char data[] = "card_no,name,balance\nMAL1,\"x\"y,1.00\nMAL1,ok,2.00\nGOOD1,ok,3.00\n";
  g_autofree char *path = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(CtLegacyImport) import = NULL;
  CtImportOptions options = { CT_CSV_ENCODING_AUTO, NULL, 2, NULL };
  CtImportItem item;
  int fd = g_file_open_tmp ("ct-import-XXXXXX.csv", &path, NULL);

  ck_assert_int_ge (fd, 0);
  close (fd);
  ck_assert (g_file_set_contents (path, data, -1, NULL));
  file = g_file_new_for_path (path);
  import = ct_legacy_import_open (file, &options, NULL, NULL);
  ck_assert_ptr_nonnull (import);

  ck_assert (ct_legacy_import_next (import, &item, NULL, NULL));
  ck_assert_str_eq (item.code, "malformed_row");
  ck_assert (ct_legacy_import_next (import, &item, NULL, NULL));
  ck_assert_str_eq (item.code, "duplicate_card_no");
  /* A rejected row still shows whose it is. */
  ck_assert_str_eq (item.name, "ok");
  ck_assert (ct_legacy_import_next (import, &item, NULL, NULL));
  ck_assert (item.accepted);
  g_unlink (path);
}
END_TEST

START_TEST (test_import_missing_required_column_is_an_error)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtLegacyImport) import = open_fixture ("missing-balance.csv", CT_CSV_ENCODING_AUTO,
                                                   NULL, &error);

  ck_assert_ptr_null (import);
  ck_assert (g_error_matches (error, CT_LEGACY_IMPORT_ERROR, CT_LEGACY_IMPORT_ERROR_MAPPING));
  ck_assert_msg (strstr (error->message, "balance") != NULL, "%s", error->message);
}
END_TEST

START_TEST (test_import_map_option_names_other_columns)
{
  const char *maps[] = { "Member ID=card_no", "Full Name=name", "Stored Value=balance",
                         "Pts=points", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(CtLegacyImport) import = open_fixture ("custom-headers.csv", CT_CSV_ENCODING_AUTO,
                                                   maps, &error);
  CtImportItem item;

  ck_assert_msg (import != NULL, "%s", error ? error->message : "");
  /* The explicit mapping wins over the column literally named "balance". */
  ck_assert_int_eq (ct_legacy_import_get_column (import, CT_IMPORT_FIELD_BALANCE), 2);
  ck_assert (ct_legacy_import_next (import, &item, NULL, NULL));
  ck_assert (item.accepted);
  ck_assert_str_eq (item.card_no, "KAY1");
  ck_assert_str_eq (item.name, "Kay");
  ck_assert_int_eq (item.balance, 990);
  ck_assert_int_eq (item.points, 4);
}
END_TEST

START_TEST (test_import_bad_map_options_are_errors)
{
  const char *unknown_column[] = { "Nope=balance", NULL };
  const char *unknown_field[] = { "Pts=bonus", NULL };
  const char *twice[] = { "Pts=balance", "Stored Value=balance", NULL };
  const char *no_equals[] = { "Pts", NULL };
  const char * const *cases[] = { unknown_column, unknown_field, twice, no_equals };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(CtLegacyImport) import = open_fixture ("custom-headers.csv",
                                                       CT_CSV_ENCODING_AUTO, cases[i], &error);

      ck_assert_ptr_null (import);
      ck_assert (g_error_matches (error, CT_LEGACY_IMPORT_ERROR, CT_LEGACY_IMPORT_ERROR_MAPPING));
    }
}
END_TEST

START_TEST (test_import_header_only_has_no_rows)
{
  g_autoptr(CtLegacyImport) import = open_fixture ("header-only.csv", CT_CSV_ENCODING_AUTO,
                                                   NULL, NULL);
  CtImportItem item;

  ck_assert_ptr_nonnull (import);
  ck_assert_uint_eq (ct_legacy_import_get_n_rows (import), 0);
  ck_assert (!ct_legacy_import_next (import, &item, NULL, NULL));
}
END_TEST

START_TEST (test_import_whole_file_errors)
{
  struct { const char *fixture; GQuark domain; int code; const char *needle; } cases[] = {
    { "empty.csv", CT_LEGACY_IMPORT_ERROR, CT_LEGACY_IMPORT_ERROR_EMPTY, "empty" },
    { "binary.csv", CT_CSV_ERROR, CT_CSV_ERROR_BINARY, "binary" },
    { "unclosed-quote.csv", CT_CSV_ERROR, CT_CSV_ERROR_UNCLOSED_QUOTE, "Line 3" },
    { "neither-encoding.csv", CT_CSV_ERROR, CT_CSV_ERROR_ENCODING, "neither" },
    { "utf16.csv", CT_CSV_ERROR, CT_CSV_ERROR_ENCODING, "UTF-16" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(CtLegacyImport) import = open_fixture (cases[i].fixture, CT_CSV_ENCODING_AUTO,
                                                       NULL, &error);

      ck_assert_msg (import == NULL, "%s opened", cases[i].fixture);
      ck_assert_msg (g_error_matches (error, cases[i].domain, cases[i].code), "%s: %s",
                     cases[i].fixture, error->message);
      ck_assert_msg (strstr (error->message, cases[i].needle) != NULL, "%s: %s",
                     cases[i].fixture, error->message);
    }
}
END_TEST

START_TEST (test_import_batch_id_is_sha256_of_file)
{
  g_autofree char *path = fixture_path ("gb18030-chinese.csv");
  g_autofree char *contents = NULL;
  gsize len;
  g_autofree char *expected = NULL;
  g_autoptr(CtLegacyImport) import = open_fixture ("gb18030-chinese.csv", CT_CSV_ENCODING_AUTO,
                                                   NULL, NULL);

  ck_assert (g_file_get_contents (path, &contents, &len, NULL));
  expected = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, len);
  ck_assert_str_eq (ct_legacy_import_get_batch_id (import), expected);
}
END_TEST

START_TEST (test_import_rewind_starts_over)
{
  g_autoptr(CtLegacyImport) import = open_fixture ("bad-rows.csv", CT_CSV_ENCODING_AUTO,
                                                   NULL, NULL);
  g_autofree char *first = dry_run (import);
  g_autofree char *second = NULL;

  ck_assert (ct_legacy_import_rewind (import, NULL));
  second = dry_run (import);
  ck_assert_str_eq (first, second);
}
END_TEST

START_TEST (test_import_chunks_respect_row_and_byte_limits)
{
  g_autoptr(CtImportChunker) chunker = ct_import_chunker_new ("abc", NULL, "mgr", "1234");
  CtImportItem item = { 0 };
  g_autofree char *long_name = g_strnfill (60, 'N');
  g_autoptr(GBytes) body = NULL;
  g_autoptr(json_object) obj = NULL;
  json_object *rows;
  guint added = 0;

  item.accepted = TRUE;
  item.card_no = "CARD0001";
  item.name = long_name;
  item.balance = 100;
  while (ct_import_chunker_add (chunker, &item))
    {
      added++;
      item.line++;
    }
  ck_assert_uint_eq (added, CT_IMPORT_CHUNK_MAX_ROWS);
  body = ct_import_chunker_take (chunker);
  ck_assert_uint_le (g_bytes_get_size (body), CT_IMPORT_CHUNK_MAX_BYTES);
  obj = json_tokener_parse (g_bytes_get_data (body, NULL));
  ck_assert_ptr_nonnull (obj);
  ck_assert (json_object_object_get_ex (obj, "rows", &rows));
  ck_assert_uint_eq (json_object_array_length (rows), CT_IMPORT_CHUNK_MAX_ROWS);
  ck_assert_uint_eq (ct_import_chunker_get_n_rows (chunker), 0);
  ck_assert_ptr_null (ct_import_chunker_take (chunker));

  /* Rows of ~200 KiB each: the 4 MiB limit cuts before 5000 rows. */
  {
    g_autofree char *huge = g_strnfill (200 * 1024, 'x');
    g_autoptr(GBytes) big = NULL;

    item.name = huge;
    added = 0;
    while (ct_import_chunker_add (chunker, &item))
      added++;
    ck_assert_uint_eq (added, 20);
    big = ct_import_chunker_take (chunker);
    ck_assert_uint_le (g_bytes_get_size (big), CT_IMPORT_CHUNK_MAX_BYTES);
  }
}
END_TEST

START_TEST (test_import_chunk_json_escapes_text)
{
  g_autoptr(CtImportChunker) chunker = ct_import_chunker_new ("b1", "till-1", "m", "p\"q");
  CtImportItem item = { 0 };
  g_autoptr(GBytes) body = NULL;
  g_autoptr(json_object) obj = NULL;
  json_object *rows, *row, *v;

  item.accepted = TRUE;
  item.line = 7;
  item.card_no = "X1";
  item.name = "张\"三\\\t";
  item.balance = 5;
  item.points = 2;
  ck_assert (ct_import_chunker_add (chunker, &item));
  body = ct_import_chunker_take (chunker);
  obj = json_tokener_parse (g_bytes_get_data (body, NULL));
  ck_assert_ptr_nonnull (obj);
  ck_assert (json_object_object_get_ex (obj, "rows", &rows));
  row = json_object_array_get_idx (rows, 0);
  ck_assert (json_object_object_get_ex (row, "name", &v));
  ck_assert_str_eq (json_object_get_string (v), "张\"三\\\t");
  ck_assert (json_object_object_get_ex (row, "phone", &v));
  ck_assert_ptr_null (v);
  ck_assert (json_object_object_get_ex (row, "line", &v));
  ck_assert_int_eq (json_object_get_int64 (v), 7);
  ck_assert (json_object_object_get_ex (obj, "operator", &v));
  ck_assert_str_eq (json_object_get_string (v), "till-1");
  ck_assert (json_object_object_get_ex (obj, "manager", &v));
  ck_assert (json_object_object_get_ex (v, "pin", &v));
  ck_assert_str_eq (json_object_get_string (v), "p\"q");
}
END_TEST

START_TEST (test_import_report_is_formula_safe_csv)
{
  g_autofree char *path = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(CtImportReport) report = NULL;
  g_autofree char *contents = NULL;
  int fd = g_file_open_tmp ("ct-report-XXXXXX.csv", &path, NULL);

  ck_assert_int_ge (fd, 0);
  close (fd);
  file = g_file_new_for_path (path);
  report = ct_import_report_new (file, NULL);
  ck_assert_ptr_nonnull (report);
  ck_assert (ct_import_report_add (report, 4, "=1+1", "invalid_card_no", "bad, \"really\"", NULL));
  ck_assert (ct_import_report_add (report, 9, "C9", "card_exists", "imported by batch ab12", NULL));
  ck_assert (ct_import_report_close (report, NULL));
  ck_assert (g_file_get_contents (path, &contents, NULL, NULL));
  ck_assert_str_eq (contents,
                    "\xEF\xBB\xBF" "line,card_no,code,reason\r\n"
                    "4,\"'=1+1\",invalid_card_no,\"bad, \"\"really\"\"\"\r\n"
                    "9,C9,card_exists,imported by batch ab12\r\n");
  g_unlink (path);
}
END_TEST

START_TEST (test_import_header_names_map_in_both_languages)
{
  CtImportField f;

  ck_assert (ct_import_field_for_header (" Card No ", &f));
  ck_assert_int_eq (f, CT_IMPORT_FIELD_CARD_NO);
  ck_assert (ct_import_field_for_header ("卡号", &f));
  ck_assert_int_eq (f, CT_IMPORT_FIELD_CARD_NO);
  ck_assert (ct_import_field_for_header ("手机号", &f));
  ck_assert_int_eq (f, CT_IMPORT_FIELD_PHONE);
  ck_assert (ct_import_field_for_header ("余额", &f));
  ck_assert_int_eq (f, CT_IMPORT_FIELD_BALANCE);
  ck_assert (ct_import_field_for_header ("积分", &f));
  ck_assert_int_eq (f, CT_IMPORT_FIELD_POINTS);
  ck_assert (ct_import_field_for_header ("等级", &f));
  ck_assert_int_eq (f, CT_IMPORT_FIELD_LEVEL);
  ck_assert (ct_import_field_for_header ("姓名", &f));
  ck_assert_int_eq (f, CT_IMPORT_FIELD_NAME);
  ck_assert (!ct_import_field_for_header ("remark", &f));
}
END_TEST

static CtLegacyImport *
open_text (const char *text, gsize len, char **out_path)
{
  CtImportOptions options = { CT_CSV_ENCODING_AUTO, NULL, 2, NULL };
  g_autoptr(GFile) file = NULL;
  int fd = g_file_open_tmp ("ct-import-XXXXXX.csv", out_path, NULL);

  ck_assert_int_ge (fd, 0);
  close (fd);
  ck_assert (g_file_set_contents (*out_path, text, len, NULL));
  file = g_file_new_for_path (*out_path);
  return ct_legacy_import_open (file, &options, NULL, NULL);
}

START_TEST (test_import_line_breaks_in_names_are_folded)
{
  static const char csv[] = "card_no,name,balance,level\n"
                            "LBL1,\"Wang\nFang\",1.00,\"Gold \r\n  Plus\"\n"
                            "LBL2,\"\n=Li\",2.00,\n";
  g_autofree char *path = NULL;
  g_autoptr(CtLegacyImport) import = open_text (csv, sizeof csv - 1, &path);
  CtImportItem item;

  ck_assert_ptr_nonnull (import);
  ck_assert (ct_legacy_import_next (import, &item, NULL, NULL));
  ck_assert_msg (item.accepted, "%s", item.reason);
  ck_assert_str_eq (item.name, "Wang Fang");
  ck_assert_str_eq (item.level, "Gold Plus");
  ck_assert_int_eq (item.balance, 100);
  /* Folded first, then a formula is still neutralised. */
  ck_assert (ct_legacy_import_next (import, &item, NULL, NULL));
  ck_assert_msg (item.accepted, "%s", item.reason);
  ck_assert_str_eq (item.name, "'=Li");
  g_unlink (path);
}
END_TEST

static void
count_reject (guint64 line, const char *card_no, const char *code, const char *reason,
              gpointer user_data)
{
  GString *said = user_data;

  g_string_append_printf (said, "%" G_GUINT64_FORMAT ": %s\n", line, reason);
}

START_TEST (test_import_duplicates_are_reported_once_per_group)
{
  g_autoptr(GString) data = g_string_new ("card_no,balance\n");
  g_autoptr(GString) said = g_string_new (NULL);
  g_autofree char *path = NULL;
  g_autoptr(CtLegacyImport) import = NULL;
  CtImportCallbacks callbacks = { count_reject, NULL, NULL, NULL, said };
  CtImportProgress progress;
  const guint n = 200000;

  for (guint i = 0; i < n; i++)
    g_string_append (data, i % 2 ? "DUPA,1.00\n" : "DUPB,1.00\n");
  g_string_append (data, "OKAY1,2.00\n");
  import = open_text (data->str, data->len, &path);
  ck_assert_ptr_nonnull (import);
  ck_assert (ct_legacy_import_run (import, NULL, NULL, NULL, &callbacks, &progress, NULL, NULL));
  ck_assert_uint_eq (progress.rejected, n);
  ck_assert_uint_eq (progress.accepted, 1);
  /* Two groups, two messages, each on its group's first line. */
  ck_assert_msg (g_str_has_prefix (said->str, "2: card number “DUPB” is on 100000 lines"),
                 "%s", said->str);
  ck_assert_msg (strstr (said->str, "\n3: card number “DUPA” is on 100000 lines") != NULL,
                 "%s", said->str);
  ck_assert_uint_lt (said->len, 400);
  g_unlink (path);
}
END_TEST

static Suite *
legacy_import_suite (void)
{
  Suite *s = suite_create ("legacy-import");
  TCase *tc = tcase_create ("dry-run");

  tcase_add_test (tc, test_import_dry_run_utf8);
  tcase_add_test (tc, test_import_dry_run_bom_chinese_headers);
  tcase_add_test (tc, test_import_dry_run_gb18030);
  tcase_add_test (tc, test_import_dry_run_crlf_quoted);
  tcase_add_test (tc, test_import_dry_run_bad_rows_every_kind);
  suite_add_tcase (s, tc);

  tc = tcase_create ("rows");
  tcase_add_test (tc, test_import_rows_are_normalised);
  tcase_add_test (tc, test_import_gb18030_names_arrive_as_utf8);
  tcase_add_test (tc, test_import_formula_text_is_neutralised);
  tcase_add_test (tc, test_import_duplicates_reject_every_line);
  tcase_add_test (tc, test_import_line_breaks_in_names_are_folded);
  tcase_add_test (tc, test_import_duplicates_are_reported_once_per_group);
  tcase_add_test (tc, test_import_duplicate_of_a_malformed_line_is_rejected_too);
  tcase_add_test (tc, test_import_rewind_starts_over);
  tcase_add_test (tc, test_import_batch_id_is_sha256_of_file);
  suite_add_tcase (s, tc);

  tc = tcase_create ("mapping");
  tcase_add_test (tc, test_import_header_names_map_in_both_languages);
  tcase_add_test (tc, test_import_missing_required_column_is_an_error);
  tcase_add_test (tc, test_import_map_option_names_other_columns);
  tcase_add_test (tc, test_import_bad_map_options_are_errors);
  tcase_add_test (tc, test_import_header_only_has_no_rows);
  tcase_add_test (tc, test_import_whole_file_errors);
  suite_add_tcase (s, tc);

  tc = tcase_create ("chunks-and-report");
  tcase_add_test (tc, test_import_chunks_respect_row_and_byte_limits);
  tcase_add_test (tc, test_import_chunk_json_escapes_text);
  tcase_add_test (tc, test_import_report_is_formula_safe_csv);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *runner = srunner_create (legacy_import_suite ());
  int failed;

  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
