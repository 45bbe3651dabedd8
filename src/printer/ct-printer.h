/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "ct-escpos.h"

G_BEGIN_DECLS

#define CT_PRINTER_ERROR (ct_printer_error_quark ())

/* Every error's message is a sentence for the cashier. */
typedef enum
{
  CT_PRINTER_ERROR_ADDRESS,       /* the printer setting cannot be read */
  CT_PRINTER_ERROR_UNAVAILABLE,   /* no USB on this computer */
  CT_PRINTER_ERROR_NOT_FOUND,     /* no such USB device connected */
  CT_PRINTER_ERROR_NOT_PRINTER,   /* the USB device has no printer interface */
  CT_PRINTER_ERROR_NO_ACCESS,     /* permissions: the udev rule */
  CT_PRINTER_ERROR_BUSY,          /* another program holds it */
  CT_PRINTER_ERROR_REFUSED,       /* nothing listens at the network address */
  CT_PRINTER_ERROR_TIMEOUT,       /* the printer never answered */
  CT_PRINTER_ERROR_PAPER_OUT,
  CT_PRINTER_ERROR_COVER_OPEN,
  CT_PRINTER_ERROR_DISCONNECTED,  /* unplugged or dropped mid-receipt */
  CT_PRINTER_ERROR_FAILED,
} CtPrinterError;

typedef enum
{
  CT_PRINTER_USB,
  CT_PRINTER_TCP,
  CT_PRINTER_FILE,
} CtPrinterKind;

/* Where a printer is: "usb:VID:PID", "tcp:HOST:PORT" or "file:PATH". */
typedef struct
{
  CtPrinterKind  kind;
  guint16        vendor_id;
  guint16        product_id;
  char          *host;
  guint16        port;
  char          *path;
} CtPrinterAddress;

/* A USB device with a printer interface (class 7), for `printer list`. */
typedef struct
{
  guint16   vendor_id;
  guint16   product_id;
  guint8    bus;
  guint8    address;
  guint8    interface_number;
  guint8    out_endpoint;
  guint8    in_endpoint;        /* 0 when the printer cannot report status */
  char     *manufacturer;
  char     *product;
  gboolean  accessible;
  gboolean  generic_vendor;     /* a chip vendor id many cheap printers share */
} CtPrinterUsbInfo;

#define CT_PRINTER_DEFAULT_PORT     9100
#define CT_PRINTER_DEFAULT_TIMEOUT  5

#define CT_TYPE_PRINTER (ct_printer_get_type ())
G_DECLARE_FINAL_TYPE (CtPrinter, ct_printer, CT, PRINTER, GObject)

GQuark            ct_printer_error_quark          (void);

CtPrinterAddress *ct_printer_address_parse        (const char              *text,
                                                   GError                 **error);
char             *ct_printer_address_to_string    (const CtPrinterAddress  *address);
void              ct_printer_address_free         (CtPrinterAddress        *address);

GPtrArray        *ct_printer_list_usb             (GError                 **error);
char             *ct_printer_usb_info_describe    (const CtPrinterUsbInfo  *info);
void              ct_printer_usb_info_free        (CtPrinterUsbInfo        *info);
gboolean          ct_printer_is_generic_vendor    (guint16                  vendor_id);

CtPrinter        *ct_printer_new                  (const CtPrinterAddress  *address);
const CtPrinterAddress *ct_printer_get_address    (CtPrinter               *self);
void              ct_printer_set_timeout          (CtPrinter               *self,
                                                   guint                    seconds);
gboolean          ct_printer_print                (CtPrinter               *self,
                                                   GBytes                  *job,
                                                   GCancellable            *cancellable,
                                                   GError                 **error);
void              ct_printer_print_async          (CtPrinter               *self,
                                                   GBytes                  *job,
                                                   GCancellable            *cancellable,
                                                   GAsyncReadyCallback      callback,
                                                   gpointer                 user_data);
gboolean          ct_printer_print_finish         (CtPrinter               *self,
                                                   GAsyncResult            *result,
                                                   GError                 **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtPrinterAddress, ct_printer_address_free)

G_END_DECLS
