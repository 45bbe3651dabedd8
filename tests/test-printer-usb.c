/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-printer-usb"
#include "config.h"

/* The libusb printer transport against an emulated receipt printer:
 * umockdev's in-process testbed serves the device's sysfs entry and
 * descriptors, and the ioctl handler below answers usbfs the way the
 * kernel does: the usblp driver bound until detached, claims, bulk URBs
 * (OUT recorded for the ESC/POS decoder, IN answered from a queue of
 * status bytes or left pending until libusb gives up), and an unplug.
 * Must run under umockdev-wrapper (LD_PRELOAD), under timeout. */

#include <check.h>
#include <errno.h>
#include <linux/ioctl.h>
#include <linux/usbdevice_fs.h>
#include <string.h>
#include <umockdev.h>

#include "ct-cli-capture.h"
#include "ct-escpos-decoder.h"
#include "ct-printer.h"
#include "ct-printer-render.h"
#include "ct-test-receipt.h"
#include "ct-usbfs-mock.h"

typedef struct
{
  GMutex             lock;
  UMockdevTestbed   *testbed;
  UMockdevIoctlBase *handler;
  GByteArray        *written;      /* every bulk OUT byte, in order */
  GQueue             status;       /* GBytes for the bulk IN endpoint */
  CtUsbfsUrbs        urbs;         /* bulk IN URBs waiting for an answer, URBs done */
  gboolean           driver_bound; /* usblp holds the interface */
  gboolean           claimed;
  gboolean           unplugged;
  guint              unplug_after; /* unplug when this many OUT URBs went (0: never) */
  guint              out_urbs;
  guint              out_urbs_while_driver_bound;
  guint              detaches;
  guint              attaches;
  guint              releases;
  guint              last_out_endpoint;
} Mock;

static Mock *mock;

/* 0416:5011, a printer interface (class 7, bidirectional) with bulk OUT
 * 0x03 and bulk IN 0x82: not the 0x01 many programs assume. */
static const char printer_descriptors[] =
  "1201000200000040" "16041150" "0001" "010200" "01"
  "0902200001010080" "32"
  "090400000207010200"
  "07050302400000"
  "07058202400000";

/* 0483:5743, a printer with no IN endpoint: it cannot tell its status. */
static const char printer_no_in_descriptors[] =
  "1201000200000040" "83044357" "0001" "010200" "01"
  "0902190001010080" "32"
  "090400000107010100"
  "07050102400000";

/* 046d:c31c, a keyboard: not a printer. */
static const char keyboard_descriptors[] =
  "1201000200000040" "6d041cc3" "0001" "010200" "01"
  "0902220001010080" "32"
  "090400000103010100"
  "0921110100012241" "00"
  "07058103080005";

