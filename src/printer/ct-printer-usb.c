/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-printer-usb"

#include "config.h"

#include <glib/gi18n.h>
#include <libusb.h>
#include <string.h>

#include "ct-printer-transport.h"
#include "ct-usb-device.h"

/* USB receipt printers are found by their printer interface (class 7),
 * not by vendor: cheap ones carry the id of the USB chip they were built
 * with, and their bulk endpoints are whatever the chip's firmware says,
 * so both are read from the descriptors. The kernel's usblp driver holds
 * the interface; it is detached while cardtill prints and attached again
 * after, so the printer stays usable for CUPS between receipts. */

#define WRITE_CHUNK 4096

/* USB chip vendors that many unbranded receipt printers enumerate as. */
static const guint16 generic_vendors[] = {
  0x0416,  /* Winbond / Nuvoton */
  0x0483,  /* STMicroelectronics */
  0x0fe6,  /* ICS Advent / Kontron */
  0x1fc9,  /* NXP */
  0x28e9,  /* GigaDevice */
};

gboolean
ct_printer_is_generic_vendor (guint16 vendor_id)
{
  return ct_usb_vendor_in (vendor_id, generic_vendors, G_N_ELEMENTS (generic_vendors));
}

typedef struct
{
  guint8 interface_number;
  guint8 alt_setting;
  guint8 out_endpoint;
  guint8 in_endpoint;
} PrinterInterface;

/* The first printer-class interface with a bulk OUT endpoint. */
static gboolean
find_printer_interface (libusb_device    *device,
                        PrinterInterface *out)
{
  struct libusb_config_descriptor *config = NULL;
  gboolean found = FALSE;

  if (libusb_get_active_config_descriptor (device, &config) != 0
      && libusb_get_config_descriptor (device, 0, &config) != 0)
    return FALSE;

  for (int i = 0; i < config->bNumInterfaces && !found; i++)
    for (int a = 0; a < config->interface[i].num_altsetting && !found; a++)
      {
        const struct libusb_interface_descriptor *alt = &config->interface[i].altsetting[a];
        PrinterInterface p = { alt->bInterfaceNumber, alt->bAlternateSetting, 0, 0 };

        if (alt->bInterfaceClass != LIBUSB_CLASS_PRINTER)
          continue;
        for (int e = 0; e < alt->bNumEndpoints; e++)
          {
            const struct libusb_endpoint_descriptor *ep = &alt->endpoint[e];

            if ((ep->bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) != LIBUSB_TRANSFER_TYPE_BULK)
              continue;
            if ((ep->bEndpointAddress & LIBUSB_ENDPOINT_DIR_MASK) == LIBUSB_ENDPOINT_IN)
              {
                if (p.in_endpoint == 0)
                  p.in_endpoint = ep->bEndpointAddress;
              }
            else if (p.out_endpoint == 0)
              p.out_endpoint = ep->bEndpointAddress;
          }
        if (p.out_endpoint != 0)
          {
            *out = p;
            found = TRUE;
          }
      }

  libusb_free_config_descriptor (config);
  return found;
}

void
ct_printer_usb_info_free (CtPrinterUsbInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->manufacturer);
  g_free (info->product);
  g_free (info);
}

/**
 * ct_printer_usb_info_describe:
 *
 * Returns: one line for `printer list`: the address to use, where it is,
 *   its names and endpoints.
 */
char *
ct_printer_usb_info_describe (const CtPrinterUsbInfo *info)
{
  g_autofree char *in = NULL;
  g_autofree char *names = NULL;

  g_return_val_if_fail (info != NULL, NULL);

  in = info->in_endpoint ? g_strdup_printf ("IN 0x%02x", info->in_endpoint)
                         : g_strdup ("no IN (no status)");
  names = ct_usb_names_text (info->manufacturer, info->product, "(names unreadable)");
  return g_strdup_printf ("usb:%04x:%04x  bus %03u device %03u interface %u  %s  OUT 0x%02x %s%s%s",
                          info->vendor_id, info->product_id, info->bus, info->address,
                          info->interface_number, names, info->out_endpoint, in,
                          info->generic_vendor ? "  [generic chip vendor id]" : "",
                          info->accessible ? "" : "  [no permission: see the udev rule]");
}

