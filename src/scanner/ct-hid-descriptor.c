/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-hid-descriptor"
#include "config.h"

#include <string.h>

#include "ct-hid-descriptor.h"

/* Reads HID report descriptors: which kind of device (keyboard or HID POS
 * scanner) and, for a HID POS scanner, where its scanned data report puts
 * the byte count, the symbology identifier, the decoded data and the
 * continuation flag. Only what the scanner code needs is interpreted; every
 * other item is skipped. */

/* Reads the short item at *pos into its tag (the prefix without its size
 * bits), its data size in bytes and its little-endian value, and moves *pos
 * past it; long items are skipped.
 *
 * Returns: %FALSE at the end of the descriptor or where an item is cut short. */
static gboolean
next_item (const guint8 *d,
           gsize         len,
           gsize        *pos,
           guint8       *tag,
           gsize        *size,
           guint32      *value)
{
  while (*pos < len)
    {
      guint8 prefix = d[*pos];
      gsize n = prefix & 0x03;

      if (prefix == 0xfe)
        {
          /* A long item: skip it. */
          if (*pos + 1 >= len)
            return FALSE;
          *pos += 3 + d[*pos + 1];
          continue;
        }
      if (n == 3)
        n = 4;
      if (*pos + 1 + n > len)
        return FALSE;
      *value = 0;
      for (gsize k = 0; k < n; k++)
        *value |= (guint32) d[*pos + 1 + k] << (8 * k);
      *tag = prefix & 0xfc;
      *size = n;
      *pos += 1 + n;
      return TRUE;
    }
  return FALSE;
}

/**
 * ct_hid_mode_from_report_descriptor:
 *
 * Finds the usage pages in a HID report descriptor to tell a HID POS
 * scanner (page 0x8C) from a keyboard (page 0x07).
 *
 * Returns: the mode, or %CT_HID_MODE_AUTO when the descriptor says neither.
 */
CtHidMode
ct_hid_mode_from_report_descriptor (const guint8 *d,
                                    gsize         len)
{
  gboolean keyboard = FALSE;
  gsize i = 0;
  guint8 tag;
  gsize size;
  guint32 value;

  while (next_item (d, len, &i, &tag, &size, &value))
    if (tag == 0x04)
      {
        if ((value & 0xffff) == 0x8c)
          return CT_HID_MODE_POS;
        if ((value & 0xffff) == 0x07)
          keyboard = TRUE;
      }
  return keyboard ? CT_HID_MODE_KEYBOARD : CT_HID_MODE_AUTO;
}

#define MAX_USAGES 256
#define USAGE_PAGE_POS 0x8c
#define USAGE_PAGE_DESKTOP 0x01
#define POS_USAGE_BYTE_COUNT 0x3b
#define POS_USAGE_SYMBOLOGY_1 0xfb
#define POS_USAGE_DECODED_DATA 0xfe
#define POS_USAGE_CONTINUED 0xff

typedef struct
{
  gsize data_bit;
  gsize data_bits;
  gsize count_bit;
  gsize symbology_bit[3];
  gsize more_bit;
} PosFields;

static void
record_field (PosFields *f,
              guint32    usage,
              gsize      bit,
              gsize      bits)
{
  guint16 page = usage >> 16;
  guint16 id = usage & 0xffff;

  /* A field of no bits occupies nothing and says nothing. */
  if (bits == 0)
    return;

  if (page == USAGE_PAGE_POS && id == POS_USAGE_DECODED_DATA)
    {
      /* Decoded data may be one buffered field or many byte fields. */
      if (f->data_bit == CT_HID_POS_ABSENT)
        {
          f->data_bit = bit;
          f->data_bits = bits;
        }
      else if (bit == f->data_bit + f->data_bits)
        f->data_bits += bits;
    }
  else if (page == USAGE_PAGE_POS && id >= POS_USAGE_SYMBOLOGY_1 && id < POS_USAGE_SYMBOLOGY_1 + 3
           && bits == 8)
    f->symbology_bit[id - POS_USAGE_SYMBOLOGY_1] = bit;
  else if ((page == USAGE_PAGE_POS || page == USAGE_PAGE_DESKTOP) && id == POS_USAGE_BYTE_COUNT
           && bits == 8)
    f->count_bit = bit;
  else if (page == USAGE_PAGE_POS && id == POS_USAGE_CONTINUED)
    f->more_bit = bit;
}

static gsize
to_byte (gsize bit,
         gsize id_bytes)
{
  return bit == CT_HID_POS_ABSENT ? CT_HID_POS_ABSENT : bit / 8 + id_bytes;
}

/**
 * ct_hid_pos_layout_from_descriptor:
 * @out_layout: (out): filled when the descriptor has a usable layout
 *
 * Walks a report descriptor for the fields of the HID POS scanned data
 * report: Decoded Data (0x8C:0xFE), Symbology Identifier 1-3
 * (0x8C:0xFB-0xFD), Byte Count (0x3B) and Decoded Data Continued
 * (0x8C:0xFF).
 *
 * Returns: %TRUE when the descriptor places the decoded data and either a
 *   byte count or the symbology identifiers, byte aligned; otherwise the
 *   common layout (id 2, count, three identifier bytes, data, flags in the
 *   last byte) is used.
 */
