/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-legacy-import"
#include "config.h"

#include "ct-legacy-import-send.h"

#include <json-c/json.h>
#include <string.h>

typedef struct
{
  guint64  line;
  char    *card_no;
  int64_t  balance;
  int64_t  points;
} SentRow;

static void
sent_row_clear (gpointer data)
{
  SentRow *row = data;

  g_free (row->card_no);
}

/**
 * ct_import_chunk_key:
 * @attempt: the key's number, from 1
 *
 * The Idempotency-Key of chunk @chunk (numbered from 1) of a batch:
 * import:<batch_id>:<chunk>, then import:<batch_id>:<chunk>:<attempt>.
 * Each chunk carries the manager's PIN, which the service leaves out of a
 * request's identity, so a rerun after a wrong PIN gets the stored refusal
 * back under the first key (a service from before that answers 422
 * idempotency_key_reused). Such a chunk goes on to the next key, until one
 * the service has not seen: the keys are the same on every rerun, so a
 * chunk a kill left unsettled finds its answer, and rows are idempotent by
 * (batch_id, card_no) in the service whatever the key, so no row can go
 * in twice. No key derives from the PIN.
 */
char *
ct_import_chunk_key (const char *batch_id,
                     guint       chunk,
                     guint       attempt)
{
  g_return_val_if_fail (batch_id != NULL, NULL);

  if (attempt <= 1)
    return g_strdup_printf ("import:%s:%u", batch_id, chunk);
  return g_strdup_printf ("import:%s:%u:%u", batch_id, chunk, attempt);
}

static const char *
error_code_of (GBytes *body)
{
  static const char *known[] = { "idempotency_key_reused", "forbidden", NULL };
  g_autoptr(GString) text = NULL;
  json_object *root, *err = NULL, *code = NULL;
  const char *found = NULL;

  if (body == NULL)
    return NULL;
  text = g_string_new_len (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  root = json_tokener_parse (text->str);
  if (root != NULL && json_object_object_get_ex (root, "error", &err) && err != NULL
      && json_object_object_get_ex (err, "code", &code) && code != NULL
      && json_object_is_type (code, json_type_string))
    {
      for (guint i = 0; known[i] != NULL; i++)
        if (strcmp (json_object_get_string (code), known[i]) == 0)
          found = known[i];
    }
  json_object_put (root);
  return found;
}

static gboolean
bad_answer (GError     **error,
            const char  *why)
{
  g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_BAD_ANSWER,
               "The service's answer to an import chunk is not valid: %s", why);
  return FALSE;
}

/* Reads {"accepted": N, "rejected": [{"line", "code", "message"}]} and
 * settles each sent row: accepted, or rejected with the service's reason. */
