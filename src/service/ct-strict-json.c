/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-strict-json"
#include "config.h"

#include <string.h>

#include "ct-strict-json.h"

/* json-c 0.16 accepts 12.0, 1e3 and out-of-range integers and silently
 * converts or clamps them, and it keeps the last of two duplicate keys. The
 * service must refuse all of those, so every body first goes through this
 * small RFC 8259 validator, which also insists that every number is an
 * integer literal within int64 and that no object repeats a key. */

G_DEFINE_QUARK (ct-strict-json-error-quark, ct_strict_json_error)

typedef struct
{
  const char *p;
  const char *end;
  int         depth;
} Scanner;

static gboolean parse_value (Scanner *s, GError **error);

static void
skip_ws (Scanner *s)
{
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
    s->p++;
}

static gboolean
fail (Scanner     *s,
      const char  *start,
      int          code,
      const char  *what,
      GError     **error)
{
  g_set_error (error, CT_STRICT_JSON_ERROR, code, "%s at byte %" G_GSIZE_FORMAT,
               what, (gsize) (s->p - start));
  return FALSE;
}

static gboolean
read_hex4 (Scanner  *s,
           gunichar *out)
{
  gunichar v = 0;

  if (s->end - s->p < 4)
    return FALSE;
  for (int i = 0; i < 4; i++)
    {
      int h = g_ascii_xdigit_value (s->p[i]);
      if (h < 0)
        return FALSE;
      v = (v << 4) | (gunichar) h;
    }
  s->p += 4;
  *out = v;
  return TRUE;
}

/* Scans a string starting at the opening quote. When @out is set, the
 * decoded text is appended to it (keys need it for the duplicate check). */
static gboolean
parse_string (Scanner  *s,
              GString  *out,
              GError  **error)
{
  const char *start = s->p;

  g_assert (*s->p == '"');
  s->p++;
  while (s->p < s->end)
    {
      const char *run = s->p;
      unsigned char c, high = 0;

      while (s->p < s->end && *s->p != '"' && *s->p != '\\' && (unsigned char) *s->p >= 0x20)
        high |= (unsigned char) *s->p++;
      /* A run of bytes from 0x20 to 0x7f is UTF-8 as it is: GLib's check
       * is left to the runs that need it (most strings of a body are a few
       * ASCII letters, and the check was a call for each). */
      if (high >= 0x80 && !g_utf8_validate (run, s->p - run, NULL))
        return fail (s, start, CT_STRICT_JSON_ERROR_ENCODING, "string is not valid UTF-8", error);
      if (out != NULL)
        g_string_append_len (out, run, s->p - run);
      if (s->p >= s->end)
        break;
      c = (unsigned char) *s->p;
      if (c == '"')
        {
          s->p++;
          return TRUE;
        }
      if (c < 0x20)
        return fail (s, start, CT_STRICT_JSON_ERROR_SYNTAX, "control character in string", error);
      /* A backslash escape. */
      s->p++;
      if (s->p >= s->end)
        break;
      c = (unsigned char) *s->p++;
      switch (c)
        {
        case '"':
        case '\\':
        case '/':
          if (out != NULL)
            g_string_append_c (out, (char) c);
          break;
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
          if (out != NULL)
            g_string_append_c (out, c == 'b' ? '\b' : c == 'f' ? '\f' : c == 'n' ? '\n' : c == 'r' ? '\r' : '\t');
          break;
        case 'u':
          {
            gunichar u;

            if (!read_hex4 (s, &u))
              return fail (s, start, CT_STRICT_JSON_ERROR_SYNTAX, "bad \\u escape", error);
            if (u >= 0xD800 && u <= 0xDBFF)
              {
                gunichar low;

                if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u')
                  return fail (s, start, CT_STRICT_JSON_ERROR_ENCODING, "unpaired surrogate", error);
                s->p += 2;
                if (!read_hex4 (s, &low) || low < 0xDC00 || low > 0xDFFF)
                  return fail (s, start, CT_STRICT_JSON_ERROR_ENCODING, "unpaired surrogate", error);
                u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
              }
            else if (u >= 0xDC00 && u <= 0xDFFF)
              return fail (s, start, CT_STRICT_JSON_ERROR_ENCODING, "unpaired surrogate", error);
            if (u == 0)
              return fail (s, start, CT_STRICT_JSON_ERROR_ENCODING, "NUL character in string", error);
            if (out != NULL)
              g_string_append_unichar (out, u);
          }
          break;
        default:
          return fail (s, start, CT_STRICT_JSON_ERROR_SYNTAX, "bad escape in string", error);
        }
    }
  return fail (s, start, CT_STRICT_JSON_ERROR_SYNTAX, "unterminated string", error);
}

