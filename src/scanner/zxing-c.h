/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* The subset of zxing-cpp's C API (wrappers/c/zxing-c.h of 2023, the
 * DecodeHints generation) that cardtill needs, implemented over ZXing-C++
 * 1.4, which Debian 12 ships without it. Names, values and meaning follow
 * upstream, so a zxing-cpp that ships the wrapper can replace this file:
 *
 * - every char * returned is the caller's to free() (not g_free);
 * - zxing_ReadBarcode() returns NULL when no barcode was found;
 * - zxing_ReadBarcodes() returns NULL when the list would be empty;
 * - no C++ exception ever crosses into C.
 *
 * cardtill_zxing_WriteBarcode() is ours (upstream's writer API of that
 * generation did not exist yet); it is the only function here that is not
 * upstream's. */

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zxing_ImageView zxing_ImageView;
typedef struct zxing_DecodeHints zxing_DecodeHints;
typedef struct zxing_Result zxing_Result;
typedef struct zxing_Results zxing_Results;

/* ZXing/ImageView.h */

typedef enum
{
  zxing_ImageFormat_None = 0,
  zxing_ImageFormat_Lum = 0x01000000,
  zxing_ImageFormat_RGB = 0x03000102,
  zxing_ImageFormat_BGR = 0x03020100,
  zxing_ImageFormat_RGBX = 0x04000102,
  zxing_ImageFormat_XRGB = 0x04010203,
  zxing_ImageFormat_BGRX = 0x04020100,
  zxing_ImageFormat_XBGR = 0x04030201,
} zxing_ImageFormat;

zxing_ImageView *zxing_ImageView_new    (const uint8_t    *data,
                                         int               width,
                                         int               height,
                                         zxing_ImageFormat format,
                                         int               rowStride,
                                         int               pixStride);
void             zxing_ImageView_delete (zxing_ImageView  *iv);

/* ZXing/BarcodeFormat.h */

typedef enum
{
  zxing_BarcodeFormat_None = 0,
  zxing_BarcodeFormat_Aztec = (1 << 0),
  zxing_BarcodeFormat_Codabar = (1 << 1),
  zxing_BarcodeFormat_Code39 = (1 << 2),
  zxing_BarcodeFormat_Code93 = (1 << 3),
  zxing_BarcodeFormat_Code128 = (1 << 4),
  zxing_BarcodeFormat_DataBar = (1 << 5),
  zxing_BarcodeFormat_DataBarExpanded = (1 << 6),
  zxing_BarcodeFormat_DataMatrix = (1 << 7),
  zxing_BarcodeFormat_EAN8 = (1 << 8),
  zxing_BarcodeFormat_EAN13 = (1 << 9),
  zxing_BarcodeFormat_ITF = (1 << 10),
  zxing_BarcodeFormat_MaxiCode = (1 << 11),
  zxing_BarcodeFormat_PDF417 = (1 << 12),
  zxing_BarcodeFormat_QRCode = (1 << 13),
  zxing_BarcodeFormat_UPCA = (1 << 14),
  zxing_BarcodeFormat_UPCE = (1 << 15),
  zxing_BarcodeFormat_MicroQRCode = (1 << 16),

  zxing_BarcodeFormat_LinearCodes = zxing_BarcodeFormat_Codabar | zxing_BarcodeFormat_Code39
                                    | zxing_BarcodeFormat_Code93 | zxing_BarcodeFormat_Code128
                                    | zxing_BarcodeFormat_EAN8 | zxing_BarcodeFormat_EAN13
                                    | zxing_BarcodeFormat_ITF | zxing_BarcodeFormat_DataBar
                                    | zxing_BarcodeFormat_DataBarExpanded | zxing_BarcodeFormat_UPCA
                                    | zxing_BarcodeFormat_UPCE,
  zxing_BarcodeFormat_MatrixCodes = zxing_BarcodeFormat_Aztec | zxing_BarcodeFormat_DataMatrix
                                    | zxing_BarcodeFormat_MaxiCode | zxing_BarcodeFormat_PDF417
                                    | zxing_BarcodeFormat_QRCode | zxing_BarcodeFormat_MicroQRCode,
  zxing_BarcodeFormat_Any = zxing_BarcodeFormat_LinearCodes | zxing_BarcodeFormat_MatrixCodes,

  zxing_BarcodeFormat_Invalid = -1,
} zxing_BarcodeFormat;

typedef zxing_BarcodeFormat zxing_BarcodeFormats;

zxing_BarcodeFormats zxing_BarcodeFormatsFromString (const char          *str);
zxing_BarcodeFormat  zxing_BarcodeFormatFromString  (const char          *str);
char                *zxing_BarcodeFormatToString    (zxing_BarcodeFormat  format);

/* ZXing/DecodeHints.h */

zxing_DecodeHints *zxing_DecodeHints_new             (void);
void               zxing_DecodeHints_delete          (zxing_DecodeHints    *hints);
void               zxing_DecodeHints_setTryHarder    (zxing_DecodeHints    *hints,
                                                      bool                  tryHarder);
void               zxing_DecodeHints_setTryRotate    (zxing_DecodeHints    *hints,
                                                      bool                  tryRotate);
void               zxing_DecodeHints_setTryDownscale (zxing_DecodeHints    *hints,
                                                      bool                  tryDownscale);
void               zxing_DecodeHints_setIsPure       (zxing_DecodeHints    *hints,
                                                      bool                  isPure);
void               zxing_DecodeHints_setFormats      (zxing_DecodeHints    *hints,
                                                      zxing_BarcodeFormats  formats);

/* ZXing/Result.h */

bool                zxing_Result_isValid            (const zxing_Result *result);
char               *zxing_Result_errorMsg           (const zxing_Result *result);
zxing_BarcodeFormat zxing_Result_format             (const zxing_Result *result);
char               *zxing_Result_text               (const zxing_Result *result);
uint8_t            *zxing_Result_bytes              (const zxing_Result *result,
                                                     int                *len);
char               *zxing_Result_symbologyIdentifier (const zxing_Result *result);
int                 zxing_Result_orientation        (const zxing_Result *result);
void                zxing_Result_delete             (zxing_Result       *result);

/* ZXing/ReadBarcode.h */

zxing_Result       *zxing_ReadBarcode               (const zxing_ImageView   *iv,
                                                     const zxing_DecodeHints *hints);
zxing_Results      *zxing_ReadBarcodes              (const zxing_ImageView   *iv,
                                                     const zxing_DecodeHints *hints);

int                 zxing_Results_size              (const zxing_Results *results);
const zxing_Result *zxing_Results_at                (const zxing_Results *results,
                                                     int                  i);
void                zxing_Results_delete            (zxing_Results       *results);

/* Ours: renders @text as a barcode of @format into an 8-bit luminance
 * image (0 black, 255 white) of at least @width x @height pixels (0 lets
 * the encoder choose), with a quiet zone of @margin modules (-1: the
 * format's default). Returns the malloc'd pixels (row stride = *out_width)
 * or NULL with a malloc'd message in *error (free() both). */
uint8_t *cardtill_zxing_WriteBarcode (const char          *text,
                                      zxing_BarcodeFormat  format,
                                      int                  width,
                                      int                  height,
                                      int                  margin,
                                      int                 *out_width,
                                      int                 *out_height,
                                      char               **error);

#ifdef __cplusplus
}
#endif
