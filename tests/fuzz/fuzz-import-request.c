/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "fuzz-import-request"
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "ct-service.h"

/* The body parser of POST /v1/imports: whatever the bytes, it must not
 * crash or leak, and a refusal must be a well-formed 400 error body. */

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  CtReply *reply = ct_service_parse_body ("POST", "/v1/imports", (const char *) data, size);

  if (reply != NULL)
    {
      json_object *parsed = json_tokener_parse (reply->body);
      json_object *err = NULL, *code = NULL;

      g_assert_cmpuint (reply->status, ==, 400);
      g_assert_nonnull (parsed);
      g_assert_true (json_object_object_get_ex (parsed, "error", &err));
      g_assert_true (json_object_object_get_ex (err, "code", &code));
      g_assert_cmpstr (json_object_get_string (code), ==, "bad_request");
      g_assert_true (g_utf8_validate (reply->body, -1, NULL));
      json_object_put (parsed);
      ct_reply_free (reply);
    }
  return 0;
}