static gboolean
submit_urb (Mock                *m,
            UMockdevIoctlClient *client,
            UMockdevIoctlData   *arg)
{
  UMockdevIoctlData *urb_data = umockdev_ioctl_data_resolve (arg, 0, sizeof (struct usbdevfs_urb), NULL);
  struct usbdevfs_urb *urb = (struct usbdevfs_urb *) urb_data->data;

  if (m->unplugged)
    {
      g_object_unref (urb_data);
      umockdev_ioctl_client_complete (client, -1, ENODEV);
      return TRUE;
    }
  if (urb->type == USBDEVFS_URB_TYPE_CONTROL && urb->buffer_length >= 8)
    {
      g_autoptr(UMockdevIoctlData) buf = umockdev_ioctl_data_resolve (urb_data, G_STRUCT_OFFSET (struct usbdevfs_urb, buffer),
                                                                      urb->buffer_length, NULL);
      guint8 *b = buf->data;
      guint16 value = b[2] | b[3] << 8;
      guint16 length = b[6] | b[7] << 8;
      int n = -1;

      if (b[0] == 0x80 && b[1] == 0x06 && (value >> 8) == 3)
        n = (int) ct_usbfs_string_descriptor (value & 0xff, "Xprinter", "POS58 Printer", b + 8, MIN ((gsize) length, (gsize) urb->buffer_length - 8));
      urb->status = n < 0 ? -EPIPE : 0;
      urb->actual_length = MAX (n, 0);
      m->urbs.done = g_list_append (m->urbs.done, urb_data);
      umockdev_ioctl_client_complete (client, 0, 0);
      return TRUE;
    }
  if (urb->type == USBDEVFS_URB_TYPE_BULK && !(urb->endpoint & 0x80))
    {
      if (m->unplug_after > 0 && m->out_urbs >= m->unplug_after)
        {
          m->unplugged = TRUE;
          g_object_unref (urb_data);
          umockdev_ioctl_client_complete (client, -1, ENODEV);
          return TRUE;
        }
      m->out_urbs++;
      m->last_out_endpoint = urb->endpoint;
      if (m->driver_bound || !m->claimed)
        m->out_urbs_while_driver_bound++;
      /* One address space: the client's buffer is read directly. */
      g_byte_array_append (m->written, urb->buffer, (guint) urb->buffer_length);
      urb->actual_length = urb->buffer_length;
      urb->status = 0;
      m->urbs.done = g_list_append (m->urbs.done, urb_data);
      umockdev_ioctl_client_complete (client, 0, 0);
      return TRUE;
    }
  if (urb->type == USBDEVFS_URB_TYPE_BULK && (urb->endpoint & 0x80))
    {
      if (!g_queue_is_empty (&m->status))
        {
          g_autoptr(GBytes) answer = g_queue_pop_head (&m->status);
          gsize len;
          const guint8 *bytes = g_bytes_get_data (answer, &len);

          len = MIN (len, (gsize) urb->buffer_length);
          memcpy (urb->buffer, bytes, len);
          urb->actual_length = (int) len;
          urb->status = 0;
          m->urbs.done = g_list_append (m->urbs.done, urb_data);
        }
      else
        m->urbs.flying = g_list_append (m->urbs.flying, urb_data);
      umockdev_ioctl_client_complete (client, 0, 0);
      return TRUE;
    }
  g_object_unref (urb_data);
  umockdev_ioctl_client_complete (client, -1, EINVAL);
  return TRUE;
}

static gboolean
handle_ioctl_cb (UMockdevIoctlBase   *handler,
                 UMockdevIoctlClient *client,
                 Mock                *m)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&m->lock);
  UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg (client);
  gulong request = umockdev_ioctl_client_get_request (client);

  switch (request)
    {
    case USBDEVFS_GET_CAPABILITIES:
      ct_usbfs_answer_capabilities (client, arg);
      return TRUE;

    case USBDEVFS_GETDRIVER:
      {
        g_autoptr(UMockdevIoctlData) d = umockdev_ioctl_data_resolve (arg, 0, sizeof (struct usbdevfs_getdriver), NULL);
        struct usbdevfs_getdriver *gd = (struct usbdevfs_getdriver *) d->data;

        if (!m->driver_bound)
          {
            umockdev_ioctl_client_complete (client, -1, ENODATA);
            return TRUE;
          }
        g_strlcpy (gd->driver, "usblp", sizeof gd->driver);
        umockdev_ioctl_client_complete (client, 0, 0);
        return TRUE;
      }

    case USBDEVFS_IOCTL:
      {
        g_autoptr(UMockdevIoctlData) d = umockdev_ioctl_data_resolve (arg, 0, sizeof (struct usbdevfs_ioctl), NULL);
        struct usbdevfs_ioctl *io = (struct usbdevfs_ioctl *) d->data;

        if (io->ioctl_code == (int) USBDEVFS_DISCONNECT)
          {
            if (!m->driver_bound)
              {
                umockdev_ioctl_client_complete (client, -1, ENODATA);
                return TRUE;
              }
            m->driver_bound = FALSE;
            m->detaches++;
          }
        else if (io->ioctl_code == (int) USBDEVFS_CONNECT)
          {
            if (m->unplugged)
              {
                umockdev_ioctl_client_complete (client, -1, ENODEV);
                return TRUE;
              }
            m->driver_bound = TRUE;
            m->attaches++;
          }
        umockdev_ioctl_client_complete (client, 0, 0);
        return TRUE;
      }

    case USBDEVFS_CLAIMINTERFACE:
      if (m->unplugged)
        umockdev_ioctl_client_complete (client, -1, ENODEV);
      else if (m->driver_bound)
        umockdev_ioctl_client_complete (client, -1, EBUSY);
      else
        {
          m->claimed = TRUE;
          umockdev_ioctl_client_complete (client, 0, 0);
        }
      return TRUE;

    case USBDEVFS_RELEASEINTERFACE:
      m->claimed = FALSE;
      m->releases++;
      umockdev_ioctl_client_complete (client, 0, 0);
      return TRUE;

    case USBDEVFS_CLEAR_HALT:
    case USBDEVFS_RESET:
    case USBDEVFS_RESETEP:
    case USBDEVFS_SETINTERFACE:
      umockdev_ioctl_client_complete (client, 0, 0);
      return TRUE;

    case USBDEVFS_SUBMITURB:
      return submit_urb (m, client, arg);

    case USBDEVFS_REAPURB:
    case USBDEVFS_REAPURBNDELAY:
      if (!ct_usbfs_reap_ready (&m->urbs, client, arg, m->unplugged))
        umockdev_ioctl_client_complete (client, -1, EAGAIN);
      return TRUE;

    case USBDEVFS_DISCARDURB:
      ct_usbfs_discard (&m->urbs, client, arg);
      return TRUE;

    default:
      return FALSE;
    }
}

