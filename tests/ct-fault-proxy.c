/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-fault-proxy"
#include "config.h"

#include <arpa/inet.h>
#include <gio/gio.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ct-fault-proxy.h"

#define MAX_MESSAGE (16 * 1024 * 1024)

typedef enum
{
  FAULT_PASS,
  FAULT_DROP_ANSWER,
  FAULT_RESET_BEFORE,
  FAULT_STALL,
  FAULT_CUT_ANSWER,
  FAULT_HTML_502,
  FAULT_GARBAGE_200,
} Fault;

struct _CtFaultProxy
{
  GMutex          lock;
  int             listen_fd;
  guint16         port;
  char           *url;
  char           *upstream_host;
  guint16         upstream_port;
  CtFaultWeights  weights;
  GRand          *rand;
  gboolean        stopping;
  gboolean        offline;
  GThread        *accept_thread;
  GPtrArray      *conn_threads;
  guint           requests;
  guint           in_flight;     /* requests read and not answered (health checks aside) */
  guint           max_in_flight;
  guint           faults;
  guint           connections;
  GHashTable     *active;        /* fds of the till's open connections */
};

typedef struct
{
  CtFaultProxy *proxy;
  int           fd;
} Conn;

static gboolean
parse_upstream (CtFaultProxy *self, const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL || g_uri_get_port (uri) <= 0)
    return FALSE;
  g_free (self->upstream_host);
  self->upstream_host = g_strdup (g_uri_get_host (uri));
  self->upstream_port = (guint16) g_uri_get_port (uri);
  return TRUE;
}

static int
listen_on (guint16 port)
{
  struct sockaddr_in addr = { 0 };
  socklen_t len = sizeof addr;
  int one = 1;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  addr.sin_port = htons (port);
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) != 0 || listen (fd, 64) != 0
      || getsockname (fd, (struct sockaddr *) &addr, &len) != 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static void
