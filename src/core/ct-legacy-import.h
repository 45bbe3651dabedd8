/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <stdint.h>

#include "ct-csv.h"

G_BEGIN_DECLS

/* Legacy balance import (docs/import.md): reading a store's export of its old
 * card system, mapping its columns, validating every row before anything is
 * sent, and cutting the accepted rows into the chunks sent to /v1/imports. */

#define CT_LEGACY_IMPORT_ERROR (ct_legacy_import_error_quark ())

typedef enum
{
  CT_LEGACY_IMPORT_ERROR_EMPTY,    /* no header row at all */
  CT_LEGACY_IMPORT_ERROR_HEADER,   /* the header row itself is malformed */
  CT_LEGACY_IMPORT_ERROR_MAPPING,  /* a required column is missing, or a --map is wrong */
} CtLegacyImportError;

typedef enum
{
  CT_IMPORT_FIELD_CARD_NO,
  CT_IMPORT_FIELD_NAME,
  CT_IMPORT_FIELD_PHONE,
  CT_IMPORT_FIELD_BALANCE,
  CT_IMPORT_FIELD_POINTS,
  CT_IMPORT_FIELD_LEVEL,
  CT_IMPORT_N_FIELDS,
} CtImportField;

/* Chunk limits of §7. */
#define CT_IMPORT_CHUNK_MAX_ROWS  5000
#define CT_IMPORT_CHUNK_MAX_BYTES (4 * 1024 * 1024)
/* Free-text limits, in characters. */
#define CT_IMPORT_NAME_MAX  64
#define CT_IMPORT_LEVEL_MAX 32

typedef struct
{
  CtCsvEncoding       encoding;      /* AUTO: detect */
  const char * const *maps;          /* "column=field" (field may be "ignore"); NULL-terminated; nullable */
  int                 minor_units;   /* of the merchant's currency */
  const char         *issuer_prefix; /* NULL: CT_CARD_NUMBER_DEFAULT_PREFIX */
} CtImportOptions;

/* One data row after validation. Strings belong to the importer and stay
 * valid until the next call of ct_legacy_import_next(). */
typedef struct
{
  guint64     line;      /* physical line where the row starts */
  gboolean    accepted;
  /* accepted: the normalised number; rejected: the cell as it was (or "") */
  const char *card_no;
  const char *name;      /* NULL when empty; accepted: formula-neutralised; rejected: the cell */
  const char *phone;     /* accepted only; NULL when empty; digits only (ct_phone_normalize) */
  const char *level;     /* accepted only; NULL when empty; formula-neutralised */
  int64_t     balance;   /* minor units */
  int64_t     points;
  const char *code;      /* rejected: a snake_case reason code */
  const char *reason;    /* rejected: a sentence a manager understands */
  /* rejected duplicate_card_no: the line that carries the message of this
   * card number's group (lists of rejects may leave this row out); else 0 */
  guint64     duplicate_of;
} CtImportItem;

typedef struct
{
  guint64 rows;          /* data rows seen so far (blank lines not counted) */
  guint64 accepted;
  guint64 rejected;
  guint64 blank;         /* blank lines skipped */
  int64_t total_balance; /* of accepted rows, minor units */
  int64_t total_points;  /* of accepted rows */
} CtImportTotals;

typedef struct _CtLegacyImport CtLegacyImport;
typedef struct _CtImportChunker CtImportChunker;
typedef struct _CtImportReport CtImportReport;

GQuark          ct_legacy_import_error_quark     (void);

const char     *ct_import_field_to_string        (CtImportField            field);
gboolean        ct_import_field_from_string      (const char              *text,
                                                  CtImportField           *out_field);
gboolean        ct_import_field_for_header       (const char              *header,
                                                  CtImportField           *out_field);

CtLegacyImport *ct_legacy_import_open            (GFile                   *file,
                                                  const CtImportOptions   *options,
                                                  GCancellable            *cancellable,
                                                  GError                 **error);
void            ct_legacy_import_free            (CtLegacyImport          *self);
const char     *ct_legacy_import_get_batch_id    (CtLegacyImport          *self);
CtCsvEncoding   ct_legacy_import_get_encoding    (CtLegacyImport          *self);
guint64         ct_legacy_import_get_size        (CtLegacyImport          *self);
guint64         ct_legacy_import_get_n_rows      (CtLegacyImport          *self);
guint           ct_legacy_import_get_n_columns   (CtLegacyImport          *self);
const char     *ct_legacy_import_get_column_name (CtLegacyImport          *self,
                                                  guint                    column);
int             ct_legacy_import_get_column      (CtLegacyImport          *self,
                                                  CtImportField            field);
gboolean        ct_legacy_import_rewind          (CtLegacyImport          *self,
                                                  GError                 **error);
gboolean        ct_legacy_import_next            (CtLegacyImport          *self,
                                                  CtImportItem            *out_item,
                                                  GCancellable            *cancellable,
                                                  GError                 **error);
guint64         ct_legacy_import_get_bytes_read  (CtLegacyImport          *self);
void            ct_legacy_import_get_totals      (CtLegacyImport          *self,
                                                  CtImportTotals          *out_totals);

char           *ct_import_format_reject          (guint64                  line,
                                                  const char              *reason);
char           *ct_import_format_totals          (const CtImportTotals    *totals,
                                                  int                      minor_units);

CtImportChunker *ct_import_chunker_new           (const char              *batch_id,
                                                  const char              *operator_name,
                                                  const char              *manager_id,
                                                  const char              *manager_pin);
void            ct_import_chunker_free           (CtImportChunker         *self);
gboolean        ct_import_chunker_add            (CtImportChunker         *self,
                                                  const CtImportItem      *item);
guint           ct_import_chunker_get_n_rows     (CtImportChunker         *self);
GBytes         *ct_import_chunker_take           (CtImportChunker         *self);

CtImportReport *ct_import_report_new             (GFile                   *file,
                                                  GError                 **error);
gboolean        ct_import_report_add             (CtImportReport          *self,
                                                  guint64                  line,
                                                  const char              *card_no,
                                                  const char              *code,
                                                  const char              *reason,
                                                  GError                 **error);
gboolean        ct_import_report_close           (CtImportReport          *self,
                                                  GError                 **error);
void            ct_import_report_free            (CtImportReport          *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtLegacyImport, ct_legacy_import_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtImportChunker, ct_import_chunker_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtImportReport, ct_import_report_free)

G_END_DECLS
