/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <json-c/json.h>
#include <stdint.h>

G_BEGIN_DECLS

#define CT_STRICT_JSON_ERROR (ct_strict_json_error_quark ())

typedef enum
{
  CT_STRICT_JSON_ERROR_SYNTAX,
  CT_STRICT_JSON_ERROR_NUMBER,
  CT_STRICT_JSON_ERROR_DUPLICATE_KEY,
  CT_STRICT_JSON_ERROR_TOO_DEEP,
  CT_STRICT_JSON_ERROR_ENCODING,
} CtStrictJsonError;

#define CT_STRICT_JSON_MAX_DEPTH 32

/* A byte range of a JSON text: [start, end). */
typedef struct
{
  gsize start;
  gsize end;
} CtJsonSpan;

GQuark       ct_strict_json_error_quark (void);

gboolean     ct_strict_json_validate    (const char   *text,
                                         gsize         len,
                                         GError      **error);
json_object *ct_strict_json_parse       (const char   *text,
                                         gsize         len,
                                         GError      **error);
const char  *ct_strict_json_read_string (const char   *text,
                                         const char   *end,
                                         GString      *out);
GArray      *ct_strict_json_find_members (const char         *text,
                                          gsize               len,
                                          const char * const *keys);

G_END_DECLS
