/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-hid-decode"
#include "config.h"

#include <check.h>
#include <string.h>

#include "ct-capture.h"
#include "ct-hid-decode.h"

static guint8 *
kb (guint8 mod,
    guint8 k1,
    guint8 k2,
    guint8 *buf)
{
  memset (buf, 0, 8);
  buf[0] = mod;
  buf[2] = k1;
  buf[3] = k2;
  return buf;
}

/* Feeds reports; returns the scans joined by "|" and counts errors. */
static char *
feed_all (CtHidDecoder  *decoder,
          const guint8 (*reports)[8],
          gsize          n,
          guint         *errors)
{
  GString *out = g_string_new (NULL);

  *errors = 0;
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(CtScan) scan = NULL;

      if (!ct_hid_decoder_feed (decoder, reports[i], 8, &scan, &error))
        (*errors)++;
      if (scan != NULL)
        {
          if (out->len > 0)
            g_string_append_c (out, '|');
          g_string_append_len (out, scan->text, scan->length);
        }
    }
  return g_string_free (out, FALSE);
}

/* Decodes a fixture through the capture reader, like `scanner replay`. */
static char *
replay_fixture (const char *name,
                const char *prefix,
                const char *suffix,
                char      **symbologies)
{
  g_autofree char *path = g_build_filename (g_getenv ("CT_TOP_SRCDIR"), "tests", "fixtures",
                                            "scanner", name, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCapture) capture = NULL;
  g_autoptr(GPtrArray) scans = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  GString *out = g_string_new (NULL);
  GString *sym = g_string_new (NULL);
  gsize len;

  ck_assert_msg (g_file_get_contents (path, &contents, &len, &error), "%s", path);
  capture = ct_capture_parse (contents, len, &error);
  ck_assert_msg (capture != NULL, "%s", error ? error->message : "");
  ck_assert_msg (ct_capture_decode (capture, NULL, CT_HID_MODE_AUTO, prefix, suffix,
                                    &scans, &warnings, &error),
                 "%s", error ? error->message : "");
  for (guint i = 0; i < scans->len; i++)
    {
      CtScan *scan = g_ptr_array_index (scans, i);
      g_autofree char *shown = ct_scan_to_display (scan);

      if (i > 0)
        {
          g_string_append_c (out, '|');
          g_string_append_c (sym, '|');
        }
      g_string_append (out, shown);
      g_string_append (sym, scan->symbology);
    }
  if (symbologies != NULL)
    *symbologies = g_string_free (sym, FALSE);
  else
    g_string_free (sym, TRUE);
  return g_string_free (out, FALSE);
}

START_TEST (test_hid_keyboard_digits_fixture)
{
  g_autofree char *text = replay_fixture ("digits.hex", NULL, NULL, NULL);

  ck_assert_str_eq (text, "8888000012345674");
}
END_TEST

START_TEST (test_hid_keyboard_shift_letters_fixture)
{
  g_autofree char *text = replay_fixture ("letters-shift.hex", NULL, NULL, NULL);

  ck_assert_str_eq (text, "AB-12cd_Z");
}
END_TEST

START_TEST (test_hid_keyboard_rollover_not_doubled)
{
  g_autofree char *text = replay_fixture ("rollover.hex", NULL, NULL, NULL);

  ck_assert_str_eq (text, "ab123");
}
END_TEST

START_TEST (test_hid_keyboard_repeated_reports_not_doubled)
{
  g_autofree char *text = replay_fixture ("repeated.hex", NULL, NULL, NULL);

  ck_assert_str_eq (text, "1234567890");
}
END_TEST

START_TEST (test_hid_keyboard_prefix_suffix_stripped)
{
  g_autofree char *text = replay_fixture ("prefix-suffix.hex", "PX", "/S", NULL);
  g_autofree char *raw = replay_fixture ("prefix-suffix.hex", NULL, NULL, NULL);

  ck_assert_str_eq (text, "8888000012345674");
  ck_assert_str_eq (raw, "PX8888000012345674/S");
}
END_TEST

START_TEST (test_hid_keyboard_aim_identifier_stripped)
{
  g_autofree char *sym = NULL;
  g_autofree char *text = replay_fixture ("aim.hex", NULL, NULL, &sym);

  ck_assert_str_eq (text, "8888000012345674|4006381333931");
  ck_assert_str_eq (sym, "]C0|]E0");
}
END_TEST

