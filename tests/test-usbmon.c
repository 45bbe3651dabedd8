/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-usbmon"
#include "config.h"

#include <check.h>
#include <string.h>

#include "ct-capture.h"

static CtCapture *
load (const char *name)
{
  g_autofree char *path = g_build_filename (g_getenv ("CT_TOP_SRCDIR"), "tests", "fixtures",
                                            "scanner", name, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  CtCapture *capture;
  gsize len;

  ck_assert_msg (g_file_get_contents (path, &contents, &len, &error), "%s", path);
  capture = ct_capture_parse (contents, len, &error);
  ck_assert_msg (capture != NULL, "%s: %s", name, error ? error->message : "");
  return capture;
}

static char *
decode (CtCapture   *capture,
        const char  *device,
        GError     **error)
{
  g_autoptr(GPtrArray) scans = NULL;
  GString *out;

  if (!ct_capture_decode (capture, device, CT_HID_MODE_AUTO, NULL, NULL, &scans, NULL, error))
    return NULL;
  out = g_string_new (NULL);
  for (guint i = 0; i < scans->len; i++)
    {
      CtScan *scan = g_ptr_array_index (scans, i);

      if (i > 0)
        g_string_append_c (out, '|');
      g_string_append_len (out, scan->text, scan->length);
    }
  return g_string_free (out, FALSE);
}

static CtCapture *
parse_text (const char  *text,
            GError     **error)
{
  return ct_capture_parse (text, strlen (text), error);
}

START_TEST (test_usbmon_single_scanner_with_noise)
{
  g_autoptr(CtCapture) capture = load ("scanner.usbmon");
  g_autoptr(GError) error = NULL;
  g_autofree char *text = decode (capture, NULL, &error);

  ck_assert_int_eq (capture->format, CT_CAPTURE_FORMAT_USBMON);
  ck_assert_uint_eq (capture->streams->len, 1);
  ck_assert_str_eq (((CtCaptureStream *) g_ptr_array_index (capture->streams, 0))->id, "1:005:1");
  ck_assert_str_eq (text, "8888000012345674");
}
END_TEST

START_TEST (test_usbmon_whole_bus_two_sources_is_error)
{
  g_autoptr(CtCapture) capture = load ("bus.usbmon");
  g_autoptr(GError) error = NULL;
  g_autofree char *text = decode (capture, NULL, &error);

  ck_assert_ptr_null (text);
  ck_assert (g_error_matches (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_AMBIGUOUS));
  ck_assert_ptr_nonnull (strstr (error->message, "1:005:1"));
  ck_assert_ptr_nonnull (strstr (error->message, "1:002:1"));
}
END_TEST

START_TEST (test_usbmon_device_option_picks_source)
{
  g_autoptr(CtCapture) capture = load ("bus.usbmon");
  g_autoptr(GError) error = NULL;
  g_autofree char *scanner = decode (capture, "1:5", &error);
  g_autofree char *keyboard = decode (capture, "1:002:1", &error);
  g_autofree char *missing = decode (capture, "2:7", &error);

  ck_assert_str_eq (scanner, "8888000012345674");
  ck_assert_str_eq (keyboard, "ok");
  ck_assert_ptr_null (missing);
  ck_assert (g_error_matches (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_NO_DEVICE));
}
END_TEST

START_TEST (test_usbmon_mouse_on_bus_ignored)
{
  g_autoptr(CtCapture) capture = load ("bus-mouse.usbmon");
  g_autoptr(GError) error = NULL;
  g_autofree char *text = decode (capture, NULL, &error);

  ck_assert_msg (text != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (text, "8888000012345674");
}
END_TEST

START_TEST (test_usbmon_truncated_capture_refused)
{
  g_autoptr(CtCapture) capture = load ("truncated.usbmon");
  g_autoptr(GError) error = NULL;
  g_autofree char *text = decode (capture, NULL, &error);

  ck_assert_ptr_null (text);
  ck_assert (g_error_matches (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_TRUNCATED));
  ck_assert_ptr_nonnull (strstr (error->message, "64-byte"));
}
END_TEST

START_TEST (test_usbmon_unplug_mid_scan_drops_half_code)
{
  g_autoptr(CtCapture) capture = load ("unplug.usbmon");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) scans = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  CtScan *scan;

  ck_assert (ct_capture_decode (capture, NULL, CT_HID_MODE_AUTO, NULL, NULL, &scans, &warnings, &error));
  ck_assert_uint_eq (scans->len, 1);
  scan = g_ptr_array_index (scans, 0);
  ck_assert_str_eq (scan->text, "8888000012345674");
  ck_assert_uint_ge (warnings->len, 1);
  ck_assert_ptr_nonnull (strstr (g_ptr_array_index (warnings, 0), "inside a code"));
}
END_TEST

START_TEST (test_hidrecorder_pos_recording)
{
  g_autoptr(CtCapture) capture = load ("pos.hidrec");
  g_autoptr(GError) error = NULL;
  g_autofree char *text = decode (capture, NULL, &error);
  CtCaptureStream *stream = g_ptr_array_index (capture->streams, 0);

  ck_assert_int_eq (capture->format, CT_CAPTURE_FORMAT_HID_RECORDER);
  ck_assert_int_eq (stream->mode_hint, CT_HID_MODE_POS);
  ck_assert_uint_eq (stream->reports->len, 1);
  ck_assert_str_eq (text, "8888000012345674");
}
END_TEST

START_TEST (test_hidrecorder_descriptor_gives_pos_layout)
{
  g_autoptr(CtCapture) capture = load ("pos62.hidrec");
  g_autoptr(GError) error = NULL;
  g_autofree char *text = decode (capture, NULL, &error);
  CtCaptureStream *stream = g_ptr_array_index (capture->streams, 0);

  ck_assert (stream->has_pos_layout);
  ck_assert_uint_eq (stream->pos_layout.report_length, 62);
  ck_assert_uint_eq (stream->pos_layout.more_bit, 61 * 8);
  ck_assert_uint_eq (stream->reports->len, 2);
  ck_assert_msg (text != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (text, "https://cards.example.com/m/8888000012345674?from=issue-desk-7&lang=zh");
}
END_TEST

START_TEST (test_hex_lines_without_spaces_and_0x)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCapture) capture = parse_text ("0000250000000000\r\n"
                                              "0x00 0x00 0x00 0x00 0x00 0x00 0x00 0x00\r\n"
                                              "00 00 26 00 00 00 00 00\n"
                                              "00 00 28 00 00 00 00 00\n", &error);
  g_autofree char *text = decode (capture, NULL, &error);

  ck_assert_int_eq (capture->format, CT_CAPTURE_FORMAT_HEX);
  ck_assert_str_eq (text, "89");
}
END_TEST

