/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-http"
#include "config.h"

#include <curl/curl.h>
#include <gio/gio.h>
#include <string.h>

#include "ct-http.h"
#include "ct-manager-pin.h"

/* No honest answer of the API comes near this; a bigger one is refused
 * rather than buffered. */
#define CT_HTTP_MAX_ANSWER (64 * 1024 * 1024)

/* A service that took the connection but gives no byte of an answer is
 * asked, on a second connection, whether it is alive: after
 * CT_HTTP_PATIENCE_MS without an answer, GET /v1/health with
 * CT_HTTP_PROBE_MS to answer. A frozen service (or a network that lost
 * the way back) is then known within about two seconds, where the
 * request's own timeout would hold the cashier for ten; a service that is
 * only slow answers the probe and its request keeps the full timeout. */
#define CT_HTTP_PATIENCE_MS 700
#define CT_HTTP_PROBE_MS    1300

struct _CtHttp
{
  CURLM      *multi;         /* the connection cache, shared by the two handles */
  CURL       *curl;
  CURL       *probe;         /* the health probe, made when first needed */
  char       *base_url;
  char       *authority;     /* "host:port", for messages */
  char       *auth_header;
  char       *ca_file;
  char       *default_ca_path; /* libcurl's own unless a test points it elsewhere */
  char       *pin_pubkey;
  guint       connect_timeout_ms;
  guint       timeout_ms;

  /* Per request. */
  GByteArray *answer;
  gsize       bytes_out;
  gboolean    replayed;
  int         retry_after;
  gboolean    too_large;
  gboolean    answering;     /* a byte of the answer came */
  gboolean    unresponsive;  /* the health probe got no answer either */
  char        errbuf[CURL_ERROR_SIZE];
};

G_DEFINE_QUARK (ct-http-error-quark, ct_http_error)

static gsize curl_initialized;

gboolean
ct_http_url_allowed (const char  *url,
                     GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  const char *scheme, *host;
  g_autoptr(GInetAddress) addr = NULL;

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error (error, CT_HTTP_ERROR, CT_HTTP_ERROR_CONFIG,
                   "“%s” is not a service URL (like https://host:port)", url);
      return FALSE;
    }
  scheme = g_uri_get_scheme (uri);
  host = g_uri_get_host (uri);
  if (g_ascii_strcasecmp (scheme, "https") == 0)
    return TRUE;
  if (g_ascii_strcasecmp (scheme, "http") != 0)
    {
      g_set_error (error, CT_HTTP_ERROR, CT_HTTP_ERROR_CONFIG,
                   "“%s”: only https:// service URLs are accepted", url);
      return FALSE;
    }
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  addr = g_inet_address_new_from_string (host);
  if (addr != NULL && g_inet_address_get_is_loopback (addr))
    return TRUE;
  g_set_error (error, CT_HTTP_ERROR, CT_HTTP_ERROR_CONFIG,
               "“%s”: plain http:// is accepted only to a loopback address; use https://",
               url);
  return FALSE;
}

static size_t
on_write (char   *data,
          size_t  size,
          size_t  nmemb,
          void   *user_data)
{
  CtHttp *self = user_data;
  size_t n = size * nmemb;

  if (self->answer->len + n > CT_HTTP_MAX_ANSWER)
    {
      self->too_large = TRUE;
      return 0;
    }
  g_byte_array_append (self->answer, (const guint8 *) data, n);
  return n;
}

static size_t
on_header (char   *data,
           size_t  size,
           size_t  nitems,
           void   *user_data)
{
  CtHttp *self = user_data;
  size_t n = size * nitems;
  g_autofree char *line = g_strndup (data, n);
  char *colon = strchr (line, ':');

  self->answering = TRUE;
  if (colon != NULL)
    {
      char *value;

      *colon = '\0';
      value = g_strstrip (colon + 1);
      if (g_ascii_strcasecmp (line, "Idempotent-Replayed") == 0)
        self->replayed = g_ascii_strcasecmp (value, "true") == 0;
      else if (g_ascii_strcasecmp (line, "Retry-After") == 0)
        {
          guint64 secs;

          if (g_ascii_string_to_unsigned (value, 10, 0, 86400, &secs, NULL))
            self->retry_after = (int) secs;
        }
    }
  else if (g_str_has_prefix (line, "HTTP/"))
    {
      /* A new status line: headers of an earlier (1xx) answer do not count. */
      self->replayed = FALSE;
      self->retry_after = -1;
    }
  return n;
}

