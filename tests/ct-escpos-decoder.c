/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-escpos-decoder"
#include "config.h"

#include <cairo.h>
#include <gio/gio.h>
#include <string.h>

#include "ct-escpos-decoder.h"

void
ct_decoded_free (CtDecoded *decoded)
{
  if (decoded == NULL)
    return;
  g_string_free (decoded->ops, TRUE);
  ct_raster_free (decoded->raster);
  g_free (decoded);
}

static void
add_op (CtDecoded  *d,
        const char *op)
{
  if (d->ops->len > 0)
    g_string_append_c (d->ops, ' ');
  g_string_append (d->ops, op);
}

static gboolean
need (gsize        len,
      gsize        at,
      gsize        n,
      const char  *what,
      GError     **error)
{
  if (at + n <= len)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "%s at offset %" G_GSIZE_FORMAT " is cut short", what, at);
  return FALSE;
}

/* Stacks a band under the image so far; every band must be as wide. */
static gboolean
add_band (CtDecoded     *d,
          guint          stride,
          guint          rows,
          const guint8  *bits,
          GError       **error)
{
  CtRaster *grown;
  guint old_height = d->raster ? d->raster->height : 0;

  if (d->raster != NULL && d->raster->stride != stride)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "raster band %u bytes wide after bands of %u", stride, d->raster->stride);
      return FALSE;
    }
  grown = ct_raster_new (stride * 8, old_height + rows);
  if (d->raster != NULL)
    memcpy (grown->bits, d->raster->bits, (gsize) old_height * stride);
  memcpy (grown->bits + (gsize) old_height * stride, bits, (gsize) rows * stride);
  ct_raster_free (d->raster);
  d->raster = grown;
  return TRUE;
}

CtDecoded *
ct_escpos_decode (const guint8  *data,
                  gsize          len,
                  GError       **error)
{
  g_autoptr(CtDecoded) d = g_new0 (CtDecoded, 1);
  gsize at = 0;

  d->ops = g_string_new (NULL);
  while (at < len)
    {
      guint8 b = data[at];
      guint8 c = at + 1 < len ? data[at + 1] : 0;

      if (b == 0x1b && c == '@')
        {
          add_op (d, "init");
          d->inits++;
          at += 2;
        }
      else if (b == 0x1b && c == 'p')
        {
          if (!need (len, at, 5, "ESC p", error))
            return NULL;
          if (data[at + 2] > 1 && data[at + 2] != '0' && data[at + 2] != '1')
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "ESC p for pin %u", data[at + 2]);
              return NULL;
            }
          add_op (d, "drawer");
          d->drawer_kicks++;
          at += 5;
        }
      else if (b == 0x1d && c == 'v')
        {
          guint stride, rows;

          if (!need (len, at, 8, "GS v 0", error))
            return NULL;
          if (data[at + 2] != '0' || data[at + 3] > 3)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "GS v with %02x %02x", data[at + 2], data[at + 3]);
              return NULL;
            }
          stride = data[at + 4] | data[at + 5] << 8;
          rows = data[at + 6] | data[at + 7] << 8;
          if (stride == 0 || rows == 0)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "empty raster band");
              return NULL;
            }
          if (!need (len, at + 8, (gsize) stride * rows, "raster data", error))
            return NULL;
          if (!add_band (d, stride, rows, data + at + 8, error))
            return NULL;
          add_op (d, "raster");
          d->bands++;
          d->max_band_rows = MAX (d->max_band_rows, rows);
          at += 8 + (gsize) stride * rows;
        }
      else if (b == 0x1d && c == 'V')
        {
          guint8 m;

          if (!need (len, at, 3, "GS V", error))
            return NULL;
          m = data[at + 2];
          if (m == 65 || m == 66)
            {
              if (!need (len, at, 4, "GS V", error))
                return NULL;
              at += 4;
            }
          else if (m == 0 || m == 1 || m == 48 || m == 49)
            at += 3;
          else
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "GS V %u", m);
              return NULL;
            }
          add_op (d, "cut");
          d->cuts++;
        }
      else if (b == 0x10 && c == 0x04 && at + 2 < len
               && data[at + 2] >= 1 && data[at + 2] <= 4)
        {
          add_op (d, "status");
          d->status_requests++;
          at += 3;
        }
      else
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                         "unexpected byte 0x%02x at offset %" G_GSIZE_FORMAT, b, at);
          return NULL;
        }
    }

  return g_steal_pointer (&d);
}