reset_close (int fd)
{
  struct linger lg = { 1, 0 };

  /* SO_LINGER 0: close sends a reset, as a crashed gateway would. */
  setsockopt (fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close (fd);
}

static gboolean
write_all (int fd, const char *data, gsize len)
{
  while (len > 0)
    {
      ssize_t n = send (fd, data, len, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      len -= n;
    }
  return TRUE;
}

/* Reads one HTTP/1.1 message (headers and Content-Length body) into @buf,
 * which may hold bytes already. Returns FALSE on EOF or error. */
static gboolean
read_message (int fd, GByteArray *buf, gsize *out_len, int timeout_ms)
{
  for (;;)
    {
      guint8 chunk[16384];
      ssize_t n;
      const char *end;

      end = buf->len > 0 ? g_strstr_len ((const char *) buf->data, buf->len, "\r\n\r\n")
                         : NULL;
      if (end != NULL)
        {
          gsize header_len = end + 4 - (const char *) buf->data;
          g_autofree char *headers = g_strndup ((const char *) buf->data, header_len);
          g_autofree char *lower = g_ascii_strdown (headers, -1);
          const char *cl = strstr (lower, "\r\ncontent-length:");
          gsize body_len = 0;

          if (cl != NULL)
            body_len = g_ascii_strtoull (cl + strlen ("\r\ncontent-length:"), NULL, 10);
          if (body_len > MAX_MESSAGE)
            return FALSE;
          if (buf->len >= header_len + body_len)
            {
              *out_len = header_len + body_len;
              return TRUE;
            }
        }
      if (buf->len > MAX_MESSAGE)
        return FALSE;
      if (timeout_ms >= 0)
        {
          struct pollfd p = { fd, POLLIN, 0 };

          if (poll (&p, 1, timeout_ms) <= 0)
            return FALSE;
        }
      n = recv (fd, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      g_byte_array_append (buf, chunk, n);
    }
}

/* An older service: @feature is left out of the health answer's
 * "features" in the first @len bytes of @answer, and its Content-Length
 * says the new length. */
static void
hide_feature (GByteArray  *answer,
              gsize       *len,
              const char  *feature)
{
  const char *data = (const char *) answer->data;
  const char *end = g_strstr_len (data, *len, "\r\n\r\n");
  g_autofree char *quoted = g_strdup_printf ("\"%s\"", feature);
  g_autoptr(GString) body = NULL;
  g_autoptr(GString) message = g_string_new (NULL);
  g_autofree char *head = NULL;
  g_auto(GStrv) headers = NULL;
  const char *at;
  gsize pos, n = strlen (quoted);

  if (end == NULL)
    return;
  body = g_string_new_len (end + 4, data + *len - (end + 4));
  if ((at = strstr (body->str, quoted)) == NULL)
    return;
  pos = at - body->str;
  if (body->str[pos + n] == ',')
    n++;
  else if (pos > 0 && body->str[pos - 1] == ',')
    {
      pos--;
      n++;
    }
  g_string_erase (body, pos, n);

  head = g_strndup (data, end - data);
  headers = g_strsplit (head, "\r\n", -1);
  for (guint i = 0; headers[i] != NULL; i++)
    {
      if (g_ascii_strncasecmp (headers[i], "content-length:", strlen ("content-length:")) == 0)
        g_string_append_printf (message, "Content-Length: %" G_GSIZE_FORMAT "\r\n", body->len);
      else
        g_string_append_printf (message, "%s\r\n", headers[i]);
    }
  g_string_append (message, "\r\n");
  g_string_append_len (message, body->str, body->len);
  g_byte_array_remove_range (answer, 0, *len);
  g_byte_array_prepend (answer, (const guint8 *) message->str, message->len);
  *len = message->len;
}

static int
connect_upstream (CtFaultProxy *self)
{
  struct sockaddr_in addr = { 0 };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_autofree char *host = NULL;
  guint16 port;

  g_mutex_lock (&self->lock);
  host = g_strdup (self->upstream_host);
  port = self->upstream_port;
  g_mutex_unlock (&self->lock);

  addr.sin_family = AF_INET;
  addr.sin_port = htons (port);
  inet_pton (AF_INET, g_strcmp0 (host, "localhost") == 0 ? "127.0.0.1" : host, &addr.sin_addr);
  if (fd >= 0 && connect (fd, (struct sockaddr *) &addr, sizeof addr) != 0)
    {
      close (fd);
      fd = -1;
    }
  return fd;
}

static Fault
choose (CtFaultProxy *self)
{
  CtFaultWeights *w = &self->weights;
  guint total, r;
  Fault f;

  g_mutex_lock (&self->lock);
  total = w->pass + w->drop_answer + w->reset_before + w->stall + w->cut_answer + w->html_502
          + w->garbage_200;
  r = total ? (guint) g_rand_int_range (self->rand, 0, (gint32) total) : 0;
  if (total == 0 || r < w->pass)
    f = FAULT_PASS;
  else if ((r -= w->pass) < w->drop_answer)
    f = FAULT_DROP_ANSWER;
  else if ((r -= w->drop_answer) < w->reset_before)
    f = FAULT_RESET_BEFORE;
  else if ((r -= w->reset_before) < w->stall)
    f = FAULT_STALL;
  else if ((r -= w->stall) < w->cut_answer)
    f = FAULT_CUT_ANSWER;
  else if ((r -= w->cut_answer) < w->html_502)
    f = FAULT_HTML_502;
  else
    f = FAULT_GARBAGE_200;
  self->requests++;
  if (f != FAULT_PASS)
    self->faults++;
  g_mutex_unlock (&self->lock);
  return f;
}

static gboolean
stopping (CtFaultProxy *self)
{
  gboolean s;

  g_mutex_lock (&self->lock);
  s = self->stopping;
  g_mutex_unlock (&self->lock);
  return s;
}

/* A request taken (*counted) until its answer goes back, or the
 * connection ends. */
static void
in_flight_begin (CtFaultProxy *self,
                 gboolean     *counted)
{
  g_mutex_lock (&self->lock);
  self->in_flight++;
  self->max_in_flight = MAX (self->max_in_flight, self->in_flight);
  g_mutex_unlock (&self->lock);
  *counted = TRUE;
}

static void
in_flight_end (CtFaultProxy *self,
               gboolean     *counted)
{
  if (!*counted)
    return;
  g_mutex_lock (&self->lock);
  self->in_flight--;
  g_mutex_unlock (&self->lock);
  *counted = FALSE;
}

static gpointer
serve_conn (gpointer data)
{
  Conn *c = data;
  CtFaultProxy *self = c->proxy;
  int original_fd = c->fd;
  g_autoptr(GByteArray) in = g_byte_array_new ();
  static const char html[] =
    "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: 43\r\n"
    "Connection: close\r\n\r\n<html><body>502 Bad Gateway</body></html>\r\n";
  static const char garbage[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 21\r\n\r\n"
    "{\"card_no\":\"8888\",\"st";

  gboolean counted = FALSE;

  while (!stopping (self))
    {
      g_autoptr(GByteArray) out = g_byte_array_new ();
      gsize req_len = 0, resp_len = 0;
      Fault fault;
      gboolean is_health;
      int up;

      if (!read_message (c->fd, in, &req_len, 200))
        {
          /* Idle poll timeouts are fine; EOF ends the connection. */
          struct pollfd p = { c->fd, POLLIN, 0 };

          if (in->len == 0 && poll (&p, 1, 0) == 0 && !stopping (self))
            continue;
          break;
        }
      fault = choose (self);
      if (self->weights.hang)
        {
          /* Held until the till gives up and closes, or the proxy stops. */
          while (!stopping (self))
            {
              struct pollfd p = { c->fd, POLLIN, 0 };
              char sink[512];

              if (poll (&p, 1, 200) > 0 && read (c->fd, sink, sizeof sink) <= 0)
                break;
            }
          break;
        }
      is_health = req_len >= 15 && memcmp (in->data, "GET /v1/health", 14) == 0;
      if (!is_health)
        in_flight_begin (self, &counted);
      if (fault == FAULT_RESET_BEFORE)
        {
          reset_close (c->fd);
          c->fd = -1;
          break;
        }
      if (fault == FAULT_HTML_502)
        {
          write_all (c->fd, html, sizeof html - 1);
          break;
        }
      if (fault == FAULT_GARBAGE_200)
        {
          g_byte_array_remove_range (in, 0, req_len);
          in_flight_end (self, &counted);
          if (!write_all (c->fd, garbage, sizeof garbage - 1))
            break;
          continue;
        }

      up = connect_upstream (self);
      if (up < 0)
        {
          reset_close (c->fd);
          c->fd = -1;
          break;
        }
      if (!write_all (up, (const char *) in->data, req_len)
          || !read_message (up, out, &resp_len, 30000))
        {
          close (up);
          reset_close (c->fd);
          c->fd = -1;
          break;
        }
      close (up);
      g_byte_array_remove_range (in, 0, req_len);

      if (fault == FAULT_DROP_ANSWER)
        {
          reset_close (c->fd);
          c->fd = -1;
          break;
        }
      if (fault == FAULT_STALL)
        {
          g_usleep ((gulong) self->weights.stall_ms * 1000);
          reset_close (c->fd);
          c->fd = -1;
          break;
        }
      if (fault == FAULT_CUT_ANSWER)
        {
          write_all (c->fd, (const char *) out->data, resp_len / 2);
          reset_close (c->fd);
          c->fd = -1;
          break;
        }
      if (is_health && self->weights.hide_feature != NULL)
        hide_feature (out, &resp_len, self->weights.hide_feature);
      if (self->weights.delay_ms > 0)
        g_usleep ((gulong) self->weights.delay_ms * 1000);
      if (self->weights.busy_ms > 0 && !is_health)
        g_usleep ((gulong) self->weights.busy_ms * 1000);
      in_flight_end (self, &counted);
      if (!write_all (c->fd, (const char *) out->data, resp_len))
        break;
    }
  in_flight_end (self, &counted);
  g_mutex_lock (&self->lock);
  g_hash_table_remove (self->active, GINT_TO_POINTER (original_fd));
  g_mutex_unlock (&self->lock);
  if (c->fd >= 0)
    close (c->fd);
  g_free (c);
  return NULL;
}

static gpointer
accept_loop (gpointer data)
{
  CtFaultProxy *self = data;

  while (!stopping (self))
    {
      struct pollfd p;
      int fd, lfd;
      Conn *c;

      g_mutex_lock (&self->lock);
      lfd = self->listen_fd;
      g_mutex_unlock (&self->lock);
      if (lfd < 0)
        {
          g_usleep (10 * 1000);
          continue;
        }
      p.fd = lfd;
      p.events = POLLIN;
      p.revents = 0;
      if (poll (&p, 1, 50) <= 0)
        continue;
      fd = accept (lfd, NULL, NULL);
      if (fd < 0)
        continue;
      g_mutex_lock (&self->lock);
      if (self->weights.cut_on_accept)
        {
          self->connections++;
          g_mutex_unlock (&self->lock);
          close (fd);
          continue;
        }
      g_mutex_unlock (&self->lock);
      c = g_new0 (Conn, 1);
      c->proxy = self;
      c->fd = fd;
      g_mutex_lock (&self->lock);
      self->connections++;
      g_hash_table_add (self->active, GINT_TO_POINTER (fd));
      g_ptr_array_add (self->conn_threads, g_thread_new ("ct-fault-conn", serve_conn, c));
      g_mutex_unlock (&self->lock);
    }
  return NULL;
}

CtFaultProxy *
ct_fault_proxy_new (const char *upstream_url, guint32 seed, GError **error)
{
  CtFaultProxy *self = g_new0 (CtFaultProxy, 1);
  struct sockaddr_in addr = { 0 };
  socklen_t len = sizeof addr;

  g_mutex_init (&self->lock);
  self->rand = g_rand_new_with_seed (seed);
  self->weights.pass = 1;
  self->weights.stall_ms = 3000;
  self->conn_threads = g_ptr_array_new ();
  self->active = g_hash_table_new (NULL, NULL);
  if (!parse_upstream (self, upstream_url))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad upstream %s",
                   upstream_url);
      ct_fault_proxy_free (self);
      return NULL;
    }
  self->listen_fd = listen_on (0);
  if (self->listen_fd < 0
      || getsockname (self->listen_fd, (struct sockaddr *) &addr, &len) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot listen: %s",
                   g_strerror (errno));
      ct_fault_proxy_free (self);
      return NULL;
    }
  self->port = ntohs (addr.sin_port);
  self->url = g_strdup_printf ("http://127.0.0.1:%u", self->port);
  self->accept_thread = g_thread_new ("ct-fault-accept", accept_loop, self);
  return self;
}

const char *
ct_fault_proxy_get_url (CtFaultProxy *self)
{
  return self->url;
}

void
ct_fault_proxy_set_upstream (CtFaultProxy *self, const char *upstream_url)
{
  g_mutex_lock (&self->lock);
  parse_upstream (self, upstream_url);
  g_mutex_unlock (&self->lock);
}

void
ct_fault_proxy_set_weights (CtFaultProxy *self, const CtFaultWeights *weights)
{
  g_mutex_lock (&self->lock);
  self->weights = *weights;
  if (self->weights.stall_ms == 0)
    self->weights.stall_ms = 3000;
  g_mutex_unlock (&self->lock);
}

gboolean
ct_fault_proxy_set_offline (CtFaultProxy *self, gboolean offline, GError **error)
{
  gboolean ok = TRUE;

  g_mutex_lock (&self->lock);
  if (offline && self->listen_fd >= 0)
    {
      GHashTableIter iter;
      gpointer key;

      close (self->listen_fd);
      self->listen_fd = -1;
      /* Open connections end too (a FIN, as a stopped service sends), so
       * the till's pooled connection is seen dead before it is reused. */
      g_hash_table_iter_init (&iter, self->active);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        shutdown (GPOINTER_TO_INT (key), SHUT_RDWR);
    }
  else if (!offline && self->listen_fd < 0)
    {
      self->listen_fd = listen_on (self->port);
      if (self->listen_fd < 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot listen again on %u",
                       self->port);
          ok = FALSE;
        }
    }
  self->offline = offline;
  g_mutex_unlock (&self->lock);
  /* A service that stopped did so before the till's next request: give the
   * FINs time to arrive, so a pooled connection is seen dead first. */
  if (offline)
    g_usleep (100 * 1000);
  return ok;
}