START_TEST (test_hid_keyboard_caps_lock)
{
  g_autofree char *text = replay_fixture ("caps.hex", NULL, NULL, NULL);

  ck_assert_str_eq (text, "ABC1de");
}
END_TEST

START_TEST (test_hid_pos_continuation_fixture)
{
  g_autofree char *sym = NULL;
  g_autofree char *text = replay_fixture ("pos-continuation.hex", NULL, NULL, &sym);
  g_autofree char *expected = g_strdup_printf ("https://cards.example.com/m/8888000012345674?src=qr&pad=%s|4006381333931",
                                               "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");

  ck_assert_str_eq (text, expected);
  ck_assert_str_eq (sym, "]Q1|]E0");
}
END_TEST

START_TEST (test_hid_pos_non_utf8_escaped)
{
  g_autofree char *text = replay_fixture ("non-utf8.hex", NULL, NULL, NULL);

  ck_assert_str_eq (text, "AB\\xFF\\xFECD");
}
END_TEST

START_TEST (test_hid_key_held_across_reports_emits_once)
{
  g_autoptr(CtHidDecoder) d = ct_hid_decoder_new (CT_HID_MODE_KEYBOARD);
  guint8 r[6][8];
  g_autofree char *text = NULL;
  guint errors;

  kb (0, 0x1e, 0, r[0]);     /* 1 down */
  kb (0, 0x1e, 0, r[1]);     /* still down */
  kb (0, 0x1e, 0x1f, r[2]);  /* 2 down, 1 still held */
  kb (0, 0x1f, 0x1e, r[3]);  /* order changed: nothing new */
  kb (0, 0x20, 0x21, r[4]);  /* 3 and 4 down together */
  kb (0, 0x28, 0, r[5]);     /* Enter */
  text = feed_all (d, (const guint8 (*)[8]) r, 6, &errors);
  ck_assert_str_eq (text, "1234");
  ck_assert_uint_eq (errors, 0);
}
END_TEST

START_TEST (test_hid_same_key_twice_needs_release)
{
  g_autoptr(CtHidDecoder) d = ct_hid_decoder_new (CT_HID_MODE_KEYBOARD);
  guint8 r[6][8];
  g_autofree char *text = NULL;
  guint errors;

  kb (0, 0x25, 0, r[0]);  /* 8 */
  kb (0, 0, 0, r[1]);
  kb (0, 0x25, 0, r[2]);  /* 8 again after release */
  kb (0, 0x25, 0, r[3]);  /* repeated report */
  kb (0, 0, 0, r[4]);
  kb (0, 0x58, 0, r[5]);  /* KP-Enter */
  text = feed_all (d, (const guint8 (*)[8]) r, 6, &errors);
  ck_assert_str_eq (text, "88");
}
END_TEST

START_TEST (test_hid_short_report_is_error_and_drops_partial)
{
  g_autoptr(CtHidDecoder) d = ct_hid_decoder_new (CT_HID_MODE_KEYBOARD);
  g_autoptr(GError) error = NULL;
  CtScan *scan = NULL;
  guint8 r[8];
  guint8 rest[4][8];
  g_autofree char *text = NULL;
  guint errors;

  ck_assert (ct_hid_decoder_feed (d, kb (0, 0x1e, 0, r), 8, &scan, NULL));
  ck_assert (!ct_hid_decoder_feed (d, r, 5, &scan, &error));
  ck_assert (g_error_matches (error, CT_HID_ERROR, CT_HID_ERROR_SHORT_REPORT));
  ck_assert_ptr_null (scan);
  /* The rest of the broken code is dropped up to its terminator; the next
   * code comes through whole. */
  kb (0, 0x1f, 0, rest[0]);
  kb (0, 0x28, 0, rest[1]);
  kb (0, 0x20, 0, rest[2]);
  kb (0, 0x2b, 0, rest[3]);
  text = feed_all (d, (const guint8 (*)[8]) rest, 4, &errors);
  ck_assert_str_eq (text, "3");
}
END_TEST

START_TEST (test_hid_unknown_usage_is_error_nothing_half_scanned)
{
  g_autoptr(CtHidDecoder) d = ct_hid_decoder_new (CT_HID_MODE_KEYBOARD);
  guint8 r[5][8];
  g_autofree char *text = NULL;
  guint errors;

  kb (0, 0x1e, 0, r[0]);
  kb (0, 0x3a, 0, r[1]);  /* F1: no scanner sends it inside a code */
  kb (0, 0x1f, 0, r[2]);
  kb (0, 0x28, 0, r[3]);
  kb (0, 0, 0, r[4]);
  text = feed_all (d, (const guint8 (*)[8]) r, 5, &errors);
  ck_assert_str_eq (text, "");
  ck_assert_uint_eq (errors, 1);
}
END_TEST

