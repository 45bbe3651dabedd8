/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Writes a self-signed certificate for @ip (subjectAltName IP) valid for
 * @days, and its private key (mode 0600). Returns the public-key pin,
 * "sha256//BASE64", as libcurl's CURLOPT_PINNEDPUBLICKEY takes it. */
char *ct_service_gen_cert (const char  *cert_path,
                           const char  *key_path,
                           const char  *ip,
                           guint        days,
                           GError     **error);

G_END_DECLS
