/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-usb-scanner"
#include "config.h"

#include <libusb.h>
#include <string.h>

#include "ct-usb-scanner-private.h"
#include "ct-main-context.h"
#include "ct-usb-device.h"

/* Reads a USB barcode scanner directly with libusb, so that its codes do
 * not leak into other programs as keystrokes and the host keyboard layout
 * cannot garble them.
 *
 * All libusb work happens on one reader thread: finding and opening the
 * scanner, claiming its HID interface (the kernel driver is detached while
 * we hold it and re-attached on release), the asynchronous interrupt
 * transfer, decoding, and closing. Complete scans, problems and connection
 * changes go to the GMainContext that was the thread default when the
 * reader started, where the signals are emitted. The main thread only
 * starts and stops the reader.
 *
 * Hot-plug: when nothing is open the reader looks for the scanner again
 * every second, and at once when libusb's hotplug callback (where the
 * platform has one) says a device arrived. An unplugged scanner completes
 * its transfer with LIBUSB_TRANSFER_NO_DEVICE; the half-read code is
 * dropped and the handle closed, and the next search finds it again. */

#define RESCAN_INTERVAL_US (1000 * 1000)
#define EVENT_TIMEOUT_US (100 * 1000)
#define CONTROL_TIMEOUT_MS 500
#define MAX_TRANSFER_ERRORS 20
#define HID_DESCRIPTOR_REPORT 0x22
#define HID_SET_PROTOCOL 0x0b

typedef struct
{
  libusb_device_handle   *handle;
  struct libusb_transfer *transfer;
  guint8                 *buffer;
  guint8                  interface_number;
  guint8                  endpoint;
  guint16                 max_packet;
  gboolean                claimed;
  gboolean                transfer_active;
  gboolean                gone;
  guint                   errors;
  CtHidDecoder           *decoder;
  char                   *name;
  char                   *key;
} OpenDevice;

struct _CtUsbScanner
{
  GObject         parent_instance;

  guint16         vendor_id;
  guint16         product_id;
  char           *prefix;
  char           *suffix;

  GMainContext   *context;
  libusb_context *usb;
  GThread        *thread;
  gint            stopping;
  gint            rescan;
  gboolean        has_hotplug;
  libusb_hotplug_callback_handle hotplug;

  /* Reader thread only. */
  OpenDevice     *dev;
  GHashTable     *told;         /* devices whose refusal was reported */

  /* Main thread only. */
  gboolean        connected;
  char           *device_name;
};

enum
{
  PROP_0,
  PROP_CONNECTED,
  PROP_DEVICE_NAME,
  N_PROPS
};

enum
{
  SIGNAL_SCANNED,
  SIGNAL_PROBLEM,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (CtUsbScanner, ct_usb_scanner, G_TYPE_OBJECT)
G_DEFINE_BOXED_TYPE (CtScan, ct_scan, ct_scan_copy, ct_scan_free)
G_DEFINE_QUARK (ct-usb-error-quark, ct_usb_error)

/* Vendors whose USB devices are barcode scanners. */
static const guint16 scanner_vendors[] = {
  0x0c2e,  /* Honeywell / Metrologic */
  0x0536,  /* Hand Held Products (Honeywell) */
  0x05e0,  /* Symbol / Zebra */
  0x05f9,  /* Datalogic (PSC) */
  0x1eab,  /* Newland */
  0x065a,  /* Opticon */
};

gboolean
ct_usb_is_known_scanner_vendor (guint16 vendor_id)
{
  return ct_usb_vendor_in (vendor_id, scanner_vendors, G_N_ELEMENTS (scanner_vendors));
}

/**
 * ct_usb_parse_vid_pid:
 * @text: "0c2e:0b61" (hex); "0c2e" alone means any product of the vendor
 */
gboolean
ct_usb_parse_vid_pid (const char *text,
                      guint16    *vendor_id,
                      guint16    *product_id)
{
  g_auto(GStrv) parts = NULL;
  guint64 vid, pid = 0;
  guint n;

  g_return_val_if_fail (vendor_id != NULL && product_id != NULL, FALSE);

  if (text == NULL)
    return FALSE;
  parts = g_strsplit (text, ":", -1);
  n = g_strv_length (parts);
  if (n < 1 || n > 2)
    return FALSE;
  if (strlen (parts[0]) != 4 || !g_ascii_string_to_unsigned (parts[0], 16, 1, 0xffff, &vid, NULL))
    return FALSE;
  if (n == 2 && (strlen (parts[1]) != 4
                 || !g_ascii_string_to_unsigned (parts[1], 16, 0, 0xffff, &pid, NULL)))
    return FALSE;
  *vendor_id = (guint16) vid;
  *product_id = (guint16) pid;
  return TRUE;
}

void
ct_usb_device_info_free (CtUsbDeviceInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->manufacturer);
  g_free (info->product);
  g_free (info);
}

