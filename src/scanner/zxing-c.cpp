/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-zxing"
#include "config.h"

/* zxing-c over ZXing-C++ 1.4: see zxing-c.h. Every entry point catches
 * everything, so an exception thrown by ZXing (bad content for a format, an
 * allocation failure) becomes a NULL or an error string in C. */

#define ZX_USE_UTF8 1

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <ZXing/BarcodeFormat.h>
#include <ZXing/BitMatrix.h>
#include <ZXing/DecodeHints.h>
#include <ZXing/ImageView.h>
#include <ZXing/MultiFormatWriter.h>
#include <ZXing/ReadBarcode.h>
#include <ZXing/Result.h>

#include "zxing-c.h"

struct zxing_ImageView
{
  ZXing::ImageView view;
};

struct zxing_DecodeHints
{
  ZXing::DecodeHints hints;
};

struct zxing_Result
{
  ZXing::Result result;
};

struct zxing_Results
{
  std::vector<zxing_Result> results;
};

namespace {

char *
copy_string (std::string_view sv) noexcept
{
  char *ret = static_cast<char *> (std::malloc (sv.size () + 1));

  if (ret != nullptr)
    {
      if (!sv.empty ())
        std::memcpy (ret, sv.data (), sv.size ());
      ret[sv.size ()] = '\0';
    }
  return ret;
}

int
count_bits (unsigned int v) noexcept
{
  int n = 0;

  for (; v != 0; v &= v - 1)
    n++;
  return n;
}

bool
known_image_format (zxing_ImageFormat format) noexcept
{
  switch (format)
    {
    case zxing_ImageFormat_Lum:
    case zxing_ImageFormat_RGB:
    case zxing_ImageFormat_BGR:
    case zxing_ImageFormat_RGBX:
    case zxing_ImageFormat_XRGB:
    case zxing_ImageFormat_BGRX:
    case zxing_ImageFormat_XBGR:
      return true;
    case zxing_ImageFormat_None:
    default:
      return false;
    }
}

} // namespace

