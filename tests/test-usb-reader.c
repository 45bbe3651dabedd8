/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-usb-reader"
#include "config.h"

/* The real libusb reader against an emulated scanner: umockdev's
 * in-process testbed serves the device's sysfs entry and descriptors, and
 * the ioctl handler below answers the usbfs URB ioctls the way the kernel
 * does (the approach of libusb's own tests/umockdev.c). Must run under
 * LD_PRELOAD=libumockdev-preload.so.0 (umockdev-wrapper), under timeout. */

#include <check.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <linux/ioctl.h>
#include <linux/usbdevice_fs.h>
#include <stdio.h>
#include <string.h>
#include <umockdev.h>
#include <unistd.h>

#include "ct-capture.h"
#include "ct-cli-capture.h"
#include "ct-usb-scanner.h"
#include "ct-usbfs-mock.h"

#define WAIT_US (8 * G_USEC_PER_SEC)

typedef struct
{
  GMutex             lock;
  UMockdevTestbed   *testbed;
  UMockdevIoctlBase *handler;
  GQueue             reports;     /* GBytes for the interrupt IN endpoint */
  CtUsbfsUrbs        urbs;        /* interrupt URBs in flight, control URBs done */
  gboolean           unplugged;
  gboolean           pos;
  const guint8      *report_descriptor;
  gsize              report_descriptor_length;
  guint              claims;
  guint              claimed_interface;
  guint              last_in_endpoint;
  guint              releases;
  guint              set_protocol;
} Mock;

static Mock *mock;

/* What the test saw on the main loop. */
typedef struct
{
  GPtrArray *scans;     /* CtScan */
  GPtrArray *problems;  /* char * */
} Seen;

static const char keyboard_descriptors[] =
  "1201000200000040" "2e0c610b" "0001" "010200" "01"      /* device: 0c2e:0b61 */
  "0902220001010080" "32"                                  /* configuration */
  "090400000103010100"                                     /* interface: HID boot keyboard */
  "0921110100012241" "00"                                  /* HID */
  "07058103080005";                                        /* EP 1 IN interrupt, 8 bytes */

static const char pos_descriptors[] =
  "1201000200000040" "2e0c620b" "0001" "010200" "01"      /* device: 0c2e:0b62 */
  "0902220001010080" "32"
  "090400000103000000"                                     /* interface: HID, no boot */
  "0921110100012217" "00"
  "07058103400001";                                        /* EP 1 IN interrupt, 64 bytes */

static const char composite_descriptors[] =
  "1201000200000040" "2e0c630b" "0001" "010200" "01"      /* device: 0c2e:0b63 */
  "09023b0002010080" "32"                                  /* configuration, 2 interfaces */
  "090400000103010100"                                     /* interface 0: boot keyboard */
  "0921110100012241" "00"
  "07058103080005"                                         /* EP 1 IN, 8 bytes */
  "090401000103000000"                                     /* interface 1: HID */
  "092111010001222c" "00"
  "07058203400001";                                        /* EP 2 IN, 64 bytes */

static const char other_descriptors[] =
  "1201000200000040" "6d041cc3" "0001" "010200" "01"      /* 046d:c31c, a keyboard */
  "0902220001010080" "32"
  "090400000103010100"
  "0921110100012241" "00"
  "07058103080005";

static const guint8 pos_report_descriptor[] = {
  0x06, 0x8c, 0x00, 0x09, 0x02, 0xa1, 0x01, 0x85, 0x02, 0x15, 0x00, 0x26,
  0xff, 0x00, 0x75, 0x08, 0x95, 0x3f, 0x09, 0xfe, 0x81, 0x02, 0xc0,
};

/* A HID POS descriptor in an order of its own, without report ids: the
 * three identifier bytes, 20 bytes of Decoded Data, Byte Count, then the
 * Decoded Data Continued bit. Only reading the descriptor gets it right. */
static const guint8 pos25_report_descriptor[] = {
  0x06, 0x8c, 0x00, 0x09, 0x02, 0xa1, 0x01,
  0x75, 0x08, 0x95, 0x03, 0x19, 0xfb, 0x29, 0xfd, 0x81, 0x02,
  0x95, 0x14, 0x09, 0xfe, 0x81, 0x02,
  0x95, 0x01, 0x06, 0x8c, 0x00, 0x09, 0x3b, 0x81, 0x02,
  0x75, 0x01, 0x09, 0xff, 0x81, 0x02, 0x75, 0x07, 0x81, 0x03,
  0xc0,
};

/* Answers a control transfer at submission: returns the data length or -1
 * for a stall. */
static int
answer_control (Mock   *m,
                guint8 *buffer,
                gsize   buffer_length)
{
  guint8 type = buffer[0], request = buffer[1];
  guint16 value = buffer[2] | buffer[3] << 8;
  guint16 length = buffer[6] | buffer[7] << 8;
  guint8 *data = buffer + 8;
  gsize max = MIN ((gsize) length, buffer_length - 8);

  if (type == 0x80 && request == 0x06 && (value >> 8) == 3)
    return (int) ct_usbfs_string_descriptor (value & 0xff, "Honeywell", "Voyager 1250g", data, max);
  if (type == 0x81 && request == 0x06 && (value >> 8) == 0x22 && m->pos)
    {
      gsize n = MIN (max, m->report_descriptor_length);

      memcpy (data, m->report_descriptor, n);
      return (int) n;
    }
  if (type == 0x21 && request == 0x0b)
    {
      m->set_protocol++;
      return 0;
    }
  return -1;
}