START_TEST (test_hid_ctrl_key_gives_control_character)
{
  g_autoptr(CtHidDecoder) d = ct_hid_decoder_new (CT_HID_MODE_KEYBOARD);
  guint8 r[4][8];
  g_autofree char *text = NULL;
  g_autofree char *shown = NULL;
  guint errors;

  kb (0, 0x1e, 0, r[0]);
  kb (0x01, 0x30, 0, r[1]);  /* Ctrl+] = GS */
  kb (0, 0x1f, 0, r[2]);
  kb (0, 0x28, 0, r[3]);
  text = feed_all (d, (const guint8 (*)[8]) r, 4, &errors);
  shown = ct_hid_escape_bytes (text, strlen (text));
  ck_assert_str_eq (shown, "1\\x1D2");
}
END_TEST

START_TEST (test_hid_terminator_alone_is_no_scan)
{
  g_autoptr(CtHidDecoder) d = ct_hid_decoder_new (CT_HID_MODE_KEYBOARD);
  guint8 r[8];
  CtScan *scan = NULL;

  ck_assert (ct_hid_decoder_feed (d, kb (0, 0x28, 0, r), 8, &scan, NULL));
  ck_assert_ptr_null (scan);
}
END_TEST

START_TEST (test_hid_too_long_code_refused)
{
  g_autoptr(CtHidDecoder) d = ct_hid_decoder_new (CT_HID_MODE_KEYBOARD);
  guint8 down[8], up[8];
  guint errors = 0;
  CtScan *scan = NULL;

  kb (0, 0x1e, 0, down);
  kb (0, 0, 0, up);
  for (int i = 0; i < CT_HID_MAX_SCAN + 10; i++)
    {
      g_autoptr(GError) error = NULL;

      if (!ct_hid_decoder_feed (d, down, 8, &scan, &error))
        {
          ck_assert (g_error_matches (error, CT_HID_ERROR, CT_HID_ERROR_TOO_LONG));
          errors++;
        }
      ct_hid_decoder_feed (d, up, 8, &scan, NULL);
    }
  ck_assert_uint_eq (errors, 1);
  ck_assert (ct_hid_decoder_feed (d, kb (0, 0x28, 0, down), 8, &scan, NULL));
  ck_assert_ptr_null (scan);
}
END_TEST

START_TEST (test_hid_pos_bad_length_refused)
{
  g_autoptr(CtHidDecoder) d = ct_hid_decoder_new (CT_HID_MODE_POS);
  g_autoptr(GError) error = NULL;
  guint8 r[64] = { 0x02, 60, 'C', '0', 0 };
  CtScan *scan = NULL;

  ck_assert (!ct_hid_decoder_feed (d, r, sizeof r, &scan, &error));
  ck_assert (g_error_matches (error, CT_HID_ERROR, CT_HID_ERROR_BAD_REPORT));
  ck_assert_ptr_null (scan);
}
END_TEST

START_TEST (test_hid_pos_symbology_without_bracket)
{
  g_autoptr(CtHidDecoder) d = ct_hid_decoder_new (CT_HID_MODE_AUTO);
  guint8 r[64] = { 0x02, 4, 'E', '0', 0, '1', '2', '3', '4' };
  g_autoptr(CtScan) scan = NULL;

  ck_assert (ct_hid_decoder_feed (d, r, sizeof r, &scan, NULL));
  ck_assert_ptr_nonnull (scan);
  ck_assert_str_eq (scan->text, "1234");
  ck_assert_str_eq (scan->symbology, "]E0");
  ck_assert_int_eq (ct_hid_decoder_get_mode (d), CT_HID_MODE_POS);
}
END_TEST

START_TEST (test_hid_pos_error_mid_continuation_drops_code)
{
  g_autoptr(CtHidDecoder) d = ct_hid_decoder_new (CT_HID_MODE_POS);
  guint8 first[64] = { 0x02, 3, ']', 'C', '0', '1', '2', '3' };
  guint8 bad[10] = { 0x02, 50 };
  guint8 last[64] = { 0x02, 2, ']', 'C', '0', '4', '5' };
  guint8 next[64] = { 0x02, 2, ']', 'C', '0', '7', '7' };
  CtScan *scan = NULL;
  g_autoptr(CtScan) good = NULL;

  first[63] = 1;
  ck_assert (ct_hid_decoder_feed (d, first, 64, &scan, NULL));
  ck_assert (!ct_hid_decoder_feed (d, bad, sizeof bad, &scan, NULL));
  ck_assert (ct_hid_decoder_feed (d, last, 64, &scan, NULL));
  ck_assert_ptr_null (scan);
  ck_assert (ct_hid_decoder_feed (d, next, 64, &good, NULL));
  ck_assert_str_eq (good->text, "77");
}
END_TEST