/**
 * ct_raster_write_png:
 * @name: file name under the build tree's tests/printer-out/
 *
 * Writes the raster as a black-on-white PNG to look at.
 */
gboolean
ct_raster_write_png (const CtRaster  *raster,
                     const char      *name,
                     char           **out_path)
{
  const char *top = g_getenv ("CT_TOP_BUILDDIR");
  g_autofree char *dir = g_build_filename (top ? top : ".", "tests", "printer-out", NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  cairo_surface_t *surface;
  guint32 *pixels;
  int stride;
  cairo_status_t status;

  g_mkdir_with_parents (dir, 0755);
  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int) raster->width, (int) raster->height);
  cairo_surface_flush (surface);
  pixels = (guint32 *) cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface) / 4;
  for (guint y = 0; y < raster->height; y++)
    for (guint x = 0; x < raster->width; x++)
      pixels[(gsize) y * stride + x] = ct_raster_get (raster, x, y) ? 0x000000 : 0xffffff;
  cairo_surface_mark_dirty (surface);
  status = cairo_surface_write_to_png (surface, path);
  cairo_surface_destroy (surface);
  if (out_path != NULL)
    *out_path = g_steal_pointer (&path);
  return status == CAIRO_STATUS_SUCCESS;
}

static gboolean
ink_box (const CtRaster *r,
         guint          *x0,
         guint          *y0,
         guint          *x1,
         guint          *y1)
{
  gboolean any = FALSE;

  *x0 = *y0 = G_MAXUINT;
  *x1 = *y1 = 0;
  for (guint y = 0; y < r->height; y++)
    for (guint x = 0; x < r->width; x++)
      if (ct_raster_get (r, x, y))
        {
          any = TRUE;
          *x0 = MIN (*x0, x);
          *y0 = MIN (*y0, y);
          *x1 = MAX (*x1, x);
          *y1 = MAX (*y1, y);
        }
  return any;
}

/**
 * ct_raster_find:
 *
 * Looks for the inked part of @needle in @haystack, dot for dot.
 */
gboolean
ct_raster_find (const CtRaster *haystack,
                const CtRaster *needle,
                guint          *out_x,
                guint          *out_y)
{
  guint x0, y0, x1, y1, w, h;

  if (!ink_box (needle, &x0, &y0, &x1, &y1))
    return FALSE;
  w = x1 - x0 + 1;
  h = y1 - y0 + 1;
  if (w > haystack->width || h > haystack->height)
    return FALSE;

  for (guint y = 0; y + h <= haystack->height; y++)
    for (guint x = 0; x + w <= haystack->width; x++)
      {
        gboolean same = TRUE;

        for (guint j = 0; j < h && same; j++)
          for (guint i = 0; i < w && same; i++)
            same = ct_raster_get (haystack, x + i, y + j) == ct_raster_get (needle, x0 + i, y0 + j);
        if (same)
          {
            if (out_x != NULL)
              *out_x = x;
            if (out_y != NULL)
              *out_y = y;
            return TRUE;
          }
      }
  return FALSE;
}

gboolean
ct_raster_equal (const CtRaster *a,
                 const CtRaster *b)
{
  return a->width == b->width && a->height == b->height
         && memcmp (a->bits, b->bits, (gsize) a->stride * a->height) == 0;
}

/* Whether every black dot lies in the columns [left, right). */
gboolean
ct_raster_ink_within (const CtRaster *raster,
                      guint           left,
                      guint           right)
{
  for (guint y = 0; y < raster->height; y++)
    for (guint x = 0; x < raster->width; x++)
      if ((x < left || x >= right) && ct_raster_get (raster, x, y))
        return FALSE;
  return TRUE;
}