static gboolean
handle_ioctl_cb (UMockdevIoctlBase   *handler,
                 UMockdevIoctlClient *client,
                 Mock                *m)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&m->lock);
  UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg (client);
  gulong request = umockdev_ioctl_client_get_request (client);
  struct usbdevfs_urb *urb;

  switch (request)
    {
    case USBDEVFS_GET_CAPABILITIES:
      ct_usbfs_answer_capabilities (client, arg);
      return TRUE;

    case USBDEVFS_CLAIMINTERFACE:
    case USBDEVFS_DISCONNECT_CLAIM:
      if (m->unplugged)
        umockdev_ioctl_client_complete (client, -1, ENODEV);
      else
        {
          /* Both start with the interface number. */
          g_autoptr(UMockdevIoctlData) d = umockdev_ioctl_data_resolve (arg, 0, sizeof (guint), NULL);

          m->claimed_interface = *(guint *) d->data;
          m->claims++;
          umockdev_ioctl_client_complete (client, 0, 0);
        }
      return TRUE;

    case USBDEVFS_RELEASEINTERFACE:
      m->releases++;
      umockdev_ioctl_client_complete (client, 0, 0);
      return TRUE;

    case USBDEVFS_GETDRIVER:
      umockdev_ioctl_client_complete (client, -1, ENODATA);
      return TRUE;

    case USBDEVFS_IOCTL:
    case USBDEVFS_CLEAR_HALT:
    case USBDEVFS_RESET:
    case USBDEVFS_RESETEP:
    case USBDEVFS_SETINTERFACE:
      umockdev_ioctl_client_complete (client, 0, 0);
      return TRUE;

    case USBDEVFS_SUBMITURB:
      {
        UMockdevIoctlData *urb_data = umockdev_ioctl_data_resolve (arg, 0, sizeof (struct usbdevfs_urb), NULL);

        urb = (struct usbdevfs_urb *) urb_data->data;
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
            int n = answer_control (m, buf->data, urb->buffer_length);

            urb->status = n < 0 ? -EPIPE : 0;
            urb->actual_length = n < 0 ? 0 : n;
            m->urbs.done = g_list_append (m->urbs.done, urb_data);
            umockdev_ioctl_client_complete (client, 0, 0);
            return TRUE;
          }
        if (urb->type == USBDEVFS_URB_TYPE_INTERRUPT && (urb->endpoint & 0x80))
          {
            m->last_in_endpoint = urb->endpoint;
            m->urbs.flying = g_list_append (m->urbs.flying, urb_data);
            umockdev_ioctl_client_complete (client, 0, 0);
            return TRUE;
          }
        g_object_unref (urb_data);
        umockdev_ioctl_client_complete (client, -1, EINVAL);
        return TRUE;
      }

    case USBDEVFS_REAPURB:
    case USBDEVFS_REAPURBNDELAY:
      if (ct_usbfs_reap_ready (&m->urbs, client, arg, m->unplugged))
        return TRUE;
      if (m->urbs.flying != NULL && !g_queue_is_empty (&m->reports))
        {
          g_autoptr(GBytes) report = g_queue_pop_head (&m->reports);
          UMockdevIoctlData *urb_data = m->urbs.flying->data;
          gsize len;
          const guint8 *bytes = g_bytes_get_data (report, &len);

          m->urbs.flying = g_list_delete_link (m->urbs.flying, m->urbs.flying);
          urb = (struct usbdevfs_urb *) urb_data->data;
          len = MIN (len, (gsize) urb->buffer_length);
          /* One address space: the client's buffer is written directly. */
          memcpy (urb->buffer, bytes, len);
          urb->actual_length = (int) len;
          urb->status = 0;
          ct_usbfs_reap (client, arg, urb_data);
          return TRUE;
        }
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
mock_setup (const char *descriptors,
            gboolean    pos)
{
  g_autoptr(GError) error = NULL;

  /* LD_PRELOAD must hold libumockdev-preload (see tests/meson.build). */
  ck_assert_msg (g_strrstr (g_getenv ("LD_PRELOAD") ? g_getenv ("LD_PRELOAD") : "", "libumockdev-preload") != NULL,
                 "run under umockdev-wrapper");

  mock = g_new0 (Mock, 1);
  g_mutex_init (&mock->lock);
  g_queue_init (&mock->reports);
  mock->pos = pos;
  mock->report_descriptor = pos_report_descriptor;
  mock->report_descriptor_length = sizeof pos_report_descriptor;
  mock->testbed = umockdev_testbed_new ();
  mock->handler = umockdev_ioctl_base_new ();
  g_object_connect (mock->handler, "signal-after::handle-ioctl", handle_ioctl_cb, mock, NULL);
  ck_assert_msg (ct_usbfs_add_device (mock->testbed, mock->handler, "/devices/usb1", 1, descriptors, &error),
                 "%s", error ? error->message : "");
}