/**
 * ct_usb_device_info_describe:
 *
 * Returns: one line for `scanner list`: ids, place, names and mode.
 */
char *
ct_usb_device_info_describe (const CtUsbDeviceInfo *info)
{
  g_autofree char *names = NULL;
  const char *mode;

  g_return_val_if_fail (info != NULL, NULL);

  switch (info->mode)
    {
    case CT_HID_MODE_KEYBOARD:
      mode = "keyboard (boot protocol)";
      break;
    case CT_HID_MODE_POS:
      mode = "HID POS";
      break;
    case CT_HID_MODE_AUTO:
    default:
      mode = "HID";
      break;
    }

  names = ct_usb_names_text (info->manufacturer, info->product, "(names unreadable)");
  return g_strdup_printf ("%04x:%04x  bus %03u device %03u interface %u  %s  %s%s%s",
                          info->vendor_id, info->product_id, info->bus, info->address,
                          info->interface_number, names, mode,
                          info->known_vendor ? "  [scanner vendor]" : "",
                          info->accessible ? "" : "  [no permission: see the udev rule]");
}

typedef struct
{
  guint8    interface_number;
  guint8    endpoint;
  guint16   max_packet;
  CtHidMode mode;
} HidInterface;

static CtHidMode mode_from_sysfs (libusb_device *device,
                                  guint8         interface_number,
                                  CtHidMode      fallback);

/* Every HID interface of the device that has an interrupt IN endpoint,
 * with its mode: boot keyboard from the interface descriptor, HID POS or
 * keyboard from the report descriptor in sysfs where it can be read. */
static GArray *
list_hid_interfaces (libusb_device *device)
{
  GArray *found = g_array_new (FALSE, TRUE, sizeof (HidInterface));
  struct libusb_config_descriptor *config = NULL;

  if (libusb_get_active_config_descriptor (device, &config) != 0
      && libusb_get_config_descriptor (device, 0, &config) != 0)
    return found;

  for (int i = 0; i < config->bNumInterfaces; i++)
    {
      const struct libusb_interface *iface = &config->interface[i];
      const struct libusb_interface_descriptor *alt;

      if (iface->num_altsetting < 1)
        continue;
      alt = &iface->altsetting[0];
      if (alt->bInterfaceClass != LIBUSB_CLASS_HID)
        continue;
      for (int e = 0; e < alt->bNumEndpoints; e++)
        {
          const struct libusb_endpoint_descriptor *ep = &alt->endpoint[e];
          HidInterface h;

          if ((ep->bEndpointAddress & LIBUSB_ENDPOINT_DIR_MASK) != LIBUSB_ENDPOINT_IN
              || (ep->bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) != LIBUSB_TRANSFER_TYPE_INTERRUPT)
            continue;
          h.interface_number = alt->bInterfaceNumber;
          h.endpoint = ep->bEndpointAddress;
          h.max_packet = ep->wMaxPacketSize;
          /* Subclass 1 protocol 1: a boot protocol keyboard. */
          h.mode = (alt->bInterfaceSubClass == 1 && alt->bInterfaceProtocol == 1)
                   ? CT_HID_MODE_KEYBOARD : CT_HID_MODE_AUTO;
          h.mode = mode_from_sysfs (device, h.interface_number, h.mode);
          g_array_append_val (found, h);
          break;
        }
    }
  libusb_free_config_descriptor (config);
  return found;
}