START_TEST (test_hid_reset_forgets_partial)
{
  g_autoptr(CtHidDecoder) d = ct_hid_decoder_new (CT_HID_MODE_KEYBOARD);
  guint8 r[8];
  g_autoptr(CtScan) scan = NULL;
  CtScan *none = NULL;

  ct_hid_decoder_feed (d, kb (0, 0x1e, 0, r), 8, &none, NULL);
  ck_assert (ct_hid_decoder_has_partial (d));
  ct_hid_decoder_reset (d);  /* the device went away */
  ck_assert (!ct_hid_decoder_has_partial (d));
  ct_hid_decoder_feed (d, kb (0, 0x1f, 0, r), 8, &none, NULL);
  ct_hid_decoder_feed (d, kb (0, 0x28, 0, r), 8, &scan, NULL);
  ck_assert_str_eq (scan->text, "2");
}
END_TEST

START_TEST (test_hid_keyboard_report_with_report_id)
{
  g_autoptr(CtHidDecoder) d = ct_hid_decoder_new (CT_HID_MODE_AUTO);
  guint8 r[4][9] = {
    { 0x01, 0x02, 0, 0x04 },  /* id 1, Shift, a */
    { 0x01, 0, 0, 0 },
    { 0x01, 0, 0, 0x1e },     /* 1 */
    { 0x01, 0, 0, 0x28 },     /* Enter */
  };
  g_autoptr(CtScan) scan = NULL;

  for (guint i = 0; i < 4; i++)
    {
      CtScan *s = NULL;

      ck_assert (ct_hid_decoder_feed (d, r[i], 9, &s, NULL));
      if (s != NULL)
        scan = s;
    }
  ck_assert_int_eq (ct_hid_decoder_get_mode (d), CT_HID_MODE_KEYBOARD);
  ck_assert_ptr_nonnull (scan);
  ck_assert_str_eq (scan->text, "A1");
}
END_TEST

/* The scanned data report of a HID POS scanner as its descriptor gives
 * it: id 2, Byte Count, Symbology Identifier 1-3, 56 bytes of Decoded Data
 * (buffered bytes), the Decoded Data Continued bit and 7 bits of padding:
 * 62 bytes with the id. */
static const guint8 pos62_descriptor[] = {
  0x05, 0x8c, 0x09, 0x02, 0xa1, 0x01, 0x09, 0x12, 0xa1, 0x02,
  0x85, 0x02, 0x15, 0x00, 0x26, 0xff, 0x00,
  0x75, 0x08, 0x95, 0x01, 0x05, 0x01, 0x09, 0x3b, 0x81, 0x02,
  0x05, 0x8c, 0x09, 0xfb, 0x09, 0xfc, 0x09, 0xfd, 0x95, 0x03, 0x81, 0x02,
  0x75, 0x08, 0x95, 0x38, 0x09, 0xfe, 0x82, 0x02, 0x01,
  0x75, 0x01, 0x95, 0x01, 0x09, 0xff, 0x81, 0x02,
  0x75, 0x07, 0x95, 0x01, 0x81, 0x03,
  0xc0, 0xc0,
};

START_TEST (test_hid_pos_layout_from_descriptor)
{
  CtHidPosLayout l;

  ck_assert (ct_hid_pos_layout_from_descriptor (pos62_descriptor, sizeof pos62_descriptor, &l));
  ck_assert_uint_eq (l.report_id, 2);
  ck_assert_uint_eq (l.report_length, 62);
  ck_assert_uint_eq (l.count_offset, 1);
  ck_assert_uint_eq (l.symbology_offset[0], 2);
  ck_assert_uint_eq (l.symbology_offset[1], 3);
  ck_assert_uint_eq (l.symbology_offset[2], 4);
  ck_assert_uint_eq (l.data_offset, 5);
  ck_assert_uint_eq (l.data_length, 56);
  ck_assert_uint_eq (l.more_bit, 61 * 8);
  ck_assert_int_eq (ct_hid_mode_from_report_descriptor (pos62_descriptor, sizeof pos62_descriptor),
                    CT_HID_MODE_POS);
}
END_TEST

