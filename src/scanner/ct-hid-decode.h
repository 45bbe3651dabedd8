/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "ct-hid-descriptor.h"

G_BEGIN_DECLS

#define CT_HID_ERROR (ct_hid_error_quark ())

typedef enum
{
  CT_HID_ERROR_SHORT_REPORT,   /* fewer bytes than the report layout needs */
  CT_HID_ERROR_BAD_REPORT,     /* bytes that cannot be a report of this mode */
  CT_HID_ERROR_UNKNOWN_USAGE,  /* a key that no scanner sends inside a code */
  CT_HID_ERROR_TOO_LONG,       /* more data than any code can hold */
} CtHidError;

/* The longest code the decoder assembles; longer input is refused. */
#define CT_HID_MAX_SCAN 4096

/* A complete scan: the decoded bytes (not necessarily UTF-8, always
 * NUL-terminated), with prefix, suffix, AIM identifier and terminator
 * removed, and the AIM symbology identifier ("]C0") when one was sent. */
typedef struct
{
  char      *text;
  gsize      length;
  char       symbology[4];
  CtHidMode  mode;
  gint64     decoded_at;  /* g_get_monotonic_time () of the last report */
} CtScan;

typedef struct _CtHidDecoder CtHidDecoder;

GQuark        ct_hid_error_quark          (void);

CtScan       *ct_scan_new                 (const char   *text,
                                           gsize         length,
                                           const char   *symbology,
                                           CtHidMode     mode);
CtScan       *ct_scan_copy                (const CtScan *scan);
void          ct_scan_free                (CtScan       *scan);
char         *ct_scan_to_display          (const CtScan *scan);
char         *ct_hid_escape_bytes         (const char   *bytes,
                                           gsize         length);

CtHidDecoder *ct_hid_decoder_new          (CtHidMode     mode);
void          ct_hid_decoder_free         (CtHidDecoder *self);
CtHidMode     ct_hid_decoder_get_mode     (CtHidDecoder *self);
void          ct_hid_decoder_set_prefix   (CtHidDecoder *self,
                                           const char   *prefix);
void          ct_hid_decoder_set_suffix   (CtHidDecoder *self,
                                           const char   *suffix);
void          ct_hid_decoder_reset        (CtHidDecoder *self);
gboolean      ct_hid_decoder_has_partial  (CtHidDecoder *self);
gboolean      ct_hid_decoder_feed         (CtHidDecoder *self,
                                           const guint8 *report,
                                           gsize         length,
                                           CtScan      **out_scan,
                                           GError      **error);

void          ct_hid_decoder_set_pos_layout      (CtHidDecoder         *self,
                                                  const CtHidPosLayout *layout);
const char   *ct_hid_mode_to_string       (CtHidMode     mode);
gboolean      ct_hid_mode_from_string     (const char   *text,
                                           CtHidMode    *out_mode);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtScan, ct_scan_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtHidDecoder, ct_hid_decoder_free)

G_END_DECLS
