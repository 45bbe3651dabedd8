/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  CT_HID_MODE_AUTO,      /* decide from the first report's size and id */
  CT_HID_MODE_KEYBOARD,  /* boot protocol keyboard, 8-byte reports */
  CT_HID_MODE_POS,       /* HID POS (usage page 0x8C) scanned data reports */
} CtHidMode;

/* Where a HID POS scanner puts the parts of its scanned data report, as
 * its report descriptor says. Offsets are in bytes from the start of the
 * report as read (report id included); CT_HID_POS_ABSENT for a part the
 * report does not have. */
#define CT_HID_POS_ABSENT G_MAXSIZE

typedef struct
{
  guint8 report_id;            /* 0: the device uses no report ids */
  gsize  report_length;
  gsize  count_offset;         /* Byte Count */
  gsize  symbology_offset[3];  /* Symbology Identifier 1, 2, 3 */
  gsize  data_offset;          /* Decoded Data */
  gsize  data_length;
  gsize  more_bit;             /* Decoded Data Continued, in bits */
} CtHidPosLayout;

CtHidMode ct_hid_mode_from_report_descriptor (const guint8   *descriptor,
                                              gsize           length);
gboolean  ct_hid_pos_layout_from_descriptor  (const guint8   *descriptor,
                                              gsize           length,
                                              CtHidPosLayout *out_layout);

G_END_DECLS
