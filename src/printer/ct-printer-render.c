/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-printer-render"

#include "config.h"

#include <glib/gi18n.h>
#include <pango/pangocairo.h>

#include "ct-text.h"
#include "ct-printer-render.h"

/* Receipts are drawn with Pango into an 8-bit coverage image as wide as
 * the paper, then cut at half coverage into the printer's 1-bit raster.
 * Pango finds a font for every script (Noto CJK for Chinese names), so
 * what the printer gets is the same picture whatever its code page. All
 * positions are whole dots, so the same text is the same dots wherever
 * it stands on the paper. */

#define LINE_GAP        4
#define COLUMN_GAP      16
#define RULE_HEIGHT     2
#define BOTTOM_FEED     24

typedef struct
{
  cairo_t              *cr;          /* NULL while measuring */
  PangoLayout          *layout;
  PangoFontDescription *text_font;
  PangoFontDescription *title_font;
  int                   width;
  int                   y;
  guint                 unknown;
} Pen;

static PangoFontDescription *
font_new (int      px,
          gboolean bold)
{
  PangoFontDescription *font = pango_font_description_from_string ("Sans");

  pango_font_description_set_absolute_size (font, px * PANGO_SCALE);
  if (bold)
    pango_font_description_set_weight (font, PANGO_WEIGHT_BOLD);
  return font;
}

static void
pen_init (Pen     *pen,
          cairo_t *cr,
          int      width)
{
  cairo_font_options_t *options = cairo_font_options_create ();

  pen->cr = cr;
  pen->width = width;
  pen->y = 0;
  pen->unknown = 0;
  pen->layout = pango_cairo_create_layout (cr);
  cairo_font_options_set_antialias (options, CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_style (options, CAIRO_HINT_STYLE_FULL);
  cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_ON);
  pango_cairo_context_set_font_options (pango_layout_get_context (pen->layout), options);
  pango_layout_context_changed (pen->layout);
  cairo_font_options_destroy (options);
  pen->text_font = font_new (CT_RENDER_TEXT_PX, FALSE);
  pen->title_font = font_new (CT_RENDER_TITLE_PX, TRUE);
}

static void
pen_clear (Pen *pen)
{
  g_clear_object (&pen->layout);
  g_clear_pointer (&pen->text_font, pango_font_description_free);
  g_clear_pointer (&pen->title_font, pango_font_description_free);
}

