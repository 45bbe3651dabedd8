/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ct-service.h"

G_BEGIN_DECLS

/* Shifts (docs/api.md). */
CtReply *ct_shifts_parse_open   (CtService *svc, CtCall *call);
CtReply *ct_shifts_apply_open   (CtService *svc, CtStore *store, const CtStoreMerchant *merchant, CtCall *call);
CtReply *ct_shifts_parse_close  (CtService *svc, CtCall *call);
CtReply *ct_shifts_apply_close  (CtService *svc, CtStore *store, const CtStoreMerchant *merchant, CtCall *call);
CtReply *ct_shifts_read_one     (CtService *svc, CtCall *call);
CtReply *ct_shifts_read_day     (CtService *svc, CtCall *call);
CtReply *ct_shifts_add_day      (CtStore *store, const char *store_name, const char *till,
                                 int64_t from_ms, int64_t to_ms, json_object *obj);

G_END_DECLS
