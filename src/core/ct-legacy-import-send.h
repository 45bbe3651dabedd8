/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ct-client.h"
#include "ct-legacy-import.h"

G_BEGIN_DECLS

/* Runs a legacy import (docs/import.md) through the client core: validates
 * every row, sends the accepted ones in chunks of at most 5,000 rows and
 * 4 MiB to POST /v1/imports, each under Idempotency-Key
 * import:<batch_id>:<chunk>, and reports every rejected row (the file's
 * own and the service's). Blocking: call it from a worker thread or the CLI. */

typedef struct
{
  guint64 rows;           /* data rows read */
  guint64 accepted;       /* rows the service holds for this batch (or, in a dry run, would send) */
  guint64 rejected;       /* rows refused, by the file check or by the service */
  int64_t total_balance;  /* of accepted rows */
  int64_t total_points;
  guint   chunks;         /* chunks settled */
  guint64 bytes_read;     /* of the file, for progress */
  guint64 size;
} CtImportProgress;

/* A rejected row: @code is the reason code, @reason human text. */
typedef void (*CtImportRejectFunc)   (guint64                 line,
                                      const char             *card_no,
                                      const char             *code,
                                      const char             *reason,
                                      gpointer                user_data);
/* Called after each chunk (and every few thousand rows of a dry run). */
typedef void (*CtImportProgressFunc) (const CtImportProgress *progress,
                                      gpointer                user_data);
/* Each chunk's answer body exactly as it came (for --json). */
typedef void (*CtImportAnswerFunc)   (GBytes                 *body,
                                      gpointer                user_data);
/* A chunk that got no definitive answer: pending in the outbox (@answer's
 * queued) or not sent at all (not_sent), with its key and reason. */
typedef void (*CtImportUnsettledFunc) (const CtAnswer        *answer,
                                       gpointer               user_data);

typedef struct
{
  CtImportRejectFunc   on_reject;
  CtImportProgressFunc on_progress;
  CtImportAnswerFunc   on_answer;
  CtImportUnsettledFunc on_unsettled;
  gpointer             user_data;
} CtImportCallbacks;

char     *ct_import_chunk_key  (const char              *batch_id,
                                guint                    chunk,
                                guint                    attempt);

gboolean  ct_import_fetch_batch (CtClient               *client,
                                const char             *batch_id,
                                int64_t                *out_rows_accepted,
                                int64_t                *out_total_balance,
                                GError                **error);

gboolean  ct_legacy_import_run (CtLegacyImport          *import,
                                CtClient                *client,
                                const char              *manager_id,
                                const char              *manager_pin,
                                const CtImportCallbacks *callbacks,
                                CtImportProgress        *out_progress,
                                GCancellable            *cancellable,
                                GError                 **error);

G_END_DECLS