/* A scanner with several HID interfaces (HID POS next to a keyboard, or a
 * vendor interface for configuration) is read on its HID POS interface,
 * else on its keyboard, else on the first. */
static gboolean
best_hid_interface (libusb_device *device,
                    HidInterface  *out)
{
  g_autoptr(GArray) all = list_hid_interfaces (device);
  static const CtHidMode preference[] = { CT_HID_MODE_POS, CT_HID_MODE_KEYBOARD, CT_HID_MODE_AUTO };

  for (guint p = 0; p < G_N_ELEMENTS (preference); p++)
    for (guint i = 0; i < all->len; i++)
      if (g_array_index (all, HidInterface, i).mode == preference[p])
        {
          *out = g_array_index (all, HidInterface, i);
          return TRUE;
        }
  return FALSE;
}

/* Reads the interface's report descriptor from sysfs, which any user may
 * read and which needs no claim: the usbhid driver keeps the interface
 * while cardtill only lists it. "/sys/bus/usb/devices/1-2.3:1.0/" holds
 * one HID device directory ("0003:0C2E:0B61.0004") with report_descriptor. */
static CtHidMode
mode_from_sysfs (libusb_device *device,
                 guint8         interface_number,
                 CtHidMode      fallback)
{
  guint8 ports[8];
  g_autoptr(GString) name = g_string_new (NULL);
  g_autofree char *dir_path = NULL;
  g_autoptr(GDir) dir = NULL;
  struct libusb_config_descriptor *config = NULL;
  guint8 config_value = 1;
  const char *entry;
  int n;

  n = libusb_get_port_numbers (device, ports, sizeof ports);
  if (n <= 0)
    return fallback;
  if (libusb_get_active_config_descriptor (device, &config) == 0)
    {
      config_value = config->bConfigurationValue;
      libusb_free_config_descriptor (config);
    }

  g_string_printf (name, "%u-", libusb_get_bus_number (device));
  for (int i = 0; i < n; i++)
    g_string_append_printf (name, i == 0 ? "%u" : ".%u", ports[i]);
  g_string_append_printf (name, ":%u.%u", config_value, interface_number);

  dir_path = g_build_filename ("/sys/bus/usb/devices", name->str, NULL);
  dir = g_dir_open (dir_path, 0, NULL);
  if (dir == NULL)
    return fallback;
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *contents = NULL;
      gsize len = 0;
      CtHidMode mode;

      /* bus:vendor:product.instance */
      if (strlen (entry) != 19 || entry[4] != ':' || entry[9] != ':' || entry[14] != '.')
        continue;
      path = g_build_filename (dir_path, entry, "report_descriptor", NULL);
      if (!g_file_get_contents (path, &contents, &len, NULL))
        continue;
      mode = ct_hid_mode_from_report_descriptor ((const guint8 *) contents, len);
      if (mode != CT_HID_MODE_AUTO)
        return mode;
    }
  return fallback;
}

static void
add_hid_interfaces (libusb_device                         *device,
                    const struct libusb_device_descriptor *desc,
                    gpointer                               user_data)
{
  GPtrArray *list = user_data;
  g_autoptr(GArray) interfaces = list_hid_interfaces (device);
  g_autofree char *manufacturer = NULL;
  g_autofree char *product = NULL;
  gboolean accessible;

  if (interfaces->len == 0)
    return;
  accessible = ct_usb_read_names (device, desc, &manufacturer, &product);
  for (guint k = 0; k < interfaces->len; k++)
    {
      HidInterface *h = &g_array_index (interfaces, HidInterface, k);
      CtUsbDeviceInfo *info = g_new0 (CtUsbDeviceInfo, 1);

      info->vendor_id = desc->idVendor;
      info->product_id = desc->idProduct;
      info->bus = libusb_get_bus_number (device);
      info->address = libusb_get_device_address (device);
      info->interface_number = h->interface_number;
      info->endpoint = h->endpoint;
      info->max_packet_size = h->max_packet;
      info->mode = h->mode;
      info->known_vendor = ct_usb_is_known_scanner_vendor (desc->idVendor);
      info->accessible = accessible;
      info->manufacturer = g_strdup (manufacturer);
      info->product = g_strdup (product);
      g_ptr_array_add (list, info);
    }
}

