/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-cli-scanner"
#include "config.h"

/* Runs the real cardtill-cli binary: scanner replay/list/listen and
 * barcode encode/decode, checking what a support engineer sees (stdout,
 * stderr) and the exit status scripts rely on. */

#include <check.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <string.h>

typedef struct
{
  char *out;
  char *err;
  int   status;
} Run;

static void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
}

static char *
fixture (const char *name)
{
  return g_build_filename (g_getenv ("CT_TOP_SRCDIR"), "tests", "fixtures", "scanner", name, NULL);
}

static void
run_cli (Run         *r,
         const char  *first,
         ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  const char *a;
  int wait_status = 0;
  va_list ap;

  g_ptr_array_add (args, g_build_filename (g_getenv ("CT_TOP_BUILDDIR"), "src", "cli", "cardtill-cli", NULL));
  va_start (ap, first);
  for (a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, g_strdup (a));
  va_end (ap);
  g_ptr_array_add (args, NULL);

  ck_assert_msg (g_spawn_sync (NULL, (char **) args->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &r->out, &r->err, &wait_status, &error),
                 "%s", error ? error->message : "");
  ck_assert (WIFEXITED (wait_status));
  r->status = WEXITSTATUS (wait_status);
}

START_TEST (test_cli_replay_hex_prints_code)
{
  g_autofree char *f = fixture ("digits.hex");
  Run r;

  run_cli (&r, "scanner", "replay", f, NULL);
  ck_assert_int_eq (r.status, 0);
  ck_assert_str_eq (r.out, "8888000012345674\n");
  run_clear (&r);
}
END_TEST

/* Every recorded sequence through `scanner replay`, as a support engineer
 * would run it. */
static const struct
{
  const char *fixture;
  const char *expected;
} replays[] = {
  { "digits.hex", "8888000012345674\n" },
  { "letters-shift.hex", "AB-12cd_Z\n" },
  { "rollover.hex", "ab123\n" },
  { "repeated.hex", "1234567890\n" },
  { "aim.hex", "8888000012345674\n4006381333931\n" },
  { "caps.hex", "ABC1de\n" },
  { "pos-continuation.hex", "https://cards.example.com/m/8888000012345674?src=qr&pad=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n4006381333931\n" },
  { "pos62.hidrec", "https://cards.example.com/m/8888000012345674?from=issue-desk-7&lang=zh\n" },
  { "scanner.usbmon", "8888000012345674\n" },
  { "bus-mouse.usbmon", "8888000012345674\n" },
  { "unplug.usbmon", "8888000012345674\n" },
};

START_TEST (test_cli_replay_recorded_sequences)
{
  g_autofree char *f = fixture (replays[_i].fixture);
  Run r;

  run_cli (&r, "scanner", "replay", f, NULL);
  ck_assert_msg (r.status == 0, "%s: %s", replays[_i].fixture, r.err);
  ck_assert_str_eq (r.out, replays[_i].expected);
  run_clear (&r);
}
END_TEST

START_TEST (test_cli_replay_reads_standard_input)
{
  g_autofree char *f = fixture ("aim.hex");
  g_autofree char *cli = g_build_filename (g_getenv ("CT_TOP_BUILDDIR"), "src", "cli", "cardtill-cli", NULL);
  g_autofree char *script = g_strdup_printf ("exec \"$0\" scanner replay - < \"$1\"");
  const char *argv[] = { "/bin/sh", "-c", script, cli, f, NULL };
  g_autofree char *out = NULL;
  int wait_status = 0;

  ck_assert (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                           &out, NULL, &wait_status, NULL));
  ck_assert (WIFEXITED (wait_status) && WEXITSTATUS (wait_status) == 0);
  ck_assert_str_eq (out, "8888000012345674\n4006381333931\n");
}
END_TEST

START_TEST (test_cli_replay_usbmon_whole_bus_needs_device)
{
  g_autofree char *f = fixture ("bus.usbmon");
  Run r, picked;

  run_cli (&r, "scanner", "replay", f, NULL);
  ck_assert_int_eq (r.status, 4);
  ck_assert_str_eq (r.out, "");
  ck_assert_ptr_nonnull (strstr (r.err, "1:005:1"));
  ck_assert_ptr_nonnull (strstr (r.err, "1:002:1"));
  run_cli (&picked, "scanner", "replay", f, "--device", "1:005", NULL);
  ck_assert_int_eq (picked.status, 0);
  ck_assert_str_eq (picked.out, "8888000012345674\n");
  run_clear (&r);
  run_clear (&picked);
}
END_TEST