static void
mock_add_device (const char *descriptors,
                 guint       devnum)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_strdup_printf ("/devices/usb1/1-%u", devnum);

  ck_assert_msg (ct_usbfs_add_device (mock->testbed, mock->handler, path, devnum, descriptors, &error),
                 "%s", error ? error->message : "");
}

static void
mock_setup (void)
{
  const char *preload = g_getenv ("LD_PRELOAD");

  ck_assert_msg (preload != NULL && strstr (preload, "libumockdev-preload") != NULL,
                 "run under umockdev-wrapper");
  mock = g_new0 (Mock, 1);
  g_mutex_init (&mock->lock);
  g_queue_init (&mock->status);
  mock->written = g_byte_array_new ();
  mock->driver_bound = TRUE;
  mock->testbed = umockdev_testbed_new ();
  mock->handler = umockdev_ioctl_base_new ();
  g_object_connect (mock->handler, "signal-after::handle-ioctl", handle_ioctl_cb, mock, NULL);
  mock_add_device (printer_descriptors, 2);
  mock_add_device (keyboard_descriptors, 3);
  mock_add_device (printer_no_in_descriptors, 4);
}

static void
mock_teardown (void)
{
  g_clear_object (&mock->handler);
  g_clear_object (&mock->testbed);
  ct_usbfs_urbs_clear (&mock->urbs);
  g_queue_clear_full (&mock->status, (GDestroyNotify) g_bytes_unref);
  g_byte_array_unref (mock->written);
  g_mutex_clear (&mock->lock);
  g_clear_pointer (&mock, g_free);
}

static void
queue_status (guint8 offline,
              guint8 paper)
{
  g_mutex_lock (&mock->lock);
  g_queue_push_tail (&mock->status, g_bytes_new ((guint8[]) { offline }, 1));
  g_queue_push_tail (&mock->status, g_bytes_new ((guint8[]) { paper }, 1));
  g_mutex_unlock (&mock->lock);
}

/* @timeout: 1 s where the test waits for it to run out, else long
 * enough for a loaded machine. */
static CtPrinter *
usb_printer (const char *text,
             guint       timeout)
{
  g_autoptr(CtPrinterAddress) address = ct_printer_address_parse (text, NULL);
  CtPrinter *printer;

  ck_assert_ptr_nonnull (address);
  printer = ct_printer_new (address);
  ct_printer_set_timeout (printer, timeout);
  return printer;
}