static void
mock_teardown (void)
{
  g_clear_object (&mock->handler);
  g_clear_object (&mock->testbed);
  ct_usbfs_urbs_clear (&mock->urbs);
  g_queue_clear_full (&mock->reports, (GDestroyNotify) g_bytes_unref);
  g_mutex_clear (&mock->lock);
  g_clear_pointer (&mock, g_free);
}

static void
queue_fixture (const char *name)
{
  g_autofree char *path = g_build_filename (g_getenv ("CT_TOP_SRCDIR"), "tests", "fixtures",
                                            "scanner", name, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(CtCapture) capture = NULL;
  CtCaptureStream *stream;
  gsize len;

  ck_assert (g_file_get_contents (path, &contents, &len, NULL));
  capture = ct_capture_parse (contents, len, NULL);
  ck_assert_ptr_nonnull (capture);
  stream = g_ptr_array_index (capture->streams, 0);
  g_mutex_lock (&mock->lock);
  for (guint i = 0; i < stream->reports->len; i++)
    {
      CtCaptureReport *r = &g_array_index (stream->reports, CtCaptureReport, i);

      g_queue_push_tail (&mock->reports, g_bytes_new (r->data, r->length));
    }
  g_mutex_unlock (&mock->lock);
}

static void
queue_report (const guint8 *data,
              gsize         len)
{
  g_mutex_lock (&mock->lock);
  g_queue_push_tail (&mock->reports, g_bytes_new (data, len));
  g_mutex_unlock (&mock->lock);
}

static void
queue_pos25 (const char *sym,
             const char *text)
{
  gsize n = strlen (text);

  for (gsize at = 0; at < n; at += 20)
    {
      guint8 r[25] = { 0 };
      gsize part = MIN (n - at, 20);

      memcpy (r, sym, 3);
      memcpy (r + 3, text + at, part);
      r[23] = (guint8) part;
      r[24] = at + 20 < n ? 0x01 : 0x00;
      queue_report (r, sizeof r);
    }
}

static void
on_scanned (CtUsbScanner *scanner,
            CtScan       *scan,
            Seen         *seen)
{
  g_ptr_array_add (seen->scans, ct_scan_copy (scan));
}

static void
on_problem (CtUsbScanner *scanner,
            const char   *message,
            Seen         *seen)
{
  g_ptr_array_add (seen->problems, g_strdup (message));
}

static void
seen_init (Seen *seen)
{
  seen->scans = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_scan_free);
  seen->problems = g_ptr_array_new_with_free_func (g_free);
}

static void
seen_clear (Seen *seen)
{
  g_ptr_array_unref (seen->scans);
  g_ptr_array_unref (seen->problems);
}

typedef gboolean (*Condition) (CtUsbScanner *scanner, Seen *seen, gpointer data);

static gboolean
wait_within (CtUsbScanner *scanner,
             Seen         *seen,
             Condition     condition,
             gpointer      data,
             gint64        us)
{
  gint64 deadline = g_get_monotonic_time () + us;

  while (g_get_monotonic_time () < deadline)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      if (condition (scanner, seen, data))
        return TRUE;
      g_usleep (2000);
    }
  return FALSE;
}

static gboolean
wait_for (CtUsbScanner *scanner,
          Seen         *seen,
          Condition     condition,
          gpointer      data)
{
  return wait_within (scanner, seen, condition, data, WAIT_US);
}

static gboolean
is_connected (CtUsbScanner *scanner,
              Seen         *seen,
              gpointer      data)
{
  return ct_usb_scanner_get_connected (scanner) == GPOINTER_TO_INT (data);
}

static gboolean
has_scans (CtUsbScanner *scanner,
           Seen         *seen,
           gpointer      data)
{
  return seen->scans->len >= GPOINTER_TO_UINT (data);
}

static CtUsbScanner *
start_scanner (guint16 vid,
               guint16 pid,
               Seen   *seen)
{
  g_autoptr(GError) error = NULL;
  CtUsbScanner *scanner = ct_usb_scanner_new (vid, pid);

  g_signal_connect (scanner, "scanned", G_CALLBACK (on_scanned), seen);
  g_signal_connect (scanner, "problem", G_CALLBACK (on_problem), seen);
  ck_assert_msg (ct_usb_scanner_start (scanner, &error), "%s", error ? error->message : "");
  return scanner;
}

