/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-printer-listener"
#include "config.h"

#include <string.h>

#include "ct-printer-listener.h"

#define DEADLINE_US (30 * G_USEC_PER_SEC)

struct _CtPrinterListener
{
  GSocket    *socket;
  guint16     port;
  GThread    *thread;
  GMutex      lock;
  gint        stop;
  guint       paper_out_answers;  /* answer "paper out" this many times */
  gboolean    silent;             /* never answer a status request */
  GPtrArray  *received;           /* GByteArray per finished connection */
};

static const guint8 status_request[] = { 0x10, 0x04, 0x02, 0x10, 0x04, 0x04 };

static void
serve_connection (CtPrinterListener *l,
                  GSocket           *conn)
{
  GByteArray *got = g_byte_array_new ();
  gboolean answered = FALSE;
  guint8 buf[8192];

  g_socket_set_timeout (conn, 1);
  while (!g_atomic_int_get (&l->stop))
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_receive (conn, (char *) buf, sizeof buf, NULL, &error);

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        continue;
      if (n <= 0)
        break;
      g_byte_array_append (got, buf, (guint) n);
      if (!answered && got->len >= sizeof status_request
          && memcmp (got->data, status_request, sizeof status_request) == 0)
        {
          guint8 answer[2] = { 0x12, 0x12 };

          answered = TRUE;
          g_mutex_lock (&l->lock);
          if (l->paper_out_answers > 0)
            {
              l->paper_out_answers--;
              answer[0] = 0x32;
              answer[1] = 0x72;
            }
          if (!l->silent)
            g_socket_send (conn, (const char *) answer, sizeof answer, NULL, NULL);
          g_mutex_unlock (&l->lock);
        }
    }
  g_mutex_lock (&l->lock);
  g_ptr_array_add (l->received, got);
  g_mutex_unlock (&l->lock);
}

static gpointer
listener_thread (gpointer user_data)
{
  CtPrinterListener *l = user_data;

  while (!g_atomic_int_get (&l->stop))
    {
      g_autoptr(GSocket) conn = g_socket_accept (l->socket, NULL, NULL);

      if (conn != NULL)
        serve_connection (l, conn);
    }
  return NULL;
}

CtPrinterListener *
ct_printer_listener_new (void)
{
  CtPrinterListener *l = g_new0 (CtPrinterListener, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_mutex_init (&l->lock);
  l->received = g_ptr_array_new_with_free_func ((GDestroyNotify) g_byte_array_unref);
  l->socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_assert (l->socket != NULL);
  g_assert (g_socket_bind (l->socket, any, TRUE, NULL));
  g_assert (g_socket_listen (l->socket, NULL));
  g_socket_set_timeout (l->socket, 1);
  bound = g_socket_get_local_address (l->socket, NULL);
  l->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  l->thread = g_thread_new ("printer", listener_thread, l);
  return l;
}

void
ct_printer_listener_free (CtPrinterListener *l)
{
  g_atomic_int_set (&l->stop, 1);
  g_thread_join (l->thread);
  g_object_unref (l->socket);
  g_ptr_array_unref (l->received);
  g_mutex_clear (&l->lock);
  g_free (l);
}

/* The --printer address of the listener. */
char *
ct_printer_listener_address (CtPrinterListener *l)
{
  return g_strdup_printf ("tcp:127.0.0.1:%u", l->port);
}

/* How the next status requests are answered: "paper out" for the next
 * @paper_out_answers, then ready; or, when @silent, never. */
void
ct_printer_listener_answer (CtPrinterListener *l,
                            guint              paper_out_answers,
                            gboolean           silent)
{
  g_mutex_lock (&l->lock);
  l->paper_out_answers = paper_out_answers;
  l->silent = silent;
  g_mutex_unlock (&l->lock);
}

/* Waits until @n connections have ended and returns what the n-th
 * (counting from 1) brought, or NULL when it never ended. */
GByteArray *
ct_printer_listener_wait (CtPrinterListener *l,
                          guint              n)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE_US;
  GByteArray *got = NULL;

  while (got == NULL && g_get_monotonic_time () < deadline)
    {
      g_mutex_lock (&l->lock);
      if (l->received->len >= n)
        got = g_byte_array_ref (g_ptr_array_index (l->received, n - 1));
      g_mutex_unlock (&l->lock);
      if (got == NULL)
        g_usleep (10 * 1000);
    }
  return got;
}

guint
ct_printer_listener_connections (CtPrinterListener *l)
{
  guint n;

  g_mutex_lock (&l->lock);
  n = l->received->len;
  g_mutex_unlock (&l->lock);
  return n;
}