static GBytes *
receipt_job (CtPaper   paper,
             gboolean  drawer)
{
  g_autoptr(CtReceiptData) data = ct_test_receipt_topup ("欧阳娜娜");
  g_autoptr(CtRaster) raster = ct_render_receipt (data, paper, NULL);

  return ct_escpos_document (raster, drawer && ct_receipt_data_opens_drawer (data));
}

static CtDecoded *
decode_written (void)
{
  g_autoptr(GError) error = NULL;
  CtDecoded *d;

  g_mutex_lock (&mock->lock);
  d = ct_escpos_decode (mock->written->data, mock->written->len, &error);
  g_mutex_unlock (&mock->lock);
  ck_assert_msg (d != NULL, "%s", error ? error->message : "");
  return d;
}

/* The usblp driver is back and the interface released, whatever happened. */
static void
assert_given_back (void)
{
  g_mutex_lock (&mock->lock);
  ck_assert (mock->driver_bound);
  ck_assert (!mock->claimed);
  ck_assert_uint_eq (mock->detaches, 1);
  ck_assert_uint_eq (mock->attaches, 1);
  ck_assert_uint_eq (mock->releases, 1);
  ck_assert_uint_eq (mock->out_urbs_while_driver_bound, 0);
  g_mutex_unlock (&mock->lock);
}

START_TEST (test_printer_usb_list_finds_printers_by_class)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  CtPrinterUsbInfo *info;
  g_autofree char *line = NULL;

  mock_setup ();
  list = ct_printer_list_usb (&error);
  ck_assert_msg (list != NULL, "%s", error ? error->message : "");
  /* Two printers; the keyboard is left out. */
  ck_assert_uint_eq (list->len, 2);
  info = g_ptr_array_index (list, 0);
  if (info->vendor_id != 0x0416)
    info = g_ptr_array_index (list, 1);
  ck_assert_uint_eq (info->vendor_id, 0x0416);
  ck_assert_uint_eq (info->product_id, 0x5011);
  ck_assert_uint_eq (info->out_endpoint, 0x03);
  ck_assert_uint_eq (info->in_endpoint, 0x82);
  ck_assert (info->generic_vendor);
  ck_assert (info->accessible);
  line = ct_printer_usb_info_describe (info);
  ck_assert_msg (g_str_has_prefix (line, "usb:0416:5011  bus 001 device 002 interface 0  Xprinter POS58 Printer  OUT 0x03 IN 0x82"), "%s", line);
  ck_assert_ptr_nonnull (strstr (line, "[generic chip vendor id]"));
  mock_teardown ();
}
END_TEST