START_TEST (test_usb_reader_keyboard_scanner_scans)
{
  Seen seen;
  CtUsbScanner *scanner;
  CtScan *scan;

  mock_setup (keyboard_descriptors, FALSE);
  seen_init (&seen);
  scanner = start_scanner (0, 0, &seen);  /* any known scanner vendor */
  ck_assert_msg (wait_for (scanner, &seen, is_connected, GINT_TO_POINTER (TRUE)), "never connected");
  ck_assert_ptr_nonnull (strstr (ct_usb_scanner_get_device_name (scanner), "Honeywell Voyager 1250g"));

  queue_fixture ("digits.hex");
  queue_fixture ("aim.hex");
  ck_assert_msg (wait_for (scanner, &seen, has_scans, GUINT_TO_POINTER (3)), "got %u scans", seen.scans->len);
  scan = g_ptr_array_index (seen.scans, 0);
  ck_assert_str_eq (scan->text, "8888000012345674");
  ck_assert_int_eq (scan->mode, CT_HID_MODE_KEYBOARD);
  scan = g_ptr_array_index (seen.scans, 1);
  ck_assert_str_eq (scan->text, "8888000012345674");
  ck_assert_str_eq (scan->symbology, "]C0");
  scan = g_ptr_array_index (seen.scans, 2);
  ck_assert_str_eq (scan->text, "4006381333931");

  g_mutex_lock (&mock->lock);
  ck_assert_uint_eq (mock->claims, 1);
  ck_assert_uint_eq (mock->set_protocol, 1);
  g_mutex_unlock (&mock->lock);

  /* Clean release on stop: the interface goes back to the kernel. */
  ct_usb_scanner_stop (scanner);
  g_mutex_lock (&mock->lock);
  ck_assert_uint_eq (mock->releases, 1);
  g_mutex_unlock (&mock->lock);
  ck_assert_uint_eq (seen.problems->len, 0);

  g_object_unref (scanner);
  seen_clear (&seen);
  mock_teardown ();
}
END_TEST

START_TEST (test_usb_reader_pos_scanner_mode_from_descriptor)
{
  Seen seen;
  CtUsbScanner *scanner;
  CtScan *scan;

  mock_setup (pos_descriptors, TRUE);
  seen_init (&seen);
  scanner = start_scanner (0x0c2e, 0x0b62, &seen);
  ck_assert (wait_for (scanner, &seen, is_connected, GINT_TO_POINTER (TRUE)));
  queue_fixture ("pos-continuation.hex");
  ck_assert_msg (wait_for (scanner, &seen, has_scans, GUINT_TO_POINTER (2)), "got %u scans", seen.scans->len);
  scan = g_ptr_array_index (seen.scans, 0);
  ck_assert_int_eq (scan->mode, CT_HID_MODE_POS);
  ck_assert_str_eq (scan->symbology, "]Q1");
  ck_assert (g_str_has_prefix (scan->text, "https://cards.example.com/m/8888000012345674?"));
  scan = g_ptr_array_index (seen.scans, 1);
  ck_assert_str_eq (scan->text, "4006381333931");

  g_object_unref (scanner);  /* dispose stops the reader */
  g_mutex_lock (&mock->lock);
  ck_assert_uint_eq (mock->releases, 1);
  g_mutex_unlock (&mock->lock);
  seen_clear (&seen);
  mock_teardown ();
}
END_TEST

START_TEST (test_usb_reader_pos_layout_from_device_descriptor)
{
  Seen seen;
  CtUsbScanner *scanner;
  CtScan *scan;

  mock_setup (pos_descriptors, TRUE);
  g_mutex_lock (&mock->lock);
  mock->report_descriptor = pos25_report_descriptor;
  mock->report_descriptor_length = sizeof pos25_report_descriptor;
  g_mutex_unlock (&mock->lock);
  seen_init (&seen);
  scanner = start_scanner (0x0c2e, 0x0b62, &seen);
  ck_assert (wait_for (scanner, &seen, is_connected, GINT_TO_POINTER (TRUE)));
  queue_pos25 ("]E0", "4006381333931");
  queue_pos25 ("Q1\0", "https://x.example/m/8888000012345674");
  ck_assert_msg (wait_for (scanner, &seen, has_scans, GUINT_TO_POINTER (2)), "got %u scans", seen.scans->len);
  scan = g_ptr_array_index (seen.scans, 0);
  ck_assert_int_eq (scan->mode, CT_HID_MODE_POS);
  ck_assert_str_eq (scan->symbology, "]E0");
  ck_assert_str_eq (scan->text, "4006381333931");
  scan = g_ptr_array_index (seen.scans, 1);
  ck_assert_str_eq (scan->symbology, "]Q1");
  ck_assert_str_eq (scan->text, "https://x.example/m/8888000012345674");
  ck_assert_uint_eq (seen.problems->len, 0);

  g_object_unref (scanner);
  seen_clear (&seen);
  mock_teardown ();
}
END_TEST

/* A member's dynamic payment code (a QR code holding
 * "CTP1:<card>:<code>") read by a keyboard scanner (capitals and ':' with
 * Shift) and, below, by a HID POS scanner: the reader hands the payload
 * over whole, as the till's member-code parser wants it. */