gboolean
ct_hid_pos_layout_from_descriptor (const guint8   *d,
                                   gsize           len,
                                   CtHidPosLayout *out_layout)
{
  guint32 usage_page = 0, report_size = 0, report_count = 0;
  guint8 report_id = 0;
  guint32 stack[4][4];
  guint sp = 0;
  g_autofree guint32 *usages = g_new (guint32, MAX_USAGES);
  guint n_usages = 0;
  guint32 usage_min = 0;
  gboolean have_min = FALSE;
  g_autofree gsize *bits = g_new0 (gsize, 256);
  g_autofree PosFields *fields = g_new (PosFields, 256);
  gboolean uses_ids = FALSE;
  gsize i = 0;
  guint8 tag;
  gsize size;
  guint32 value;

  g_return_val_if_fail (out_layout != NULL, FALSE);

  for (guint r = 0; r < 256; r++)
    {
      fields[r].data_bit = fields[r].count_bit = fields[r].more_bit = CT_HID_POS_ABSENT;
      fields[r].data_bits = 0;
      for (guint k = 0; k < 3; k++)
        fields[r].symbology_bit[k] = CT_HID_POS_ABSENT;
    }

  while (d != NULL && next_item (d, len, &i, &tag, &size, &value))
    {
      switch (tag)
        {
        case 0x04: usage_page = value & 0xffff; break;
        case 0x74: report_size = value; break;
        case 0x94: report_count = value; break;
        case 0x84:
          report_id = value & 0xff;
          uses_ids = TRUE;
          break;
        case 0xa4:
          if (sp < G_N_ELEMENTS (stack))
            {
              stack[sp][0] = usage_page;
              stack[sp][1] = report_size;
              stack[sp][2] = report_count;
              stack[sp][3] = report_id;
              sp++;
            }
          break;
        case 0xb4:
          if (sp > 0)
            {
              sp--;
              usage_page = stack[sp][0];
              report_size = stack[sp][1];
              report_count = stack[sp][2];
              report_id = (guint8) stack[sp][3];
            }
          break;
        case 0x08:
          if (n_usages < MAX_USAGES)
            usages[n_usages++] = size == 4 ? value : (usage_page << 16 | (value & 0xffff));
          break;
        case 0x18:
          usage_min = size == 4 ? value : (usage_page << 16 | (value & 0xffff));
          have_min = TRUE;
          break;
        case 0x28:
          if (have_min)
            {
              guint32 usage_max = size == 4 ? value : (usage_page << 16 | (value & 0xffff));

              for (guint32 u = usage_min; u <= usage_max && n_usages < MAX_USAGES; u++)
                usages[n_usages++] = u;
            }
          break;
        case 0x80:
          {
            gsize field_bits = MIN (report_size, 4096);
            gsize count = MIN (report_count, 65536);
            gsize start = bits[report_id];

            if ((value & 0x01) == 0 && n_usages > 0)
              {
                if (value & 0x100)
                  record_field (&fields[report_id], usages[0], start, field_bits * count);
                else
                  for (gsize f = 0; f < count; f++)
                    record_field (&fields[report_id], usages[MIN (f, n_usages - 1)],
                                  start + f * field_bits, field_bits);
              }
            bits[report_id] = start + field_bits * count;
          }
          n_usages = 0;
          have_min = FALSE;
          break;
        case 0x90:
        case 0xb0:
        case 0xa0:
        case 0xc0:
          n_usages = 0;
          have_min = FALSE;
          break;
        default:
          break;
        }
    }

  for (guint r = 0; r < 256; r++)
    {
      PosFields *f = &fields[r];
      gsize id_bytes = uses_ids ? 1 : 0;
      gboolean has_symbology = f->symbology_bit[0] != CT_HID_POS_ABSENT
                               && f->symbology_bit[1] != CT_HID_POS_ABSENT
                               && f->symbology_bit[2] != CT_HID_POS_ABSENT;

      if (f->data_bit == CT_HID_POS_ABSENT || f->data_bit % 8 != 0 || f->data_bits % 8 != 0
          || f->data_bits == 0)
        continue;
      if ((f->count_bit == CT_HID_POS_ABSENT || f->count_bit % 8 != 0)
          && (!has_symbology || f->symbology_bit[0] % 8 != 0))
        continue;

      out_layout->report_id = uses_ids ? (guint8) r : 0;
      out_layout->report_length = (bits[r] + 7) / 8 + id_bytes;
      out_layout->count_offset = f->count_bit % 8 == 0 ? to_byte (f->count_bit, id_bytes) : CT_HID_POS_ABSENT;
      for (guint k = 0; k < 3; k++)
        out_layout->symbology_offset[k] = has_symbology && f->symbology_bit[k] % 8 == 0
                                          ? to_byte (f->symbology_bit[k], id_bytes)
                                          : CT_HID_POS_ABSENT;
      out_layout->data_offset = to_byte (f->data_bit, id_bytes);
      out_layout->data_length = f->data_bits / 8;
      out_layout->more_bit = f->more_bit == CT_HID_POS_ABSENT ? CT_HID_POS_ABSENT
                                                               : f->more_bit + id_bytes * 8;
      g_assert (out_layout->data_offset + out_layout->data_length <= out_layout->report_length);
      g_assert (out_layout->more_bit == CT_HID_POS_ABSENT
                || out_layout->more_bit / 8 < out_layout->report_length);
      return TRUE;
    }
  return FALSE;
}