static gboolean
settle_chunk (GBytes                   *body,
              GArray                   *sent,
              const CtImportCallbacks  *callbacks,
              CtImportProgress         *progress,
              GError                  **error)
{
  g_autoptr(GString) text = NULL;
  g_autoptr(GHashTable) rejected_lines = g_hash_table_new_full (g_int64_hash, g_int64_equal,
                                                                 g_free, NULL);
  json_object *root, *accepted = NULL, *rejected = NULL;
  gsize n_rejected;
  int64_t n_accepted;
  gboolean ok = FALSE;

  if (body == NULL)
    return bad_answer (error, "it is empty");
  text = g_string_new_len (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  root = json_tokener_parse (text->str);
  if (root == NULL || !json_object_is_type (root, json_type_object)
      || !json_object_object_get_ex (root, "accepted", &accepted) || accepted == NULL
      || !json_object_is_type (accepted, json_type_int)
      || !json_object_object_get_ex (root, "rejected", &rejected) || rejected == NULL
      || !json_object_is_type (rejected, json_type_array))
    {
      bad_answer (error, "\"accepted\" and \"rejected\" are missing");
      goto out;
    }
  n_accepted = json_object_get_int64 (accepted);
  n_rejected = json_object_array_length (rejected);
  if (n_accepted < 0 || (guint64) n_accepted + n_rejected != sent->len)
    {
      bad_answer (error, "its counts do not add up to the rows sent");
      goto out;
    }

  for (gsize i = 0; i < n_rejected; i++)
    {
      json_object *r = json_object_array_get_idx (rejected, i);
      json_object *line = NULL, *code = NULL, *message = NULL;

      if (r == NULL || !json_object_is_type (r, json_type_object)
          || !json_object_object_get_ex (r, "line", &line) || line == NULL
          || !json_object_is_type (line, json_type_int)
          || !json_object_object_get_ex (r, "code", &code) || code == NULL
          || !json_object_is_type (code, json_type_string)
          || !json_object_object_get_ex (r, "message", &message) || message == NULL
          || !json_object_is_type (message, json_type_string))
        {
          bad_answer (error, "a rejected row lacks its line, code or message");
          goto out;
        }
      {
        gint64 *key = g_new (gint64, 1);

        *key = json_object_get_int64 (line);
        g_hash_table_insert (rejected_lines, key, r);
      }
    }

  for (guint i = 0; i < sent->len; i++)
    {
      SentRow *row = &g_array_index (sent, SentRow, i);
      gint64 line = (gint64) row->line;
      json_object *r = g_hash_table_lookup (rejected_lines, &line);

      if (r != NULL)
        {
          json_object *code = NULL, *message = NULL;

          json_object_object_get_ex (r, "code", &code);
          json_object_object_get_ex (r, "message", &message);
          progress->rejected++;
          if (callbacks != NULL && callbacks->on_reject != NULL)
            callbacks->on_reject (row->line, row->card_no, json_object_get_string (code),
                                  json_object_get_string (message), callbacks->user_data);
        }
      else
        {
          progress->accepted++;
          progress->total_balance += row->balance;
          progress->total_points += row->points;
        }
    }
  ok = TRUE;

out:
  json_object_put (root);
  return ok;
}

/* Chunks sent at once: while the service commits one, it parses the next
 * and this side reads the one after. Two keep both of a till's cores busy;
 * more would only wait for the service's single committer. */
#define CT_IMPORT_IN_FLIGHT 2

typedef struct
{
  CtClient     *client;
  const char   *batch_id;
  guint         chunk_no;
  GBytes       *body;
  GArray       *sent;        /* SentRow */
  GCancellable *cancellable;
  /* Set by the sender, under the pipeline's lock. */
  CtAnswer     *answer;
  GError       *error;
  gboolean      done;
} Chunk;

static void
chunk_free (Chunk *chunk)
{
  g_bytes_unref (chunk->body);
  g_array_unref (chunk->sent);
  g_clear_pointer (&chunk->answer, ct_answer_free);
  g_clear_error (&chunk->error);
  g_free (chunk);
}

/* The chunks sent and not settled yet, oldest first, and the threads that
 * send them. Each chunk still has its own key and outbox entry: one that a
 * kill leaves unsettled is settled by the rerun, whatever its neighbours
 * did. */
typedef struct
{
  GThreadPool *senders;
  GQueue       chunks;
  GMutex       lock;
  GCond        cond;
} Pipeline;

/* How many keys a chunk goes through (ct_import_chunk_key): one rerun
 * after a wrong PIN takes one more. */
#define CT_IMPORT_CHUNK_KEYS 64

/* Whether @answer was given for another try of the chunk, which a rerun
 * passes over to the next key: a refused PIN replayed (a stored 403 says
 * nothing about the rows) or a key bound to other bytes. */
static gboolean
answer_is_another_try (const CtAnswer *answer)
{
  const char *code = error_code_of (answer->body);

  return (answer->status == 422 && g_strcmp0 (code, "idempotency_key_reused") == 0)
         || (answer->status == 403 && answer->replayed && g_strcmp0 (code, "forbidden") == 0);
}

/* Sends a chunk under its key and waits for the answer; a key whose
 * answer belongs to another try (a rerun with another PIN) sends it again
 * under the next key (ct_import_chunk_key). In a sender thread. */
static void
send_chunk (gpointer data,
            gpointer user_data)
{
  Chunk *chunk = data;
  Pipeline *pipeline = user_data;
  CtAnswer *answer = NULL;
  GError *error = NULL;

  for (guint attempt = 1; attempt <= CT_IMPORT_CHUNK_KEYS; attempt++)
    {
      g_autofree char *key = ct_import_chunk_key (chunk->batch_id, chunk->chunk_no, attempt);
      g_autoptr(CtRequest) request = ct_request_import_chunk (chunk->body, key);

      g_clear_pointer (&answer, ct_answer_free);
      answer = ct_client_send (chunk->client, request, chunk->cancellable, &error);
      if (answer == NULL || !answer_is_another_try (answer))
        break;
    }

  g_mutex_lock (&pipeline->lock);
  chunk->answer = answer;
  chunk->error = error;
  chunk->done = TRUE;
  g_cond_broadcast (&pipeline->cond);
  g_mutex_unlock (&pipeline->lock);
}

/* Settles a chunk from its answer, in the caller's thread (the callbacks'). */
static gboolean
settle_answer (Chunk                    *chunk,
               const CtImportCallbacks  *callbacks,
               CtImportProgress         *progress,
               GError                  **error)
{
  CtAnswer *answer = chunk->answer;

  if (answer == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&chunk->error));
      return FALSE;
    }
  if (answer->queued || answer->not_sent)
    {
      if (callbacks != NULL && callbacks->on_unsettled != NULL)
        callbacks->on_unsettled (answer, callbacks->user_data);
      g_set_error (error, CT_CLIENT_ERROR,
                   answer->queued ? CT_CLIENT_ERROR_QUEUED : answer->reason_code,
                   "Chunk %u of the import: %s", chunk->chunk_no,
                   answer->reason != NULL ? answer->reason : "no answer from the service");
      return FALSE;
    }
  if (callbacks != NULL && callbacks->on_answer != NULL && answer->body != NULL)
    callbacks->on_answer (answer->body, callbacks->user_data);
  if (answer->status != 200)
    {
      if (!ct_answer_to_error (answer, error))
        return FALSE;
      g_set_error (error, CT_CLIENT_ERROR, CT_CLIENT_ERROR_BAD_ANSWER,
                   "The service answered an import chunk with status %d", answer->status);
      return FALSE;
    }
  if (!settle_chunk (answer->body, chunk->sent, callbacks, progress, error))
    return FALSE;
  progress->chunks++;
  return TRUE;
}