START_TEST (test_usb_reader_reads_member_payment_code)
{
  static const char payload[] = "CTP1:8888000012345674:20481632";
  static const guint8 release[8] = { 0 };
  Seen seen;
  CtUsbScanner *scanner;
  CtScan *scan;

  mock_setup (keyboard_descriptors, FALSE);
  seen_init (&seen);
  scanner = start_scanner (0, 0, &seen);
  ck_assert (wait_for (scanner, &seen, is_connected, GINT_TO_POINTER (TRUE)));
  for (const char *p = payload; ; p++)
    {
      guint8 down[8] = { 0 };

      if (*p == '\0')
        down[2] = 0x28;
      else if (*p >= '1' && *p <= '9')
        down[2] = 0x1e + (*p - '1');
      else if (*p == '0')
        down[2] = 0x27;
      else if (*p >= 'A' && *p <= 'Z')
        down[0] = 0x02, down[2] = 0x04 + (*p - 'A');
      else if (*p == ':')
        down[0] = 0x20, down[2] = 0x33;          /* right Shift, ';' key */
      queue_report (down, sizeof down);
      queue_report (release, sizeof release);
      if (*p == '\0')
        break;
    }
  ck_assert_msg (wait_for (scanner, &seen, has_scans, GUINT_TO_POINTER (1)), "got %u scans", seen.scans->len);
  scan = g_ptr_array_index (seen.scans, 0);
  ck_assert_str_eq (scan->text, payload);
  ck_assert_uint_eq (seen.problems->len, 0);

  g_object_unref (scanner);
  seen_clear (&seen);
  mock_teardown ();
}
END_TEST

START_TEST (test_usb_reader_reads_member_payment_code_pos)
{
  static const char payload[] = "CTP1:8888000012345674:20481632";
  Seen seen;
  CtUsbScanner *scanner;
  CtScan *scan;

  mock_setup (pos_descriptors, TRUE);
  seen_init (&seen);
  g_mutex_lock (&mock->lock);
  mock->report_descriptor = pos25_report_descriptor;
  mock->report_descriptor_length = sizeof pos25_report_descriptor;
  g_mutex_unlock (&mock->lock);
  scanner = start_scanner (0x0c2e, 0x0b62, &seen);
  ck_assert (wait_for (scanner, &seen, is_connected, GINT_TO_POINTER (TRUE)));
  queue_pos25 ("]Q1", payload);
  ck_assert_msg (wait_for (scanner, &seen, has_scans, GUINT_TO_POINTER (1)), "got %u scans", seen.scans->len);
  scan = g_ptr_array_index (seen.scans, 0);
  ck_assert_int_eq (scan->mode, CT_HID_MODE_POS);
  ck_assert_str_eq (scan->symbology, "]Q1");
  ck_assert_str_eq (scan->text, payload);
  ck_assert_uint_eq (seen.problems->len, 0);

  g_object_unref (scanner);
  seen_clear (&seen);
  mock_teardown ();
}
END_TEST

START_TEST (test_usb_reader_unplug_mid_scan_then_replug)
{
  Seen seen;
  CtUsbScanner *scanner;
  guint8 r[8] = { 0 };

  mock_setup (keyboard_descriptors, FALSE);
  seen_init (&seen);
  scanner = start_scanner (0x0c2e, 0, &seen);
  ck_assert (wait_for (scanner, &seen, is_connected, GINT_TO_POINTER (TRUE)));

  /* Half a code ("88"), then the cable comes out. */
  r[2] = 0x25;
  queue_report (r, 8);
  r[2] = 0;
  queue_report (r, 8);
  r[2] = 0x25;
  queue_report (r, 8);
  for (int i = 0; i < 200; i++)
    {
      gboolean drained;

      g_mutex_lock (&mock->lock);
      drained = g_queue_is_empty (&mock->reports);
      g_mutex_unlock (&mock->lock);
      if (drained)
        break;
      g_usleep (5000);
    }
  g_usleep (50000);
  g_mutex_lock (&mock->lock);
  mock->unplugged = TRUE;
  g_mutex_unlock (&mock->lock);
  ck_assert_msg (wait_for (scanner, &seen, is_connected, GINT_TO_POINTER (FALSE)), "unplug not noticed");
  ck_assert_uint_ge (seen.problems->len, 1);
  ck_assert_ptr_nonnull (strstr (g_ptr_array_index (seen.problems, 0), "middle of a code"));

  /* Plugged back in: found again without a restart, and the next code
   * comes through whole, with nothing of the half code before it. */
  g_mutex_lock (&mock->lock);
  mock->unplugged = FALSE;
  g_mutex_unlock (&mock->lock);
  ck_assert_msg (wait_for (scanner, &seen, is_connected, GINT_TO_POINTER (TRUE)), "replug not noticed");
  queue_fixture ("digits.hex");
  ck_assert (wait_for (scanner, &seen, has_scans, GUINT_TO_POINTER (1)));
  ck_assert_uint_eq (seen.scans->len, 1);
  ck_assert_str_eq (((CtScan *) g_ptr_array_index (seen.scans, 0))->text, "8888000012345674");

  g_object_unref (scanner);
  seen_clear (&seen);
  mock_teardown ();
}
END_TEST

