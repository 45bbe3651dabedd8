/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-zxing"
#include "config.h"

#include <check.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ct-barcode.h"
#include "zxing-c.h"

typedef struct
{
  const char *format;
  const char *input;
  const char *decoded;
  int width, height;
} RoundTrip;

/* Every format ZXing-C++ 1.4 writes. */
static const RoundTrip round_trips[] = {
  { "Code128", "8888000012345674", "8888000012345674", 400, 120 },
  { "EAN-13", "400638133393", "4006381333931", 300, 120 },
  { "QRCode", "https://cards.example.com/m/8888000012345674", "https://cards.example.com/m/8888000012345674", 240, 240 },
  { "EAN-8", "9638507", "96385074", 200, 100 },
  { "UPC-A", "03600029145", "036000291452", 300, 120 },
  { "UPC-E", "0123456", "01234565", 200, 100 },
  { "Code39", "CARD-1234", "CARD-1234", 400, 120 },
  { "Code93", "CARD1234", "CARD1234", 400, 120 },
  { "Codabar", "A40156B", "40156", 300, 120 },  /* start/stop not returned */
  { "ITF", "00012345678905", "00012345678905", 400, 120 },
  { "DataMatrix", "8888000012345674", "8888000012345674", 200, 200 },
  { "PDF417", "8888000012345674", "8888000012345674", 400, 200 },
  { "Aztec", "8888000012345674", "8888000012345674", 200, 200 },
};

static GdkPixbuf *
encode (const char *format_name,
        const char *text,
        int         w,
        int         h)
{
  g_autoptr(GError) error = NULL;
  zxing_BarcodeFormat format;
  GdkPixbuf *pixbuf;

  ck_assert_msg (ct_barcode_format_from_name (format_name, &format), "%s", format_name);
  pixbuf = ct_barcode_encode (text, format, w, h, &error);
  ck_assert_msg (pixbuf != NULL, "%s: %s", format_name, error ? error->message : "");
  return pixbuf;
}

static void
assert_decodes (GdkPixbuf  *pixbuf,
                const char *format,
                const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) found = ct_barcode_decode_pixbuf (pixbuf, &error);
  CtBarcode *b;

  ck_assert_msg (found != NULL, "%s \"%s\": %s", format, text, error ? error->message : "");
  ck_assert_uint_ge (found->len, 1);
  b = g_ptr_array_index (found, 0);
  ck_assert_str_eq (b->text, text);
  ck_assert_msg (g_ascii_strcasecmp (b->format, format) == 0, "format %s, expected %s", b->format, format);
}

/* A white canvas with @src drawn into it at (x, y). */
static GdkPixbuf *
on_canvas (GdkPixbuf *src,
           int        cw,
           int        ch,
           int        x,
           int        y)
{
  GdkPixbuf *canvas = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, cw, ch);

  gdk_pixbuf_fill (canvas, 0xffffffff);
  gdk_pixbuf_copy_area (src, 0, 0, gdk_pixbuf_get_width (src), gdk_pixbuf_get_height (src),
                        canvas, x, y);
  return canvas;
}

/* Rotates by any angle around the centre (nearest neighbour, white fill),
 * the way a card lies crooked under a camera. */
static GdkPixbuf *
rotate_any (GdkPixbuf *src,
            double     degrees)
{
  int w = gdk_pixbuf_get_width (src), h = gdk_pixbuf_get_height (src);
  int n = (int) ceil (sqrt ((double) w * w + (double) h * h)) + 4;
  GdkPixbuf *dst = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, n, n);
  const guint8 *sp = gdk_pixbuf_read_pixels (src);
  guint8 *dp = gdk_pixbuf_get_pixels (dst);
  int ss = gdk_pixbuf_get_rowstride (src), sc = gdk_pixbuf_get_n_channels (src);
  int ds = gdk_pixbuf_get_rowstride (dst);
  double a = degrees * G_PI / 180.0, c = cos (a), s = sin (a);

  for (int y = 0; y < n; y++)
    for (int x = 0; x < n; x++)
      {
        double dx = x - n / 2.0, dy = y - n / 2.0;
        int sx = (int) floor (c * dx + s * dy + w / 2.0);
        int sy = (int) floor (-s * dx + c * dy + h / 2.0);
        guint8 v = 255;

        if (sx >= 0 && sy >= 0 && sx < w && sy < h)
          v = sp[sy * ss + sx * sc];
        dp[y * ds + x * 3] = dp[y * ds + x * 3 + 1] = dp[y * ds + x * 3 + 2] = v;
      }
  return dst;
}

