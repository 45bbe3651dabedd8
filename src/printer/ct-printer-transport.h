/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ct-printer.h"

G_BEGIN_DECLS

/* One way of reaching a printer. Every call blocks for at most the
 * transport's timeout; CtPrinter runs them on a worker thread. */
typedef struct _CtPrinterTransport CtPrinterTransport;

typedef struct
{
  /* Writes all of @data or fails; *@written says how much went out. */
  gboolean (*write) (CtPrinterTransport *self,
                     const guint8       *data,
                     gsize               len,
                     gsize              *written,
                     GError            **error);
  /* Reads what arrives within the timeout (0 bytes: nothing came); NULL
   * when the transport cannot read (a file, a USB printer without an IN
   * endpoint). */
  gssize   (*read)  (CtPrinterTransport *self,
                     guint8             *buffer,
                     gsize               len,
                     GError            **error);
  void     (*close) (CtPrinterTransport *self);
} CtPrinterTransportClass;

struct _CtPrinterTransport
{
  const CtPrinterTransportClass *klass;
  guint                          timeout;     /* seconds */
  char                          *name;        /* for messages */
};

CtPrinterTransport *ct_printer_usb_open   (guint16        vendor_id,
                                           guint16        product_id,
                                           guint          timeout,
                                           GError       **error);
CtPrinterTransport *ct_printer_tcp_open   (const char    *host,
                                           guint16        port,
                                           guint          timeout,
                                           GCancellable  *cancellable,
                                           GError       **error);
CtPrinterTransport *ct_printer_file_open  (const char    *path,
                                           GError       **error);
void                ct_printer_transport_close (CtPrinterTransport *transport);

G_END_DECLS
