/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "cardtill-cli"
#include "config.h"

#include <glib-unix.h>
#include <json.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ct-capture.h"
#include "ct-cli.h"
#include "ct-cli-private.h"
#include "ct-usb-scanner.h"

/* cardtill-cli scanner list | listen | replay (docs/scanner.md). */

static const char scanner_usage[] =
  "Usage: cardtill-cli scanner list\n"
  "       cardtill-cli scanner listen [--device VID:PID] [--prefix P] [--suffix S]\n"
  "                                   [--count N] [--timeout SECONDS]\n"
  "       cardtill-cli scanner replay FILE [--device BUS:DEV[:EP]] [--mode keyboard|pos]\n"
  "                                   [--prefix P] [--suffix S]\n"
  "FILE is a usbmon text capture, an hid-recorder recording or hex report lines\n"
  "(\"-\" reads standard input).\n";

static json_object *
scanner_to_json (gconstpointer device)
{
  const CtUsbDeviceInfo *info = device;
  g_autofree char *id = g_strdup_printf ("%04x:%04x", info->vendor_id, info->product_id);
  json_object *o = ct_cli_usb_json ("id", id, info->bus, info->address, info->interface_number);

  json_object_object_add (o, "manufacturer", info->manufacturer ? json_object_new_string (info->manufacturer) : NULL);
  json_object_object_add (o, "product", info->product ? json_object_new_string (info->product) : NULL);
  json_object_object_add (o, "mode", json_object_new_string (ct_hid_mode_to_string (info->mode)));
  json_object_object_add (o, "scanner_vendor", json_object_new_boolean (info->known_vendor));
  json_object_object_add (o, "accessible", json_object_new_boolean (info->accessible));
  return o;
}

static char *
scanner_describe (gconstpointer device)
{
  return ct_usb_device_info_describe (device);
}

static int
scanner_list (CtCli  *cli,
              int     argc,
              char  **argv)
{
  if (argc > 1)
    return ct_cli_usage_help (scanner_usage, "scanner list takes no arguments");
  return ct_cli_print_devices (cli, ct_usb_list_devices, scanner_to_json, scanner_describe,
                               "No USB HID devices found.");
}

typedef struct
{
  GMainLoop *loop;
  guint      remaining;   /* 0: until Ctrl-C */
  gboolean   json;
  int        status;
} Listen;

static void
print_scan (const CtScan *scan,
            gboolean      json)
{
  g_autofree char *shown = ct_scan_to_display (scan);

  if (json)
    {
      json_object *o = json_object_new_object ();

      json_object_object_add (o, "text", json_object_new_string (shown));
      json_object_object_add (o, "symbology", json_object_new_string (scan->symbology));
      printf ("%s\n", json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN));
      json_object_put (o);
    }
  else
    printf ("%s\n", shown);
  fflush (stdout);
}

static void
on_scanned (CtUsbScanner *scanner,
            CtScan       *scan,
            Listen       *listen)
{
  print_scan (scan, listen->json);
  if (listen->remaining > 0 && --listen->remaining == 0)
    g_main_loop_quit (listen->loop);
}

static void
on_problem (CtUsbScanner *scanner,
            const char   *message,
            Listen       *listen)
{
  fprintf (stderr, "cardtill-cli: %s\n", message);
}

static void
on_connected (CtUsbScanner *scanner,
              GParamSpec   *pspec,
              Listen       *listen)
{
  if (ct_usb_scanner_get_connected (scanner))
    fprintf (stderr, "cardtill-cli: reading %s\n", ct_usb_scanner_get_device_name (scanner));
  else
    fprintf (stderr, "cardtill-cli: scanner disconnected, waiting for it\n");
}