START_TEST (test_usb_reader_replugged_as_new_device)
{
  Seen seen;
  CtUsbScanner *scanner;

  mock_setup (keyboard_descriptors, FALSE);
  seen_init (&seen);
  scanner = start_scanner (0x0c2e, 0x0b61, &seen);
  ck_assert (wait_for (scanner, &seen, is_connected, GINT_TO_POINTER (TRUE)));
  ck_assert_ptr_nonnull (strstr (ct_usb_scanner_get_device_name (scanner), "device 001"));

  /* The cable comes out: the device disappears from sysfs (a "remove"
   * uevent) and its transfers fail. */
  g_mutex_lock (&mock->lock);
  mock->unplugged = TRUE;
  g_mutex_unlock (&mock->lock);
  ck_assert (wait_for (scanner, &seen, is_connected, GINT_TO_POINTER (FALSE)));
  umockdev_testbed_remove_device (mock->testbed, "/sys/devices/usb1");

  /* Plugged into another port: a new device address, found again. */
  g_mutex_lock (&mock->lock);
  mock->unplugged = FALSE;
  g_mutex_unlock (&mock->lock);
  mock_add_device (keyboard_descriptors, 7);
  ck_assert_msg (wait_for (scanner, &seen, is_connected, GINT_TO_POINTER (TRUE)), "new device not found");
  ck_assert_ptr_nonnull (strstr (ct_usb_scanner_get_device_name (scanner), "device 007"));
  queue_fixture ("digits.hex");
  ck_assert (wait_for (scanner, &seen, has_scans, GUINT_TO_POINTER (1)));
  ck_assert_str_eq (((CtScan *) g_ptr_array_index (seen.scans, 0))->text, "8888000012345674");

  g_object_unref (scanner);
  seen_clear (&seen);
  mock_teardown ();
}
END_TEST

START_TEST (test_usb_reader_leaves_other_vendors_alone)
{
  Seen seen;
  CtUsbScanner *scanner;
  CtUsbScanner *configured;

  mock_setup (other_descriptors, FALSE);
  seen_init (&seen);
  scanner = start_scanner (0, 0, &seen);
  /* A keyboard of another vendor is never taken from the user. */
  ck_assert (!wait_within (scanner, &seen, is_connected, GINT_TO_POINTER (TRUE), 1500 * 1000));
  g_mutex_lock (&mock->lock);
  ck_assert_uint_eq (mock->claims, 0);
  g_mutex_unlock (&mock->lock);
  g_object_unref (scanner);

  /* Unless it is the configured scanner. */
  configured = start_scanner (0x046d, 0xc31c, &seen);
  ck_assert (wait_for (configured, &seen, is_connected, GINT_TO_POINTER (TRUE)));
  g_object_unref (configured);
  seen_clear (&seen);
  mock_teardown ();
}
END_TEST

START_TEST (test_usb_list_devices_shows_ids_names_mode)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  CtUsbDeviceInfo *info;
  g_autofree char *line = NULL;

  mock_setup (keyboard_descriptors, FALSE);
  list = ct_usb_list_devices (&error);
  ck_assert_msg (list != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (list->len, 1);
  info = g_ptr_array_index (list, 0);
  ck_assert_uint_eq (info->vendor_id, 0x0c2e);
  ck_assert_uint_eq (info->product_id, 0x0b61);
  ck_assert_int_eq (info->mode, CT_HID_MODE_KEYBOARD);
  ck_assert (info->known_vendor);
  ck_assert (info->accessible);
  ck_assert_str_eq (info->manufacturer, "Honeywell");
  ck_assert_str_eq (info->product, "Voyager 1250g");
  line = ct_usb_device_info_describe (info);
  ck_assert_ptr_nonnull (strstr (line, "0c2e:0b61"));
  ck_assert_ptr_nonnull (strstr (line, "keyboard"));
  g_clear_pointer (&list, g_ptr_array_unref);
  mock_teardown ();
}
END_TEST

START_TEST (test_usb_cli_scanner_listen_prints_scans)
{
  char *argv[] = { "scanner", "listen", "--device", "0c2e:0b61", "--count", "2", "--timeout", "20", NULL };
  g_autofree char *out = NULL;
  int status = -1;

  mock_setup (keyboard_descriptors, FALSE);
  /* Recorded reports wait in the device until the reader asks for them. */
  queue_fixture ("digits.hex");
  queue_fixture ("letters-shift.hex");
  out = ct_cli_capture (ct_cli_cmd_scanner, argv, &status);
  ck_assert_int_eq (status, 0);
  ck_assert_str_eq (out, "8888000012345674\nAB-12cd_Z\n");
  g_mutex_lock (&mock->lock);
  ck_assert_uint_eq (mock->releases, 1);
  g_mutex_unlock (&mock->lock);
  mock_teardown ();
}
END_TEST

START_TEST (test_usb_cli_scanner_list_shows_device)
{
  char *argv[] = { "scanner", "list", NULL };
  g_autofree char *out = NULL;
  int status = -1;

  mock_setup (pos_descriptors, TRUE);
  out = ct_cli_capture (ct_cli_cmd_scanner, argv, &status);
  ck_assert_int_eq (status, 0);
  ck_assert_ptr_nonnull (strstr (out, "0c2e:0b62"));
  ck_assert_ptr_nonnull (strstr (out, "Honeywell Voyager 1250g"));
  ck_assert_ptr_nonnull (strstr (out, "[scanner vendor]"));
  mock_teardown ();
}
END_TEST