/* Waits for the oldest chunk's answer and settles it. */
static gboolean
settle_oldest (Pipeline                 *pipeline,
               const CtImportCallbacks  *callbacks,
               CtImportProgress         *progress,
               GError                  **error)
{
  Chunk *chunk;
  gboolean ok;

  g_mutex_lock (&pipeline->lock);
  chunk = g_queue_pop_head (&pipeline->chunks);
  while (!chunk->done)
    g_cond_wait (&pipeline->cond, &pipeline->lock);
  g_mutex_unlock (&pipeline->lock);
  ok = settle_answer (chunk, callbacks, progress, error);
  chunk_free (chunk);
  return ok;
}

/* Sends the chunk the chunker holds, then settles the oldest chunks until
 * fewer than CT_IMPORT_IN_FLIGHT are out (@limit 0: all of them). */
static gboolean
pipeline_send (Pipeline                 *pipeline,
               CtClient                 *client,
               const char               *batch_id,
               guint                     chunk_no,
               CtImportChunker          *chunker,
               GArray                  **sent,
               guint                     limit,
               const CtImportCallbacks  *callbacks,
               CtImportProgress         *progress,
               GCancellable             *cancellable,
               GError                  **error)
{
  if (*sent != NULL && (*sent)->len > 0)
    {
      Chunk *chunk = g_new0 (Chunk, 1);

      chunk->client = client;
      chunk->batch_id = batch_id;
      chunk->chunk_no = chunk_no;
      chunk->body = ct_import_chunker_take (chunker);
      chunk->sent = g_steal_pointer (sent);
      chunk->cancellable = cancellable;
      *sent = g_array_new (FALSE, FALSE, sizeof (SentRow));
      g_array_set_clear_func (*sent, sent_row_clear);
      g_mutex_lock (&pipeline->lock);
      g_queue_push_tail (&pipeline->chunks, chunk);
      g_mutex_unlock (&pipeline->lock);
      g_thread_pool_push (pipeline->senders, chunk, NULL);
    }
  while (pipeline->chunks.length > 0 && pipeline->chunks.length >= limit)
    if (!settle_oldest (pipeline, callbacks, progress, error))
      return FALSE;
  return TRUE;
}

