/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-usb-device"
#include "config.h"

#include "ct-usb-device.h"

/* The device walk and the string descriptors that `scanner list` and
 * `printer list` share; what each looks for in a device stays with it. */

/**
 * ct_usb_each_device:
 * @func: called with each device and its device descriptor
 *
 * Starts a libusb context of its own, calls @func for every device whose
 * device descriptor reads, and closes the context again: the devices are
 * only valid inside @func.
 *
 * Returns: 0, or libusb_init()'s error code when libusb cannot start
 *   (then @func is not called).
 */
int
ct_usb_each_device (CtUsbDeviceFunc func,
                    gpointer        user_data)
{
  libusb_context *usb = NULL;
  libusb_device **devices = NULL;
  ssize_t n;
  int rc;

  rc = libusb_init (&usb);
  if (rc != 0)
    return rc;

  n = libusb_get_device_list (usb, &devices);
  for (ssize_t i = 0; i < n; i++)
    {
      struct libusb_device_descriptor desc;

      if (libusb_get_device_descriptor (devices[i], &desc) == 0)
        func (devices[i], &desc, user_data);
    }
  if (n >= 0)
    libusb_free_device_list (devices, 1);
  libusb_exit (usb);
  return 0;
}

/**
 * ct_usb_read_names:
 * @manufacturer: (out) (nullable): the manufacturer's name, if it gives one
 * @product: (out) (nullable): the product's name, if it gives one
 *
 * Opens @device just long enough to read its names.
 *
 * Returns: whether this user may open it; both names are %NULL when not.
 */
gboolean
ct_usb_read_names (libusb_device                          *device,
                   const struct libusb_device_descriptor  *desc,
                   char                                  **manufacturer,
                   char                                  **product)
{
  libusb_device_handle *handle = NULL;

  *manufacturer = *product = NULL;
  if (libusb_open (device, &handle) != 0)
    return FALSE;
  *manufacturer = ct_usb_read_string (handle, desc->iManufacturer);
  *product = ct_usb_read_string (handle, desc->iProduct);
  libusb_close (handle);
  return TRUE;
}

/**
 * ct_usb_read_string:
 * @index: the string descriptor's index; 0 means the device has none
 *
 * Returns: (transfer full) (nullable): the string without surrounding
 *   blanks, or %NULL when there is none or it cannot be read.
 */
char *
ct_usb_read_string (libusb_device_handle *handle,
                    guint8                index)
{
  unsigned char buf[256];
  int n;

  if (index == 0)
    return NULL;
  n = libusb_get_string_descriptor_ascii (handle, index, buf, sizeof buf - 1);
  if (n <= 0)
    return NULL;
  buf[n] = '\0';
  return g_strstrip (g_strdup ((const char *) buf));
}

/**
 * ct_usb_names_text:
 * @unnamed: what stands when the device gave neither name
 *
 * Returns: (transfer full): "manufacturer product", either alone, or
 *   @unnamed.
 */
char *
ct_usb_names_text (const char *manufacturer,
                   const char *product,
                   const char *unnamed)
{
  if (manufacturer == NULL && product == NULL)
    return g_strdup (unnamed);
  return g_strjoin (manufacturer && product ? " " : "", manufacturer ? manufacturer : "",
                    product ? product : "", NULL);
}

/* Whether @vendor_id is one of @vendors. */
gboolean
ct_usb_vendor_in (guint16        vendor_id,
                  const guint16 *vendors,
                  gsize          n_vendors)
{
  for (gsize i = 0; i < n_vendors; i++)
    if (vendors[i] == vendor_id)
      return TRUE;
  return FALSE;
}
