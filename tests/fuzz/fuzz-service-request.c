/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "fuzz-service-request"
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "ct-service.h"
#include "ct-strict-json.h"

/* The service's request parsing: the strict JSON validator and every write
 * route's body parser. The first input byte picks the route, the rest is
 * the body. Whatever the bytes, parsing must not crash or leak, a refusal
 * must be a well-formed error body, and whatever the strict validator
 * accepts json-c must be able to build. */

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const struct
{
  const char *method;
  const char *path;
} targets[] = {
  { "POST", "/v1/cards" },
  { "PATCH", "/v1/cards/8888000000000001" },
  { "POST", "/v1/cards/8888000000000001/topups" },
  { "POST", "/v1/cards/8888000000000001/payments" },
  { "POST", "/v1/cards/8888000000000001/refunds" },
  { "POST", "/v1/cards/8888000000000001/adjustments" },
  { "POST", "/v1/imports" },
};

/* Whatever passed the strict validator must hold integers only: a double
 * here would mean json-c converted something the validator let through. */
static void
assert_integers_only (json_object *obj)
{
  switch (json_object_get_type (obj))
    {
    case json_type_double:
      g_error ("the strict validator let a non-integer number through");
      break;
    case json_type_object:
      {
        json_object_object_foreach (obj, key, value)
          {
            (void) key;
            assert_integers_only (value);
          }
      }
      break;
    case json_type_array:
      for (size_t i = 0; i < json_object_array_length (obj); i++)
        assert_integers_only (json_object_array_get_idx (obj, i));
      break;
    case json_type_null:
    case json_type_boolean:
    case json_type_int:
    case json_type_string:
    default:
      break;
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  const char *body;
  gsize len;
  guint which;
  CtReply *reply;
  json_object *obj;

  if (size == 0)
    return 0;
  which = data[0] % G_N_ELEMENTS (targets);
  body = (const char *) data + 1;
  len = size - 1;

  {
    g_autoptr(GError) error = NULL;

    obj = ct_strict_json_parse (body, len, &error);
    /* NULL always comes with a reason (a bare "null" too). */
    g_assert_true ((obj == NULL) == (error != NULL));
    if (obj != NULL)
      {
        g_assert_true (ct_strict_json_validate (body, len, NULL));
        assert_integers_only (obj);
      }
    json_object_put (obj);
  }

  reply = ct_service_parse_body (targets[which].method, targets[which].path, body, len);
  if (reply != NULL)
    {
      json_object *parsed = json_tokener_parse (reply->body);

      g_assert_cmpuint (reply->status, ==, 400);
      g_assert_nonnull (parsed);
      g_assert_true (g_utf8_validate (reply->body, -1, NULL));
      json_object_put (parsed);
      ct_reply_free (reply);
    }
  return 0;
}