/* Counts request bytes handed to the connection: the only reliable way to
 * tell "nothing was sent" (safe to forget) from "sent, outcome unknown". */
static int
on_debug (CURL          *handle,
          curl_infotype  type,
          char          *data,
          size_t         size,
          void          *user_data)
{
  CtHttp *self = user_data;

  if (type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT)
    self->bytes_out += size;
  return 0;
}

CtHttp *
ct_http_new (const char  *base_url,
             const char  *token,
             const char  *ca_file,
             const char  *pin_pubkey,
             guint        connect_timeout_ms,
             guint        timeout_ms,
             GError     **error)
{
  CtHttp *self;
  gsize len;

  g_return_val_if_fail (base_url != NULL, NULL);

  if (!ct_http_url_allowed (base_url, error))
    return NULL;

  if (g_once_init_enter (&curl_initialized))
    {
      curl_global_init (CURL_GLOBAL_DEFAULT);
      g_once_init_leave (&curl_initialized, 1);
    }

  self = g_new0 (CtHttp, 1);
  self->curl = curl_easy_init ();
  self->multi = curl_multi_init ();
  if (self->curl == NULL || self->multi == NULL)
    {
      if (self->curl != NULL)
        curl_easy_cleanup (self->curl);
      if (self->multi != NULL)
        curl_multi_cleanup (self->multi);
      g_free (self);
      g_set_error (error, CT_HTTP_ERROR, CT_HTTP_ERROR_CONFIG, "Could not create an HTTP handle");
      return NULL;
    }
  self->base_url = g_strdup (base_url);
  {
    g_autoptr(GUri) uri = g_uri_parse (base_url, G_URI_FLAGS_NONE, NULL);
    int port = g_uri_get_port (uri);

    if (port < 0)
      port = g_ascii_strcasecmp (g_uri_get_scheme (uri), "http") == 0 ? 80 : 443;
    self->authority = g_strdup_printf ("%s:%d", g_uri_get_host (uri), port);
  }
  len = strlen (self->base_url);
  while (len > 0 && self->base_url[len - 1] == '/')
    self->base_url[--len] = '\0';
  self->auth_header = token ? g_strdup_printf ("Authorization: Bearer %s", token) : NULL;
  self->ca_file = g_strdup (ca_file);
  self->pin_pubkey = g_strdup (pin_pubkey);
  self->connect_timeout_ms = connect_timeout_ms ? connect_timeout_ms : 3000;
  self->timeout_ms = timeout_ms ? timeout_ms : 10000;
  self->answer = g_byte_array_new ();
  return self;
}

void
ct_http_free (CtHttp *self)
{
  if (self == NULL)
    return;
  curl_easy_cleanup (self->curl);
  if (self->probe != NULL)
    curl_easy_cleanup (self->probe);
  curl_multi_cleanup (self->multi);
  g_free (self->base_url);
  g_free (self->authority);
  ct_secret_free (self->auth_header);
  g_free (self->ca_file);
  g_free (self->default_ca_path);
  g_free (self->pin_pubkey);
  g_byte_array_unref (self->answer);
  g_free (self);
}

/**
 * ct_http_set_default_ca_path:
 * @dir: a directory of CA certificates
 *
 * Stands in for libcurl's built-in CA directory (/etc/ssl/certs), which a
 * till without a CA file or a pin trusts: tests point it at their own
 * CA to see what is trusted, without touching the system's.
 */
void
ct_http_set_default_ca_path (CtHttp     *self,
                             const char *dir)
{
  g_return_if_fail (self != NULL);

  g_free (self->default_ca_path);
  self->default_ca_path = g_strdup (dir);
}

void
ct_http_result_clear (CtHttpResult *result)
{
  g_clear_pointer (&result->body, g_bytes_unref);
  result->status = 0;
}

