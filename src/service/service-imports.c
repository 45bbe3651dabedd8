/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-service-imports"
#include "config.h"

#include "service-imports.h"

#include <string.h>

#include "ct-card-number.h"
#include "ct-money.h"
#include "ct-phone.h"
#include "ct-strict-json.h"
#include "ct-wallet-outbox.h"

/* The import writes many rows per request, so it does not go through the
 * per-card store functions (a card insert at balance 0, then a posting that
 * updates it, then a read back): each row is one ct_store_import_row() (the
 * card with its opening balance, one transaction and its postings), and the
 * legacy account is debited once per request by ct_store_import_finish().
 * The rows go to the store together (ct_store_import_rows()).
 * Row idempotency needs no table of its own: the card's import transaction
 * carries the batch id in order_ref. */

#define NAME_MAX_CHARS  64
#define LEVEL_MAX_CHARS 32
#define BATCH_ID_MAX    128

typedef struct
{
  int64_t     line;
  const char *card_no_text;
  const char *name;
  const char *phone;
  const char *level;
  int64_t     balance;
  int64_t     points;

  char       *card_no;   /* normalised, in validate_rows () */
  char       *phone_digits; /* normalised, in validate_rows (); NULL without a phone */
  const char *code;      /* rejected: why */
  char       *message;
} ImportRow;

typedef struct
{
  const char   *batch_id;
  const char   *operator_name;
  ImportRow    *rows;
  guint         n_rows;
  GStringChunk *text;  /* the rows' strings */
  gboolean      validated;        /* validate_rows() ran with validated_prefix */
  char         *validated_prefix; /* the merchant's issuer prefix it ran with */
} ImportReq;

static void
import_req_free (gpointer data)
{
  ImportReq *r = data;

  for (guint i = 0; i < r->n_rows; i++)
    {
      g_free (r->rows[i].card_no);
      g_free (r->rows[i].phone_digits);
      g_free (r->rows[i].message);
    }
  g_free (r->rows);
  if (r->text != NULL)
    g_string_chunk_free (r->text);
  g_free (r->validated_prefix);
  g_free (r);
}

static gboolean
batch_id_valid (const char *id)
{
  gsize n = strlen (id);

  if (n == 0 || n > BATCH_ID_MAX)
    return FALSE;
  for (const char *p = id; *p; p++)
    if (!(g_ascii_isalnum (*p) || *p == '_' || *p == '-' || *p == '.' || *p == ':'))
      return FALSE;
  return TRUE;
}

/* The body is read in one pass of the strict validator, then its rows
 * straight from the text: json-c's tree of 5,000 rows (an object with its
 * hash table for each row, a string object for each value) was a quarter
 * of an import's instructions to build and free. json-c parses the rest of
 * the body, with the rows' array left empty. */

/* Where a value ends in validated text. */
static const char *
skip_value (const char *p,
            const char *end)
{
  int depth = 0;

  do
    {
      while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
      if (p >= end)
        return end;
      switch (*p)
        {
        case '"':
          for (p++; p < end && *p != '"'; p++)
            if (*p == '\\')
              p++;
          p++;
          break;
        case '{':
        case '[':
          depth++;
          p++;
          break;
        case '}':
        case ']':
          depth--;
          p++;
          break;
        case ',':
        case ':':
          p++;
          break;
        default:
          while (p < end && !strchr ("{}[],: \t\n\r\"", *p))
            p++;
          break;
        }
    }
  while (depth > 0 && p < end);
  return p;
}