/**
 * ct_usb_list_devices:
 *
 * Lists every HID interface with an interrupt IN endpoint, scanner or not,
 * so a support engineer can find the scanner's VID:PID.
 *
 * Returns: (transfer full) (element-type CtUsbDeviceInfo): the interfaces,
 *   or %NULL with %CT_USB_ERROR_UNAVAILABLE when libusb cannot start.
 */
GPtrArray *
ct_usb_list_devices (GError **error)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_usb_device_info_free);
  int rc = ct_usb_each_device (add_hid_interfaces, list);

  if (rc != 0)
    {
      g_set_error (error, CT_USB_ERROR, CT_USB_ERROR_UNAVAILABLE,
                   "No USB scanners: USB access is not available here (%s)",
                   libusb_strerror (rc));
      return NULL;
    }
  return g_steal_pointer (&list);
}

/* Delivery to the main context. */

typedef enum
{
  DELIVER_SCAN,
  DELIVER_PROBLEM,
  DELIVER_STATE,
} DeliveryKind;

typedef struct
{
  CtUsbScanner *self;
  DeliveryKind  kind;
  CtScan       *scan;
  char         *text;
  gboolean      connected;
} Delivery;

static void
delivery_free (gpointer data)
{
  Delivery *d = data;

  g_object_unref (d->self);
  ct_scan_free (d->scan);
  g_free (d->text);
  g_free (d);
}

static gboolean
deliver_cb (gpointer data)
{
  Delivery *d = data;
  CtUsbScanner *self = d->self;

  switch (d->kind)
    {
    case DELIVER_SCAN:
      g_signal_emit (self, signals[SIGNAL_SCANNED], 0, d->scan);
      break;
    case DELIVER_PROBLEM:
      g_signal_emit (self, signals[SIGNAL_PROBLEM], 0, d->text);
      break;
    case DELIVER_STATE:
      if (g_strcmp0 (self->device_name, d->text) != 0)
        {
          g_free (self->device_name);
          self->device_name = g_strdup (d->text);
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEVICE_NAME]);
        }
      if (self->connected != d->connected)
        {
          self->connected = d->connected;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTED]);
        }
      break;
    default:
      g_assert_not_reached ();
    }
  return G_SOURCE_REMOVE;
}

static void
post (CtUsbScanner *self,
      DeliveryKind  kind,
      CtScan       *scan,
      const char   *text,
      gboolean      connected)
{
  Delivery *d = g_new0 (Delivery, 1);

  d->self = g_object_ref (self);
  d->kind = kind;
  d->scan = scan;
  d->text = g_strdup (text);
  d->connected = connected;
  /* Never on the reader thread (see ct_main_context_post()). */
  ct_main_context_post (self->context, G_PRIORITY_HIGH, deliver_cb, d, delivery_free,
                        "[ct-usb-scanner] deliver");
}

static void
post_problem (CtUsbScanner *self,
              const char   *format,
              ...) G_GNUC_PRINTF (2, 3);

static void
post_problem (CtUsbScanner *self,
              const char   *format,
              ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  post (self, DELIVER_PROBLEM, NULL, text, FALSE);
}

/* Runs one report through the decoder and posts what comes out. Called on
 * the reader thread for every completed transfer. */
void
ct_usb_scanner_handle_report (CtUsbScanner *self,
                              CtHidDecoder *decoder,
                              const char   *device_name,
                              const guint8 *data,
                              gsize         length)
{
  g_autoptr(GError) error = NULL;
  CtScan *scan = NULL;

  if (!ct_hid_decoder_feed (decoder, data, length, &scan, &error))
    post_problem (self, "%s: %s", device_name, error->message);
  if (scan != NULL)
    post (self, DELIVER_SCAN, scan, NULL, TRUE);
}