/* After a failure: the chunks still out are waited for and settled as far
 * as they go (the service may have applied them), their errors dropped. */
static void
pipeline_finish (Pipeline                *pipeline,
                 const CtImportCallbacks *callbacks,
                 CtImportProgress        *progress)
{
  while (pipeline->chunks.length > 0)
    settle_oldest (pipeline, callbacks, progress, NULL);
  g_thread_pool_free (pipeline->senders, FALSE, TRUE);
  g_mutex_clear (&pipeline->lock);
  g_cond_clear (&pipeline->cond);
}

static void
report_progress (CtLegacyImport          *import,
                 const CtImportCallbacks *callbacks,
                 CtImportProgress        *progress)
{
  progress->bytes_read = ct_legacy_import_get_bytes_read (import);
  if (callbacks != NULL && callbacks->on_progress != NULL)
    callbacks->on_progress (progress, callbacks->user_data);
}

/* Reads every row, counts the file's own rejections and, with a client,
 * hands full chunks to the pipeline. */
static gboolean
read_rows (CtLegacyImport           *import,
           CtClient                 *client,
           Pipeline                 *pipeline,
           CtImportChunker          *chunker,
           const CtImportCallbacks  *callbacks,
           CtImportProgress         *progress,
           GCancellable             *cancellable,
           GError                  **error)
{
  g_autoptr(GArray) sent = g_array_new (FALSE, FALSE, sizeof (SentRow));
  g_autoptr(GError) local_error = NULL;
  const char *batch_id = ct_legacy_import_get_batch_id (import);
  CtImportItem item;
  guint chunk_no = 0;

  g_array_set_clear_func (sent, sent_row_clear);
  while (ct_legacy_import_next (import, &item, cancellable, &local_error))
    {
      progress->rows++;
      if (!item.accepted)
        {
          progress->rejected++;
          /* A repeated card number is said once, on its group's line. */
          if (callbacks != NULL && callbacks->on_reject != NULL && item.duplicate_of == 0)
            callbacks->on_reject (item.line, item.card_no, item.code, item.reason,
                                  callbacks->user_data);
        }
      else if (client == NULL)
        {
          progress->accepted++;
          progress->total_balance += item.balance;
          progress->total_points += item.points;
        }
      else
        {
          SentRow row;

          if (!ct_import_chunker_add (chunker, &item))
            {
              if (!pipeline_send (pipeline, client, batch_id, ++chunk_no, chunker, &sent,
                                  CT_IMPORT_IN_FLIGHT, callbacks, progress, cancellable, error))
                return FALSE;
              report_progress (import, callbacks, progress);
              if (g_cancellable_set_error_if_cancelled (cancellable, error))
                return FALSE;
              if (!ct_import_chunker_add (chunker, &item))
                g_assert_not_reached ();
            }
          row.line = item.line;
          row.card_no = g_strdup (item.card_no);
          row.balance = item.balance;
          row.points = item.points;
          g_array_append_val (sent, row);
        }

      if (progress->rows % 4096 == 0)
        report_progress (import, callbacks, progress);
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (client != NULL
      && !pipeline_send (pipeline, client, batch_id, ++chunk_no, chunker, &sent, 0, callbacks,
                         progress, cancellable, error))
    return FALSE;
  return TRUE;
}

/**
 * ct_legacy_import_run:
 * @import: an opened import, at its first row
 * @client: (nullable): the connected client; %NULL for a dry run, which
 *   validates and counts but sends nothing
 * @out_progress: (out caller-allocates): the final counts, also filled when
 *   the run stops early
 *
 * Returns: %TRUE when every chunk was settled (rows may still have been
 *   rejected: see @out_progress); %FALSE with @error when a chunk could not
 *   be settled (service unreachable, answer pending in the outbox, the whole
 *   chunk refused, cancelled). A rerun resumes: chunks already applied are
 *   answered from the service's idempotency records.
 */
gboolean
ct_legacy_import_run (CtLegacyImport           *import,
                      CtClient                 *client,
                      const char               *manager_id,
                      const char               *manager_pin,
                      const CtImportCallbacks  *callbacks,
                      CtImportProgress         *out_progress,
                      GCancellable             *cancellable,
                      GError                  **error)
{
  g_autoptr(CtImportChunker) chunker = NULL;
  Pipeline pipeline = { 0 };
  gboolean ok;

  g_return_val_if_fail (import != NULL, FALSE);
  g_return_val_if_fail (out_progress != NULL, FALSE);

  memset (out_progress, 0, sizeof *out_progress);
  out_progress->size = ct_legacy_import_get_size (import);
  if (client != NULL)
    {
      /* A chunk left in the outbox by an interrupted run is settled first,
       * with its own key and bytes, so that sending it again below meets a
       * settled key (answered by the service from its records). */
      ct_client_sync (client, 30000, NULL, cancellable, NULL);
      chunker = ct_import_chunker_new (ct_legacy_import_get_batch_id (import),
                                        ct_client_get_operator (client), manager_id,
                                        manager_pin);
      g_mutex_init (&pipeline.lock);
      g_cond_init (&pipeline.cond);
      g_queue_init (&pipeline.chunks);
      pipeline.senders = g_thread_pool_new (send_chunk, &pipeline, CT_IMPORT_IN_FLIGHT, FALSE,
                                            NULL);
    }

  ok = read_rows (import, client, &pipeline, chunker, callbacks, out_progress, cancellable,
                  error);
  if (client != NULL)
    pipeline_finish (&pipeline, callbacks, out_progress);
  if (ok)
    report_progress (import, callbacks, out_progress);
  return ok;
}

/**
 * ct_import_fetch_batch:
 *
 * What the service holds of a batch (GET /v1/imports/{batch_id}): the rows
 * it accepted and their total balance. Blocking, like the run.
 */
gboolean
ct_import_fetch_batch (CtClient    *client,
                       const char  *batch_id,
                       int64_t     *out_rows_accepted,
                       int64_t     *out_total_balance,
                       GError     **error)
{
  g_autoptr(CtRequest) request = NULL;
  g_autoptr(CtAnswer) answer = NULL;
  g_autoptr(GString) text = NULL;
  json_object *root, *rows = NULL, *balance = NULL;
  gboolean ok = FALSE;

  g_return_val_if_fail (CT_IS_CLIENT (client), FALSE);
  g_return_val_if_fail (batch_id != NULL, FALSE);

  request = ct_request_import_batch (batch_id);
  answer = ct_client_send (client, request, NULL, error);
  if (answer == NULL)
    return FALSE;
  if (answer->status != 200)
    {
      if (!ct_answer_to_error (answer, error))
        return FALSE;
      return bad_answer (error, "no batch summary");
    }
  if (answer->body == NULL)
    return bad_answer (error, "it is empty");
  text = g_string_new_len (g_bytes_get_data (answer->body, NULL), g_bytes_get_size (answer->body));
  root = json_tokener_parse (text->str);
  if (root != NULL
      && json_object_object_get_ex (root, "rows_accepted", &rows) && rows != NULL
      && json_object_is_type (rows, json_type_int)
      && json_object_object_get_ex (root, "total_balance", &balance) && balance != NULL
      && json_object_is_type (balance, json_type_int))
    {
      *out_rows_accepted = json_object_get_int64 (rows);
      *out_total_balance = json_object_get_int64 (balance);
      ok = TRUE;
    }
  else
    bad_answer (error, "the batch summary lacks rows_accepted or total_balance");
  json_object_put (root);
  return ok;
}
