/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "ct-hid-decode.h"

G_BEGIN_DECLS

#define CT_CAPTURE_ERROR (ct_capture_error_quark ())

typedef enum
{
  CT_CAPTURE_ERROR_UNRECOGNISED, /* not usbmon, hid-recorder or hex lines */
  CT_CAPTURE_ERROR_BAD_LINE,     /* a line of a known format that is malformed */
  CT_CAPTURE_ERROR_TRUNCATED,    /* usbmon cut the data of a report */
  CT_CAPTURE_ERROR_NO_DEVICE,    /* --device names nothing in the capture */
  CT_CAPTURE_ERROR_AMBIGUOUS,    /* more than one device produced scans */
  CT_CAPTURE_ERROR_NO_SCANS,     /* nothing in the capture decodes to a scan */
} CtCaptureError;

typedef enum
{
  CT_CAPTURE_FORMAT_USBMON,
  CT_CAPTURE_FORMAT_HID_RECORDER,
  CT_CAPTURE_FORMAT_HEX,
} CtCaptureFormat;

typedef struct
{
  guint8 *data;
  gsize   length;
  guint   line;
} CtCaptureReport;

/* The reports of one source: a usbmon interrupt-in endpoint
 * ("BUS:DEV:EP"), an hid-recorder device ("0", "1"…) or the hex lines. */
typedef struct
{
  char      *id;
  CtHidMode  mode_hint;
  gboolean   has_pos_layout;   /* from an hid-recorder descriptor */
  CtHidPosLayout pos_layout;
  GArray    *reports;          /* of CtCaptureReport */
  guint      truncated_line;   /* first line with cut data, 0 if none */
  gsize      truncated_length;
  gsize      truncated_shown;
} CtCaptureStream;

typedef struct
{
  CtCaptureFormat  format;
  GPtrArray       *streams;    /* of CtCaptureStream */
} CtCapture;

GQuark      ct_capture_error_quark (void);

CtCapture  *ct_capture_parse       (const char  *text,
                                    gsize        length,
                                    GError     **error);
void        ct_capture_free        (CtCapture   *capture);
const char *ct_capture_format_to_string (CtCaptureFormat format);

gboolean    ct_capture_decode      (CtCapture   *capture,
                                    const char  *device,
                                    CtHidMode    mode,
                                    const char  *prefix,
                                    const char  *suffix,
                                    GPtrArray  **out_scans,
                                    GPtrArray  **out_warnings,
                                    GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtCapture, ct_capture_free)

G_END_DECLS
