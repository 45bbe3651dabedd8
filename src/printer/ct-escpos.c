/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-escpos"

#include "config.h"

#include <string.h>

#include "ct-escpos.h"

/* ESC/POS, the command set of the receipt printers sold to shops. Only
 * the few commands every model has are used: ESC @ (initialise), GS v 0
 * (a raster image), GS V (cut), ESC p (cash drawer pulse) and DLE EOT
 * (real-time status). Text never goes through the printer's own fonts:
 * it is drawn into the raster, so no code page can garble a name or the
 * yuan sign. */

#define ESC 0x1b
#define GS  0x1d
#define DLE 0x10
#define EOT 0x04

/* DLE EOT 2 (offline cause) and DLE EOT 4 (roll paper sensor), each
 * answered with one byte. */
#define STATUS_OFFLINE  2
#define STATUS_PAPER    4

gboolean
ct_paper_from_mm (guint    mm,
                  CtPaper *out)
{
  g_return_val_if_fail (out != NULL, FALSE);

  if (mm == 58)
    *out = CT_PAPER_58MM;
  else if (mm == 80)
    *out = CT_PAPER_80MM;
  else
    return FALSE;
  return TRUE;
}

guint
ct_paper_mm (CtPaper paper)
{
  return paper == CT_PAPER_80MM ? 80 : 58;
}

CtRaster *
ct_raster_new (guint width,
               guint height)
{
  CtRaster *raster;

  g_return_val_if_fail (width > 0 && width % 8 == 0, NULL);

  raster = g_new0 (CtRaster, 1);
  raster->width = width;
  raster->height = height;
  raster->stride = width / 8;
  raster->bits = g_malloc0 ((gsize) raster->stride * MAX (height, 1));
  return raster;
}

void
ct_raster_free (CtRaster *raster)
{
  if (raster == NULL)
    return;
  g_free (raster->bits);
  g_free (raster);
}

gboolean
ct_raster_get (const CtRaster *raster,
               guint           x,
               guint           y)
{
  g_return_val_if_fail (raster != NULL, FALSE);

  if (x >= raster->width || y >= raster->height)
    return FALSE;
  return (raster->bits[(gsize) y * raster->stride + x / 8] & (0x80 >> (x % 8))) != 0;
}

/**
 * ct_escpos_init:
 *
 * ESC @: clears what a previous job may have left set.
 */
void
ct_escpos_init (GByteArray *out)
{
  static const guint8 cmd[] = { ESC, '@' };

  g_byte_array_append (out, cmd, sizeof cmd);
}

/**
 * ct_escpos_raster:
 *
 * The image as GS v 0 commands (normal density), one per band of at most
 * %CT_ESCPOS_BAND_ROWS rows.
 */
void
ct_escpos_raster (GByteArray     *out,
                  const CtRaster *raster)
{
  g_return_if_fail (raster != NULL);

  for (guint y = 0; y < raster->height; y += CT_ESCPOS_BAND_ROWS)
    {
      guint rows = MIN (CT_ESCPOS_BAND_ROWS, raster->height - y);
      guint8 head[8] = {
        GS, 'v', '0', 0,
        raster->stride & 0xff, raster->stride >> 8,
        rows & 0xff, rows >> 8,
      };

      g_byte_array_append (out, head, sizeof head);
      g_byte_array_append (out, raster->bits + (gsize) y * raster->stride,
                           (guint) ((gsize) rows * raster->stride));
    }
}

/**
 * ct_escpos_cut:
 *
 * GS V 66 0: feeds the paper to the cutter and cuts, leaving a hinge
 * (partial cut) where the model has one.
 */
void
ct_escpos_cut (GByteArray *out)
{
  static const guint8 cmd[] = { GS, 'V', 66, 0 };

  g_byte_array_append (out, cmd, sizeof cmd);
}

/**
 * ct_escpos_drawer_kick:
 *
 * ESC p 0: a 50 ms pulse on the drawer connector's pin 2, then 500 ms
 * off, which opens the cash drawers sold with these printers.
 */
void
ct_escpos_drawer_kick (GByteArray *out)
{
  static const guint8 cmd[] = { ESC, 'p', 0, 25, 250 };

  g_byte_array_append (out, cmd, sizeof cmd);
}

/**
 * ct_escpos_status_request:
 *
 * DLE EOT 2 and DLE EOT 4: the printer answers with
 * ct_escpos_status_length() bytes, even while it is offline.
 */
void
ct_escpos_status_request (GByteArray *out)
{
  static const guint8 cmd[] = { DLE, EOT, STATUS_OFFLINE, DLE, EOT, STATUS_PAPER };

  g_byte_array_append (out, cmd, sizeof cmd);
}

gsize
ct_escpos_status_length (void)
{
  return 2;
}

/* A status byte has bit 1 and bit 4 set, bits 0 and 7 clear. */
static gboolean
is_status_byte (guint8 b)
{
  return (b & 0x93) == 0x12;
}

/**
 * ct_escpos_parse_status:
 * @answer: what the printer sent back to ct_escpos_status_request()
 *
 * Returns: %FALSE when @answer is not two status bytes.
 */
gboolean
ct_escpos_parse_status (const guint8    *answer,
                        gsize            len,
                        CtPrinterStatus *status)
{
  g_return_val_if_fail (status != NULL, FALSE);

  memset (status, 0, sizeof *status);
  if (len != ct_escpos_status_length () || !is_status_byte (answer[0]) || !is_status_byte (answer[1]))
    return FALSE;

  /* Offline cause: bit 2 cover open, bit 5 stopped at paper end. Paper
   * sensor: bits 5 and 6 paper end (bits 2 and 3, near end, still print). */
  status->cover_open = (answer[0] & 0x04) != 0;
  status->paper_out = (answer[0] & 0x20) != 0 || (answer[1] & 0x60) != 0;
  return TRUE;
}

/**
 * ct_escpos_document:
 * @raster: the rendered receipt or report
 * @open_drawer: pulse the cash drawer after the cut
 *
 * Returns: the whole job: initialise, the raster, cut, and the drawer
 *   pulse when asked for.
 */
GBytes *
ct_escpos_document (const CtRaster *raster,
                    gboolean        open_drawer)
{
  GByteArray *out = g_byte_array_new ();

  g_return_val_if_fail (raster != NULL, NULL);

  ct_escpos_init (out);
  ct_escpos_raster (out, raster);
  ct_escpos_cut (out);
  if (open_drawer)
    ct_escpos_drawer_kick (out);

  return g_byte_array_free_to_bytes (out);
}
