/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A fault-injecting HTTP/1.1 proxy on 127.0.0.1 for the client tests. It
 * sits between the till and a plain-HTTP (loopback) cardtill-service and,
 * per request, chosen with a seeded random generator and the weights below:
 *  - passes it through (the connection stays alive for the next request);
 *  - drops the answer after the service applied the request (closes the
 *    till's connection with a reset instead of answering);
 *  - resets the till's connection before forwarding (the request was sent
 *    by the till but never reached the service);
 *  - stalls: forwards, then holds the answer past the till's timeout;
 *  - cuts the answer half-way;
 *  - answers an HTML 502 page itself (a broken gateway);
 *  - answers "200 OK" with truncated JSON itself (a broken service).
 * It can also go "offline": it stops listening, so connections are refused
 * and nothing is sent. */

typedef struct _CtFaultProxy CtFaultProxy;

typedef struct
{
  guint pass;
  guint drop_answer;
  guint reset_before;
  guint stall;
  guint cut_answer;
  guint html_502;
  guint garbage_200;   /* answers 200 with a cut JSON body, without forwarding */
  guint stall_ms;      /* how long a stall holds the till (default 3000) */
  guint delay_ms;      /* every passed answer waits this long (a slow link) */
  gboolean cut_on_accept; /* every new connection is closed at once, before a byte is read:
                           * a network that cuts a TLS handshake off */
  gboolean hang;       /* every request is read and never answered nor forwarded: a frozen
                        * service that still takes connections */
  guint busy_ms;       /* every answer but GET /v1/health's waits this long: a busy service
                        * whose health check stays quick */
  const char *hide_feature; /* left out of GET /v1/health's "features": a service from
                             * before it (a string that outlives the proxy) */
} CtFaultWeights;

CtFaultProxy *ct_fault_proxy_new          (const char           *upstream_url,
                                           guint32               seed,
                                           GError              **error);
const char   *ct_fault_proxy_get_url      (CtFaultProxy         *proxy);
/* Changes where requests go (the service restarted on another port). */
void          ct_fault_proxy_set_upstream (CtFaultProxy         *proxy,
                                           const char           *upstream_url);
void          ct_fault_proxy_set_weights  (CtFaultProxy         *proxy,
                                           const CtFaultWeights *weights);
/* Offline: the listening socket is closed (connections refused); online
 * again: it listens on the same port. */
gboolean      ct_fault_proxy_set_offline  (CtFaultProxy         *proxy,
                                           gboolean              offline,
                                           GError              **error);
/* Counters: requests seen and faults injected. */
guint         ct_fault_proxy_get_requests (CtFaultProxy         *proxy);
guint         ct_fault_proxy_get_faults   (CtFaultProxy         *proxy);
/* The most requests (health checks aside) that were in the proxy at once:
 * forwarded or held, their answers not yet sent back. */
guint         ct_fault_proxy_get_max_in_flight (CtFaultProxy    *proxy);
/* Connections the till opened to the proxy. */
guint         ct_fault_proxy_get_connections (CtFaultProxy      *proxy);
void          ct_fault_proxy_free         (CtFaultProxy         *proxy);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtFaultProxy, ct_fault_proxy_free)

G_END_DECLS
