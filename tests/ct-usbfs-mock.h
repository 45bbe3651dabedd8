/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <umockdev.h>

G_BEGIN_DECLS

/* What the USB tests' ioctl handlers share to answer usbfs the way the
 * kernel does (the approach of libusb's own tests/umockdev.c): the URBs
 * in flight, completed and cancelled, reaping and discarding them, the
 * capabilities, string descriptors and adding a device to the testbed. */
typedef struct
{
  GList *flying;      /* submitted, waiting for data */
  GList *done;        /* completed, to reap */
  GList *discarded;   /* cancelled, to reap */
} CtUsbfsUrbs;

void      ct_usbfs_urbs_clear           (CtUsbfsUrbs          *urbs);
void      ct_usbfs_answer_capabilities  (UMockdevIoctlClient  *client,
                                         UMockdevIoctlData    *arg);
void      ct_usbfs_reap                 (UMockdevIoctlClient  *client,
                                         UMockdevIoctlData    *arg,
                                         UMockdevIoctlData    *urb_data);
gboolean  ct_usbfs_reap_ready           (CtUsbfsUrbs          *urbs,
                                         UMockdevIoctlClient  *client,
                                         UMockdevIoctlData    *arg,
                                         gboolean              unplugged);
void      ct_usbfs_discard              (CtUsbfsUrbs          *urbs,
                                         UMockdevIoctlClient  *client,
                                         UMockdevIoctlData    *arg);
gsize     ct_usbfs_string_descriptor    (guint8                index,
                                         const char           *manufacturer,
                                         const char           *product,
                                         guint8               *out,
                                         gsize                 max);
gboolean  ct_usbfs_add_device           (UMockdevTestbed      *testbed,
                                         UMockdevIoctlBase    *handler,
                                         const char           *sysfs_path,
                                         guint                 devnum,
                                         const char           *descriptors,
                                         GError              **error);

G_END_DECLS