/* Fixed-seed noise: grey jitter on every pixel and some salt and pepper. */
static void
add_noise (GdkPixbuf *pixbuf,
           guint32    seed,
           int        jitter,
           double     salt)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  int w = gdk_pixbuf_get_width (pixbuf), h = gdk_pixbuf_get_height (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf), nc = gdk_pixbuf_get_n_channels (pixbuf);
  guint8 *p = gdk_pixbuf_get_pixels (pixbuf);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guint8 *px = p + y * stride + x * nc;
        int v = px[0] + g_rand_int_range (rand, -jitter, jitter + 1);

        if (g_rand_double (rand) < salt)
          v = g_rand_boolean (rand) ? 0 : 255;
        v = CLAMP (v, 0, 255);
        px[0] = px[1] = px[2] = (guint8) v;
      }
}

START_TEST (test_zxing_round_trip_every_writable_format)
{
  const RoundTrip *rt = &round_trips[_i];
  g_autoptr(GdkPixbuf) code = encode (rt->format, rt->input, rt->width, rt->height);
  g_autoptr(GdkPixbuf) canvas = on_canvas (code, gdk_pixbuf_get_width (code) + 40,
                                           gdk_pixbuf_get_height (code) + 40, 20, 20);

  ck_assert_int_gt (gdk_pixbuf_get_width (code), 0);
  assert_decodes (canvas, rt->format, rt->decoded);
}
END_TEST

START_TEST (test_zxing_qr_rotated_17_degrees)
{
  g_autoptr(GdkPixbuf) code = encode ("qr", "8888000012345674", 200, 200);
  g_autoptr(GdkPixbuf) framed = on_canvas (code, 260, 260, 30, 30);
  g_autoptr(GdkPixbuf) rotated = rotate_any (framed, 17.0);

  assert_decodes (rotated, "QRCode", "8888000012345674");
}
END_TEST

START_TEST (test_zxing_code128_rotated_90_and_ean13_180)
{
  g_autoptr(GdkPixbuf) c128 = encode ("code128", "8888000012345674", 400, 120);
  g_autoptr(GdkPixbuf) c128f = on_canvas (c128, 460, 180, 30, 30);
  g_autoptr(GdkPixbuf) c128r = gdk_pixbuf_rotate_simple (c128f, GDK_PIXBUF_ROTATE_CLOCKWISE);
  g_autoptr(GdkPixbuf) ean = encode ("ean13", "400638133393", 300, 120);
  g_autoptr(GdkPixbuf) eanf = on_canvas (ean, 360, 180, 30, 30);
  g_autoptr(GdkPixbuf) eanr = gdk_pixbuf_rotate_simple (eanf, GDK_PIXBUF_ROTATE_UPSIDEDOWN);

  assert_decodes (c128r, "Code128", "8888000012345674");
  assert_decodes (eanr, "EAN-13", "4006381333931");
}
END_TEST

START_TEST (test_zxing_small_in_large_frame)
{
  /* A QR code 90 px wide in the corner of a 1280×960 photo. */
  g_autoptr(GdkPixbuf) code = encode ("qr", "8888000012345674", 90, 90);
  g_autoptr(GdkPixbuf) photo = on_canvas (code, 1280, 960, 900, 700);

  assert_decodes (photo, "QRCode", "8888000012345674");
}
END_TEST