START_TEST (test_hid_pos_descriptor_layout_with_continuation)
{
  g_autoptr(CtHidDecoder) d = ct_hid_decoder_new (CT_HID_MODE_POS);
  CtHidPosLayout l;
  const char *text = "https://cards.example.com/m/8888000012345674?from=issue-desk-7&lang=zh";
  gsize n = strlen (text);
  guint8 first[62] = { 0x02, 56, ']', 'Q', '1' };
  guint8 second[62] = { 0x02, 0, ']', 'Q', '1' };
  CtScan *none = NULL;
  g_autoptr(CtScan) scan = NULL;

  ck_assert (ct_hid_pos_layout_from_descriptor (pos62_descriptor, sizeof pos62_descriptor, &l));
  ct_hid_decoder_set_pos_layout (d, &l);
  memcpy (first + 5, text, 56);
  first[61] = 0x01;
  second[1] = (guint8) (n - 56);
  memcpy (second + 5, text + 56, n - 56);
  ck_assert (ct_hid_decoder_feed (d, first, sizeof first, &none, NULL));
  ck_assert_ptr_null (none);
  ck_assert (ct_hid_decoder_feed (d, second, sizeof second, &scan, NULL));
  ck_assert_ptr_nonnull (scan);
  ck_assert_str_eq (scan->text, text);
  ck_assert_str_eq (scan->symbology, "]Q1");
}
END_TEST

START_TEST (test_hid_pos_descriptor_layout_other_order)
{
  /* No report ids; the identifiers first, 20 data bytes, then the byte
   * count and the continued bit: the descriptor decides, not habit. */
  static const guint8 desc[] = {
    0x06, 0x8c, 0x00, 0x09, 0x02, 0xa1, 0x01,
    0x75, 0x08, 0x95, 0x03, 0x19, 0xfb, 0x29, 0xfd, 0x81, 0x02,
    0x95, 0x14, 0x09, 0xfe, 0x81, 0x02,
    0x95, 0x01, 0x06, 0x8c, 0x00, 0x09, 0x3b, 0x81, 0x02,
    0x75, 0x01, 0x09, 0xff, 0x81, 0x02, 0x75, 0x07, 0x81, 0x03,
    0xc0,
  };
  g_autoptr(CtHidDecoder) d = ct_hid_decoder_new (CT_HID_MODE_AUTO);
  CtHidPosLayout l;
  guint8 r[25] = { 'E', '0', 0 };
  g_autoptr(CtScan) scan = NULL;

  ck_assert (ct_hid_pos_layout_from_descriptor (desc, sizeof desc, &l));
  ck_assert_uint_eq (l.report_id, 0);
  ck_assert_uint_eq (l.report_length, 25);
  ck_assert_uint_eq (l.data_offset, 3);
  ck_assert_uint_eq (l.count_offset, 23);
  ck_assert_uint_eq (l.more_bit, 24 * 8);
  ct_hid_decoder_set_pos_layout (d, &l);
  memcpy (r + 3, "4006381333931", 13);
  r[23] = 13;
  ck_assert (ct_hid_decoder_feed (d, r, sizeof r, &scan, NULL));
  ck_assert_ptr_nonnull (scan);
  ck_assert_str_eq (scan->text, "4006381333931");
  ck_assert_str_eq (scan->symbology, "]E0");
}
END_TEST

START_TEST (test_hid_pos_descriptor_without_fields_falls_back)
{
  /* Only Decoded Data: nothing says how much of it is the code. */
  static const guint8 desc[] = {
    0x06, 0x8c, 0x00, 0x09, 0x02, 0xa1, 0x01, 0x85, 0x02, 0x15, 0x00,
    0x26, 0xff, 0x00, 0x75, 0x08, 0x95, 0x3f, 0x09, 0xfe, 0x81, 0x02, 0xc0,
  };
  static const guint8 keyboard[] = {
    0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7,
    0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0xc0,
  };
  CtHidPosLayout l;

  ck_assert (!ct_hid_pos_layout_from_descriptor (desc, sizeof desc, &l));
  ck_assert (!ct_hid_pos_layout_from_descriptor (keyboard, sizeof keyboard, &l));
  ck_assert (!ct_hid_pos_layout_from_descriptor (desc, 7, &l));
  ck_assert_int_eq (ct_hid_mode_from_report_descriptor (keyboard, sizeof keyboard), CT_HID_MODE_KEYBOARD);
}
END_TEST