static const char *
skip_ws (const char *p,
         const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

/* Reads the key at @p (its quote) into @key, decoded; returns the start of
 * its value. */
static const char *
read_key (const char *p,
          const char *end,
          GString    *key)
{
  g_string_truncate (key, 0);
  p = ct_strict_json_read_string (p, end, key);
  p = skip_ws (p, end);
  return skip_ws (p + 1, end); /* past ':' */
}

/* Skips the array at @p (its '['), counting its elements into *@n. */
static const char *
skip_array (const char *p,
            const char *end,
            gsize      *n)
{
  *n = 0;
  p = skip_ws (p + 1, end);
  while (p < end && *p != ']')
    {
      (*n)++;
      p = skip_ws (skip_value (p, end), end);
      if (p < end && *p == ',')
        p = skip_ws (p + 1, end);
    }
  return p < end ? p + 1 : end;
}

/* Finds the top-level "rows" of a validated object body: [*start, *stop)
 * is its value, and when it is an array, *@n_rows its elements (counted
 * in the same pass). FALSE when the body is not an object or has no
 * "rows". */
static gboolean
find_rows (const char  *text,
           gsize        len,
           const char **start,
           const char **stop,
           gsize       *n_rows)
{
  const char *end = text + len;
  const char *p = skip_ws (text, end);
  g_autoptr(GString) key = g_string_new (NULL);

  if (p >= end || *p != '{')
    return FALSE;
  p = skip_ws (p + 1, end);
  while (p < end && *p == '"')
    {
      const char *value = read_key (p, end, key);
      gboolean rows = strcmp (key->str, "rows") == 0 && key->len == 4;
      const char *after = rows && *value == '[' ? skip_array (value, end, n_rows) : skip_value (value, end);

      if (rows)
        {
          *start = value;
          *stop = after;
          return TRUE;
        }
      p = skip_ws (after, end);
      if (p < end && *p == ',')
        p = skip_ws (p + 1, end);
    }
  return FALSE;
}

enum { ROW_LINE, ROW_CARD_NO, ROW_NAME, ROW_PHONE, ROW_BALANCE, ROW_POINTS, ROW_LEVEL, ROW_N_KEYS };

static const char * const row_keys[] = { "line", "card_no", "name", "phone", "balance", "points", "level", NULL };
static const gsize row_key_lens[] = { 4, 7, 4, 5, 7, 6, 5 };

typedef enum { VALUE_ABSENT, VALUE_NULL, VALUE_STRING, VALUE_INT, VALUE_OTHER } ValueKind;

typedef struct
{
  ValueKind   kind;
  int64_t     number;
  const char *text;   /* in the request's arena */
  gsize       len;
} RowValue;

/* A string or null; NULL when absent, null or empty. */
static CtReply *
row_text (const RowValue  *v,
          guint            index,
          const char      *key,
          const char     **out)
{
  *out = NULL;
  if (v->kind == VALUE_ABSENT || v->kind == VALUE_NULL)
    return NULL;
  if (v->kind != VALUE_STRING)
    return ct_reply_error (400, "bad_request", "rows[%u].%s must be a string or null", index, key);
  if (v->len > 1024)
    return ct_reply_error (400, "bad_request", "rows[%u].%s is too long", index, key);
  if (v->len > 0)
    *out = v->text;
  return NULL;
}

static CtReply *
row_int (const RowValue *v,
         guint           index,
         const char     *key,
         gboolean        required,
         int64_t        *out)
{
  *out = 0;
  if (v->kind == VALUE_ABSENT || v->kind == VALUE_NULL)
    {
      if (required)
        return ct_reply_error (400, "bad_request", "rows[%u].%s is required", index, key);
      return NULL;
    }
  /* The strict validator already refused fractions, exponents and values
   * beyond int64, so a number here is what the client wrote. */
  if (v->kind != VALUE_INT)
    return ct_reply_error (400, "bad_request", "rows[%u].%s must be a JSON integer", index, key);
  *out = v->number;
  return NULL;
}

/* Reads row @index, the object at *@pp, into @ir; a refusal names the
 * first thing wrong in the order the fields are checked. */
static CtReply *
read_row (ImportReq   *r,
          const char **pp,
          const char  *end,
          guint        index,
          ImportRow   *ir,
          GString     *scratch)
{
  const char *p = *pp;
  RowValue values[ROW_N_KEYS] = { { 0 } };
  g_autofree char *unknown = NULL;
  CtReply *reply = NULL;

  if (*p != '{')
    {
      *pp = skip_value (p, end);
      return ct_reply_error (400, "bad_request", "rows[%u] must be an object", index);
    }
  p = skip_ws (p + 1, end);
  while (p < end && *p == '"')
    {
      const char *value = read_key (p, end, scratch);
      int k = -1;

      /* By length first: seven strcmp() for each of a row's seven keys
       * were a tenth of the time a worker reads an import's rows. */
      for (int i = 0; i < ROW_N_KEYS && k < 0; i++)
        if (scratch->len == row_key_lens[i] && memcmp (scratch->str, row_keys[i], scratch->len) == 0)
          k = i;
      if (k < 0 && unknown == NULL)
        unknown = g_strndup (scratch->str, scratch->len);
      if (k < 0)
        p = skip_value (value, end);
      else if (*value == '"')
        {
          g_string_truncate (scratch, 0);
          p = ct_strict_json_read_string (value, end, scratch);
          values[k].kind = VALUE_STRING;
          values[k].len = scratch->len;
          values[k].text = g_string_chunk_insert_len (r->text, scratch->str, scratch->len);
        }
      else if (*value == '-' || g_ascii_isdigit (*value))
        {
          char *num_end;

          values[k].kind = VALUE_INT;
          values[k].number = g_ascii_strtoll (value, &num_end, 10);
          p = num_end;
        }
      else
        {
          values[k].kind = *value == 'n' ? VALUE_NULL : VALUE_OTHER;
          p = skip_value (value, end);
        }
      p = skip_ws (p, end);
      if (p < end && *p == ',')
        p = skip_ws (p + 1, end);
    }
  *pp = p < end ? p + 1 : end; /* past '}' */

  if (unknown != NULL)
    return ct_reply_error (400, "bad_request",
                           "Unknown field \"rows[%u].%s\": this service does not take it (GET /v1/health lists "
                           "its features)", index, unknown);
  if ((reply = row_int (&values[ROW_LINE], index, "line", TRUE, &ir->line)) != NULL
      || (reply = row_int (&values[ROW_BALANCE], index, "balance", TRUE, &ir->balance)) != NULL
      || (reply = row_int (&values[ROW_POINTS], index, "points", FALSE, &ir->points)) != NULL
      || (reply = row_text (&values[ROW_NAME], index, "name", &ir->name)) != NULL
      || (reply = row_text (&values[ROW_PHONE], index, "phone", &ir->phone)) != NULL
      || (reply = row_text (&values[ROW_LEVEL], index, "level", &ir->level)) != NULL)
    return reply;
  if (values[ROW_CARD_NO].kind != VALUE_STRING)
    return ct_reply_error (400, "bad_request", "rows[%u].card_no must be a string", index);
  if (values[ROW_CARD_NO].len > 64)
    return ct_reply_error (400, "bad_request", "rows[%u].card_no is too long", index);
  ir->card_no_text = values[ROW_CARD_NO].text;
  return NULL;
}

/* The @n rows of the array [@start, @stop) (counted by find_rows(), so a
 * wrong count is refused before any row), read up to the first refused
 * row. */
static CtReply *
read_rows (ImportReq  *r,
           const char *start,
           const char *stop,
           gsize       n)
{
  g_autoptr(GString) scratch = g_string_sized_new (64);
  const char *p = skip_ws (start + 1, stop);

  if (n == 0 || n > CT_IMPORT_MAX_ROWS)
    return ct_reply_error (400, "bad_request", "An import request holds 1 to %d rows, not %" G_GSIZE_FORMAT,
                           CT_IMPORT_MAX_ROWS, n);

  r->rows = g_new0 (ImportRow, n);
  r->n_rows = n;
  r->text = g_string_chunk_new (MIN ((gsize) (stop - start), 1024 * 1024) + 64);
  for (guint i = 0; i < n; i++)
    {
      CtReply *reply = read_row (r, &p, stop, i, &r->rows[i], scratch);

      if (reply != NULL)
        return reply;
      p = skip_ws (p, stop);
      if (p < stop && *p == ',')
        p = skip_ws (p + 1, stop);
    }
  return NULL;
}

static void validate_rows (ImportReq  *r,
                           const char *issuer_prefix);

/**
 * ct_imports_parse:
 *
 * POST /v1/imports `{"batch_id", "rows": [{"line", "card_no", "name",
 * "phone", "balance", "points", "level"}], "manager", "operator"?}`. Wrong
 * types and shapes refuse the whole request (400); a row whose values are
 * wrong is refused alone, in apply.
 */
CtReply *
ct_imports_parse (CtService *svc,
                  CtCall    *call)
{
  static const char * const top_keys[] = { "batch_id", "rows", "manager", "operator", NULL };
  CtReply *reply = NULL;
  ImportReq *r;
  json_object *rows = NULL;
  const char *rows_start = NULL, *rows_stop = NULL;
  gsize n_rows = 0;

  if (call->json == NULL && call->body != NULL && call->body->len > 0)
    {
      g_autoptr(GError) error = NULL;

      if (!ct_strict_json_validate (call->body->str, call->body->len, &error))
        return ct_reply_error (400, "bad_request", "The body is not acceptable JSON: %s", error->message);
      if (find_rows (call->body->str, call->body->len, &rows_start, &rows_stop, &n_rows)
          && *rows_start == '[')
        {
          g_autoptr(GString) rest = g_string_new_len (call->body->str, rows_start - call->body->str);

          g_string_append (rest, "[]");
          g_string_append_len (rest, rows_stop, call->body->str + call->body->len - rows_stop);
          call->json = ct_strict_json_parse (rest->str, rest->len, &error);
          if (call->json == NULL)
            return ct_reply_error (400, "bad_request", "The body is not acceptable JSON: %s", error->message);
        }
      else
        rows_start = NULL;
    }
  if ((reply = ct_call_body_object (call)) != NULL)
    return reply;
  if ((reply = ct_json_refuse_unknown (call->json, "", top_keys)) != NULL)
    return reply;

  r = g_new0 (ImportReq, 1);
  call->data = r;
  call->data_free = import_req_free;

  if (!ct_json_get_string (call->json, "batch_id", TRUE, BATCH_ID_MAX, &r->batch_id, &reply)
      || !ct_json_get_string (call->json, "operator", FALSE, 64, &r->operator_name, &reply))
    return reply;
  if (!batch_id_valid (r->batch_id))
    return ct_reply_error (400, "bad_request",
                           "\"batch_id\" must be 1 to %d of A-Z a-z 0-9 _ - . :", BATCH_ID_MAX);

  if (!json_object_object_get_ex (call->json, "rows", &rows) || rows == NULL
      || !json_object_is_type (rows, json_type_array) || rows_start == NULL)
    return ct_reply_error (400, "bad_request", "\"rows\" must be an array of rows");
  if ((reply = read_rows (r, rows_start, rows_stop, n_rows)) != NULL)
    return reply;

  /* The rows' values are checked here, in a worker beside the committer
   * (they were an eighth of the committer's time per imported row), with
   * the merchant's issuer prefix as it is now; apply checks them again only
   * if the prefix changed in between. Without the settings (no
   * store, or a read that failed), apply checks. */
  {
    CtStoreMerchant m = { 0 };

    if (call->store != NULL && ct_store_get_merchant (call->store, &m, NULL))
      {
        validate_rows (r, m.issuer_prefix);
        r->validated = TRUE;
        r->validated_prefix = g_strdup (m.issuer_prefix);
      }
    ct_store_merchant_clear (&m);
  }

  return ct_call_take_manager (call);
}

static gboolean
text_valid (const char *text,
            glong       max_chars)
{
  return g_utf8_validate (text, -1, NULL) && strpbrk (text, "\r\n") == NULL
         && g_utf8_strlen (text, -1) <= max_chars;
}

static void
row_reject (ImportRow  *row,
            const char *code,
            char       *message)
{
  if (row->code != NULL)
    {
      g_free (message);
      return;
    }
  row->code = code;
  row->message = message;
}

/* Checks the values of each row; the shape was checked in parse. The
 * outcome depends on the rows and @issuer_prefix alone. */
static void
validate_rows (ImportReq  *r,
               const char *issuer_prefix)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < r->n_rows; i++)
    {
      ImportRow *row = &r->rows[i];
      g_autoptr(GError) error = NULL;

      /* Rows checked with another prefix are checked anew. */
      g_clear_pointer (&row->card_no, g_free);
      g_clear_pointer (&row->phone_digits, g_free);
      g_clear_pointer (&row->message, g_free);
      row->code = NULL;
      row->card_no = ct_card_number_normalize (row->card_no_text, issuer_prefix, NULL, &error);
      if (row->card_no == NULL)
        {
          if (g_error_matches (error, CT_CARD_NUMBER_ERROR, CT_CARD_NUMBER_ERROR_CHECK_DIGIT))
            row_reject (row, "invalid_card_no",
                        g_strdup_printf ("Card number %s lies in the range this service issues; "
                                         "it cannot be imported", row->card_no_text));
          else
            row_reject (row, "invalid_card_no", g_strdup (error->message));
          continue;
        }
      if (ct_card_number_in_issuer_range (row->card_no, issuer_prefix))
        row_reject (row, "invalid_card_no",
                    g_strdup_printf ("Card number %s lies in the range this service issues; "
                                     "it cannot be imported", row->card_no));
      if (row->line < 1)
        row_reject (row, "bad_request", g_strdup ("The row's line number must be 1 or more"));
      if (row->balance < 0 || row->balance > CT_MONEY_MAX)
        row_reject (row, "invalid_amount",
                    g_strdup ("An opening balance is 0 or more, at most 10^13 minor units"));
      if (row->points < 0 || row->points > CT_MONEY_MAX)
        row_reject (row, "invalid_points", g_strdup ("Points are a whole number of 0 or more"));
      if (row->phone != NULL)
        {
          g_autoptr(GError) phone_error = NULL;

          row->phone_digits = ct_phone_normalize (row->phone, &phone_error);
          if (row->phone_digits == NULL)
            row_reject (row, "invalid_phone", g_strdup (phone_error->message));
        }
      if (row->name != NULL && !text_valid (row->name, NAME_MAX_CHARS))
        row_reject (row, "invalid_text",
                    g_strdup_printf ("The name must be one line of at most %d characters", NAME_MAX_CHARS));
      if (row->level != NULL && !text_valid (row->level, LEVEL_MAX_CHARS))
        row_reject (row, "invalid_text",
                    g_strdup_printf ("The level must be one line of at most %d characters", LEVEL_MAX_CHARS));

      /* A number twice in one request: which balance is right is the
       * store's call, so neither line goes in. */
      {
        gpointer first = NULL;

        if (g_hash_table_lookup_extended (seen, row->card_no, NULL, &first))
          {
            ImportRow *other = &r->rows[GPOINTER_TO_UINT (first)];
            char *msg = g_strdup_printf ("Card number %s is on more than one row of this import",
                                         row->card_no);

            if (other->code == NULL || strcmp (other->code, "duplicate_card_no") != 0)
              {
                g_clear_pointer (&other->message, g_free);
                other->code = NULL;
                row_reject (other, "duplicate_card_no", g_strdup (msg));
              }
            g_clear_pointer (&row->message, g_free);
            row->code = NULL;
            row_reject (row, "duplicate_card_no", msg);
          }
        else
          g_hash_table_insert (seen, row->card_no, GUINT_TO_POINTER (i));
      }
    }
}