START_TEST (test_zxing_scaled_down)
{
  g_autoptr(GdkPixbuf) code = encode ("code128", "8888000012345674", 600, 160);
  g_autoptr(GdkPixbuf) framed = on_canvas (code, 680, 240, 40, 40);
  int w = gdk_pixbuf_get_width (framed), h = gdk_pixbuf_get_height (framed);
  g_autoptr(GdkPixbuf) small = gdk_pixbuf_scale_simple (framed, w * 2 / 3, h * 2 / 3, GDK_INTERP_BILINEAR);
  g_autoptr(GdkPixbuf) qr = encode ("qr", "https://cards.example.com/m/8888000012345674", 300, 300);
  g_autoptr(GdkPixbuf) qrf = on_canvas (qr, 340, 340, 20, 20);
  g_autoptr(GdkPixbuf) qrs = gdk_pixbuf_scale_simple (qrf, 150, 150, GDK_INTERP_BILINEAR);

  assert_decodes (small, "Code128", "8888000012345674");
  assert_decodes (qrs, "QRCode", "https://cards.example.com/m/8888000012345674");
}
END_TEST

START_TEST (test_zxing_noisy_images)
{
  g_autoptr(GdkPixbuf) qr = encode ("qr", "8888000012345674", 240, 240);
  g_autoptr(GdkPixbuf) qrf = on_canvas (qr, 300, 300, 30, 30);
  g_autoptr(GdkPixbuf) ean = encode ("ean13", "400638133393", 380, 140);
  g_autoptr(GdkPixbuf) eanf = on_canvas (ean, 440, 200, 30, 30);

  add_noise (qrf, 42, 60, 0.0);
  add_noise (eanf, 7, 30, 0.002);
  assert_decodes (qrf, "QRCode", "8888000012345674");
  assert_decodes (eanf, "EAN-13", "4006381333931");
}
END_TEST

START_TEST (test_zxing_blank_image_has_no_barcode)
{
  g_autoptr(GdkPixbuf) blank = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 320, 240);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) found = NULL;

  gdk_pixbuf_fill (blank, 0xffffffff);
  add_noise (blank, 1, 80, 0.05);
  found = ct_barcode_decode_pixbuf (blank, &error);
  ck_assert_ptr_null (found);
  ck_assert (g_error_matches (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_NOT_FOUND));
}
END_TEST