START_TEST (test_cli_replay_truncated_capture_fails)
{
  g_autofree char *f = fixture ("truncated.usbmon");
  Run r;

  run_cli (&r, "scanner", "replay", f, NULL);
  ck_assert_int_eq (r.status, 4);
  ck_assert_str_eq (r.out, "");
  ck_assert_ptr_nonnull (strstr (r.err, "Truncated capture"));
  run_clear (&r);
}
END_TEST

START_TEST (test_cli_replay_hidrecorder_and_prefix)
{
  g_autofree char *rec = fixture ("pos.hidrec");
  g_autofree char *ps = fixture ("prefix-suffix.hex");
  Run a, b;

  run_cli (&a, "scanner", "replay", rec, "--mode", "pos", NULL);
  ck_assert_int_eq (a.status, 0);
  ck_assert_str_eq (a.out, "8888000012345674\n");
  run_cli (&b, "scanner", "replay", ps, "--prefix", "PX", "--suffix=/S", NULL);
  ck_assert_int_eq (b.status, 0);
  ck_assert_str_eq (b.out, "8888000012345674\n");
  run_clear (&a);
  run_clear (&b);
}
END_TEST

START_TEST (test_cli_replay_non_utf8_escaped)
{
  g_autofree char *f = fixture ("non-utf8.hex");
  Run r;

  run_cli (&r, "scanner", "replay", f, NULL);
  ck_assert_int_eq (r.status, 0);
  ck_assert_str_eq (r.out, "AB\\xFF\\xFECD\n");
  run_clear (&r);
}
END_TEST

START_TEST (test_cli_replay_bad_input_and_usage)
{
  g_autofree char *dir = g_dir_make_tmp ("ct-cli-XXXXXX", NULL);
  g_autofree char *garbage = g_build_filename (dir, "notes.txt", NULL);
  g_autofree char *f = fixture ("digits.hex");
  Run a, b, c, d;

  g_file_set_contents (garbage, "Dear support, the scanner is broken.\n", -1, NULL);
  run_cli (&a, "scanner", "replay", garbage, NULL);
  ck_assert_int_eq (a.status, 4);
  ck_assert_ptr_nonnull (strstr (a.err, "line 1"));
  run_cli (&b, "scanner", "replay", NULL);
  ck_assert_int_eq (b.status, 1);
  run_cli (&c, "scanner", "replay", f, "--mode", "serial", NULL);
  ck_assert_int_eq (c.status, 1);
  run_cli (&d, "scanner", "replay", "/nonexistent/capture.txt", NULL);
  ck_assert_int_eq (d.status, 4);
  g_unlink (garbage);
  g_rmdir (dir);
  run_clear (&a);
  run_clear (&b);
  run_clear (&c);
  run_clear (&d);
}
END_TEST

START_TEST (test_cli_barcode_encode_then_decode)
{
  g_autofree char *dir = g_dir_make_tmp ("ct-cli-XXXXXX", NULL);
  g_autofree char *qr = g_build_filename (dir, "issue.png", NULL);
  g_autofree char *c128 = g_build_filename (dir, "card.png", NULL);
  Run e1, e2, d1, d2;

  run_cli (&e1, "barcode", "encode", "https://cards.example.com/m/8888000012345674",
           "--format", "qr", "-o", qr, NULL);
  ck_assert_int_eq (e1.status, 0);
  run_cli (&e2, "barcode", "encode", "8888000012345674", "--format=code128", "-o", c128,
           "--width", "500", NULL);
  ck_assert_int_eq (e2.status, 0);

  run_cli (&d1, "barcode", "decode", qr, NULL);
  ck_assert_int_eq (d1.status, 0);
  ck_assert_str_eq (d1.out, "format: QRCode\n"
                            "text: https://cards.example.com/m/8888000012345674\n"
                            "card: 8888000012345674\n");
  run_cli (&d2, "--json", "barcode", "decode", c128, NULL);
  ck_assert_int_eq (d2.status, 0);
  ck_assert_str_eq (d2.out, "[{\"format\":\"Code128\",\"text\":\"8888000012345674\","
                            "\"symbology\":\"]C0\",\"card_no\":\"8888000012345674\"}]\n");
  g_unlink (qr);
  g_unlink (c128);
  g_rmdir (dir);
  run_clear (&e1);
  run_clear (&e2);
  run_clear (&d1);
  run_clear (&d2);
}
END_TEST

