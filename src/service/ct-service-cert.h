/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Writes a self-signed certificate for @ip (subjectAltName IP) valid for
 * @days, and its private key (mode 0600). Returns the public-key pin,
 * "sha256//BASE64", as libcurl's CURLOPT_PINNEDPUBLICKEY takes it. */
char     *ct_service_gen_cert       (const char  *cert_path,
                                     const char  *key_path,
                                     const char  *ip,
                                     guint        days,
                                     GError     **error);
/* The same with the validity given as times (seconds since 1970). */
char     *ct_service_gen_cert_valid (const char  *cert_path,
                                     const char  *key_path,
                                     const char  *ip,
                                     gint64       not_before,
                                     gint64       not_after,
                                     GError     **error);

/* Checks that the certificate in @cert_pem is valid now and that @key_pem is
 * its private key; the error says which is wrong, naming the files. */
gboolean  ct_service_check_cert     (const char  *cert_file,
                                     const char  *cert_pem,
                                     const char  *key_file,
                                     const char  *key_pem,
                                     GError     **error);

G_END_DECLS