START_TEST (test_zxing_png_and_jpeg_files)
{
  g_autofree char *dir = g_dir_make_tmp ("ct-zxing-XXXXXX", NULL);
  g_autofree char *png = g_build_filename (dir, "card.png", NULL);
  g_autofree char *jpg = g_build_filename (dir, "card.jpg", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) from_png = NULL;
  g_autoptr(GPtrArray) from_jpg = NULL;
  g_autoptr(GdkPixbuf) qr = encode ("qr", "8888000012345674", 300, 300);
  g_autoptr(GdkPixbuf) qrf = on_canvas (qr, 360, 360, 30, 30);

  ck_assert (ct_barcode_encode_png ("8888000012345674", zxing_BarcodeFormat_Code128, 400, 120, png, &error));
  ck_assert (gdk_pixbuf_save (qrf, jpg, "jpeg", &error, "quality", "80", NULL));
  from_png = ct_barcode_decode_file (png, &error);
  ck_assert_msg (from_png != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (((CtBarcode *) g_ptr_array_index (from_png, 0))->text, "8888000012345674");
  ck_assert_str_eq (((CtBarcode *) g_ptr_array_index (from_png, 0))->symbology, "]C0");
  from_jpg = ct_barcode_decode_file (jpg, &error);
  ck_assert_msg (from_jpg != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (((CtBarcode *) g_ptr_array_index (from_jpg, 0))->format, "QRCode");
  g_unlink (png);
  g_unlink (jpg);
  g_rmdir (dir);
}
END_TEST

START_TEST (test_zxing_huge_image_refused_from_header)
{
  g_autofree char *path = g_build_filename (g_getenv ("CT_TOP_SRCDIR"), "tests", "fixtures",
                                            "scanner", "huge-header.png", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) found = ct_barcode_decode_file (path, &error);

  ck_assert_ptr_null (found);
  ck_assert_msg (g_error_matches (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_TOO_LARGE),
                 "%s", error ? error->message : "");
  ck_assert_ptr_nonnull (strstr (error->message, "10000"));
}
END_TEST

START_TEST (test_zxing_huge_file_refused)
{
  g_autofree char *dir = g_dir_make_tmp ("ct-zxing-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "big.png", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) found = NULL;
  FILE *f = fopen (path, "w");

  /* A sparse 60 MB file: no disk is spent, the size alone is refused. */
  ck_assert_ptr_nonnull (f);
  ck_assert_int_eq (ftruncate (fileno (f), 60 * 1024 * 1024), 0);
  fclose (f);
  found = ct_barcode_decode_file (path, &error);
  ck_assert_ptr_null (found);
  ck_assert (g_error_matches (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_TOO_LARGE));
  g_unlink (path);
  g_rmdir (dir);
}
END_TEST

START_TEST (test_zxing_unreadable_files)
{
  g_autofree char *dir = g_dir_make_tmp ("ct-zxing-XXXXXX", NULL);
  g_autofree char *text = g_build_filename (dir, "notes.png", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.png", NULL);
  g_autoptr(GError) e1 = NULL;
  g_autoptr(GError) e2 = NULL;
  g_autoptr(GError) e3 = NULL;
  g_autoptr(GPtrArray) a = NULL;
  g_autoptr(GPtrArray) b = NULL;
  g_autoptr(GPtrArray) c = NULL;

  ck_assert (g_file_set_contents (text, "not an image at all", -1, NULL));
  a = ct_barcode_decode_file (text, &e1);
  b = ct_barcode_decode_file (missing, &e2);
  c = ct_barcode_decode_file (dir, &e3);
  ck_assert (a == NULL && g_error_matches (e1, CT_BARCODE_ERROR, CT_BARCODE_ERROR_NOT_IMAGE));
  ck_assert (b == NULL && g_error_matches (e2, CT_BARCODE_ERROR, CT_BARCODE_ERROR_FILE));
  ck_assert (c == NULL && g_error_matches (e3, CT_BARCODE_ERROR, CT_BARCODE_ERROR_FILE));
  g_unlink (text);
  g_rmdir (dir);
}
END_TEST

START_TEST (test_zxing_format_names)
{
  zxing_BarcodeFormat f;
  char *s;

  ck_assert (ct_barcode_format_from_name ("code128", &f) && f == zxing_BarcodeFormat_Code128);
  ck_assert (ct_barcode_format_from_name ("qr", &f) && f == zxing_BarcodeFormat_QRCode);
  ck_assert (ct_barcode_format_from_name ("ean13", &f) && f == zxing_BarcodeFormat_EAN13);
  ck_assert (ct_barcode_format_from_name ("EAN-13", &f) && f == zxing_BarcodeFormat_EAN13);
  ck_assert (ct_barcode_format_from_name ("QRCode", &f) && f == zxing_BarcodeFormat_QRCode);
  ck_assert (!ct_barcode_format_from_name ("ean14", &f));
  ck_assert (!ct_barcode_format_from_name ("", &f));
  ck_assert (!ct_barcode_format_from_name ("EAN13|QRCode", &f));
  ck_assert_int_eq (zxing_BarcodeFormatFromString (NULL), zxing_BarcodeFormat_Invalid);
  ck_assert_int_eq (zxing_BarcodeFormatFromString ("nonsense"), zxing_BarcodeFormat_Invalid);
  s = zxing_BarcodeFormatToString (zxing_BarcodeFormat_EAN13);
  ck_assert_str_eq (s, "EAN-13");
  free (s);
}
END_TEST

START_TEST (test_zxing_bad_content_is_error_not_crash)
{
  g_autoptr(GError) e1 = NULL;
  g_autoptr(GError) e2 = NULL;
  g_autoptr(GdkPixbuf) a = ct_barcode_encode ("ABC", zxing_BarcodeFormat_EAN13, 300, 100, &e1);
  g_autoptr(GdkPixbuf) b = ct_barcode_encode ("1234567890123", zxing_BarcodeFormat_EAN13, 300, 100, &e2);
  char *err = NULL;
  int w = 1, h = 1;

  ck_assert_ptr_null (a);
  ck_assert (g_error_matches (e1, CT_BARCODE_ERROR, CT_BARCODE_ERROR_ENCODE));
  /* A wrong check digit is refused, not silently replaced. */
  ck_assert_ptr_null (b);
  ck_assert (g_error_matches (e2, CT_BARCODE_ERROR, CT_BARCODE_ERROR_ENCODE));
  ck_assert_ptr_null (cardtill_zxing_WriteBarcode ("x", zxing_BarcodeFormat_Any, 10, 10, -1, &w, &h, &err));
  ck_assert_ptr_nonnull (err);
  ck_assert_int_eq (w, 0);
  free (err);
}
END_TEST

START_TEST (test_zxing_c_api_null_safety)
{
  ck_assert_ptr_null (zxing_ImageView_new (NULL, 10, 10, zxing_ImageFormat_Lum, 0, 0));
  ck_assert_ptr_null (zxing_ReadBarcode (NULL, NULL));
  ck_assert_ptr_null (zxing_ReadBarcodes (NULL, NULL));
  ck_assert_int_eq (zxing_Results_size (NULL), 0);
  ck_assert_ptr_null (zxing_Results_at (NULL, 0));
  ck_assert (!zxing_Result_isValid (NULL));
}
END_TEST

START_TEST (test_zxing_read_single_barcode_api)
{
  g_autoptr(GdkPixbuf) code = encode ("code128", "CT-42", 300, 100);
  g_autoptr(GdkPixbuf) framed = on_canvas (code, 360, 160, 30, 30);
  const guint8 *px = gdk_pixbuf_read_pixels (framed);
  zxing_ImageView *iv = zxing_ImageView_new (px, gdk_pixbuf_get_width (framed),
                                             gdk_pixbuf_get_height (framed), zxing_ImageFormat_RGB,
                                             gdk_pixbuf_get_rowstride (framed), 3);
  zxing_DecodeHints *hints = zxing_DecodeHints_new ();
  zxing_Result *r;
  char *text, *sym, *fmt;

  zxing_DecodeHints_setFormats (hints, zxing_BarcodeFormat_Code128);
  r = zxing_ReadBarcode (iv, hints);
  ck_assert (zxing_Result_isValid (r));
  text = zxing_Result_text (r);
  sym = zxing_Result_symbologyIdentifier (r);
  fmt = zxing_BarcodeFormatToString (zxing_Result_format (r));
  ck_assert_str_eq (text, "CT-42");
  ck_assert_str_eq (sym, "]C0");
  ck_assert_str_eq (fmt, "Code128");
  free (text);
  free (sym);
  free (fmt);
  zxing_Result_delete (r);

  /* Restricted to QR codes, the same image has nothing. */
  zxing_DecodeHints_setFormats (hints, zxing_BarcodeFormat_QRCode);
  ck_assert_ptr_null (zxing_ReadBarcode (iv, hints));
  zxing_DecodeHints_delete (hints);
  zxing_ImageView_delete (iv);
}
END_TEST

static Suite *
zxing_suite (void)
{
  Suite *s = suite_create ("zxing");
  TCase *rt = tcase_create ("round-trip");
  TCase *img = tcase_create ("images");
  TCase *api = tcase_create ("api");

  tcase_set_timeout (rt, 60);
  tcase_set_timeout (img, 60);
  tcase_add_loop_test (rt, test_zxing_round_trip_every_writable_format, 0, G_N_ELEMENTS (round_trips));
  suite_add_tcase (s, rt);

  tcase_add_test (img, test_zxing_qr_rotated_17_degrees);
  tcase_add_test (img, test_zxing_code128_rotated_90_and_ean13_180);
  tcase_add_test (img, test_zxing_small_in_large_frame);
  tcase_add_test (img, test_zxing_scaled_down);
  tcase_add_test (img, test_zxing_noisy_images);
  tcase_add_test (img, test_zxing_blank_image_has_no_barcode);
  tcase_add_test (img, test_zxing_png_and_jpeg_files);
  tcase_add_test (img, test_zxing_huge_image_refused_from_header);
  tcase_add_test (img, test_zxing_huge_file_refused);
  tcase_add_test (img, test_zxing_unreadable_files);
  suite_add_tcase (s, img);

  tcase_add_test (api, test_zxing_format_names);
  tcase_add_test (api, test_zxing_bad_content_is_error_not_crash);
  tcase_add_test (api, test_zxing_c_api_null_safety);
  tcase_add_test (api, test_zxing_read_single_barcode_api);
  suite_add_tcase (s, api);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (zxing_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