static void
set_init_error (int      rc,
                GError **error)
{
  g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_UNAVAILABLE,
               _("USB cannot be used on this computer (%s). Use a network printer, or check that /dev/bus/usb is there."),
               libusb_strerror (rc));
}

static void
add_printer (libusb_device                         *device,
             const struct libusb_device_descriptor *desc,
             gpointer                               user_data)
{
  GPtrArray *list = user_data;
  PrinterInterface p;
  CtPrinterUsbInfo *info;

  if (!find_printer_interface (device, &p))
    return;
  info = g_new0 (CtPrinterUsbInfo, 1);
  info->vendor_id = desc->idVendor;
  info->product_id = desc->idProduct;
  info->bus = libusb_get_bus_number (device);
  info->address = libusb_get_device_address (device);
  info->interface_number = p.interface_number;
  info->out_endpoint = p.out_endpoint;
  info->in_endpoint = p.in_endpoint;
  info->generic_vendor = ct_printer_is_generic_vendor (desc->idVendor);
  info->accessible = ct_usb_read_names (device, desc, &info->manufacturer, &info->product);
  g_ptr_array_add (list, info);
}

/**
 * ct_printer_list_usb:
 *
 * Returns: (transfer full) (element-type CtPrinterUsbInfo): every USB
 *   device with a printer interface, or %NULL when libusb cannot start.
 */
GPtrArray *
ct_printer_list_usb (GError **error)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) ct_printer_usb_info_free);
  int rc = ct_usb_each_device (add_printer, list);

  if (rc != 0)
    {
      set_init_error (rc, error);
      return NULL;
    }
  return g_steal_pointer (&list);
}

typedef struct
{
  CtPrinterTransport    parent;
  libusb_context       *usb;
  libusb_device_handle *handle;
  PrinterInterface      iface;
  gboolean              claimed;
  gboolean              detached;
} UsbTransport;

static void
set_transfer_error (CtPrinterTransport  *transport,
                    int                  rc,
                    GError             **error)
{
  switch (rc)
    {
    case LIBUSB_ERROR_NO_DEVICE:
      g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_DISCONNECTED,
                   _("The printer %s was unplugged or switched off. Plug it in and switch it on."),
                   transport->name);
      break;
    case LIBUSB_ERROR_TIMEOUT:
      g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_TIMEOUT,
                   g_dngettext (GETTEXT_PACKAGE,
                                "The printer %s stopped taking data for %u second. Check that it is switched on and has paper.",
                                "The printer %s stopped taking data for %u seconds. Check that it is switched on and has paper.",
                                transport->timeout),
                   transport->name, transport->timeout);
      break;
    default:
      g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_FAILED,
                   _("The printer %s refused the data (%s). Switch it off and on again."),
                   transport->name, libusb_strerror (rc));
      break;
    }
}

static gboolean
usb_write (CtPrinterTransport  *transport,
           const guint8        *data,
           gsize                len,
           gsize               *written,
           GError             **error)
{
  UsbTransport *self = (UsbTransport *) transport;

  /* In chunks, so an unplugged printer is noticed within one chunk. */
  *written = 0;
  while (*written < len)
    {
      int chunk = (int) MIN (len - *written, WRITE_CHUNK);
      int sent = 0;
      int rc = libusb_bulk_transfer (self->handle, self->iface.out_endpoint,
                                     (unsigned char *) data + *written, chunk, &sent,
                                     transport->timeout * 1000);

      *written += (gsize) MAX (sent, 0);
      if (rc != 0)
        {
          set_transfer_error (transport, rc, error);
          return FALSE;
        }
    }
  return TRUE;
}

static gssize
usb_read (CtPrinterTransport  *transport,
          guint8              *buffer,
          gsize                len,
          GError             **error)
{
  UsbTransport *self = (UsbTransport *) transport;
  unsigned char packet[512];
  int got = 0;
  int rc;

  /* A bulk IN read asks for a whole packet; the printer sends fewer. */
  rc = libusb_bulk_transfer (self->handle, self->iface.in_endpoint, packet, sizeof packet, &got,
                             transport->timeout * 1000);
  if (rc == LIBUSB_ERROR_TIMEOUT && got == 0)
    return 0;
  if (rc != 0 && got == 0)
    {
      set_transfer_error (transport, rc, error);
      return -1;
    }
  got = MIN (got, (int) len);
  memcpy (buffer, packet, (gsize) got);
  return got;
}

