/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ct-service.h"

G_BEGIN_DECLS

char     *ct_member_link_new   (CtStore     *store,
                                CtCall      *call,
                                const char  *card_no,
                                GError     **error);
gboolean  ct_member_code_check (CtStore     *store,
                                const char  *card_no,
                                const char  *code,
                                GError     **error);
CtReply  *ct_member_read_page  (CtService   *svc,
                                CtCall      *call);
CtReply  *ct_member_read_code  (CtService   *svc,
                                CtCall      *call);

G_END_DECLS