extern "C" {

zxing_ImageView *
zxing_ImageView_new (const uint8_t    *data,
                     int               width,
                     int               height,
                     zxing_ImageFormat format,
                     int               rowStride,
                     int               pixStride)
{
  if (data == nullptr || width <= 0 || height <= 0 || !known_image_format (format))
    return nullptr;
  try
    {
      auto cpp_format = static_cast<ZXing::ImageFormat> (format);

      return new zxing_ImageView { ZXing::ImageView (data, width, height, cpp_format,
                                                     rowStride, pixStride) };
    }
  catch (...)
    {
      return nullptr;
    }
}

void
zxing_ImageView_delete (zxing_ImageView *iv)
{
  delete iv;
}

zxing_BarcodeFormats
zxing_BarcodeFormatsFromString (const char *str)
{
  if (str == nullptr)
    return zxing_BarcodeFormat_None;
  try
    {
      auto formats = ZXing::BarcodeFormatsFromString (str);
      unsigned int bits = 0;

      for (auto f : formats)
        bits |= static_cast<unsigned int> (f);
      return static_cast<zxing_BarcodeFormats> (bits);
    }
  catch (...)
    {
      return zxing_BarcodeFormat_Invalid;
    }
}

zxing_BarcodeFormat
zxing_BarcodeFormatFromString (const char *str)
{
  zxing_BarcodeFormats formats = zxing_BarcodeFormatsFromString (str);

  if (formats == zxing_BarcodeFormat_Invalid
      || count_bits (static_cast<unsigned int> (formats)) != 1)
    return zxing_BarcodeFormat_Invalid;
  return formats;
}

char *
zxing_BarcodeFormatToString (zxing_BarcodeFormat format)
{
  try
    {
      return copy_string (ZXing::ToString (static_cast<ZXing::BarcodeFormat> (format)));
    }
  catch (...)
    {
      return nullptr;
    }
}

zxing_DecodeHints *
zxing_DecodeHints_new (void)
{
  return new (std::nothrow) zxing_DecodeHints ();
}

void
zxing_DecodeHints_delete (zxing_DecodeHints *hints)
{
  delete hints;
}

void
zxing_DecodeHints_setTryHarder (zxing_DecodeHints *hints,
                                bool               tryHarder)
{
  if (hints != nullptr)
    hints->hints.setTryHarder (tryHarder);
}

void
zxing_DecodeHints_setTryRotate (zxing_DecodeHints *hints,
                                bool               tryRotate)
{
  if (hints != nullptr)
    hints->hints.setTryRotate (tryRotate);
}

void
zxing_DecodeHints_setTryDownscale (zxing_DecodeHints *hints,
                                   bool               tryDownscale)
{
  if (hints != nullptr)
    hints->hints.setTryDownscale (tryDownscale);
}

void
zxing_DecodeHints_setIsPure (zxing_DecodeHints *hints,
                             bool               isPure)
{
  if (hints != nullptr)
    hints->hints.setIsPure (isPure);
}

void
zxing_DecodeHints_setFormats (zxing_DecodeHints    *hints,
                              zxing_BarcodeFormats  formats)
{
  if (hints != nullptr)
    hints->hints.setFormats (static_cast<ZXing::BarcodeFormat> (formats));
}

bool
zxing_Result_isValid (const zxing_Result *result)
{
  return result != nullptr && result->result.isValid ();
}

char *
zxing_Result_errorMsg (const zxing_Result *result)
{
  if (result == nullptr)
    return nullptr;
  try
    {
      return copy_string (ZXing::ToString (result->result.error ()));
    }
  catch (...)
    {
      return nullptr;
    }
}

zxing_BarcodeFormat
zxing_Result_format (const zxing_Result *result)
{
  if (result == nullptr)
    return zxing_BarcodeFormat_None;
  return static_cast<zxing_BarcodeFormat> (result->result.format ());
}

char *
zxing_Result_text (const zxing_Result *result)
{
  if (result == nullptr)
    return nullptr;
  try
    {
      return copy_string (result->result.text ());
    }
  catch (...)
    {
      return nullptr;
    }
}

uint8_t *
zxing_Result_bytes (const zxing_Result *result,
                    int                *len)
{
  uint8_t *ret;

  if (len == nullptr)
    return nullptr;
  *len = 0;
  if (result == nullptr)
    return nullptr;
  try
    {
      const auto &bytes = result->result.bytes ();

      ret = static_cast<uint8_t *> (std::malloc (bytes.size () + 1));
      if (ret == nullptr)
        return nullptr;
      if (!bytes.empty ())
        std::memcpy (ret, bytes.data (), bytes.size ());
      *len = static_cast<int> (bytes.size ());
      return ret;
    }
  catch (...)
    {
      return nullptr;
    }
}

char *
zxing_Result_symbologyIdentifier (const zxing_Result *result)
{
  if (result == nullptr)
    return nullptr;
  try
    {
      return copy_string (result->result.symbologyIdentifier ());
    }
  catch (...)
    {
      return nullptr;
    }
}

int
zxing_Result_orientation (const zxing_Result *result)
{
  return result != nullptr ? result->result.orientation () : 0;
}

void
zxing_Result_delete (zxing_Result *result)
{
  delete result;
}

zxing_Result *
zxing_ReadBarcode (const zxing_ImageView   *iv,
                   const zxing_DecodeHints *hints)
{
  if (iv == nullptr)
    return nullptr;
  try
    {
      ZXing::DecodeHints defaults;
      auto res = ZXing::ReadBarcode (iv->view, hints != nullptr ? hints->hints : defaults);

      if (res.format () == ZXing::BarcodeFormat::None)
        return nullptr;
      return new zxing_Result { std::move (res) };
    }
  catch (...)
    {
      return nullptr;
    }
}

zxing_Results *
zxing_ReadBarcodes (const zxing_ImageView   *iv,
                    const zxing_DecodeHints *hints)
{
  if (iv == nullptr)
    return nullptr;
  try
    {
      ZXing::DecodeHints defaults;
      auto res = ZXing::ReadBarcodes (iv->view, hints != nullptr ? hints->hints : defaults);
      auto *out = new zxing_Results ();

      if (res.empty ())
        {
          delete out;
          return nullptr;
        }
      out->results.reserve (res.size ());
      for (auto &r : res)
        out->results.push_back (zxing_Result { std::move (r) });
      return out;
    }
  catch (...)
    {
      return nullptr;
    }
}

int
zxing_Results_size (const zxing_Results *results)
{
  return results != nullptr ? static_cast<int> (results->results.size ()) : 0;
}

const zxing_Result *
zxing_Results_at (const zxing_Results *results,
                  int                  i)
{
  if (results == nullptr || i < 0 || i >= static_cast<int> (results->results.size ()))
    return nullptr;
  return &results->results[static_cast<size_t> (i)];
}

void
zxing_Results_delete (zxing_Results *results)
{
  delete results;
}

uint8_t *
cardtill_zxing_WriteBarcode (const char          *text,
                             zxing_BarcodeFormat  format,
                             int                  width,
                             int                  height,
                             int                  margin,
                             int                 *out_width,
                             int                 *out_height,
                             char               **error)
{
  if (error != nullptr)
    *error = nullptr;
  if (out_width != nullptr)
    *out_width = 0;
  if (out_height != nullptr)
    *out_height = 0;

  if (text == nullptr || out_width == nullptr || out_height == nullptr
      || count_bits (static_cast<unsigned int> (format)) != 1 || width < 0 || height < 0
      || width > 20000 || height > 20000)
    {
      if (error != nullptr)
        *error = copy_string ("invalid arguments");
      return nullptr;
    }

  try
    {
      ZXing::MultiFormatWriter writer (static_cast<ZXing::BarcodeFormat> (format));
      uint8_t *pixels;

      if (margin >= 0)
        writer.setMargin (margin);
      if (format == zxing_BarcodeFormat_QRCode || format == zxing_BarcodeFormat_Aztec
          || format == zxing_BarcodeFormat_PDF417)
        writer.setEncoding (ZXing::CharacterSet::UTF8);

      ZXing::BitMatrix matrix = writer.encode (std::string (text), width, height);
      int w = matrix.width ();
      int h = matrix.height ();

      if (w <= 0 || h <= 0)
        throw std::runtime_error ("the encoder produced an empty image");
      pixels = static_cast<uint8_t *> (std::malloc (static_cast<size_t> (w) * h));
      if (pixels == nullptr)
        throw std::bad_alloc ();
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          pixels[static_cast<size_t> (y) * w + x] = matrix.get (x, y) ? 0 : 255;
      *out_width = w;
      *out_height = h;
      return pixels;
    }
  catch (const std::exception &e)
    {
      if (error != nullptr)
        *error = copy_string (e.what ());
      return nullptr;
    }
  catch (...)
    {
      if (error != nullptr)
        *error = copy_string ("unknown encoder failure");
      return nullptr;
    }
}

} // extern "C"