static void
usb_close (CtPrinterTransport *transport)
{
  UsbTransport *self = (UsbTransport *) transport;

  if (self->claimed)
    libusb_release_interface (self->handle, self->iface.interface_number);
  if (self->detached)
    {
      int rc = libusb_attach_kernel_driver (self->handle, self->iface.interface_number);

      if (rc != 0 && rc != LIBUSB_ERROR_NO_DEVICE)
        g_warning ("%s: the usblp driver could not be attached again: %s",
                   transport->name, libusb_strerror (rc));
    }
  if (self->handle != NULL)
    libusb_close (self->handle);
  if (self->usb != NULL)
    libusb_exit (self->usb);
  g_free (self);
}

static const CtPrinterTransportClass usb_class_with_status = { usb_write, usb_read, usb_close };
static const CtPrinterTransportClass usb_class_without_status = { usb_write, NULL, usb_close };

static libusb_device *
find_device (libusb_context *usb,
             guint16         vendor_id,
             guint16         product_id)
{
  libusb_device **devices = NULL;
  libusb_device *found = NULL;
  ssize_t n = libusb_get_device_list (usb, &devices);

  for (ssize_t i = 0; i < n && found == NULL; i++)
    {
      struct libusb_device_descriptor desc;

      if (libusb_get_device_descriptor (devices[i], &desc) == 0
          && desc.idVendor == vendor_id && desc.idProduct == product_id)
        found = libusb_ref_device (devices[i]);
    }
  if (n >= 0)
    libusb_free_device_list (devices, 1);
  return found;
}

CtPrinterTransport *
ct_printer_usb_open (guint16   vendor_id,
                     guint16   product_id,
                     guint     timeout,
                     GError  **error)
{
  UsbTransport *self = g_new0 (UsbTransport, 1);
  CtPrinterTransport *transport = &self->parent;
  libusb_device *device = NULL;
  int rc;

  transport->klass = &usb_class_without_status;
  transport->timeout = timeout;
  transport->name = g_strdup_printf ("usb:%04x:%04x", vendor_id, product_id);

  rc = libusb_init (&self->usb);
  if (rc != 0)
    {
      self->usb = NULL;
      set_init_error (rc, error);
      goto fail;
    }

  device = find_device (self->usb, vendor_id, product_id);
  if (device == NULL)
    {
      g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_NOT_FOUND,
                   _("The printer %s is not connected. Check its USB cable and that it is switched on."),
                   transport->name);
      goto fail;
    }
  if (!find_printer_interface (device, &self->iface))
    {
      g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_NOT_PRINTER,
                   _("The USB device %s is not a printer. Choose the printer from cardtill-cli printer list."),
                   transport->name);
      goto fail;
    }

  rc = libusb_open (device, &self->handle);
  if (rc != 0)
    {
      if (rc == LIBUSB_ERROR_ACCESS)
        g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_NO_ACCESS,
                     _("This user may not use the printer %s. Install cardtill's udev rule for printers, then plug the printer in again."),
                     transport->name);
      else
        set_transfer_error (transport, rc, error);
      goto fail;
    }

  if (libusb_kernel_driver_active (self->handle, self->iface.interface_number) == 1)
    {
      rc = libusb_detach_kernel_driver (self->handle, self->iface.interface_number);
      if (rc != 0 && rc != LIBUSB_ERROR_NOT_FOUND)
        {
          g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_BUSY,
                       _("The printer %s is held by the system's printer driver (%s)."),
                       transport->name, libusb_strerror (rc));
          goto fail;
        }
      self->detached = rc == 0;
    }

  rc = libusb_claim_interface (self->handle, self->iface.interface_number);
  if (rc != 0)
    {
      if (rc == LIBUSB_ERROR_BUSY)
        g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_BUSY,
                     _("The printer %s is in use by another program. Wait for it to finish, then print again."),
                     transport->name);
      else
        set_transfer_error (transport, rc, error);
      goto fail;
    }
  self->claimed = TRUE;
  if (self->iface.alt_setting != 0)
    libusb_set_interface_alt_setting (self->handle, self->iface.interface_number, self->iface.alt_setting);

  if (self->iface.in_endpoint != 0)
    transport->klass = &usb_class_with_status;
  libusb_unref_device (device);
  return transport;

fail:
  if (device != NULL)
    libusb_unref_device (device);
  ct_printer_transport_close (transport);
  return NULL;
}
