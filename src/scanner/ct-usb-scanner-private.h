/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ct-usb-scanner.h"

G_BEGIN_DECLS

/* The reader thread's path for one completed interrupt transfer: decode,
 * then post the scan or the problem to the main context. Exposed for the
 * benchmark, which drives it from its own thread without a device. */
void ct_usb_scanner_handle_report (CtUsbScanner *self,
                                   CtHidDecoder *decoder,
                                   const char   *device_name,
                                   const guint8 *data,
                                   gsize         length);

G_END_DECLS