/* Sets the layout up for @text and returns its size in whole dots. */
static void
pen_set (Pen                        *pen,
         const char                 *text,
         const PangoFontDescription *font,
         int                         wrap_width,
         PangoAlignment              align,
         int                        *w,
         int                        *h)
{
  pango_layout_set_font_description (pen->layout, font);
  pango_layout_set_wrap (pen->layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_width (pen->layout, wrap_width > 0 ? wrap_width * PANGO_SCALE : -1);
  pango_layout_set_alignment (pen->layout, align);
  pango_layout_set_text (pen->layout, text, -1);
  pango_layout_get_pixel_size (pen->layout, w, h);
}

static void
pen_show (Pen *pen,
          int  x,
          int  y)
{
  pen->unknown += (guint) pango_layout_get_unknown_glyphs_count (pen->layout);
  if (pen->cr == NULL)
    return;
  cairo_move_to (pen->cr, x, y);
  pango_cairo_show_layout (pen->cr, pen->layout);
}

static void
pen_centered (Pen                        *pen,
              const char                 *text,
              const PangoFontDescription *font)
{
  int avail = pen->width - 2 * CT_RENDER_MARGIN;
  int w, h;

  pen_set (pen, text, font, -1, PANGO_ALIGN_LEFT, &w, &h);
  if (w > avail)
    {
      pen_set (pen, text, font, avail, PANGO_ALIGN_CENTER, &w, &h);
      pen_show (pen, CT_RENDER_MARGIN, pen->y);
    }
  else
    pen_show (pen, CT_RENDER_MARGIN + (avail - w) / 2, pen->y);
  pen->y += h + LINE_GAP;
}

static void
pen_rule (Pen *pen)
{
  pen->y += LINE_GAP;
  if (pen->cr != NULL)
    {
      cairo_rectangle (pen->cr, CT_RENDER_MARGIN, pen->y,
                       pen->width - 2 * CT_RENDER_MARGIN, RULE_HEIGHT);
      cairo_fill (pen->cr);
    }
  pen->y += RULE_HEIGHT + 2 * LINE_GAP;
}

/* A label on the left and its value on the right on one line; when both
 * do not fit, the label has its own line and the value wraps under it,
 * right-aligned. Nothing is ever cut off at the paper's edge. */
static void
pen_row (Pen                 *pen,
         const CtReceiptLine *raw)
{
  g_autofree char *label = ct_text_escape_controls (raw->label);
  g_autofree char *value = ct_text_escape_controls (raw->value);
  CtReceiptLine shown = { label, value };
  const CtReceiptLine *line = &shown;
  int avail = pen->width - 2 * CT_RENDER_MARGIN;
  int lw, lh, vw, vh;

  int lb, vb, base;

  pen_set (pen, line->value, pen->text_font, -1, PANGO_ALIGN_LEFT, &vw, &vh);
  vb = PANGO_PIXELS (pango_layout_get_baseline (pen->layout));
  pen_set (pen, line->label, pen->text_font, -1, PANGO_ALIGN_LEFT, &lw, &lh);
  lb = PANGO_PIXELS (pango_layout_get_baseline (pen->layout));
  if (lw + COLUMN_GAP + vw <= avail)
    {
      /* On one baseline: a Chinese value stands higher than Latin. */
      base = MAX (lb, vb);
      pen_show (pen, CT_RENDER_MARGIN, pen->y + base - lb);
      pen_set (pen, line->value, pen->text_font, -1, PANGO_ALIGN_LEFT, &vw, &vh);
      pen_show (pen, CT_RENDER_MARGIN + avail - vw, pen->y + base - vb);
      pen->y += base + MAX (lh - lb, vh - vb) + LINE_GAP;
      return;
    }

  pen_set (pen, line->label, pen->text_font, avail, PANGO_ALIGN_LEFT, &lw, &lh);
  pen_show (pen, CT_RENDER_MARGIN, pen->y);
  pen->y += lh;
  pen_set (pen, line->value, pen->text_font, avail, PANGO_ALIGN_RIGHT, &vw, &vh);
  pen_show (pen, CT_RENDER_MARGIN, pen->y);
  pen->y += vh + LINE_GAP;
}

static void
pen_document (Pen        *pen,
              const char *title,
              const char *note,
              GPtrArray  *lines)
{
  if (title != NULL)
    pen_centered (pen, title, pen->title_font);
  if (note != NULL)
    pen_centered (pen, note, pen->title_font);
  pen_rule (pen);
  for (guint i = 0; lines != NULL && i < lines->len; i++)
    pen_row (pen, g_ptr_array_index (lines, i));
  pen_rule (pen);
  pen->y += BOTTOM_FEED;
}

/* Cuts the coverage image at half into the raster. */
static CtRaster *
raster_from_coverage (cairo_surface_t *surface)
{
  int width = cairo_image_surface_get_width (surface);
  int height = cairo_image_surface_get_height (surface);
  int stride = cairo_image_surface_get_stride (surface);
  const guint8 *data;
  CtRaster *raster = ct_raster_new ((guint) width, (guint) height);

  cairo_surface_flush (surface);
  data = cairo_image_surface_get_data (surface);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      if (data[(gsize) y * stride + x] >= 0x80)
        raster->bits[(gsize) y * raster->stride + x / 8] |= 0x80 >> (x % 8);

  return raster;
}

typedef void (*DrawFunc) (Pen *pen, gpointer user_data);

/* Measures, then draws, at @width dots. */
static CtRaster *
render (int       width,
        DrawFunc  draw,
        gpointer  user_data,
        guint    *unknown_glyphs)
{
  cairo_surface_t *surface;
  cairo_t *cr;
  Pen pen = { 0 };
  int height;
  CtRaster *raster;

  surface = cairo_image_surface_create (CAIRO_FORMAT_A8, width, 1);
  cr = cairo_create (surface);
  pen_init (&pen, cr, width);
  pen.cr = NULL;
  draw (&pen, user_data);
  height = MAX (pen.y, 1);
  pen_clear (&pen);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);

  surface = cairo_image_surface_create (CAIRO_FORMAT_A8, width, height);
  cr = cairo_create (surface);
  cairo_set_source_rgba (cr, 0, 0, 0, 1);
  pen_init (&pen, cr, width);
  draw (&pen, user_data);
  if (unknown_glyphs != NULL)
    *unknown_glyphs = pen.unknown;
  pen_clear (&pen);
  cairo_destroy (cr);

  raster = raster_from_coverage (surface);
  cairo_surface_destroy (surface);
  return raster;
}