static void LIBUSB_CALL
transfer_cb (struct libusb_transfer *transfer)
{
  CtUsbScanner *self = transfer->user_data;
  OpenDevice *dev = self->dev;
  gboolean resubmit = FALSE;

  /* A transfer left behind by a device that was closed while it would not
   * cancel belongs to nobody any more. */
  if (dev == NULL || dev->transfer != transfer)
    return;

  switch (transfer->status)
    {
    case LIBUSB_TRANSFER_COMPLETED:
      dev->errors = 0;
      if (transfer->actual_length > 0)
        ct_usb_scanner_handle_report (self, dev->decoder, dev->name, transfer->buffer,
                                      transfer->actual_length);
      resubmit = TRUE;
      break;

    case LIBUSB_TRANSFER_TIMED_OUT:
      resubmit = TRUE;
      break;

    case LIBUSB_TRANSFER_NO_DEVICE:
      dev->gone = TRUE;
      break;

    case LIBUSB_TRANSFER_CANCELLED:
      break;

    case LIBUSB_TRANSFER_STALL:
    case LIBUSB_TRANSFER_OVERFLOW:
    case LIBUSB_TRANSFER_ERROR:
    default:
      /* A garbled transfer spoils the code it was part of. */
      ct_hid_decoder_reset (dev->decoder);
      if (++dev->errors > MAX_TRANSFER_ERRORS)
        {
          post_problem (self, "%s: too many read errors, closing it", dev->name);
          dev->gone = TRUE;
        }
      else
        resubmit = TRUE;
      break;
    }

  if (resubmit && !g_atomic_int_get (&self->stopping))
    {
      if (libusb_submit_transfer (transfer) == 0)
        return;
      dev->gone = TRUE;
    }
  dev->transfer_active = FALSE;
}

static void
close_device (CtUsbScanner *self)
{
  OpenDevice *dev = self->dev;
  gint64 deadline;

  if (dev == NULL)
    return;

  if (dev->transfer_active)
    {
      libusb_cancel_transfer (dev->transfer);
      deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
      while (dev->transfer_active && g_get_monotonic_time () < deadline)
        {
          struct timeval tv = { 0, EVENT_TIMEOUT_US };

          libusb_handle_events_timeout_completed (self->usb, &tv, NULL);
        }
    }

  if (ct_hid_decoder_has_partial (dev->decoder))
    post_problem (self, "%s went away in the middle of a code: scan it again", dev->name);

  /* A transfer that never finished cancelling is left allocated rather
   * than freed under libusb's feet. */
  if (!dev->transfer_active)
    {
      libusb_free_transfer (dev->transfer);
      g_free (dev->buffer);
    }
  if (dev->claimed)
    libusb_release_interface (dev->handle, dev->interface_number);
  libusb_close (dev->handle);

  post (self, DELIVER_STATE, NULL, NULL, FALSE);
  g_debug ("%s closed", dev->name);

  ct_hid_decoder_free (dev->decoder);
  g_free (dev->name);
  g_free (dev->key);
  g_free (dev);
  self->dev = NULL;
}

static gboolean
device_wanted (CtUsbScanner                   *self,
               const struct libusb_device_descriptor *desc)
{
  if (self->vendor_id != 0)
    return desc->idVendor == self->vendor_id
           && (self->product_id == 0 || desc->idProduct == self->product_id);
  return ct_usb_is_known_scanner_vendor (desc->idVendor);
}

/* Decides the report layout: a boot keyboard is switched to the boot
 * protocol; otherwise the report descriptor tells keyboard from HID POS
 * and where a POS scanner puts its fields. */
static CtHidMode
read_mode (libusb_device_handle *handle,
           guint8                interface_number,
           CtHidMode             mode,
           CtHidPosLayout       *layout,
           gboolean             *has_layout)
{
  unsigned char buf[1024];
  int n;

  *has_layout = FALSE;
  if (mode == CT_HID_MODE_KEYBOARD)
    {
      /* Ask for the boot report layout: 8 bytes, whatever the descriptor. */
      libusb_control_transfer (handle,
                               LIBUSB_ENDPOINT_OUT | LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_INTERFACE,
                               HID_SET_PROTOCOL, 0, interface_number, NULL, 0, CONTROL_TIMEOUT_MS);
      return mode;
    }

  n = libusb_control_transfer (handle,
                               LIBUSB_ENDPOINT_IN | LIBUSB_REQUEST_TYPE_STANDARD | LIBUSB_RECIPIENT_INTERFACE,
                               LIBUSB_REQUEST_GET_DESCRIPTOR, HID_DESCRIPTOR_REPORT << 8,
                               interface_number, buf, sizeof buf, CONTROL_TIMEOUT_MS);
  if (n <= 0)
    return CT_HID_MODE_AUTO;
  mode = ct_hid_mode_from_report_descriptor (buf, n);
  if (mode == CT_HID_MODE_POS)
    *has_layout = ct_hid_pos_layout_from_descriptor (buf, n, layout);
  return mode;
}

