/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One HTTPS connection to the card service on libcurl: a reused easy
 * handle (keep-alive), connect and total timeouts, a quick health probe
 * when the service keeps silent, peer and host
 * verification always on, optional CA file and public-key pin, http://
 * only to loopback. Not thread-safe: one CtHttp per thread at a time. */

#define CT_HTTP_ERROR (ct_http_error_quark ())

typedef enum
{
  /* No byte of the request was sent (could not connect, refused): the
   * request was definitely not done. */
  CT_HTTP_ERROR_NOT_SENT,
  /* TLS: the certificate or pin did not match; nothing was sent. */
  CT_HTTP_ERROR_TLS,
  /* Bytes were sent but no complete answer came (reset, timeout, cut
   * answer): the outcome is unknown. */
  CT_HTTP_ERROR_UNKNOWN_OUTCOME,
  /* Bytes were sent, no answer came, and the service did not answer a
   * health check on another connection either: the outcome is unknown and
   * waiting longer is unlikely to help (the service is down or hung). */
  CT_HTTP_ERROR_UNRESPONSIVE,
  /* Bad URL or a plain http:// URL to a non-loopback host. */
  CT_HTTP_ERROR_CONFIG,
  /* The answer was larger than the till accepts. */
  CT_HTTP_ERROR_TOO_LARGE,
} CtHttpError;

typedef struct _CtHttp CtHttp;

typedef struct
{
  int      status;        /* HTTP status */
  GBytes  *body;          /* answer body, never NULL on success */
  gboolean replayed;      /* Idempotent-Replayed: true */
  int      retry_after;   /* seconds from Retry-After, or -1 */
} CtHttpResult;

GQuark   ct_http_error_quark  (void);

CtHttp  *ct_http_new          (const char    *base_url,
                               const char    *token,
                               const char    *ca_file,
                               const char    *pin_pubkey,
                               guint          connect_timeout_ms,
                               guint          timeout_ms,
                               GError       **error);
void     ct_http_free         (CtHttp        *http);
/* For tests: the CA directory trusted when there is no CA file (libcurl's
 * built-in default otherwise). A CA file is always trusted alone. */
void     ct_http_set_default_ca_path (CtHttp     *http,
                                      const char *dir);

/* Sends one request. @idempotency_key is sent as Idempotency-Key when
 * non-NULL; @body (nullable) is sent exactly. On success fills @out (the
 * caller clears it with ct_http_result_clear()). */
gboolean ct_http_request      (CtHttp        *http,
                               const char    *method,
                               const char    *path,
                               const char    *idempotency_key,
                               GBytes        *body,
                               CtHttpResult  *out,
                               GError       **error);
void     ct_http_result_clear (CtHttpResult  *result);

/* TRUE if @url is https://, or http:// to 127.0.0.0/8, ::1 or localhost. */
gboolean ct_http_url_allowed  (const char    *url,
                               GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtHttp, ct_http_free)

G_END_DECLS