static gboolean
on_interrupt (gpointer data)
{
  Listen *listen = data;

  g_main_loop_quit (listen->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_timeout (gpointer data)
{
  Listen *listen = data;

  listen->status = CT_EXIT_LOCAL;
  fprintf (stderr, "cardtill-cli: timed out waiting for scans\n");
  g_main_loop_quit (listen->loop);
  return G_SOURCE_REMOVE;
}

static int
scanner_listen (CtCli  *cli,
                int     argc,
                char  **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtUsbScanner) scanner = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  static const char * const spec[] = { "device=", "prefix=", "suffix=", "count=", "timeout=",
                                       NULL };
  g_auto(CtCliArgs) args = { 0 };
  const char *device, *prefix, *suffix, *count, *timeout;
  guint16 vid = 0, pid = 0;
  guint64 n = 0, seconds = 0;
  Listen listen = { 0 };
  guint sigint, sigterm, timer = 0;

  if (!ct_cli_args_parse (&args, argc, argv, spec, &error))
    return ct_cli_usage_help (scanner_usage, error->message);
  if (args.positional->len != 0)
    return ct_cli_usage_help (scanner_usage, "unknown argument to scanner listen");
  device = ct_cli_args_get (&args, "device");
  prefix = ct_cli_args_get (&args, "prefix");
  suffix = ct_cli_args_get (&args, "suffix");
  count = ct_cli_args_get (&args, "count");
  timeout = ct_cli_args_get (&args, "timeout");
  if (device != NULL && !ct_usb_parse_vid_pid (device, &vid, &pid))
    return ct_cli_usage_help (scanner_usage, "--device takes VID:PID in hex, like 0c2e:0b61");
  if (count != NULL && !g_ascii_string_to_unsigned (count, 10, 1, G_MAXUINT, &n, NULL))
    return ct_cli_usage_help (scanner_usage, "--count takes a positive number");
  if (timeout != NULL && !g_ascii_string_to_unsigned (timeout, 10, 1, 86400, &seconds, NULL))
    return ct_cli_usage_help (scanner_usage, "--timeout takes seconds (1 to 86400)");

  scanner = ct_usb_scanner_new (vid, pid);
  ct_usb_scanner_set_prefix (scanner, prefix);
  ct_usb_scanner_set_suffix (scanner, suffix);

  loop = g_main_loop_new (NULL, FALSE);
  listen.loop = loop;
  listen.remaining = (guint) n;
  listen.json = cli->json;
  listen.status = CT_EXIT_OK;
  g_signal_connect (scanner, "scanned", G_CALLBACK (on_scanned), &listen);
  g_signal_connect (scanner, "problem", G_CALLBACK (on_problem), &listen);
  g_signal_connect (scanner, "notify::connected", G_CALLBACK (on_connected), &listen);

  if (!ct_usb_scanner_start (scanner, &error))
    {
      fprintf (stderr, "cardtill-cli: %s\n", error->message);
      return CT_EXIT_LOCAL;
    }
  if (device != NULL)
    fprintf (stderr, "cardtill-cli: waiting for scanner %s (Ctrl-C ends)\n", device);
  else
    fprintf (stderr, "cardtill-cli: waiting for a scanner of a known vendor (Ctrl-C ends; --device VID:PID picks one)\n");

  sigint = g_unix_signal_add (SIGINT, on_interrupt, &listen);
  sigterm = g_unix_signal_add (SIGTERM, on_interrupt, &listen);
  if (seconds > 0)
    timer = g_timeout_add_seconds ((guint) seconds, on_timeout, &listen);
  g_main_loop_run (loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  if (timer != 0 && listen.status == CT_EXIT_OK)
    g_source_remove (timer);

  ct_usb_scanner_stop (scanner);
  g_signal_handlers_disconnect_by_data (scanner, &listen);
  /* Deliveries still queued hold references to the scanner. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return listen.status;
}

static int
scanner_replay (CtCli  *cli,
                int     argc,
                char  **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CtCapture) capture = NULL;
  g_autoptr(GPtrArray) scans = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  g_autofree char *contents = NULL;
  static const char * const spec[] = { "device=", "mode=", "prefix=", "suffix=", NULL };
  g_auto(CtCliArgs) args = { 0 };
  const char *file, *device, *mode_text, *prefix, *suffix;
  CtHidMode mode = CT_HID_MODE_AUTO;
  gsize length = 0;

  if (!ct_cli_args_parse (&args, argc, argv, spec, &error))
    return ct_cli_usage_help (scanner_usage, error->message);
  if (args.positional->len > 1)
    return ct_cli_usage_help (scanner_usage, "scanner replay takes one FILE");
  if (args.positional->len == 0)
    return ct_cli_usage_help (scanner_usage, "scanner replay needs a FILE");
  file = g_ptr_array_index (args.positional, 0);
  device = ct_cli_args_get (&args, "device");
  mode_text = ct_cli_args_get (&args, "mode");
  prefix = ct_cli_args_get (&args, "prefix");
  suffix = ct_cli_args_get (&args, "suffix");
  if (mode_text != NULL && !ct_hid_mode_from_string (mode_text, &mode))
    return ct_cli_usage_help (scanner_usage, "--mode is keyboard or pos");

  if (strcmp (file, "-") == 0)
    {
      g_autoptr(GByteArray) bytes = g_byte_array_new ();
      guint8 buf[65536];
      size_t n;

      while ((n = fread (buf, 1, sizeof buf, stdin)) > 0)
        g_byte_array_append (bytes, buf, n);
      length = bytes->len;
      g_byte_array_append (bytes, (const guint8 *) "", 1);
      contents = (char *) g_byte_array_free (g_steal_pointer (&bytes), FALSE);
    }
  else if (!g_file_get_contents (file, &contents, &length, &error))
    {
      fprintf (stderr, "cardtill-cli: %s\n", error->message);
      return CT_EXIT_LOCAL;
    }

  capture = ct_capture_parse (contents, length, &error);
  if (capture == NULL
      || !ct_capture_decode (capture, device, mode, prefix, suffix, &scans, &warnings, &error))
    {
      fprintf (stderr, "cardtill-cli: %s: %s\n", file, error->message);
      return CT_EXIT_LOCAL;
    }

  for (guint i = 0; warnings != NULL && i < warnings->len; i++)
    fprintf (stderr, "cardtill-cli: warning: %s\n", (const char *) g_ptr_array_index (warnings, i));
  for (guint i = 0; i < scans->len; i++)
    print_scan (g_ptr_array_index (scans, i), cli->json);
  return CT_EXIT_OK;
}

int
ct_cli_cmd_scanner (CtCli  *cli,
                    int     argc,
                    char  **argv)
{
  const char *sub = argc > 1 ? argv[1] : NULL;

  if (sub == NULL)
    return ct_cli_usage_help (scanner_usage, "scanner needs list, listen or replay");
  if (strcmp (sub, "list") == 0)
    return scanner_list (cli, argc - 1, argv + 1);
  if (strcmp (sub, "listen") == 0)
    return scanner_listen (cli, argc - 1, argv + 1);
  if (strcmp (sub, "replay") == 0)
    return scanner_replay (cli, argc - 1, argv + 1);
  return ct_cli_usage_help (scanner_usage, "scanner needs list, listen or replay");
}