START_TEST (test_printer_usb_prints_a_receipt_with_usblp_detached)
{
  g_autoptr(CtPrinter) printer = NULL;
  g_autoptr(GBytes) job = receipt_job (CT_PAPER_58MM, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(CtDecoded) d = NULL;

  mock_setup ();
  queue_status (0x12, 0x12);
  printer = usb_printer ("usb:0416:5011", 20);
  ck_assert_msg (ct_printer_print (printer, job, NULL, &error), "%s", error ? error->message : "");

  d = decode_written ();
  ck_assert (g_str_has_prefix (d->ops->str, "status status init raster"));
  ck_assert (g_str_has_suffix (d->ops->str, "raster cut drawer"));
  ck_assert_uint_eq (d->raster->width, 384);
  ck_assert_uint_eq (mock->last_out_endpoint, 0x03);
  ck_assert (ct_raster_write_png (d->raster, "usb-receipt-58mm.png", NULL));
  /* Sent in chunks, so an unplug is noticed within one. */
  ck_assert_uint_ge (mock->out_urbs, 1 + g_bytes_get_size (job) / 4096);
  assert_given_back ();
  mock_teardown ();
}
END_TEST

/* What DLE EOT answers, and the sentence the cashier reads. */
static const struct
{
  guint8          offline;
  guint8          paper;
  CtPrinterError  code;
  const char     *sentence;
} refusals[] = {
  { 0x32, 0x72, CT_PRINTER_ERROR_PAPER_OUT, "The printer is out of paper. Put in a new roll, then print again." },
  { 0x12, 0x72, CT_PRINTER_ERROR_PAPER_OUT, "The printer is out of paper. Put in a new roll, then print again." },
  { 0x16, 0x12, CT_PRINTER_ERROR_COVER_OPEN, "The printer's cover is open. Close it, then print again." },
};

START_TEST (test_printer_usb_paper_out_or_cover_open_prints_nothing)
{
  g_autoptr(CtPrinter) printer = NULL;
  g_autoptr(GBytes) job = receipt_job (CT_PAPER_80MM, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(CtDecoded) d = NULL;

  mock_setup ();
  queue_status (refusals[_i].offline, refusals[_i].paper);
  printer = usb_printer ("usb:0416:5011", 20);
  ck_assert (!ct_printer_print (printer, job, NULL, &error));
  ck_assert (g_error_matches (error, CT_PRINTER_ERROR, refusals[_i].code));
  ck_assert_str_eq (error->message, refusals[_i].sentence);
  d = decode_written ();
  ck_assert_str_eq (d->ops->str, "status status");
  assert_given_back ();
  mock_teardown ();
}
END_TEST

START_TEST (test_printer_usb_unplugged_mid_receipt)
{
  g_autoptr(CtPrinter) printer = NULL;
  g_autoptr(GBytes) job = receipt_job (CT_PAPER_80MM, TRUE);
  g_autoptr(GError) error = NULL;
  guint urbs;
  gsize written;

  mock_setup ();
  queue_status (0x12, 0x12);
  /* The status question, then three chunks of the receipt. */
  mock->unplug_after = 4;
  printer = usb_printer ("usb:0416:5011", 20);
  ck_assert (!ct_printer_print (printer, job, NULL, &error));
  ck_assert (g_error_matches (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_DISCONNECTED));
  ck_assert_str_eq (error->message,
                    "Only part of the receipt reached the printer, and it was not sent again. "
                    "The printer usb:0416:5011 was unplugged or switched off. Plug it in and switch it on.");

  g_mutex_lock (&mock->lock);
  urbs = mock->out_urbs;
  written = mock->written->len;
  ck_assert (!mock->claimed || mock->unplugged);
  g_mutex_unlock (&mock->lock);
  ck_assert_uint_eq (urbs, 4);
  ck_assert_uint_lt (written, g_bytes_get_size (job));
  ck_assert_uint_gt (written, 6);
  mock_teardown ();
}
END_TEST

START_TEST (test_printer_usb_never_answers_is_a_timeout)
{
  g_autoptr(CtPrinter) printer = NULL;
  g_autoptr(GBytes) job = receipt_job (CT_PAPER_58MM, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(CtDecoded) d = NULL;

  mock_setup ();
  printer = usb_printer ("usb:0416:5011", 1);
  ck_assert (!ct_printer_print (printer, job, NULL, &error));
  ck_assert (g_error_matches (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_TIMEOUT));
  ck_assert_str_eq (error->message,
                    "The printer did not answer within 1 second. Check that it is switched on and connected; nothing was printed.");
  d = decode_written ();
  ck_assert_str_eq (d->ops->str, "status status");
  assert_given_back ();
  mock_teardown ();
}
END_TEST

START_TEST (test_printer_usb_without_in_endpoint_prints_without_status)
{
  g_autoptr(CtPrinter) printer = NULL;
  g_autoptr(GBytes) job = receipt_job (CT_PAPER_58MM, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(CtDecoded) d = NULL;

  mock_setup ();
  printer = usb_printer ("usb:0483:5743", 20);
  ck_assert_msg (ct_printer_print (printer, job, NULL, &error), "%s", error ? error->message : "");
  d = decode_written ();
  ck_assert_uint_eq (d->status_requests, 0);
  ck_assert (g_str_has_prefix (d->ops->str, "init raster"));
  ck_assert (g_str_has_suffix (d->ops->str, "raster cut"));
  ck_assert_uint_eq (mock->last_out_endpoint, 0x01);
  assert_given_back ();
  mock_teardown ();
}
END_TEST

START_TEST (test_printer_usb_wrong_device_is_a_sentence)
{
  g_autoptr(CtPrinter) missing = NULL;
  g_autoptr(CtPrinter) keyboard = NULL;
  g_autoptr(GBytes) job = receipt_job (CT_PAPER_58MM, FALSE);
  g_autoptr(GError) error = NULL;

  mock_setup ();
  missing = usb_printer ("usb:0416:9999", 20);
  ck_assert (!ct_printer_print (missing, job, NULL, &error));
  ck_assert (g_error_matches (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_NOT_FOUND));
  ck_assert_str_eq (error->message,
                    "The printer usb:0416:9999 is not connected. Check its USB cable and that it is switched on.");
  g_clear_error (&error);

  keyboard = usb_printer ("usb:046d:c31c", 20);
  ck_assert (!ct_printer_print (keyboard, job, NULL, &error));
  ck_assert (g_error_matches (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_NOT_PRINTER));
  ck_assert_uint_eq (mock->written->len, 0);
  mock_teardown ();
}
END_TEST

START_TEST (test_printer_usb_cli_list_and_test_page)
{
  char *list_argv[] = { "printer", "list", NULL };
  char *test_argv[] = { "printer", "test", "--printer", "usb:0416:5011", "--paper", "58", NULL };
  g_autofree char *listed = NULL;
  g_autofree char *printed = NULL;
  g_autoptr(CtDecoded) d = NULL;
  int status = -1;

  mock_setup ();
  listed = ct_cli_capture (ct_cli_cmd_printer, list_argv, &status);
  ck_assert_int_eq (status, 0);
  /* The two printers, one line each; not the keyboard. */
  ck_assert_ptr_nonnull (strstr (listed, "usb:0416:5011  bus 001 device 002 interface 0  Xprinter POS58 Printer  OUT 0x03 IN 0x82  [generic chip vendor id]\n"));
  ck_assert_ptr_nonnull (strstr (listed, "usb:0483:5743  bus 001 device 004 interface 0  Xprinter POS58 Printer  OUT 0x01 no IN (no status)  [generic chip vendor id]\n"));
  ck_assert_ptr_null (strstr (listed, "046d"));

  queue_status (0x12, 0x12);
  printed = ct_cli_capture (ct_cli_cmd_printer, test_argv, &status);
  ck_assert_int_eq (status, 0);
  ck_assert_str_eq (printed, "Printed a 58 mm test page on usb:0416:5011.\n");
  d = decode_written ();
  ck_assert (g_str_has_prefix (d->ops->str, "status status init raster"));
  ck_assert (g_str_has_suffix (d->ops->str, "raster cut"));
  ck_assert_uint_eq (d->raster->width, 384);
  ck_assert (ct_raster_write_png (d->raster, "usb-test-page-58mm.png", NULL));
  assert_given_back ();
  mock_teardown ();
}
END_TEST

static Suite *
printer_usb_suite (void)
{
  Suite *s = suite_create ("printer-usb");
  TCase *tc = tcase_create ("libusb");

  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_printer_usb_list_finds_printers_by_class);
  tcase_add_test (tc, test_printer_usb_prints_a_receipt_with_usblp_detached);
  tcase_add_loop_test (tc, test_printer_usb_paper_out_or_cover_open_prints_nothing, 0, G_N_ELEMENTS (refusals));
  tcase_add_test (tc, test_printer_usb_unplugged_mid_receipt);
  tcase_add_test (tc, test_printer_usb_never_answers_is_a_timeout);
  tcase_add_test (tc, test_printer_usb_without_in_endpoint_prints_without_status);
  tcase_add_test (tc, test_printer_usb_wrong_device_is_a_sentence);
  tcase_add_test (tc, test_printer_usb_cli_list_and_test_page);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *runner = srunner_create (printer_usb_suite ());
  int failed;

  g_setenv ("LANGUAGE", "C", TRUE);
  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