typedef struct
{
  const char *title;
  const char *note;
  GPtrArray  *lines;
} Document;

static void
draw_document (Pen      *pen,
               gpointer  user_data)
{
  Document *doc = user_data;

  pen_document (pen, doc->title, doc->note, doc->lines);
}

/**
 * ct_render_lines:
 * @title: (nullable): centred, bold
 * @note: (nullable): a second bold line, e.g. "PENDING SYNC"
 * @lines: (element-type CtReceiptLine): label and value rows
 * @unknown_glyphs: (out) (optional): characters no font could draw
 *
 * Returns: the document as a raster as wide as @paper.
 */
CtRaster *
ct_render_lines (const char *title,
                 const char *note,
                 GPtrArray  *lines,
                 CtPaper     paper,
                 guint      *unknown_glyphs)
{
  Document doc = { title, note, lines };

  return render ((int) paper, draw_document, &doc, unknown_glyphs);
}

/**
 * ct_render_receipt:
 *
 * Returns: the receipt with the lines of ct_receipt_lines().
 */
CtRaster *
ct_render_receipt (const CtReceiptData *data,
                   CtPaper              paper,
                   guint               *unknown_glyphs)
{
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *title = NULL;

  g_return_val_if_fail (data != NULL, NULL);

  lines = ct_receipt_lines (data);
  title = ct_receipt_title (data);
  return ct_render_lines (title, data->pending ? _("PENDING SYNC") : NULL, lines, paper,
                          unknown_glyphs);
}

/* A black bar from margin to margin shows whether the paper width is
 * set right: on a narrower roll its ends are missing. */
static void
draw_test_page (Pen      *pen,
                gpointer  user_data)
{
  Document *doc = user_data;

  if (pen->cr != NULL)
    {
      cairo_rectangle (pen->cr, CT_RENDER_MARGIN, 0, pen->width - 2 * CT_RENDER_MARGIN, 12);
      cairo_fill (pen->cr);
    }
  pen->y += 12 + 2 * LINE_GAP;
  pen_document (pen, doc->title, doc->note, doc->lines);
}

/**
 * ct_render_test_page:
 * @printer: (nullable): the printer's address, as the cashier set it
 *
 * Returns: a test page: a bar across the printable width, the paper
 *   width, and Chinese text with the yuan sign.
 */
CtRaster *
ct_render_test_page (CtPaper     paper,
                     const char *printer,
                     guint      *unknown_glyphs)
{
  g_autoptr(GPtrArray) lines = ct_receipt_lines_new ();
  Document doc = { _("Printer test"), NULL, lines };

  ct_receipt_lines_add (lines, _("Printer"), g_strdup (printer ? printer : ""));
  ct_receipt_lines_add (lines, _("Paper"), g_strdup_printf (_("%u mm (%u dots)"), ct_paper_mm (paper), (guint) paper));
  /* Fixed Chinese text with the yuan sign: the glyphs that garble when a
   * printer's own code page is used. */
  ct_receipt_lines_add (lines, "中文", g_strdup ("会员 张三 充值 ¥1,234.50"));
  ct_receipt_lines_add (lines, "ABC abc 123", g_strdup ("¥ € $ £"));
  return render ((int) paper, draw_test_page, &doc, unknown_glyphs);
}

typedef struct
{
  const char *text;
  gboolean    title;
} Text;

static void
draw_text (Pen      *pen,
           gpointer  user_data)
{
  Text *t = user_data;
  int w, h;

  pen_set (pen, t->text, t->title ? pen->title_font : pen->text_font, -1, PANGO_ALIGN_LEFT, &w, &h);
  pen_show (pen, 0, 0);
  pen->y = h;
}

/**
 * ct_render_text:
 * @title: the title's font rather than the lines'
 *
 * Returns: one line of text as the receipts draw it, at the left edge of
 *   an 80 mm raster (tests look for it in a receipt).
 */
CtRaster *
ct_render_text (const char *text,
                gboolean    title,
                guint      *unknown_glyphs)
{
  Text t = { text, title };

  return render ((int) CT_PAPER_80MM, draw_text, &t, unknown_glyphs);
}
