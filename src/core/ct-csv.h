/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <stdint.h>

G_BEGIN_DECLS

#define CT_CSV_ERROR (ct_csv_error_quark ())

typedef enum
{
  CT_CSV_ERROR_IO,
  CT_CSV_ERROR_BINARY,          /* NUL bytes: not a text file */
  CT_CSV_ERROR_ENCODING,        /* not valid in the detected or forced encoding */
  CT_CSV_ERROR_UNCLOSED_QUOTE,  /* a quoted field still open at end of file */
  CT_CSV_ERROR_RECORD_TOO_LONG, /* one record beyond the size limit */
} CtCsvError;

typedef enum
{
  CT_CSV_ENCODING_AUTO,
  CT_CSV_ENCODING_UTF8,
  CT_CSV_ENCODING_GB18030,
} CtCsvEncoding;

/* A record larger than this is refused: it is nearly always an unclosed
 * quote swallowing the rest of the file, and it bounds the reader's memory. */
#define CT_CSV_DEFAULT_MAX_RECORD (1024 * 1024)

/* What a first pass over a file's raw bytes found out. */
typedef struct
{
  CtCsvEncoding encoding;   /* resolved: UTF8 or GB18030 */
  gboolean      has_bom;    /* UTF-8 byte order mark at the start */
  guint64       size;       /* bytes */
  char          sha256[65]; /* hex SHA-256 of every byte of the file */
} CtCsvSniff;

typedef struct _CtCsvReader CtCsvReader;

GQuark         ct_csv_error_quark             (void);

const char    *ct_csv_encoding_to_string      (CtCsvEncoding   encoding);
gboolean       ct_csv_encoding_from_string    (const char     *text,
                                               CtCsvEncoding  *out_encoding);

gboolean       ct_csv_sniff_file              (GFile          *file,
                                               CtCsvEncoding   forced,
                                               CtCsvSniff     *out_sniff,
                                               GCancellable   *cancellable,
                                               GError        **error);

CtCsvReader   *ct_csv_reader_new              (GInputStream   *stream,
                                               CtCsvEncoding   encoding);
CtCsvReader   *ct_csv_reader_new_for_data     (const char     *data,
                                               gsize           len,
                                               CtCsvEncoding   encoding);
void           ct_csv_reader_free             (CtCsvReader    *self);
void           ct_csv_reader_set_max_record   (CtCsvReader    *self,
                                               gsize           max_record);
gboolean       ct_csv_reader_next             (CtCsvReader    *self,
                                               GCancellable   *cancellable,
                                               GError        **error);
guint          ct_csv_reader_get_n_fields     (CtCsvReader    *self);
const char    *ct_csv_reader_get_field        (CtCsvReader    *self,
                                               guint           index);
gsize          ct_csv_reader_get_field_length (CtCsvReader    *self,
                                               guint           index);
guint64        ct_csv_reader_get_line         (CtCsvReader    *self);
gboolean       ct_csv_reader_is_blank         (CtCsvReader    *self);
const char    *ct_csv_reader_get_problem      (CtCsvReader    *self);
guint64        ct_csv_reader_get_bytes_read   (CtCsvReader    *self);

gboolean       ct_csv_text_is_formula_like    (const char     *text);
char          *ct_csv_neutralize_formula      (const char     *text);
void           ct_csv_append_field            (GString        *out,
                                               const char     *value,
                                               gboolean        formula_safe);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtCsvReader, ct_csv_reader_free)

G_END_DECLS
