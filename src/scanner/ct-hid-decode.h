/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CT_HID_ERROR (ct_hid_error_quark ())

typedef enum
{
  CT_HID_ERROR_SHORT_REPORT,   /* fewer bytes than the report layout needs */
  CT_HID_ERROR_BAD_REPORT,     /* bytes that cannot be a report of this mode */
  CT_HID_ERROR_UNKNOWN_USAGE,  /* a key that no scanner sends inside a code */
  CT_HID_ERROR_TOO_LONG,       /* more data than any code can hold */
} CtHidError;

typedef enum
{
  CT_HID_MODE_AUTO,      /* decide from the first report's size and id */
  CT_HID_MODE_KEYBOARD,  /* boot protocol keyboard, 8-byte reports */
  CT_HID_MODE_POS,       /* HID POS (usage page 0x8C) scanned data reports */
} CtHidMode;

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

CtHidMode     ct_hid_mode_from_report_descriptor (const guint8 *descriptor,
                                                  gsize         length);
gboolean      ct_hid_pos_layout_from_descriptor  (const guint8   *descriptor,
                                                  gsize           length,
                                                  CtHidPosLayout *out_layout);
void          ct_hid_decoder_set_pos_layout      (CtHidDecoder         *self,
                                                  const CtHidPosLayout *layout);
const char   *ct_hid_mode_to_string       (CtHidMode     mode);
gboolean      ct_hid_mode_from_string     (const char   *text,
                                           CtHidMode    *out_mode);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtScan, ct_scan_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtHidDecoder, ct_hid_decoder_free)

G_END_DECLS
