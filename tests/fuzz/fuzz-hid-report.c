/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "fuzz-hid-report"
#include "config.h"

/* The HID report decoder on arbitrary reports. Input: one byte of settings
 * (mode in the low two bits, a prefix and suffix when bit 2 is set, a
 * report descriptor first when bit 3 is set), then reports, each a length
 * byte followed by that many bytes. */

#include <stdint.h>
#include <string.h>

#include "ct-hid-decode.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  CtHidDecoder *decoder;
  CtHidMode mode;
  size_t i = 1;

  if (size < 1)
    return 0;

  switch (data[0] & 0x03)
    {
    case 1:
      mode = CT_HID_MODE_KEYBOARD;
      break;
    case 2:
      mode = CT_HID_MODE_POS;
      break;
    default:
      mode = CT_HID_MODE_AUTO;
      break;
    }
  decoder = ct_hid_decoder_new (mode);
  if (data[0] & 0x04)
    {
      ct_hid_decoder_set_prefix (decoder, "]C0");
      ct_hid_decoder_set_suffix (decoder, "1");
    }
  if ((data[0] & 0x08) && size > 1)
    {
      /* The first chunk is a report descriptor for the HID POS layout. */
      size_t len = MIN ((size_t) data[1], size - 2);
      CtHidPosLayout layout;

      ct_hid_mode_from_report_descriptor (data + 2, len);
      if (ct_hid_pos_layout_from_descriptor (data + 2, len, &layout))
        {
          g_assert (layout.data_offset + layout.data_length <= layout.report_length);
          g_assert (layout.more_bit == CT_HID_POS_ABSENT || layout.more_bit / 8 < layout.report_length);
          ct_hid_decoder_set_pos_layout (decoder, &layout);
        }
      i = 2 + len;
    }

  while (i < size)
    {
      size_t len = data[i++];
      CtScan *scan = NULL;
      GError *error = NULL;

      if (len > size - i)
        len = size - i;
      if (!ct_hid_decoder_feed (decoder, data + i, len, &scan, &error))
        {
          g_assert (error != NULL);
          g_assert (scan == NULL);
          g_error_free (error);
        }
      else
        g_assert (error == NULL);
      if (scan != NULL)
        {
          char *shown = ct_scan_to_display (scan);

          /* Whatever came in, what is shown is valid UTF-8 and never empty. */
          g_assert (g_utf8_validate (shown, -1, NULL));
          g_assert (scan->length > 0 && scan->length <= CT_HID_MAX_SCAN);
          g_assert (strlen (shown) >= 1);
          g_free (shown);
          ct_scan_free (scan);
        }
      i += len;
      if (i < size && data[i - 1] == 0xee)
        ct_hid_decoder_reset (decoder);
    }
  ct_hid_decoder_free (decoder);
  return 0;
}
