/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-barcode-image"

#include "config.h"

#include <glib/gi18n.h>

#include "ct-barcode.h"
#include "ct-barcode-image.h"

/* The screens' side of ZXing: the card's barcode and the enrollment QR
 * code as textures, and reading a card from a photo off the main loop. */

/**
 * ct_barcode_image_texture:
 * @text: what the code holds
 * @kind: a Code 128 barcode or a QR code
 *
 * Returns: (transfer full) (nullable): the code, black on white.
 */
GdkTexture *
ct_barcode_image_texture (const char          *text,
                          CtBarcodeImageKind   kind,
                          GError             **error)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;

  g_return_val_if_fail (text != NULL, NULL);

  if (kind == CT_BARCODE_IMAGE_QR)
    pixbuf = ct_barcode_encode (text, zxing_BarcodeFormat_QRCode, 240, 240, error);
  else
    pixbuf = ct_barcode_encode (text, zxing_BarcodeFormat_Code128, 420, 140, error);

  if (pixbuf == NULL)
    return NULL;

  return gdk_texture_new_for_pixbuf (pixbuf);
}

/* The few cards on the counter come back again and again (scan, top up,
 * pay): their barcodes are kept instead of being drawn anew each time. */
#define TEXTURE_CACHE_SIZE 16

typedef struct
{
  char       *key;
  GdkTexture *texture;
} CachedTexture;

static GQueue texture_cache = G_QUEUE_INIT;

static void
cached_texture_free (CachedTexture *cached)
{
  g_free (cached->key);
  g_object_unref (cached->texture);
  g_free (cached);
}

/**
 * ct_barcode_image_texture_cached:
 *
 * Like ct_barcode_image_texture(), remembering the last few codes drawn.
 * Main thread only.
 *
 * Returns: (transfer full) (nullable): the code, black on white.
 */
GdkTexture *
ct_barcode_image_texture_cached (const char          *text,
                                 CtBarcodeImageKind   kind,
                                 GError             **error)
{
  g_autofree char *key = g_strdup_printf ("%d:%s", (int) kind, text);
  CachedTexture *cached;
  GdkTexture *texture;

  for (GList *l = texture_cache.head; l != NULL; l = l->next)
    {
      cached = l->data;
      if (g_str_equal (cached->key, key))
        {
          /* Most recently used first. */
          g_queue_unlink (&texture_cache, l);
          g_queue_push_head_link (&texture_cache, l);
          return g_object_ref (cached->texture);
        }
    }

  texture = ct_barcode_image_texture (text, kind, error);
  if (texture == NULL)
    return NULL;

  cached = g_new0 (CachedTexture, 1);
  cached->key = g_steal_pointer (&key);
  cached->texture = g_object_ref (texture);
  g_queue_push_head (&texture_cache, cached);
  while (texture_cache.length > TEXTURE_CACHE_SIZE)
    cached_texture_free (g_queue_pop_tail (&texture_cache));

  return texture;
}

static void
decode_file_thread (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  const char *path = task_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) found = NULL;
  const CtBarcode *first;

  found = ct_barcode_decode_file (path, &error);
  if (found == NULL)
    {
      const char *message;

      /* Say it the way a cashier understands it. */
      if (g_error_matches (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_NOT_FOUND))
        message = _("No barcode or QR code was found in this picture. Try a sharper photo.");
      else if (g_error_matches (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_TOO_LARGE))
        message = _("This picture is too large to read. Use a smaller photo.");
      else if (g_error_matches (error, CT_BARCODE_ERROR, CT_BARCODE_ERROR_NOT_IMAGE))
        message = _("This file is not a picture.");
      else
        message = _("This picture could not be read.");

      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", message);
      return;
    }

  if (found->len == 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                               _("No barcode or QR code was found in this picture. Try a sharper photo."));
      return;
    }

  first = g_ptr_array_index (found, 0);
  g_task_return_pointer (task, g_strdup (first->text), g_free);
}

/**
 * ct_barcode_image_decode_file_async:
 * @path: an image file
 *
 * Reads the first barcode or QR code of @path on a worker thread.
 */
void
ct_barcode_image_decode_file_async (const char          *path,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, ct_barcode_image_decode_file_async);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_set_return_on_cancel (task, TRUE);
  g_task_run_in_thread (task, decode_file_thread);
}

char *
ct_barcode_image_decode_file_finish (GAsyncResult  *result,
                                     GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