static gboolean
is_tls_error (CURLcode code)
{
  switch ((int) code)
    {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_USE_SSL_FAILED:
      return TRUE;
    default:
      return FALSE;
    }
}

/* A TLS handshake that the network cut off (reset, EOF, a failed read or
 * write) says nothing about the certificate: the service is unreachable. */
static gboolean
is_handshake_cut (CURLcode    code,
                  const char *detail)
{
  static const char * const cut[] = {
    "non-properly terminated", "pull function", "push function", "connection reset",
    "ssl_error_syscall", "unexpected eof", "broken pipe", "recv failure", "send failure",
  };
  g_autofree char *lower = NULL;

  if (code != CURLE_SSL_CONNECT_ERROR || detail == NULL)
    return FALSE;
  lower = g_ascii_strdown (detail, -1);
  for (guint i = 0; i < G_N_ELEMENTS (cut); i++)
    if (strstr (lower, cut[i]) != NULL)
      return TRUE;
  return FALSE;
}

/* What went wrong, in words a cashier or a manager can act on (libcurl's
 * own text goes to the debug log). */
static void
set_failure (CtHttp      *self,
             CURLcode     code,
             const char  *detail,
             GError     **error)
{
  g_debug ("request to %s failed: %s (%d)", self->authority, detail, (int) code);

  if (self->unresponsive)
    {
      if (self->bytes_out > 0)
        g_set_error (error, CT_HTTP_ERROR, CT_HTTP_ERROR_UNRESPONSIVE,
                     "The card service at %s took the request but stopped answering (it does "
                     "not answer a health check either); whether it was done is not known yet",
                     self->authority);
      else
        g_set_error (error, CT_HTTP_ERROR, CT_HTTP_ERROR_NOT_SENT,
                     "The card service at %s takes connections but does not answer: check "
                     "that it runs and that the network is up", self->authority);
      return;
    }
  if (self->bytes_out > 0)
    {
      g_set_error (error, CT_HTTP_ERROR, CT_HTTP_ERROR_UNKNOWN_OUTCOME,
                   "The connection to the card service at %s broke after the request was "
                   "sent; whether it was done is not known yet", self->authority);
      return;
    }
  if (is_tls_error (code) && !is_handshake_cut (code, detail))
    {
      const char *why;

      switch ((int) code)
        {
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
          why = "its public key does not match this till's pin (pin-pubkey)";
          break;
        case CURLE_PEER_FAILED_VERIFICATION:
          why = "its certificate is not signed by this till's CA (ca) or is not for this address";
          break;
        case CURLE_SSL_CACERT_BADFILE:
          why = "this till's CA file cannot be read";
          break;
        default:
          why = "no secure connection could be agreed (the service must offer TLS 1.2 or newer)";
          break;
        }
      g_set_error (error, CT_HTTP_ERROR, CT_HTTP_ERROR_TLS,
                   "The card service at %s was not accepted: %s; nothing was sent",
                   self->authority, why);
      return;
    }
  switch ((int) code)
    {
    case CURLE_COULDNT_RESOLVE_HOST:
      g_set_error (error, CT_HTTP_ERROR, CT_HTTP_ERROR_NOT_SENT,
                   "The card service's address %s cannot be found: check the address and the "
                   "network", self->authority);
      break;
    case CURLE_OPERATION_TIMEDOUT:
      g_set_error (error, CT_HTTP_ERROR, CT_HTTP_ERROR_NOT_SENT,
                   "The card service at %s did not answer in time: check the network",
                   self->authority);
      break;
    default:
      g_set_error (error, CT_HTTP_ERROR, CT_HTTP_ERROR_NOT_SENT,
                   "The card service at %s does not answer: check that it runs and that the "
                   "network is up", self->authority);
      break;
    }
}