static void
try_open (CtUsbScanner *self)
{
  libusb_device **devices = NULL;
  ssize_t n;

  n = libusb_get_device_list (self->usb, &devices);
  for (ssize_t i = 0; i < n && self->dev == NULL; i++)
    {
      struct libusb_device_descriptor desc;
      libusb_device_handle *handle = NULL;
      g_autofree char *key = NULL;
      g_autofree char *manufacturer = NULL;
      g_autofree char *product = NULL;
      g_autofree char *names = NULL;
      OpenDevice *dev;
      HidInterface hid;
      guint8 iface, ep;
      guint16 max_packet;
      CtHidMode mode;
      CtHidPosLayout layout;
      gboolean has_layout = FALSE;
      int rc;

      if (libusb_get_device_descriptor (devices[i], &desc) != 0 || !device_wanted (self, &desc))
        continue;
      if (!best_hid_interface (devices[i], &hid))
        continue;
      iface = hid.interface_number;
      ep = hid.endpoint;
      max_packet = hid.max_packet;
      mode = hid.mode;

      key = g_strdup_printf ("%04x:%04x bus %03u device %03u", desc.idVendor, desc.idProduct,
                             libusb_get_bus_number (devices[i]),
                             libusb_get_device_address (devices[i]));
      rc = libusb_open (devices[i], &handle);
      if (rc != 0)
        {
          /* Said once per device, not every second. */
          if (!g_hash_table_contains (self->told, key))
            {
              if (rc == LIBUSB_ERROR_ACCESS)
                post_problem (self, "No permission to open the scanner %s: install the udev rule "
                              "70-cardtill-scanner.rules and plug the scanner in again", key);
              else
                post_problem (self, "Cannot open the scanner %s: %s", key, libusb_strerror (rc));
              g_hash_table_add (self->told, g_strdup (key));
            }
          continue;
        }

      libusb_set_auto_detach_kernel_driver (handle, 1);
      rc = libusb_claim_interface (handle, iface);
      if (rc != 0)
        {
          if (!g_hash_table_contains (self->told, key))
            {
              post_problem (self, "Cannot claim the scanner %s (another program may hold it): %s",
                            key, libusb_strerror (rc));
              g_hash_table_add (self->told, g_strdup (key));
            }
          libusb_close (handle);
          continue;
        }

      manufacturer = ct_usb_read_string (handle, desc.iManufacturer);
      product = ct_usb_read_string (handle, desc.iProduct);
      mode = read_mode (handle, iface, mode, &layout, &has_layout);

      dev = g_new0 (OpenDevice, 1);
      dev->handle = handle;
      dev->claimed = TRUE;
      dev->interface_number = iface;
      dev->endpoint = ep;
      dev->max_packet = max_packet > 0 ? max_packet : 64;
      dev->decoder = ct_hid_decoder_new (mode);
      ct_hid_decoder_set_prefix (dev->decoder, self->prefix);
      ct_hid_decoder_set_suffix (dev->decoder, self->suffix);
      if (has_layout)
        ct_hid_decoder_set_pos_layout (dev->decoder, &layout);
      names = ct_usb_names_text (manufacturer, product, "USB scanner");
      dev->name = g_strdup_printf ("%s (%s)", names, key);
      dev->key = g_steal_pointer (&key);
      dev->buffer = g_malloc0 (dev->max_packet);
      dev->transfer = libusb_alloc_transfer (0);
      libusb_fill_interrupt_transfer (dev->transfer, handle, ep, dev->buffer, dev->max_packet,
                                      transfer_cb, self, 0);
      self->dev = dev;

      rc = libusb_submit_transfer (dev->transfer);
      if (rc != 0)
        {
          post_problem (self, "Cannot read the scanner %s: %s", dev->name, libusb_strerror (rc));
          close_device (self);
          continue;
        }
      dev->transfer_active = TRUE;
      g_hash_table_remove (self->told, dev->key);
      g_debug ("reading %s, mode %s", dev->name, ct_hid_mode_to_string (mode));
      post (self, DELIVER_STATE, NULL, dev->name, TRUE);
    }
  if (devices != NULL)
    libusb_free_device_list (devices, 1);
}