START_TEST (test_hid_pos_descriptor_layout_refuses_short_and_foreign)
{
  g_autoptr(CtHidDecoder) d = ct_hid_decoder_new (CT_HID_MODE_POS);
  CtHidPosLayout l;
  guint8 r[62] = { 0x02, 57, ']', 'C', '0' };
  guint8 other[62] = { 0x04, 1, ']', 'C', '0', '1' };
  g_autoptr(GError) e1 = NULL;
  g_autoptr(GError) e2 = NULL;
  g_autoptr(GError) e3 = NULL;
  CtScan *scan = NULL;

  ck_assert (ct_hid_pos_layout_from_descriptor (pos62_descriptor, sizeof pos62_descriptor, &l));
  ct_hid_decoder_set_pos_layout (d, &l);
  ck_assert (!ct_hid_decoder_feed (d, r, sizeof r, &scan, &e1));      /* 57 > 56 */
  ck_assert (g_error_matches (e1, CT_HID_ERROR, CT_HID_ERROR_BAD_REPORT));
  ck_assert (!ct_hid_decoder_feed (d, r, 40, &scan, &e2));            /* short */
  ck_assert (g_error_matches (e2, CT_HID_ERROR, CT_HID_ERROR_SHORT_REPORT));
  ck_assert (!ct_hid_decoder_feed (d, other, sizeof other, &scan, &e3));
  ck_assert (g_error_matches (e3, CT_HID_ERROR, CT_HID_ERROR_BAD_REPORT));
  ck_assert_ptr_null (scan);
}
END_TEST

START_TEST (test_hid_escape_keeps_utf8)
{
  g_autofree char *a = ct_hid_escape_bytes ("卡号\x01", strlen ("卡号\x01"));

  ck_assert_str_eq (a, "卡号\\x01");
}
END_TEST

static Suite *
hid_decode_suite (void)
{
  Suite *s = suite_create ("hid-decode");
  TCase *fixtures = tcase_create ("fixtures");
  TCase *unit = tcase_create ("reports");

  tcase_add_test (fixtures, test_hid_keyboard_digits_fixture);
  tcase_add_test (fixtures, test_hid_keyboard_shift_letters_fixture);
  tcase_add_test (fixtures, test_hid_keyboard_rollover_not_doubled);
  tcase_add_test (fixtures, test_hid_keyboard_repeated_reports_not_doubled);
  tcase_add_test (fixtures, test_hid_keyboard_prefix_suffix_stripped);
  tcase_add_test (fixtures, test_hid_keyboard_aim_identifier_stripped);
  tcase_add_test (fixtures, test_hid_keyboard_caps_lock);
  tcase_add_test (fixtures, test_hid_pos_continuation_fixture);
  tcase_add_test (fixtures, test_hid_pos_non_utf8_escaped);
  suite_add_tcase (s, fixtures);

  tcase_add_test (unit, test_hid_key_held_across_reports_emits_once);
  tcase_add_test (unit, test_hid_same_key_twice_needs_release);
  tcase_add_test (unit, test_hid_short_report_is_error_and_drops_partial);
  tcase_add_test (unit, test_hid_unknown_usage_is_error_nothing_half_scanned);
  tcase_add_test (unit, test_hid_ctrl_key_gives_control_character);
  tcase_add_test (unit, test_hid_terminator_alone_is_no_scan);
  tcase_add_test (unit, test_hid_too_long_code_refused);
  tcase_add_test (unit, test_hid_pos_bad_length_refused);
  tcase_add_test (unit, test_hid_pos_symbology_without_bracket);
  tcase_add_test (unit, test_hid_pos_error_mid_continuation_drops_code);
  tcase_add_test (unit, test_hid_reset_forgets_partial);
  tcase_add_test (unit, test_hid_keyboard_report_with_report_id);
  tcase_add_test (unit, test_hid_pos_layout_from_descriptor);
  tcase_add_test (unit, test_hid_pos_descriptor_layout_with_continuation);
  tcase_add_test (unit, test_hid_pos_descriptor_layout_other_order);
  tcase_add_test (unit, test_hid_pos_descriptor_without_fields_falls_back);
  tcase_add_test (unit, test_hid_pos_descriptor_layout_refuses_short_and_foreign);
  tcase_add_test (unit, test_hid_escape_keeps_utf8);
  suite_add_tcase (s, unit);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (hid_decode_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