START_TEST (test_usb_list_reads_pos_mode_from_sysfs)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GString) hex = g_string_new (NULL);
  g_autofree char *description = NULL;
  CtUsbDeviceInfo *info = NULL;

  /* A scanner on port 2 of bus 1, bound to usbhid: its interface and HID
   * device in sysfs carry the report descriptor. */
  mock_setup (keyboard_descriptors, FALSE);
  for (gsize i = 0; i < sizeof pos25_report_descriptor; i++)
    g_string_append_printf (hex, "%02x", pos25_report_descriptor[i]);
  ck_assert (umockdev_testbed_attach_ioctl (mock->testbed, "/dev/bus/usb/001/002", mock->handler, &error));
  description = g_strdup_printf ("P: /devices/usb1/1-2/1-2:1.0/0003:0C2E:0B62.0001\n"
                                 "E: SUBSYSTEM=hid\n"
                                 "E: DRIVER=hid-generic\n"
                                 "H: report_descriptor=%s\n"
                                 "\n"
                                 "P: /devices/usb1/1-2/1-2:1.0\n"
                                 "E: SUBSYSTEM=usb\n"
                                 "E: DEVTYPE=usb_interface\n"
                                 "E: DRIVER=usbhid\n"
                                 "A: bInterfaceNumber=00\\n\n"
                                 "A: bInterfaceClass=03\\n\n"
                                 "\n"
                                 "P: /devices/usb1/1-2\n"
                                 "N: bus/usb/001/002\n"
                                 "E: SUBSYSTEM=usb\n"
                                 "E: DRIVER=usb\n"
                                 "E: BUSNUM=001\n"
                                 "E: DEVNUM=002\n"
                                 "E: DEVNAME=/dev/bus/usb/001/002\n"
                                 "E: DEVTYPE=usb_device\n"
                                 "A: bConfigurationValue=1\\n\n"
                                 "A: busnum=1\\n\n"
                                 "A: devnum=2\\n\n"
                                 "A: speed=12\\n\n"
                                 "H: descriptors=%s\n",
                                 hex->str, pos_descriptors);
  ck_assert_msg (umockdev_testbed_add_from_string (mock->testbed, description, &error),
                 "%s", error ? error->message : "");

  list = ct_usb_list_devices (&error);
  ck_assert_msg (list != NULL, "%s", error ? error->message : "");
  for (guint i = 0; i < list->len; i++)
    {
      CtUsbDeviceInfo *candidate = g_ptr_array_index (list, i);

      if (candidate->product_id == 0x0b62)
        info = candidate;
    }
  ck_assert_ptr_nonnull (info);
  ck_assert_uint_eq (info->address, 2);
  ck_assert_int_eq (info->mode, CT_HID_MODE_POS);
  g_clear_pointer (&list, g_ptr_array_unref);
  mock_teardown ();
}
END_TEST

START_TEST (test_usb_reader_prefers_pos_interface_of_composite_scanner)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) hex = g_string_new (NULL);
  g_autofree char *description = NULL;
  Seen seen;
  CtUsbScanner *scanner;
  CtScan *scan;

  /* Keyboard on interface 0, HID POS on interface 1 (its report descriptor
   * in sysfs says so): the reader takes interface 1, so nothing is typed. */
  mock_setup (keyboard_descriptors, TRUE);
  g_mutex_lock (&mock->lock);
  mock->report_descriptor = pos25_report_descriptor;
  mock->report_descriptor_length = sizeof pos25_report_descriptor;
  g_mutex_unlock (&mock->lock);
  for (gsize i = 0; i < sizeof pos25_report_descriptor; i++)
    g_string_append_printf (hex, "%02x", pos25_report_descriptor[i]);
  ck_assert (umockdev_testbed_attach_ioctl (mock->testbed, "/dev/bus/usb/001/002", mock->handler, &error));
  description = g_strdup_printf ("P: /devices/usb1/1-2/1-2:1.1/0003:0C2E:0B63.0002\n"
                                 "E: SUBSYSTEM=hid\n"
                                 "H: report_descriptor=%s\n"
                                 "\n"
                                 "P: /devices/usb1/1-2/1-2:1.1\n"
                                 "E: SUBSYSTEM=usb\n"
                                 "E: DEVTYPE=usb_interface\n"
                                 "A: bInterfaceNumber=01\\n\n"
                                 "\n"
                                 "P: /devices/usb1/1-2\n"
                                 "N: bus/usb/001/002\n"
                                 "E: SUBSYSTEM=usb\n"
                                 "E: DRIVER=usb\n"
                                 "E: BUSNUM=001\n"
                                 "E: DEVNUM=002\n"
                                 "E: DEVNAME=/dev/bus/usb/001/002\n"
                                 "E: DEVTYPE=usb_device\n"
                                 "A: bConfigurationValue=1\\n\n"
                                 "A: busnum=1\\n\n"
                                 "A: devnum=2\\n\n"
                                 "A: speed=12\\n\n"
                                 "H: descriptors=%s\n",
                                 hex->str, composite_descriptors);
  ck_assert_msg (umockdev_testbed_add_from_string (mock->testbed, description, &error),
                 "%s", error ? error->message : "");

  seen_init (&seen);
  scanner = start_scanner (0x0c2e, 0x0b63, &seen);
  ck_assert (wait_for (scanner, &seen, is_connected, GINT_TO_POINTER (TRUE)));
  queue_pos25 ("]C0", "8888000012345674");
  ck_assert (wait_for (scanner, &seen, has_scans, GUINT_TO_POINTER (1)));
  scan = g_ptr_array_index (seen.scans, 0);
  ck_assert_str_eq (scan->text, "8888000012345674");
  ck_assert_int_eq (scan->mode, CT_HID_MODE_POS);
  g_mutex_lock (&mock->lock);
  ck_assert_uint_eq (mock->claimed_interface, 1);
  ck_assert_uint_eq (mock->last_in_endpoint, 0x82);
  g_mutex_unlock (&mock->lock);

  g_object_unref (scanner);
  seen_clear (&seen);
  mock_teardown ();
}
END_TEST

