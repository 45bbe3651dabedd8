/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <json-c/json.h>
#include <stdint.h>

G_BEGIN_DECLS

json_object *ct_test_json_at  (json_object *root,
                               const char  *path);
int64_t      ct_test_json_int (const char  *body,
                               const char  *path);
char        *ct_test_json_str (const char  *body,
                               const char  *path);

G_END_DECLS