guint
ct_fault_proxy_get_requests (CtFaultProxy *self)
{
  guint n;

  g_mutex_lock (&self->lock);
  n = self->requests;
  g_mutex_unlock (&self->lock);
  return n;
}

guint
ct_fault_proxy_get_max_in_flight (CtFaultProxy *self)
{
  guint n;

  g_mutex_lock (&self->lock);
  n = self->max_in_flight;
  g_mutex_unlock (&self->lock);
  return n;
}

guint
ct_fault_proxy_get_faults (CtFaultProxy *self)
{
  guint n;

  g_mutex_lock (&self->lock);
  n = self->faults;
  g_mutex_unlock (&self->lock);
  return n;
}

guint
ct_fault_proxy_get_connections (CtFaultProxy *self)
{
  guint n;

  g_mutex_lock (&self->lock);
  n = self->connections;
  g_mutex_unlock (&self->lock);
  return n;
}

void
ct_fault_proxy_free (CtFaultProxy *self)
{
  GPtrArray *threads;

  if (self == NULL)
    return;
  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  g_mutex_unlock (&self->lock);
  if (self->accept_thread)
    g_thread_join (self->accept_thread);
  g_mutex_lock (&self->lock);
  threads = g_steal_pointer (&self->conn_threads);
  g_mutex_unlock (&self->lock);
  for (guint i = 0; threads && i < threads->len; i++)
    g_thread_join (g_ptr_array_index (threads, i));
  g_clear_pointer (&threads, g_ptr_array_unref);
  if (self->listen_fd >= 0)
    close (self->listen_fd);
  g_rand_free (self->rand);
  g_clear_pointer (&self->active, g_hash_table_unref);
  g_free (self->url);
  g_free (self->upstream_host);
  g_mutex_clear (&self->lock);
  g_free (self);
}
