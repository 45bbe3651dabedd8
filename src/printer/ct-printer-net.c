/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-printer-net"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ct-printer-transport.h"

/* Network receipt printers take raw ESC/POS on TCP port 9100 and answer
 * DLE EOT on the same connection. Connecting, writing and reading all
 * give up after the timeout, so a printer that is off or gone costs the
 * cashier a sentence, never a frozen till. */

typedef struct
{
  CtPrinterTransport  parent;
  GSocketConnection  *connection;
  GCancellable       *cancellable;
} TcpTransport;

static void
set_io_error (CtPrinterTransport  *transport,
              GError              *io_error,
              GError             **error)
{
  if (g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_TIMEOUT,
                 g_dngettext (GETTEXT_PACKAGE,
                              "The printer at %s stopped taking data for %u second. Check that it is switched on and has paper.",
                              "The printer at %s stopped taking data for %u seconds. Check that it is switched on and has paper.",
                              transport->timeout),
                 transport->name, transport->timeout);
  else if (g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, io_error->message);
  else
    g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_DISCONNECTED,
                 _("The connection to the printer at %s was lost (%s). Check its network cable and power."),
                 transport->name, io_error->message);
}

static gboolean
tcp_write (CtPrinterTransport  *transport,
           const guint8        *data,
           gsize                len,
           gsize               *written,
           GError             **error)
{
  TcpTransport *self = (TcpTransport *) transport;
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (self->connection));
  g_autoptr(GError) io_error = NULL;

  *written = 0;
  if (g_output_stream_write_all (out, data, len, written, self->cancellable, &io_error)
      && g_output_stream_flush (out, self->cancellable, &io_error))
    return TRUE;
  set_io_error (transport, io_error, error);
  return FALSE;
}

static gssize
tcp_read (CtPrinterTransport  *transport,
          guint8              *buffer,
          gsize                len,
          GError             **error)
{
  TcpTransport *self = (TcpTransport *) transport;
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (self->connection));
  g_autoptr(GError) io_error = NULL;
  gssize n = g_input_stream_read (in, buffer, len, self->cancellable, &io_error);

  if (n >= 0)
    {
      if (n == 0)
        {
          g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_DISCONNECTED,
                       _("The printer at %s closed the connection. Check that nothing else prints to it."),
                       transport->name);
          return -1;
        }
      return n;
    }
  if (g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return 0;
  set_io_error (transport, io_error, error);
  return -1;
}

static void
tcp_close (CtPrinterTransport *transport)
{
  TcpTransport *self = (TcpTransport *) transport;

  if (self->connection != NULL)
    g_io_stream_close (G_IO_STREAM (self->connection), NULL, NULL);
  g_clear_object (&self->connection);
  g_clear_object (&self->cancellable);
  g_free (self);
}

static const CtPrinterTransportClass tcp_class = { tcp_write, tcp_read, tcp_close };

CtPrinterTransport *
ct_printer_tcp_open (const char    *host,
                     guint16        port,
                     guint          timeout,
                     GCancellable  *cancellable,
                     GError       **error)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) io_error = NULL;
  g_autofree char *name = NULL;
  GSocketConnection *connection;
  TcpTransport *self;

  name = strchr (host, ':') ? g_strdup_printf ("[%s]:%u", host, port) : g_strdup_printf ("%s:%u", host, port);
  /* The timeout covers connecting and every read and write after. */
  g_socket_client_set_timeout (client, timeout);
  connection = g_socket_client_connect_to_host (client, host, port, cancellable, &io_error);
  if (connection == NULL)
    {
      if (g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_TIMEOUT,
                     g_dngettext (GETTEXT_PACKAGE,
                                  "The printer at %s did not answer within %u second. Check that it is switched on and on the network; nothing was printed.",
                                  "The printer at %s did not answer within %u seconds. Check that it is switched on and on the network; nothing was printed.",
                                  timeout),
                     name, timeout);
      else if (g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&io_error));
      else
        g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_REFUSED,
                     _("The printer at %s cannot be reached (%s). Check its address in Settings and that it is switched on; nothing was printed."),
                     name, io_error->message);
      return NULL;
    }

  self = g_new0 (TcpTransport, 1);
  self->parent.klass = &tcp_class;
  self->parent.timeout = timeout;
  self->parent.name = g_steal_pointer (&name);
  self->connection = connection;
  self->cancellable = cancellable ? g_object_ref (cancellable) : NULL;
  return &self->parent;
}
