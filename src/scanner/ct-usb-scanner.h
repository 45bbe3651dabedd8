/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "ct-hid-decode.h"

G_BEGIN_DECLS

#define CT_USB_ERROR (ct_usb_error_quark ())

typedef enum
{
  CT_USB_ERROR_UNAVAILABLE,  /* no usbfs: libusb cannot start on this machine */
  CT_USB_ERROR_ACCESS,       /* the device exists but may not be opened */
  CT_USB_ERROR_IO,           /* claiming or reading the device failed */
} CtUsbError;

/* One HID interface of a USB device. */
typedef struct
{
  guint16    vendor_id;
  guint16    product_id;
  guint8     bus;
  guint8     address;
  guint8     interface_number;
  guint8     endpoint;          /* the interrupt IN endpoint address */
  guint16    max_packet_size;
  char      *manufacturer;      /* NULL when the device could not be opened */
  char      *product;
  CtHidMode  mode;              /* keyboard (boot), pos (page 0x8C) or auto: unknown */
  gboolean   known_vendor;      /* a barcode scanner maker */
  gboolean   accessible;        /* this user may open it */
} CtUsbDeviceInfo;

#define CT_TYPE_SCAN (ct_scan_get_type ())
#define CT_TYPE_USB_SCANNER (ct_usb_scanner_get_type ())

G_DECLARE_FINAL_TYPE (CtUsbScanner, ct_usb_scanner, CT, USB_SCANNER, GObject)

GQuark         ct_usb_error_quark             (void);
GType          ct_scan_get_type               (void) G_GNUC_CONST;

gboolean       ct_usb_is_known_scanner_vendor (guint16          vendor_id);
gboolean       ct_usb_parse_vid_pid           (const char      *text,
                                               guint16         *vendor_id,
                                               guint16         *product_id);
void           ct_usb_device_info_free        (CtUsbDeviceInfo *info);
char          *ct_usb_device_info_describe    (const CtUsbDeviceInfo *info);
GPtrArray     *ct_usb_list_devices            (GError         **error);

CtUsbScanner  *ct_usb_scanner_new             (guint16          vendor_id,
                                               guint16          product_id);
void           ct_usb_scanner_set_prefix      (CtUsbScanner    *self,
                                               const char      *prefix);
void           ct_usb_scanner_set_suffix      (CtUsbScanner    *self,
                                               const char      *suffix);
gboolean       ct_usb_scanner_start           (CtUsbScanner    *self,
                                               GError         **error);
void           ct_usb_scanner_stop            (CtUsbScanner    *self);
gboolean       ct_usb_scanner_get_connected   (CtUsbScanner    *self);
const char    *ct_usb_scanner_get_device_name (CtUsbScanner    *self);

G_END_DECLS