START_TEST (test_cli_barcode_errors)
{
  g_autofree char *dir = g_dir_make_tmp ("ct-cli-XXXXXX", NULL);
  g_autofree char *out = g_build_filename (dir, "x.png", NULL);
  g_autofree char *huge = fixture ("huge-header.png");
  g_autofree char *notimg = fixture ("digits.hex");
  Run a, b, c, d, e;

  run_cli (&a, "barcode", "encode", "123", "--format", "ean99", "-o", out, NULL);
  ck_assert_int_eq (a.status, 1);
  run_cli (&b, "barcode", "encode", "ABC", "--format", "ean13", "-o", out, NULL);
  ck_assert_int_eq (b.status, 1);
  ck_assert (!g_file_test (out, G_FILE_TEST_EXISTS));
  run_cli (&c, "barcode", "decode", huge, NULL);
  ck_assert_int_eq (c.status, 4);
  ck_assert_ptr_nonnull (strstr (c.err, "megapixels"));
  run_cli (&d, "barcode", "decode", notimg, NULL);
  ck_assert_int_eq (d.status, 4);
  run_cli (&e, "barcode", "encode", "1", "--format", "qr", "-o", "/nonexistent-dir/x.png", NULL);
  ck_assert_int_eq (e.status, 4);
  g_rmdir (dir);
  run_clear (&a);
  run_clear (&b);
  run_clear (&c);
  run_clear (&d);
  run_clear (&e);
}
END_TEST

START_TEST (test_cli_barcode_no_barcode_in_image)
{
  g_autofree char *dir = g_dir_make_tmp ("ct-cli-XXXXXX", NULL);
  g_autofree char *blank = g_build_filename (dir, "blank.png", NULL);
  g_autoptr(GdkPixbuf) white = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 200, 120);
  Run r;

  gdk_pixbuf_fill (white, 0xffffffff);
  ck_assert (gdk_pixbuf_save (white, blank, "png", NULL, NULL));
  run_cli (&r, "barcode", "decode", blank, NULL);
  ck_assert_int_eq (r.status, 4);
  ck_assert_ptr_nonnull (strstr (r.err, "No barcode"));
  g_unlink (blank);
  g_rmdir (dir);
  run_clear (&r);
}
END_TEST

START_TEST (test_cli_scanner_list_and_listen_without_scanner)
{
  Run l, w, u;

  /* The test machine has no scanner: list succeeds (or says USB is not
   * available), and listen gives up after its timeout with status 4. */
  run_cli (&l, "scanner", "list", NULL);
  ck_assert_msg (l.status == 0 || (l.status == 4 && strstr (l.err, "No USB scanners") != NULL),
                 "status %d: %s", l.status, l.err);
  run_cli (&w, "scanner", "listen", "--device", "0c2e:0b61", "--timeout", "1", NULL);
  ck_assert_int_eq (w.status, 4);
  ck_assert_str_eq (w.out, "");
  run_cli (&u, "scanner", "listen", "--device", "honeywell", NULL);
  ck_assert_int_eq (u.status, 1);
  run_clear (&l);
  run_clear (&w);
  run_clear (&u);
}
END_TEST

static Suite *
cli_scanner_suite (void)
{
  Suite *s = suite_create ("cli-scanner");
  TCase *tc = tcase_create ("cli");

  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_cli_replay_hex_prints_code);
  tcase_add_loop_test (tc, test_cli_replay_recorded_sequences, 0, G_N_ELEMENTS (replays));
  tcase_add_test (tc, test_cli_replay_reads_standard_input);
  tcase_add_test (tc, test_cli_replay_usbmon_whole_bus_needs_device);
  tcase_add_test (tc, test_cli_replay_truncated_capture_fails);
  tcase_add_test (tc, test_cli_replay_hidrecorder_and_prefix);
  tcase_add_test (tc, test_cli_replay_non_utf8_escaped);
  tcase_add_test (tc, test_cli_replay_bad_input_and_usage);
  tcase_add_test (tc, test_cli_barcode_encode_then_decode);
  tcase_add_test (tc, test_cli_barcode_errors);
  tcase_add_test (tc, test_cli_barcode_no_barcode_in_image);
  tcase_add_test (tc, test_cli_scanner_list_and_listen_without_scanner);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (cli_scanner_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