START_TEST (test_usb_parse_vid_pid)
{
  guint16 v, p;

  ck_assert (ct_usb_parse_vid_pid ("0c2e:0b61", &v, &p) && v == 0x0c2e && p == 0x0b61);
  ck_assert (ct_usb_parse_vid_pid ("05e0", &v, &p) && v == 0x05e0 && p == 0);
  ck_assert (!ct_usb_parse_vid_pid ("c2e:b61", &v, &p));
  ck_assert (!ct_usb_parse_vid_pid ("0c2e:0b61:1", &v, &p));
  ck_assert (!ct_usb_parse_vid_pid ("zzzz:0001", &v, &p));
  ck_assert (!ct_usb_parse_vid_pid ("", &v, &p));
}
END_TEST

START_TEST (test_usb_udev_rule_covers_known_vendors)
{
  g_autofree char *path = g_build_filename (g_getenv ("CT_TOP_SRCDIR"), "data",
                                            "70-cardtill-scanner.rules", NULL);
  g_autofree char *rules = NULL;
  g_auto(GStrv) lines = NULL;
  guint vendors = 0;

  /* The vendors the reader opens by itself are exactly those the rule
   * grants access to: otherwise the cashier gets "no permission". */
  ck_assert (g_file_get_contents (path, &rules, NULL, NULL));
  lines = g_strsplit (rules, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      const char *at = strstr (lines[i], "ATTR{idVendor}==\"");
      guint64 vid;
      char hex[5] = { 0 };

      if (lines[i][0] == '#' || at == NULL)
        continue;
      memcpy (hex, at + strlen ("ATTR{idVendor}==\""), 4);
      ck_assert (g_ascii_string_to_unsigned (hex, 16, 1, 0xffff, &vid, NULL));
      ck_assert_msg (ct_usb_is_known_scanner_vendor ((guint16) vid), "%s not known to the reader", hex);
      vendors++;
    }
  ck_assert_uint_eq (vendors, 6);
  ck_assert (strstr (rules, "TAG+=\"uaccess\"") != NULL);
}
END_TEST

static Suite *
usb_reader_suite (void)
{
  Suite *s = suite_create ("usb-reader");
  TCase *tc = tcase_create ("umockdev");
  TCase *pure = tcase_create ("pure");

  tcase_set_timeout (tc, 40);
  tcase_add_test (tc, test_usb_reader_keyboard_scanner_scans);
  tcase_add_test (tc, test_usb_reader_pos_scanner_mode_from_descriptor);
  tcase_add_test (tc, test_usb_reader_pos_layout_from_device_descriptor);
  tcase_add_test (tc, test_usb_reader_reads_member_payment_code);
  tcase_add_test (tc, test_usb_reader_reads_member_payment_code_pos);
  tcase_add_test (tc, test_usb_reader_unplug_mid_scan_then_replug);
  tcase_add_test (tc, test_usb_reader_replugged_as_new_device);
  tcase_add_test (tc, test_usb_reader_leaves_other_vendors_alone);
  tcase_add_test (tc, test_usb_list_devices_shows_ids_names_mode);
  tcase_add_test (tc, test_usb_cli_scanner_listen_prints_scans);
  tcase_add_test (tc, test_usb_cli_scanner_list_shows_device);
  tcase_add_test (tc, test_usb_list_reads_pos_mode_from_sysfs);
  tcase_add_test (tc, test_usb_reader_prefers_pos_interface_of_composite_scanner);
  suite_add_tcase (s, tc);
  tcase_add_test (pure, test_usb_parse_vid_pid);
  tcase_add_test (pure, test_usb_udev_rule_covers_known_vendors);
  suite_add_tcase (s, pure);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (usb_reader_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
