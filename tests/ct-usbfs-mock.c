/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-usbfs-mock"
#include "config.h"

#include <errno.h>
#include <linux/ioctl.h>
#include <linux/usbdevice_fs.h>
#include <string.h>

#include "ct-usbfs-mock.h"

void
ct_usbfs_urbs_clear (CtUsbfsUrbs *urbs)
{
  g_list_free_full (g_steal_pointer (&urbs->flying), g_object_unref);
  g_list_free_full (g_steal_pointer (&urbs->done), g_object_unref);
  g_list_free_full (g_steal_pointer (&urbs->discarded), g_object_unref);
}

void
ct_usbfs_answer_capabilities (UMockdevIoctlClient *client,
                              UMockdevIoctlData   *arg)
{
  g_autoptr(UMockdevIoctlData) d = umockdev_ioctl_data_resolve (arg, 0, sizeof (guint32), NULL);

  *(guint32 *) d->data = USBDEVFS_CAP_BULK_CONTINUATION | USBDEVFS_CAP_NO_PACKET_SIZE_LIM
                         | USBDEVFS_CAP_REAP_AFTER_DISCONNECT | USBDEVFS_CAP_ZERO_PACKET;
  umockdev_ioctl_client_complete (client, 0, 0);
}

/* Hands @urb_data back to the client as the reaped URB. */
void
ct_usbfs_reap (UMockdevIoctlClient *client,
               UMockdevIoctlData   *arg,
               UMockdevIoctlData   *urb_data)
{
  g_autoptr(UMockdevIoctlData) urb_ptr = umockdev_ioctl_data_resolve (arg, 0, sizeof (gpointer), NULL);

  umockdev_ioctl_data_set_ptr (urb_ptr, 0, urb_data);
  umockdev_ioctl_client_complete (client, 0, 0);
  g_object_unref (urb_data);
}

static UMockdevIoctlData *
pop (GList **list)
{
  UMockdevIoctlData *urb_data = (*list)->data;

  *list = g_list_delete_link (*list, *list);
  return urb_data;
}

/* REAPURB: a cancelled URB first, then a completed one; once unplugged,
 * the URBs in flight end with ESHUTDOWN, then ENODEV. Returns FALSE
 * when none of these applies and the caller decides. */
gboolean
ct_usbfs_reap_ready (CtUsbfsUrbs         *urbs,
                     UMockdevIoctlClient *client,
                     UMockdevIoctlData   *arg,
                     gboolean             unplugged)
{
  UMockdevIoctlData *urb_data;

  if (urbs->discarded != NULL)
    {
      urb_data = pop (&urbs->discarded);
      ((struct usbdevfs_urb *) urb_data->data)->status = -ENOENT;
      ct_usbfs_reap (client, arg, urb_data);
      return TRUE;
    }
  if (urbs->done != NULL)
    {
      ct_usbfs_reap (client, arg, pop (&urbs->done));
      return TRUE;
    }
  if (!unplugged)
    return FALSE;
  if (urbs->flying != NULL)
    {
      urb_data = pop (&urbs->flying);
      ((struct usbdevfs_urb *) urb_data->data)->status = -ESHUTDOWN;
      ((struct usbdevfs_urb *) urb_data->data)->actual_length = 0;
      ct_usbfs_reap (client, arg, urb_data);
      return TRUE;
    }
  umockdev_ioctl_client_complete (client, -1, ENODEV);
  return TRUE;
}

static gint
cmp_client_addr (gconstpointer data,
                 gconstpointer addr)
{
  return ((const UMockdevIoctlData *) data)->client_addr != (gulong) addr;
}

/* DISCARDURB: the URB in flight is cancelled and reaped later. */
void
ct_usbfs_discard (CtUsbfsUrbs         *urbs,
                  UMockdevIoctlClient *client,
                  UMockdevIoctlData   *arg)
{
  GList *l = g_list_find_custom (urbs->flying, *(void **) arg->data, cmp_client_addr);

  if (l == NULL)
    {
      umockdev_ioctl_client_complete (client, -1, EINVAL);
      return;
    }
  urbs->discarded = g_list_append (urbs->discarded, l->data);
  urbs->flying = g_list_delete_link (urbs->flying, l);
  umockdev_ioctl_client_complete (client, 0, 0);
}

/* String descriptor @index: 0 the languages, 1 @manufacturer, 2 @product. */
gsize
ct_usbfs_string_descriptor (guint8      index,
                            const char *manufacturer,
                            const char *product,
                            guint8     *out,
                            gsize       max)
{
  const char *text = index == 1 ? manufacturer : index == 2 ? product : NULL;
  gsize n = 0;

  if (index == 0)
    {
      const guint8 langs[] = { 4, 3, 0x09, 0x04 };

      memcpy (out, langs, MIN (max, sizeof langs));
      return MIN (max, sizeof langs);
    }
  if (text == NULL)
    return 0;
  out[n++] = (guint8) (2 + 2 * strlen (text));
  out[n++] = 3;
  for (const char *p = text; *p && n + 2 <= max; p++)
    {
      out[n++] = (guint8) *p;
      out[n++] = 0;
    }
  return MIN (n, max);
}

/* Adds /dev/bus/usb/001/@devnum with @descriptors (hex) at @sysfs_path,
 * its ioctls answered by @handler. */
gboolean
ct_usbfs_add_device (UMockdevTestbed    *testbed,
                     UMockdevIoctlBase  *handler,
                     const char         *sysfs_path,
                     guint               devnum,
                     const char         *descriptors,
                     GError            **error)
{
  g_autofree char *node = g_strdup_printf ("/dev/bus/usb/001/%03u", devnum);
  g_autofree char *description = NULL;

  if (!umockdev_testbed_attach_ioctl (testbed, node, handler, error))
    return FALSE;
  description = g_strdup_printf ("P: %s\n"
                                 "N: bus/usb/001/%03u\n"
                                 "E: SUBSYSTEM=usb\n"
                                 "E: DRIVER=usb\n"
                                 "E: BUSNUM=001\n"
                                 "E: DEVNUM=%03u\n"
                                 "E: DEVNAME=%s\n"
                                 "E: DEVTYPE=usb_device\n"
                                 "A: bConfigurationValue=1\\n\n"
                                 "A: busnum=1\\n\n"
                                 "A: devnum=%u\\n\n"
                                 "A: speed=12\\n\n"
                                 "H: descriptors=%s\n",
                                 sysfs_path, devnum, devnum, node, devnum, descriptors);
  return umockdev_testbed_add_from_string (testbed, description, error);
}