START_TEST (test_usbmon_old_format_without_bus)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCapture) capture = parse_text (
    "d5ea89a0 3575914555 C Ii:003:1 0:8 8 = 00002000 00000000\n"
    "d5ea89a0 3575914556 C Ii:003:1 0:8 8 = 00002800 00000000\n", &error);
  g_autofree char *text = decode (capture, NULL, &error);

  ck_assert_msg (capture != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (text, "3");
}
END_TEST

START_TEST (test_capture_unrecognisable_input_is_error)
{
  const char *inputs[] = {
    "hello world\n",
    "",
    "\n\n# only comments\n",
    "00 00 1e\x00 00\n",
    "GIF89a\x01\x02",
  };

  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(CtCapture) capture = ct_capture_parse (inputs[i], i == 3 ? 14 : strlen (inputs[i]), &error);

      ck_assert_msg (capture == NULL, "input %u accepted", i);
      ck_assert (g_error_matches (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_UNRECOGNISED));
    }
}
END_TEST

START_TEST (test_capture_bad_line_names_line_number)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCapture) capture = parse_text ("00 00 1e 00 00 00 00 00\n"
                                              "00 00 zz 00 00 00 00 00\n", &error);

  ck_assert_ptr_null (capture);
  ck_assert (g_error_matches (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_BAD_LINE));
  ck_assert_ptr_nonnull (strstr (error->message, "line 2"));
}
END_TEST

START_TEST (test_usbmon_more_data_than_length_is_bad)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCapture) capture = parse_text (
    "ffff8800 1 C Ii:1:005:1 0:8 4 = 00002000 00000000\n", &error);

  ck_assert_ptr_null (capture);
  ck_assert (g_error_matches (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_BAD_LINE));
}
END_TEST

START_TEST (test_hidrecorder_length_mismatch_is_bad)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCapture) capture = parse_text ("D: 0\n"
                                              "E: 000001.000000 8 00 00 1e 00\n", &error);

  ck_assert_ptr_null (capture);
  ck_assert (g_error_matches (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_BAD_LINE));
}
END_TEST

START_TEST (test_capture_without_complete_code_is_error)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCapture) capture = parse_text ("00 00 1e 00 00 00 00 00\n", &error);
  g_autofree char *text = decode (capture, NULL, &error);

  ck_assert_ptr_null (text);
  ck_assert (g_error_matches (error, CT_CAPTURE_ERROR, CT_CAPTURE_ERROR_NO_SCANS));
}
END_TEST

static Suite *
usbmon_suite (void)
{
  Suite *s = suite_create ("usbmon");
  TCase *tc = tcase_create ("capture");

  tcase_add_test (tc, test_usbmon_single_scanner_with_noise);
  tcase_add_test (tc, test_usbmon_whole_bus_two_sources_is_error);
  tcase_add_test (tc, test_usbmon_device_option_picks_source);
  tcase_add_test (tc, test_usbmon_mouse_on_bus_ignored);
  tcase_add_test (tc, test_usbmon_truncated_capture_refused);
  tcase_add_test (tc, test_usbmon_unplug_mid_scan_drops_half_code);
  tcase_add_test (tc, test_hidrecorder_pos_recording);
  tcase_add_test (tc, test_hidrecorder_descriptor_gives_pos_layout);
  tcase_add_test (tc, test_hex_lines_without_spaces_and_0x);
  tcase_add_test (tc, test_usbmon_old_format_without_bus);
  tcase_add_test (tc, test_capture_unrecognisable_input_is_error);
  tcase_add_test (tc, test_capture_bad_line_names_line_number);
  tcase_add_test (tc, test_usbmon_more_data_than_length_is_bad);
  tcase_add_test (tc, test_hidrecorder_length_mismatch_is_bad);
  tcase_add_test (tc, test_capture_without_complete_code_is_error);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (usbmon_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
