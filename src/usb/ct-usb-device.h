/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <libusb.h>

G_BEGIN_DECLS

/* Called for every USB device whose device descriptor reads. */
typedef void (*CtUsbDeviceFunc) (libusb_device                         *device,
                                 const struct libusb_device_descriptor *desc,
                                 gpointer                               user_data);

int        ct_usb_each_device  (CtUsbDeviceFunc                          func,
                                gpointer                                 user_data);
gboolean   ct_usb_read_names   (libusb_device                           *device,
                                const struct libusb_device_descriptor   *desc,
                                char                                   **manufacturer,
                                char                                   **product);
char      *ct_usb_read_string  (libusb_device_handle                    *handle,
                                guint8                                   index);
char      *ct_usb_names_text   (const char                              *manufacturer,
                                const char                              *product,
                                const char                              *unnamed);
gboolean   ct_usb_vendor_in    (guint16                                  vendor_id,
                                const guint16                           *vendors,
                                gsize                                    n_vendors);

G_END_DECLS