static int LIBUSB_CALL
hotplug_cb (libusb_context        *ctx,
            libusb_device         *device,
            libusb_hotplug_event   event,
            void                  *user_data)
{
  CtUsbScanner *self = user_data;

  /* Only a flag: opening from inside the event handler is not allowed. */
  g_atomic_int_set (&self->rescan, 1);
  return 0;
}

static gpointer
reader_thread (gpointer data)
{
  CtUsbScanner *self = data;
  gint64 next_scan = 0;

  while (!g_atomic_int_get (&self->stopping))
    {
      struct timeval tv = { 0, EVENT_TIMEOUT_US };
      gint64 now = g_get_monotonic_time ();

      if (self->dev == NULL
          && (now >= next_scan || g_atomic_int_compare_and_exchange (&self->rescan, 1, 0)))
        {
          try_open (self);
          next_scan = now + RESCAN_INTERVAL_US;
        }

      libusb_handle_events_timeout_completed (self->usb, &tv, NULL);

      if (self->dev != NULL && (self->dev->gone || !self->dev->transfer_active))
        {
          close_device (self);
          next_scan = 0;
        }
    }

  close_device (self);
  return NULL;
}

/**
 * ct_usb_scanner_start:
 *
 * Starts the reader thread. Scans are delivered on the thread-default main
 * context of the caller.
 *
 * Returns: %FALSE with %CT_USB_ERROR_UNAVAILABLE when libusb cannot start
 *   (no usbfs): the caller says "no USB scanners" once and carries on.
 */
gboolean
ct_usb_scanner_start (CtUsbScanner  *self,
                      GError       **error)
{
  int rc;

  g_return_val_if_fail (CT_IS_USB_SCANNER (self), FALSE);

  if (self->thread != NULL)
    return TRUE;

  rc = libusb_init (&self->usb);
  if (rc != 0)
    {
      self->usb = NULL;
      g_set_error (error, CT_USB_ERROR, CT_USB_ERROR_UNAVAILABLE,
                   "No USB scanners: USB access is not available here (%s)",
                   libusb_strerror (rc));
      return FALSE;
    }

  g_clear_pointer (&self->context, g_main_context_unref);
  self->context = g_main_context_ref_thread_default ();
  g_atomic_int_set (&self->stopping, 0);

  self->has_hotplug = libusb_has_capability (LIBUSB_CAP_HAS_HOTPLUG) != 0;
  if (self->has_hotplug
      && libusb_hotplug_register_callback (self->usb, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED, 0,
                                           self->vendor_id != 0 ? self->vendor_id : LIBUSB_HOTPLUG_MATCH_ANY,
                                           LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
                                           hotplug_cb, self, &self->hotplug) != LIBUSB_SUCCESS)
    self->has_hotplug = FALSE;

  self->thread = g_thread_new ("ct-usb-scanner", reader_thread, self);
  return TRUE;
}

/**
 * ct_usb_scanner_stop:
 *
 * Stops the reader: cancels the transfer, releases the interface (the
 * kernel driver comes back) and closes the device. Safe to call twice.
 */
void
ct_usb_scanner_stop (CtUsbScanner *self)
{
  g_return_if_fail (CT_IS_USB_SCANNER (self));

  if (self->thread == NULL)
    return;

  g_atomic_int_set (&self->stopping, 1);
  libusb_interrupt_event_handler (self->usb);
  g_thread_join (self->thread);
  self->thread = NULL;

  if (self->has_hotplug)
    libusb_hotplug_deregister_callback (self->usb, self->hotplug);
  self->has_hotplug = FALSE;
  libusb_exit (self->usb);
  self->usb = NULL;
}

