/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-test-json"

#include "config.h"

#include <check.h>

#include "ct-test-json.h"

/* What the service tests read of an answer, by a dotted path:
 * "card.balance", "transactions.0.id" (a number indexes an array). A part
 * of the path that is not there fails the test, naming the path and the
 * answer. */

/**
 * ct_test_json_at:
 * Returns: (transfer none) (nullable): the value at @path in @root (%NULL
 *   for a JSON null).
 */
json_object *
ct_test_json_at (json_object *root,
                 const char  *path)
{
  g_auto(GStrv) parts = g_strsplit (path, ".", -1);
  json_object *v = root;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (json_object_is_type (v, json_type_array))
        v = json_object_array_get_idx (v, (gsize) g_ascii_strtoull (parts[i], NULL, 10));
      else
        ck_assert_msg (json_object_object_get_ex (v, parts[i], &v), "no %s in %s", path,
                       json_object_to_json_string (root));
    }
  return v;
}

int64_t
ct_test_json_int (const char *body,
                  const char *path)
{
  json_object *root = json_tokener_parse (body);
  int64_t out;

  ck_assert_msg (root != NULL, "not JSON: %s", body);
  out = json_object_get_int64 (ct_test_json_at (root, path));
  json_object_put (root);
  return out;
}

/* Returns: (transfer full) (nullable): the string at @path, %NULL for a
 * JSON null. */
char *
ct_test_json_str (const char *body,
                  const char *path)
{
  json_object *root = json_tokener_parse (body);
  json_object *v;
  char *out;

  ck_assert_msg (root != NULL, "not JSON: %s", body);
  v = ct_test_json_at (root, path);
  out = v != NULL ? g_strdup (json_object_get_string (v)) : NULL;
  json_object_put (root);
  return out;
}