static json_object *
rejected_entry (int64_t     line,
                const char *code,
                const char *message)
{
  json_object *o = json_object_new_object ();

  json_object_object_add (o, "line", json_object_new_int64 (line));
  json_object_object_add (o, "code", json_object_new_string (code));
  json_object_object_add (o, "message", json_object_new_string (message));
  return o;
}

CtReply *
ct_imports_apply (CtService             *svc,
                  CtStore               *store,
                  const CtStoreMerchant *merchant,
                  CtCall                *call)
{
  ImportReq *r = call->data;
  CtReply *reply;
  g_autoptr(GError) error = NULL;
  json_object *root, *rejected;
  CtStoreImportBatch counts = { 0 };
  CtStoreTx origin = { 0 };
  g_autoptr(GPtrArray) wallet = NULL;

  if ((reply = ct_call_check_manager (call, store)) != NULL)
    return reply;

  if (!r->validated || g_strcmp0 (r->validated_prefix, merchant->issuer_prefix) != 0)
    {
      validate_rows (r, merchant->issuer_prefix);
      r->validated = TRUE;
      g_free (r->validated_prefix);
      r->validated_prefix = g_strdup (merchant->issuer_prefix);
    }

  origin.store = call->till.store;
  origin.till = call->till.name;
  origin.operator_name = (char *) r->operator_name;
  origin.manager = call->manager_id;
  origin.order_ref = (char *) r->batch_id;
  origin.created_at = ct_store_now_ms ();

  /* Looked up once for the whole request: a large import without
   * connectors pays nothing per row. */
  wallet = ct_store_wallet_connectors (store, &error);
  if (wallet == NULL)
    {
      g_warning ("imports: %s", error->message);
      return ct_reply_error (500, "internal", "The service could not complete the import; nothing was changed");
    }

  /* The valid rows go to the store in one call (their cards, then their
   * transactions, several to a statement); the answer lists the refused
   * rows in the request's order. */
  {
    g_autofree CtStoreImportRow *srows = g_new (CtStoreImportRow, r->n_rows);
    g_autofree CtStoreImportOutcome *outcomes = g_new (CtStoreImportOutcome, r->n_rows);
    g_autofree char **others = g_new0 (char *, r->n_rows);
    guint n = 0;

    for (guint i = 0; i < r->n_rows; i++)
      if (r->rows[i].code == NULL)
        {
          ImportRow *row = &r->rows[i];
          CtStoreImportRow srow = { row->card_no, row->name, row->phone_digits, row->level, row->balance,
                                    row->points };

          srows[n++] = srow;
        }
    if (n > 0)
      ct_store_import_rows (store, &origin, srows, n, outcomes, others, &error);

    rejected = json_object_new_array ();
    for (guint i = 0, k = 0; i < r->n_rows && error == NULL; i++)
      {
        ImportRow *row = &r->rows[i];

        if (row->code != NULL)
          {
            json_object_array_add (rejected, rejected_entry (row->line, row->code, row->message));
            counts.rows_rejected++;
            continue;
          }
        switch (outcomes[k])
          {
          case CT_STORE_IMPORT_INSERTED:
            if (!ct_wallet_outbox_import (store, wallet, merchant, row->card_no, &error))
              break;
            counts.rows_accepted++;
            counts.total_balance += row->balance;
            counts.total_points += row->points;
            break;
          case CT_STORE_IMPORT_ALREADY_IN_BATCH:
            break;
          case CT_STORE_IMPORT_CARD_EXISTS:
            {
              g_autofree char *msg = others[k] != NULL
                ? g_strdup_printf ("Card %s already exists: batch %s imported it", row->card_no, others[k])
                : g_strdup_printf ("Card %s already exists in this service", row->card_no);

              json_object_array_add (rejected, rejected_entry (row->line, "card_exists", msg));
              counts.rows_rejected++;
            }
            break;
          default:
            g_assert_not_reached ();
          }
        k++;
      }
    for (guint k = 0; k < n; k++)
      g_free (others[k]);
  }

  if (error == NULL)
    ct_store_import_finish (store, r->batch_id, &counts, &error);

  if (error != NULL)
    {
      json_object_put (rejected);
      g_warning ("imports: %s", error->message);
      return ct_reply_error (500, "internal", "The service could not complete the import; nothing was changed");
    }

  root = json_object_new_object ();
  json_object_object_add (root, "accepted", json_object_new_int64 ((int64_t) (r->n_rows - json_object_array_length (rejected))));
  json_object_object_add (root, "rejected", rejected);
  return ct_reply_new_json (200, root);
}

/* GET /v1/imports/{batch_id} */
CtReply *
ct_imports_read (CtService *svc,
                 CtCall    *call)
{
  CtStoreImportBatch b;
  const char *batch_id = call->args[0];
  g_autoptr(GError) error = NULL;
  json_object *root;

  if (batch_id == NULL || !batch_id_valid (batch_id))
    return ct_reply_error (404, "not_found", "No such import batch");
  if (!ct_store_import_batch_get (call->store, batch_id, &b, &error))
    {
      if (g_error_matches (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_FOUND))
        return ct_reply_error (404, "not_found", "No import batch %s", batch_id);
      g_warning ("imports: %s", error->message);
      return ct_reply_error (500, "internal", "The service could not read the import batch");
    }

  root = json_object_new_object ();
  json_object_object_add (root, "batch_id", json_object_new_string (batch_id));
  json_object_object_add (root, "rows_accepted", json_object_new_int64 (b.rows_accepted));
  json_object_object_add (root, "rows_rejected", json_object_new_int64 (b.rows_rejected));
  json_object_object_add (root, "total_balance", json_object_new_int64 (b.total_balance));
  return ct_reply_new_json (200, root);
}
