/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "fuzz-usbmon"
#include "config.h"

/* The capture reader (usbmon text, hid-recorder, hex lines) and the replay
 * decoding after it, on arbitrary bytes. */

#include <stdint.h>

#include "ct-capture.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
decode (CtCapture  *capture,
        const char *device)
{
  GPtrArray *scans = NULL;
  GPtrArray *warnings = NULL;
  GError *error = NULL;

  if (ct_capture_decode (capture, device, CT_HID_MODE_AUTO, "P", NULL, &scans, &warnings, &error))
    {
      g_assert (scans != NULL && scans->len > 0);
      g_ptr_array_unref (scans);
      g_ptr_array_unref (warnings);
    }
  else
    {
      g_assert (error != NULL);
      g_error_free (error);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  GError *error = NULL;
  CtCapture *capture = ct_capture_parse ((const char *) data, size, &error);

  if (capture == NULL)
    {
      g_assert (error != NULL);
      g_error_free (error);
      return 0;
    }
  decode (capture, NULL);
  decode (capture, "1:5");
  decode (capture, "0");
  ct_capture_free (capture);
  return 0;
}