gboolean
ct_usb_scanner_get_connected (CtUsbScanner *self)
{
  g_return_val_if_fail (CT_IS_USB_SCANNER (self), FALSE);

  return self->connected;
}

const char *
ct_usb_scanner_get_device_name (CtUsbScanner *self)
{
  g_return_val_if_fail (CT_IS_USB_SCANNER (self), NULL);

  return self->device_name;
}

/**
 * ct_usb_scanner_set_prefix:
 *
 * Sets the prefix the scanner is configured to send; takes effect for the
 * next device opened.
 */
void
ct_usb_scanner_set_prefix (CtUsbScanner *self,
                           const char   *prefix)
{
  g_return_if_fail (CT_IS_USB_SCANNER (self));
  g_return_if_fail (self->thread == NULL);

  g_free (self->prefix);
  self->prefix = g_strdup (prefix);
}

void
ct_usb_scanner_set_suffix (CtUsbScanner *self,
                           const char   *suffix)
{
  g_return_if_fail (CT_IS_USB_SCANNER (self));
  g_return_if_fail (self->thread == NULL);

  g_free (self->suffix);
  self->suffix = g_strdup (suffix);
}

/**
 * ct_usb_scanner_new:
 * @vendor_id: the scanner's vendor, or 0 for any known scanner vendor
 * @product_id: the product, or 0 for any product of @vendor_id
 */
CtUsbScanner *
ct_usb_scanner_new (guint16 vendor_id,
                    guint16 product_id)
{
  CtUsbScanner *self = g_object_new (CT_TYPE_USB_SCANNER, NULL);

  self->vendor_id = vendor_id;
  self->product_id = vendor_id != 0 ? product_id : 0;
  return self;
}

static void
ct_usb_scanner_dispose (GObject *object)
{
  CtUsbScanner *self = CT_USB_SCANNER (object);

  ct_usb_scanner_stop (self);

  G_OBJECT_CLASS (ct_usb_scanner_parent_class)->dispose (object);
}

static void
ct_usb_scanner_finalize (GObject *object)
{
  CtUsbScanner *self = CT_USB_SCANNER (object);

  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->told, g_hash_table_unref);
  g_free (self->prefix);
  g_free (self->suffix);
  g_free (self->device_name);

  G_OBJECT_CLASS (ct_usb_scanner_parent_class)->finalize (object);
}

static void
ct_usb_scanner_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  CtUsbScanner *self = CT_USB_SCANNER (object);

  switch (prop_id)
    {
    case PROP_CONNECTED:
      g_value_set_boolean (value, self->connected);
      break;
    case PROP_DEVICE_NAME:
      g_value_set_string (value, self->device_name);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ct_usb_scanner_class_init (CtUsbScannerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ct_usb_scanner_dispose;
  object_class->finalize = ct_usb_scanner_finalize;
  object_class->get_property = ct_usb_scanner_get_property;

  /**
   * CtUsbScanner:connected:
   *
   * Whether a scanner is open and being read.
   */
  properties[PROP_CONNECTED] =
    g_param_spec_boolean ("connected", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * CtUsbScanner:device-name:
   *
   * The open scanner's names and place, or %NULL.
   */
  properties[PROP_DEVICE_NAME] =
    g_param_spec_string ("device-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * CtUsbScanner::scanned:
   * @scan: the complete code
   *
   * Emitted on the main context for every complete code.
   */
  signals[SIGNAL_SCANNED] =
    g_signal_new ("scanned", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, CT_TYPE_SCAN | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * CtUsbScanner::problem:
   * @message: what went wrong, for the cashier or the log
   *
   * A bad report, a scanner unplugged mid-code, a missing permission.
   */
  signals[SIGNAL_PROBLEM] =
    g_signal_new ("problem", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
ct_usb_scanner_init (CtUsbScanner *self)
{
  self->told = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->context = g_main_context_ref_thread_default ();
}