/* What every connection to the service needs, the probe's too. */
static void
set_transport (CtHttp *self, CURL *handle)
{
  curl_easy_setopt (handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (handle, CURLOPT_FOLLOWLOCATION, 0L);
  /* TLS 1.2 and newer only. With a public-key pin and no CA (a self-signed
   * service), the pin is what verifies the peer; the name is still checked. */
  curl_easy_setopt (handle, CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);
  curl_easy_setopt (handle, CURLOPT_SSL_VERIFYPEER,
                    self->pin_pubkey != NULL && self->ca_file == NULL ? 0L : 1L);
  curl_easy_setopt (handle, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt (handle, CURLOPT_CAINFO, self->ca_file);
  /* A till's CA file is all it trusts: libcurl-gnutls also reads its
   * default CA directory (every system CA, 289 on Debian, 93 ms and 18 MiB
   * per new connection) and would trust any public CA beside the store's. */
  if (self->ca_file != NULL)
    curl_easy_setopt (handle, CURLOPT_CAPATH, NULL);
  else if (self->default_ca_path != NULL)
    curl_easy_setopt (handle, CURLOPT_CAPATH, self->default_ca_path);
  curl_easy_setopt (handle, CURLOPT_PINNEDPUBLICKEY, self->pin_pubkey);
  curl_easy_setopt (handle, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
}

static size_t
discard (char *data, size_t size, size_t nmemb, void *user_data)
{
  return size * nmemb;
}

static void
start_probe (CtHttp *self)
{
  g_autofree char *url = g_strconcat (self->base_url, "/v1/health", NULL);

  if (self->probe == NULL)
    self->probe = curl_easy_init ();
  if (self->probe == NULL)
    return;
  curl_easy_setopt (self->probe, CURLOPT_URL, url);
  set_transport (self, self->probe);
  curl_easy_setopt (self->probe, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt (self->probe, CURLOPT_CONNECTTIMEOUT_MS, (long) CT_HTTP_PROBE_MS);
  curl_easy_setopt (self->probe, CURLOPT_TIMEOUT_MS, (long) CT_HTTP_PROBE_MS);
  /* Its own connection: the request's is busy, and a stuck one must not be
   * what the probe waits on. */
  curl_easy_setopt (self->probe, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt (self->probe, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt (self->probe, CURLOPT_WRITEFUNCTION, discard);
  curl_multi_add_handle (self->multi, self->probe);
}

/* Runs the request on the handle's multi, beside a health probe when the
 * service keeps silent (CT_HTTP_PATIENCE_MS). A probe that gets no answer
 * ends the request as unresponsive; one that does lets it run its full
 * timeout. */
static CURLcode
perform (CtHttp *self)
{
  gint64 started = g_get_monotonic_time ();
  gboolean may_probe = self->timeout_ms > CT_HTTP_PATIENCE_MS + CT_HTTP_PROBE_MS;
  gboolean probing = FALSE;
  CURLcode result = CURLE_OK;
  gboolean done = FALSE;

  self->answering = FALSE;
  self->unresponsive = FALSE;
  curl_multi_add_handle (self->multi, self->curl);
  while (!done)
    {
      CURLMsg *msg;
      int running = 0;
      int left = 0;

      if (curl_multi_perform (self->multi, &running) != CURLM_OK)
        {
          result = CURLE_FAILED_INIT;
          break;
        }
      while ((msg = curl_multi_info_read (self->multi, &left)) != NULL)
        {
          if (msg->msg != CURLMSG_DONE)
            continue;
          if (msg->easy_handle == self->curl)
            {
              result = msg->data.result;
              done = TRUE;
            }
          else if (msg->easy_handle == self->probe)
            {
              long status = 0;

              curl_easy_getinfo (self->probe, CURLINFO_RESPONSE_CODE, &status);
              curl_multi_remove_handle (self->multi, self->probe);
              probing = FALSE;
              if (msg->data.result != CURLE_OK || status == 0)
                {
                  self->unresponsive = TRUE;
                  result = CURLE_OPERATION_TIMEDOUT;
                  done = TRUE;
                }
            }
        }
      if (done)
        break;
      if (may_probe && !self->answering
          && g_get_monotonic_time () - started >= CT_HTTP_PATIENCE_MS * 1000)
        {
          /* Once per request: an answered probe means "alive, just slow". */
          may_probe = FALSE;
          probing = TRUE;
          start_probe (self);
        }
      curl_multi_poll (self->multi, NULL, 0, 100, NULL);
    }
  if (probing)
    curl_multi_remove_handle (self->multi, self->probe);
  curl_multi_remove_handle (self->multi, self->curl);
  return result;
}

gboolean
ct_http_request (CtHttp        *self,
                 const char    *method,
                 const char    *path,
                 const char    *idempotency_key,
                 GBytes        *body,
                 CtHttpResult  *out,
                 GError       **error)
{
  struct curl_slist *headers = NULL;
  g_autofree char *url = NULL;
  g_autofree char *key_header = NULL;
  CURLcode code;
  long status = 0;
  gsize body_len = 0;
  const void *body_data = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (method != NULL && path != NULL && out != NULL, FALSE);

  memset (out, 0, sizeof *out);
  url = g_strconcat (self->base_url, path, NULL);
  g_byte_array_set_size (self->answer, 0);
  self->bytes_out = 0;
  self->replayed = FALSE;
  self->retry_after = -1;
  self->too_large = FALSE;
  self->errbuf[0] = '\0';

  if (self->auth_header)
    headers = curl_slist_append (headers, self->auth_header);
  headers = curl_slist_append (headers, "Accept: application/json");
  /* No 100-continue round trip: the service answers at once. */
  headers = curl_slist_append (headers, "Expect:");
  if (idempotency_key != NULL)
    {
      key_header = g_strdup_printf ("Idempotency-Key: %s", idempotency_key);
      headers = curl_slist_append (headers, key_header);
    }
  if (body != NULL)
    {
      body_data = g_bytes_get_data (body, &body_len);
      headers = curl_slist_append (headers, "Content-Type: application/json");
    }

  curl_easy_setopt (self->curl, CURLOPT_URL, url);
  set_transport (self, self->curl);
  curl_easy_setopt (self->curl, CURLOPT_CONNECTTIMEOUT_MS, (long) self->connect_timeout_ms);
  curl_easy_setopt (self->curl, CURLOPT_TIMEOUT_MS, (long) self->timeout_ms);
  curl_easy_setopt (self->curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (self->curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt (self->curl, CURLOPT_WRITEDATA, self);
  curl_easy_setopt (self->curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (self->curl, CURLOPT_HEADERDATA, self);
  curl_easy_setopt (self->curl, CURLOPT_DEBUGFUNCTION, on_debug);
  curl_easy_setopt (self->curl, CURLOPT_DEBUGDATA, self);
  curl_easy_setopt (self->curl, CURLOPT_VERBOSE, 1L);
  curl_easy_setopt (self->curl, CURLOPT_ERRORBUFFER, self->errbuf);

  if (g_ascii_strcasecmp (method, "GET") == 0)
    {
      curl_easy_setopt (self->curl, CURLOPT_CUSTOMREQUEST, NULL);
      curl_easy_setopt (self->curl, CURLOPT_HTTPGET, 1L);
    }
  else
    {
      /* POSTFIELDS with an explicit size sends the bytes exactly, NULs
       * and all; CUSTOMREQUEST turns it into PATCH when asked. */
      curl_easy_setopt (self->curl, CURLOPT_POST, 1L);
      curl_easy_setopt (self->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body_len);
      curl_easy_setopt (self->curl, CURLOPT_POSTFIELDS, body_data ? body_data : "");
      curl_easy_setopt (self->curl, CURLOPT_CUSTOMREQUEST,
                        g_ascii_strcasecmp (method, "POST") == 0 ? NULL : method);
    }

  code = perform (self);
  curl_slist_free_all (headers);
  curl_easy_setopt (self->curl, CURLOPT_HTTPHEADER, NULL);

  if (code != CURLE_OK)
    {
      const char *detail = self->errbuf[0] ? self->errbuf : curl_easy_strerror (code);

      if (self->too_large)
        {
          g_set_error (error, CT_HTTP_ERROR, CT_HTTP_ERROR_TOO_LARGE,
                       "The service's answer is larger than %d MiB", CT_HTTP_MAX_ANSWER >> 20);
          return FALSE;
        }
      set_failure (self, code, detail, error);
      return FALSE;
    }

  curl_easy_getinfo (self->curl, CURLINFO_RESPONSE_CODE, &status);
  out->status = (int) status;
  out->body = g_bytes_new (self->answer->data, self->answer->len);
  out->replayed = self->replayed;
  out->retry_after = self->retry_after;
  return TRUE;
}