static gboolean
parse_number (Scanner  *s,
              GError  **error)
{
  const char *start = s->p;
  char buf[24];
  gint64 v;
  gsize len;

  if (*s->p == '-')
    s->p++;
  if (s->p >= s->end || !g_ascii_isdigit (*s->p))
    return fail (s, start, CT_STRICT_JSON_ERROR_SYNTAX, "bad number", error);
  if (*s->p == '0')
    s->p++;
  else
    while (s->p < s->end && g_ascii_isdigit (*s->p))
      s->p++;
  if (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E'))
    return fail (s, start, CT_STRICT_JSON_ERROR_NUMBER, "number is not an integer", error);
  if (s->p < s->end && g_ascii_isdigit (*s->p))
    return fail (s, start, CT_STRICT_JSON_ERROR_SYNTAX, "number with a leading zero", error);
  len = s->p - start;
  /* Up to 18 digits, any value fits in 64 bits: only longer numbers are
   * converted to be checked (a conversion for each number was a tenth of
   * the validator's time on an import's body). */
  if (len - (*start == '-') <= 18)
    return TRUE;
  if (len >= sizeof buf)
    return fail (s, start, CT_STRICT_JSON_ERROR_NUMBER, "integer out of range", error);
  memcpy (buf, start, len);
  buf[len] = '\0';
  if (!g_ascii_string_to_signed (buf, 10, G_MININT64, G_MAXINT64, &v, NULL))
    return fail (s, start, CT_STRICT_JSON_ERROR_NUMBER, "integer out of range", error);
  return TRUE;
}

static gboolean
parse_literal (Scanner    *s,
               const char *word,
               GError    **error)
{
  gsize n = strlen (word);

  if ((gsize) (s->end - s->p) < n || memcmp (s->p, word, n) != 0)
    return fail (s, s->p, CT_STRICT_JSON_ERROR_SYNTAX, "unexpected token", error);
  s->p += n;
  return TRUE;
}

/* An object's key as written (between its quotes), or decoded when it
 * has an escape. */
typedef struct
{
  const char *str;
  gsize       len;
  GString    *decoded;
} Key;

static int
compare_keys (gconstpointer a,
              gconstpointer b)
{
  const Key *ka = a;
  const Key *kb = b;
  gsize n = MIN (ka->len, kb->len);
  int r = memcmp (ka->str, kb->str, n);

  if (r != 0)
    return r;
  return ka->len < kb->len ? -1 : ka->len > kb->len ? 1 : 0;
}

static void
clear_key (gpointer key)
{
  Key *k = key;

  if (k->decoded != NULL)
    g_string_free (k->decoded, TRUE);
}

/* Up to this many keys an object's keys are compared pairwise in place;
 * beyond, sorted. An import row has 7: its keys cost no allocation. */
#define SMALL_OBJECT_KEYS 16

static gboolean
parse_object (Scanner  *s,
              GError  **error)
{
  const char *start = s->p;
  Key small[SMALL_OBJECT_KEYS];
  g_autoptr(GArray) many = NULL;
  Key *keys = small;
  guint n = 0;
  gboolean ok = FALSE;

  s->p++;
  skip_ws (s);
  if (s->p < s->end && *s->p == '}')
    {
      s->p++;
      return TRUE;
    }
  for (;;)
    {
      const char *key_start;
      Key key = { NULL, 0, NULL };

      skip_ws (s);
      if (s->p >= s->end || *s->p != '"')
        {
          fail (s, start, CT_STRICT_JSON_ERROR_SYNTAX, "expected a key", error);
          goto out;
        }
      key_start = s->p;
      if (!parse_string (s, NULL, error))
        goto out;
      key.str = key_start + 1;
      key.len = s->p - key_start - 2;
      if (memchr (key.str, '\\', key.len) != NULL)
        {
          /* Decoded, so that "a" and "\u0061" are the same key. */
          Scanner again = { key_start, s->p, 0 };

          key.decoded = g_string_new (NULL);
          parse_string (&again, key.decoded, NULL);
          key.str = key.decoded->str;
          key.len = key.decoded->len;
        }
      if (n == SMALL_OBJECT_KEYS && many == NULL)
        {
          many = g_array_sized_new (FALSE, FALSE, sizeof (Key), 2 * SMALL_OBJECT_KEYS);
          g_array_set_clear_func (many, clear_key);
          g_array_append_vals (many, small, n);
        }
      if (many != NULL)
        g_array_append_val (many, key);
      else
        small[n] = key;
      n++;
      skip_ws (s);
      if (s->p >= s->end || *s->p != ':')
        {
          fail (s, start, CT_STRICT_JSON_ERROR_SYNTAX, "expected ':'", error);
          goto out;
        }
      s->p++;
      if (!parse_value (s, error))
        goto out;
      skip_ws (s);
      if (s->p < s->end && *s->p == ',')
        {
          s->p++;
          continue;
        }
      if (s->p < s->end && *s->p == '}')
        {
          s->p++;
          break;
        }
      fail (s, start, CT_STRICT_JSON_ERROR_SYNTAX, "expected ',' or '}'", error);
      goto out;
    }

  ok = TRUE;
  if (many == NULL)
    {
      for (guint i = 1; i < n && ok; i++)
        for (guint j = 0; j < i && ok; j++)
          if (small[i].len == small[j].len && memcmp (small[i].str, small[j].str, small[i].len) == 0)
            {
              g_set_error (error, CT_STRICT_JSON_ERROR, CT_STRICT_JSON_ERROR_DUPLICATE_KEY,
                           "duplicate key \"%.*s\"", (int) small[i].len, small[i].str);
              ok = FALSE;
            }
    }
  else
    {
      /* Sorting keeps a huge object O(n log n) instead of quadratic. */
      keys = (Key *) (gpointer) many->data;
      g_array_sort (many, compare_keys);
      for (guint i = 1; i < n && ok; i++)
        if (compare_keys (&keys[i - 1], &keys[i]) == 0)
          {
            g_set_error (error, CT_STRICT_JSON_ERROR, CT_STRICT_JSON_ERROR_DUPLICATE_KEY,
                         "duplicate key \"%.*s\"", (int) keys[i].len, keys[i].str);
            ok = FALSE;
          }
    }

out:
  /* The array's keys are cleared with it; the small ones here. */
  if (many == NULL)
    for (guint i = 0; i < n; i++)
      clear_key (&small[i]);
  return ok;
}

static gboolean
parse_array (Scanner  *s,
             GError  **error)
{
  const char *start = s->p;

  s->p++;
  skip_ws (s);
  if (s->p < s->end && *s->p == ']')
    {
      s->p++;
      return TRUE;
    }
  for (;;)
    {
      if (!parse_value (s, error))
        return FALSE;
      skip_ws (s);
      if (s->p < s->end && *s->p == ',')
        {
          s->p++;
          continue;
        }
      if (s->p < s->end && *s->p == ']')
        {
          s->p++;
          return TRUE;
        }
      return fail (s, start, CT_STRICT_JSON_ERROR_SYNTAX, "expected ',' or ']'", error);
    }
}

static gboolean
parse_value (Scanner  *s,
             GError  **error)
{
  gboolean ok;

  skip_ws (s);
  if (s->p >= s->end)
    return fail (s, s->p, CT_STRICT_JSON_ERROR_SYNTAX, "unexpected end of input", error);

  switch (*s->p)
    {
    case '{':
    case '[':
      if (++s->depth > CT_STRICT_JSON_MAX_DEPTH)
        {
          g_set_error (error, CT_STRICT_JSON_ERROR, CT_STRICT_JSON_ERROR_TOO_DEEP,
                       "nesting deeper than %d levels", CT_STRICT_JSON_MAX_DEPTH);
          return FALSE;
        }
      ok = *s->p == '{' ? parse_object (s, error) : parse_array (s, error);
      s->depth--;
      return ok;
    case '"':
      return parse_string (s, NULL, error);
    case 't':
      return parse_literal (s, "true", error);
    case 'f':
      return parse_literal (s, "false", error);
    case 'n':
      return parse_literal (s, "null", error);
    default:
      if (*s->p == '-' || g_ascii_isdigit (*s->p))
        return parse_number (s, error);
      return fail (s, s->p, CT_STRICT_JSON_ERROR_SYNTAX, "unexpected character", error);
    }
}

/**
 * ct_strict_json_validate:
 * Checks that @text is exactly one JSON value with integer-only numbers within
 * int64, no duplicate keys, valid UTF-8 and at most CT_STRICT_JSON_MAX_DEPTH
 * levels of nesting.
 */
gboolean
ct_strict_json_validate (const char  *text,
                         gsize        len,
                         GError     **error)
{
  Scanner s = { text, text + len, 0 };

  g_return_val_if_fail (text != NULL || len == 0, FALSE);

  if (!parse_value (&s, error))
    return FALSE;
  skip_ws (&s);
  if (s.p != s.end)
    return fail (&s, text, CT_STRICT_JSON_ERROR_SYNTAX, "trailing data after the JSON value", error);
  return TRUE;
}

/**
 * ct_strict_json_parse:
 * Validates @text strictly, then builds the json-c tree for it. Returns NULL
 * with @error set on any failure, a bare "null" document included.
 */
json_object *
ct_strict_json_parse (const char  *text,
                      gsize        len,
                      GError     **error)
{
  json_tokener *tok;
  json_object *obj;

  if (!ct_strict_json_validate (text, len, error))
    return NULL;
  if (len > G_MAXINT)
    {
      g_set_error (error, CT_STRICT_JSON_ERROR, CT_STRICT_JSON_ERROR_SYNTAX, "document too large");
      return NULL;
    }
  tok = json_tokener_new_ex (CT_STRICT_JSON_MAX_DEPTH + 2);
  json_tokener_set_flags (tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
  obj = json_tokener_parse_ex (tok, text, (int) len);
  if (obj == NULL && json_tokener_get_error (tok) == json_tokener_continue)
    obj = json_tokener_parse_ex (tok, "", 1);
  if (json_tokener_get_error (tok) != json_tokener_success)
    {
      g_set_error (error, CT_STRICT_JSON_ERROR, CT_STRICT_JSON_ERROR_SYNTAX, "%s",
                   json_tokener_error_desc (json_tokener_get_error (tok)));
      json_object_put (obj);
      obj = NULL;
    }
  else if (obj == NULL)
    {
      /* json-c represents a bare "null" document as NULL; no caller wants
       * one, and a NULL without an error would be taken for a failure. */
      g_set_error (error, CT_STRICT_JSON_ERROR, CT_STRICT_JSON_ERROR_SYNTAX, "the document is null");
    }
  json_tokener_free (tok);
  return obj;
}

/**
 * ct_strict_json_read_string:
 * @text: the opening quote of a string of a text ct_strict_json_validate()
 *   accepted
 * @out: where the decoded string is appended
 *
 * Returns: the byte after the string's closing quote
 */
const char *
ct_strict_json_read_string (const char *text,
                            const char *end,
                            GString    *out)
{
  Scanner s = { text, end, 0 };

  g_return_val_if_fail (text < end && *text == '"', end);

  if (!parse_string (&s, out, NULL))
    return end;
  return s.p;
}

/* The secret values: a scan that never fails, so that a body the strict
 * parser refuses has its secrets found all the same. */

static void
skip_string_lenient (Scanner *s)
{
  s->p++;
  while (s->p < s->end && *s->p != '"')
    s->p += *s->p == '\\' && s->end - s->p > 1 ? 2 : 1;
  if (s->p < s->end)
    s->p++;
}

static gboolean
is_structural (char c)
{
  return c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':' || c == '"'
         || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
skip_value_lenient (Scanner *s)
{
  int depth = 0;

  skip_ws (s);
  if (s->p >= s->end)
    return;
  if (*s->p == '"')
    {
      skip_string_lenient (s);
      return;
    }
  if (*s->p != '{' && *s->p != '[')
    {
      while (s->p < s->end && !is_structural (*s->p))
        s->p++;
      return;
    }
  while (s->p < s->end)
    {
      char c = *s->p;

      if (c == '"')
        {
          skip_string_lenient (s);
          continue;
        }
      s->p++;
      if (c == '{' || c == '[')
        depth++;
      else if ((c == '}' || c == ']') && --depth == 0)
        return;
    }
}

/* Whether @key is one of @keys, exactly (a key with a NUL in it is none of
 * them): by its first byte and length first, as nearly every key of a body
 * is none of them. */
static gboolean
key_listed (const char * const *keys,
            const GString      *key)
{
  for (guint i = 0; keys[i] != NULL; i++)
    if (key->len > 0 && keys[i][0] == key->str[0] && strlen (keys[i]) == key->len
        && memcmp (keys[i], key->str, key->len) == 0)
      return TRUE;
  return FALSE;
}

/**
 * ct_strict_json_find_members:
 * @keys: the names looked for, NULL-terminated
 *
 * Finds the value of every object member named one of @keys, at any
 * depth, as byte ranges of @text in order (a value inside another found
 * value is part of it). The scan is lenient: a document that is not valid
 * JSON is read as far as it can be, so that a refused body is covered too.
 *
 * Returns: (transfer full): a #CtJsonSpan array
 */
GArray *
ct_strict_json_find_members (const char         *text,
                             gsize               len,
                             const char * const *keys)
{
  Scanner s = { text, text + len, 0 };
  GArray *spans = g_array_new (FALSE, FALSE, sizeof (CtJsonSpan));
  g_autoptr(GByteArray) stack = g_byte_array_new ();
  g_autoptr(GString) key = g_string_new (NULL);
  gboolean expect_key = FALSE;

  g_return_val_if_fail (text != NULL || len == 0, spans);

  while (s.p < s.end)
    {
      char c = *s.p;
      char top = stack->len > 0 ? (char) stack->data[stack->len - 1] : '\0';

      switch (c)
        {
        case '{':
        case '[':
          g_byte_array_append (stack, (const guint8 *) &c, 1);
          expect_key = c == '{';
          s.p++;
          break;
        case '}':
        case ']':
          if (stack->len > 0)
            g_byte_array_set_size (stack, stack->len - 1);
          expect_key = FALSE;
          s.p++;
          break;
        case ',':
          expect_key = top == '{';
          s.p++;
          break;
        case '"':
          if (expect_key && top == '{')
            {
              const char *start = s.p;
              const char *q = start + 1;

              while (q < s.end && *q != '"' && *q != '\\')
                q++;
              g_string_truncate (key, 0);
              if (q < s.end && *q == '"')
                {
                  /* Without an escape a key is its bytes, decoded or (not
                   * well-formed) compared raw below alike. */
                  g_string_append_len (key, start + 1, q - start - 1);
                  s.p = q + 1;
                }
              else if (!parse_string (&s, key, NULL))
                {
                  /* Not a well-formed string: compare its raw bytes. */
                  s.p = start;
                  skip_string_lenient (&s);
                  g_string_truncate (key, 0);
                  g_string_append_len (key, start + 1, MAX (s.p - start - 2, 0));
                }
              expect_key = FALSE;
              skip_ws (&s);
              if (s.p < s.end && *s.p == ':')
                {
                  s.p++;
                  skip_ws (&s);
                  if (key_listed (keys, key))
                    {
                      CtJsonSpan span = { s.p - text, 0 };

                      skip_value_lenient (&s);
                      span.end = s.p - text;
                      g_array_append_val (spans, span);
                    }
                }
            }
          else
            skip_string_lenient (&s);
          break;
        default:
          s.p++;
          break;
        }
    }
  return spans;
}
