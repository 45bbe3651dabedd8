/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The member's dynamic payment code: a time-based one-time code (RFC 6238,
 * HMAC-SHA1, 30 s steps, 8 digits) bound to one card, shown as the QR code
 * "CTP1:<card_no>:<code>". */
#define CT_MEMBER_CODE_PREFIX     "CTP1:"
#define CT_MEMBER_CODE_DIGITS     8
#define CT_MEMBER_CODE_STEP_S     30
#define CT_MEMBER_CODE_SECRET_LEN 20

char     *ct_member_code_at         (const guint8 *secret,
                                     gsize         secret_len,
                                     gint64        unix_time,
                                     guint         digits);
gboolean  ct_member_code_verify     (const guint8 *secret,
                                     gsize         secret_len,
                                     const char   *code,
                                     gint64        unix_time,
                                     gint64       *out_step);
gint64    ct_member_code_step       (gint64        unix_time);

char     *ct_member_code_payload    (const char   *card_no,
                                     const char   *code);
gboolean  ct_member_code_parse      (const char   *payload,
                                     const char   *issuer_prefix,
                                     char        **out_card_no,
                                     char        **out_code,
                                     GError      **error);

G_END_DECLS
