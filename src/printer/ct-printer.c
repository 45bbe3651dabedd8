/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-printer"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "ct-printer-transport.h"

/* A receipt printer at an address: USB, network or a file. Printing
 * opens the transport, asks the printer for its status where the
 * transport can read (paper out and cover open are refused before a
 * single line is printed), writes the whole job once and closes. Nothing
 * is ever sent again by itself: after a failure the receipt is printed
 * again only when someone asks. */

struct _CtPrinter
{
  GObject           parent_instance;

  CtPrinterAddress *address;
  guint             timeout;
};

G_DEFINE_FINAL_TYPE (CtPrinter, ct_printer, G_TYPE_OBJECT)
G_DEFINE_QUARK (ct-printer-error-quark, ct_printer_error)

static const char address_help[] =
  N_("Use usb:VID:PID (like usb:0416:5011), tcp:HOST:PORT (like tcp:192.168.1.87:9100) or file:PATH.");

void
ct_printer_address_free (CtPrinterAddress *address)
{
  if (address == NULL)
    return;
  g_free (address->host);
  g_free (address->path);
  g_free (address);
}

static gboolean
parse_hex16 (const char *text,
             guint16    *out)
{
  guint64 v;

  if (strlen (text) != 4 || !g_ascii_string_to_unsigned (text, 16, 0, 0xffff, &v, NULL))
    return FALSE;
  *out = (guint16) v;
  return TRUE;
}

static gboolean
parse_usb (const char        *text,
           const char        *rest,
           CtPrinterAddress  *address,
           GError           **error)
{
  g_auto(GStrv) parts = g_strsplit (rest, ":", -1);

  if (g_strv_length (parts) != 2 || !parse_hex16 (parts[0], &address->vendor_id)
      || !parse_hex16 (parts[1], &address->product_id) || address->vendor_id == 0)
    {
      g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_ADDRESS,
                   _("“%s” is not a USB printer. Write its vendor and product ids as four hexadecimal digits each, like usb:0416:5011 (cardtill-cli printer list shows them)."),
                   text);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_tcp (const char        *text,
           const char        *rest,
           CtPrinterAddress  *address,
           GError           **error)
{
  const char *colon;
  g_autofree char *host = NULL;
  guint64 port = CT_PRINTER_DEFAULT_PORT;

  /* tcp:[::1]:9100 for an IPv6 address; the port may be left out. */
  if (rest[0] == '[')
    {
      const char *end = strchr (rest, ']');

      if (end == NULL || (end[1] != '\0' && end[1] != ':'))
        goto bad_host;
      host = g_strndup (rest + 1, end - rest - 1);
      colon = end[1] == ':' ? end + 1 : NULL;
    }
  else
    {
      colon = strrchr (rest, ':');
      host = colon ? g_strndup (rest, colon - rest) : g_strdup (rest);
      if (strchr (host, ':') != NULL)
        goto bad_host;
    }
  if (*host == '\0' || strpbrk (host, " /\t") != NULL)
    goto bad_host;
  if (colon != NULL && !g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
    {
      g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_ADDRESS,
                   _("The port in “%s” must be a number from 1 to 65535 (receipt printers listen on 9100)."),
                   text);
      return FALSE;
    }
  address->host = g_steal_pointer (&host);
  address->port = (guint16) port;
  return TRUE;

bad_host:
  g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_ADDRESS,
               _("“%s” has no printer host name or IP address. Write it like tcp:192.168.1.87:9100."),
               text);
  return FALSE;
}

/**
 * ct_printer_address_parse:
 * @text: "usb:0416:5011", "tcp:192.168.1.87:9100" or "file:/tmp/receipt.bin"
 *
 * Returns: the address, or %NULL with %CT_PRINTER_ERROR_ADDRESS and a
 *   sentence that shows the right form.
 */
CtPrinterAddress *
ct_printer_address_parse (const char  *text,
                          GError     **error)
{
  g_autoptr(CtPrinterAddress) address = g_new0 (CtPrinterAddress, 1);

  if (text == NULL || *text == '\0')
    {
      g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_ADDRESS,
                   _("No printer is set. %s"), _(address_help));
      return NULL;
    }

  if (g_str_has_prefix (text, "usb:"))
    {
      address->kind = CT_PRINTER_USB;
      if (!parse_usb (text, text + 4, address, error))
        return NULL;
    }
  else if (g_str_has_prefix (text, "tcp:"))
    {
      address->kind = CT_PRINTER_TCP;
      if (!parse_tcp (text, text + 4, address, error))
        return NULL;
    }
  else if (g_str_has_prefix (text, "file:") && text[5] != '\0')
    {
      address->kind = CT_PRINTER_FILE;
      address->path = g_strdup (text + 5);
    }
  else
    {
      g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_ADDRESS,
                   _("“%s” is not a printer address. %s"), text, _(address_help));
      return NULL;
    }

  return g_steal_pointer (&address);
}

char *
ct_printer_address_to_string (const CtPrinterAddress *address)
{
  g_return_val_if_fail (address != NULL, NULL);

  switch (address->kind)
    {
    case CT_PRINTER_USB:
      return g_strdup_printf ("usb:%04x:%04x", address->vendor_id, address->product_id);
    case CT_PRINTER_TCP:
      if (strchr (address->host, ':') != NULL)
        return g_strdup_printf ("tcp:[%s]:%u", address->host, address->port);
      return g_strdup_printf ("tcp:%s:%u", address->host, address->port);
    case CT_PRINTER_FILE:
    default:
      return g_strdup_printf ("file:%s", address->path);
    }
}

static CtPrinterAddress *
address_copy (const CtPrinterAddress *address)
{
  CtPrinterAddress *copy = g_memdup2 (address, sizeof *address);

  copy->host = g_strdup (address->host);
  copy->path = g_strdup (address->path);
  return copy;
}

void
ct_printer_transport_close (CtPrinterTransport *transport)
{
  char *name;

  if (transport == NULL)
    return;
  name = transport->name;
  transport->klass->close (transport);
  g_free (name);
}

/* The file transport: the job's bytes appended to a file, for tests and
 * for looking at what a printer would get. It cannot read a status. */
typedef struct
{
  CtPrinterTransport  parent;
  int                 fd;
} FileTransport;

static gboolean
file_write (CtPrinterTransport  *transport,
            const guint8        *data,
            gsize                len,
            gsize               *written,
            GError             **error)
{
  FileTransport *self = (FileTransport *) transport;

  *written = 0;
  while (*written < len)
    {
      gssize n = write (self->fd, data + *written, len - *written);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved = errno;

          g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_FAILED,
                       _("The receipt could not be written to %s: %s."),
                       transport->name, g_strerror (saved));
          return FALSE;
        }
      *written += (gsize) n;
    }
  return TRUE;
}

static void
file_close (CtPrinterTransport *transport)
{
  FileTransport *self = (FileTransport *) transport;

  if (self->fd >= 0)
    close (self->fd);
  g_free (self);
}

static const CtPrinterTransportClass file_class = { file_write, NULL, file_close };

CtPrinterTransport *
ct_printer_file_open (const char  *path,
                      GError     **error)
{
  FileTransport *self;
  int fd = g_open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_FAILED,
                   _("The receipt could not be written to %s: %s."), path, g_strerror (saved));
      return NULL;
    }
  self = g_new0 (FileTransport, 1);
  self->parent.klass = &file_class;
  self->parent.name = g_strdup (path);
  self->fd = fd;
  return &self->parent;
}

static CtPrinterTransport *
open_transport (CtPrinter     *self,
                GCancellable  *cancellable,
                GError       **error)
{
  const CtPrinterAddress *a = self->address;

  switch (a->kind)
    {
    case CT_PRINTER_USB:
      return ct_printer_usb_open (a->vendor_id, a->product_id, self->timeout, error);
    case CT_PRINTER_TCP:
      return ct_printer_tcp_open (a->host, a->port, self->timeout, cancellable, error);
    case CT_PRINTER_FILE:
    default:
      return ct_printer_file_open (a->path, error);
    }
}

/* Asks DLE EOT where the transport can read. A printer that answers
 * nothing within the timeout is not sent the receipt: it would sit in a
 * buffer and could come out later, unasked for. */
static gboolean
check_status (CtPrinterTransport  *transport,
              GError             **error)
{
  g_autoptr(GByteArray) request = g_byte_array_new ();
  guint8 answer[8];
  gsize want = ct_escpos_status_length ();
  gsize got = 0;
  gsize written = 0;
  CtPrinterStatus status;

  if (transport->klass->read == NULL)
    return TRUE;

  ct_escpos_status_request (request);
  if (!transport->klass->write (transport, request->data, request->len, &written, error))
    return FALSE;
  while (got < want)
    {
      gssize n = transport->klass->read (transport, answer + got, want - got, error);

      if (n < 0)
        return FALSE;
      if (n == 0)
        break;
      got += (gsize) n;
    }
  if (got == 0)
    {
      g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_TIMEOUT,
                   g_dngettext (GETTEXT_PACKAGE,
                                "The printer did not answer within %u second. Check that it is switched on and connected; nothing was printed.",
                                "The printer did not answer within %u seconds. Check that it is switched on and connected; nothing was printed.",
                                transport->timeout),
                   transport->timeout);
      return FALSE;
    }
  if (!ct_escpos_parse_status (answer, got, &status))
    {
      /* Some printers answer only part of it; they still print. */
      g_debug ("%s: no ESC/POS status in %" G_GSIZE_FORMAT " bytes, printing anyway",
               transport->name, got);
      return TRUE;
    }
  if (status.cover_open)
    {
      g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_COVER_OPEN,
                   _("The printer's cover is open. Close it, then print again."));
      return FALSE;
    }
  if (status.paper_out)
    {
      g_set_error (error, CT_PRINTER_ERROR, CT_PRINTER_ERROR_PAPER_OUT,
                   _("The printer is out of paper. Put in a new roll, then print again."));
      return FALSE;
    }
  return TRUE;
}

/**
 * ct_printer_print:
 * @job: the whole job (ct_escpos_document())
 *
 * Prints @job once, blocking for at most a few timeouts: for the CLI and
 * for workers. The app uses ct_printer_print_async().
 *
 * Returns: %TRUE when the printer took the whole job.
 */
gboolean
ct_printer_print (CtPrinter     *self,
                  GBytes        *job,
                  GCancellable  *cancellable,
                  GError       **error)
{
  CtPrinterTransport *transport;
  g_autoptr(GError) local_error = NULL;
  gsize len;
  const guint8 *data;
  gsize written = 0;
  gboolean ok;

  g_return_val_if_fail (CT_IS_PRINTER (self), FALSE);
  g_return_val_if_fail (job != NULL, FALSE);

  transport = open_transport (self, cancellable, error);
  if (transport == NULL)
    return FALSE;

  ok = check_status (transport, &local_error);
  if (ok && !g_cancellable_set_error_if_cancelled (cancellable, &local_error))
    {
      data = g_bytes_get_data (job, &len);
      ok = transport->klass->write (transport, data, len, &written, &local_error);
      if (!ok && written > 0)
        g_prefix_error (&local_error, "%s ",
                        _("Only part of the receipt reached the printer, and it was not sent again."));
    }
  else
    ok = FALSE;
  ct_printer_transport_close (transport);

  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return ok;
}

static void
print_worker (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  GError *error = NULL;

  if (ct_printer_print (source_object, task_data, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/**
 * ct_printer_print_async:
 *
 * Prints @job on a worker thread: the main loop never waits for a
 * printer.
 */
void
ct_printer_print_async (CtPrinter           *self,
                        GBytes              *job,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CT_IS_PRINTER (self));
  g_return_if_fail (job != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ct_printer_print_async);
  g_task_set_task_data (task, g_bytes_ref (job), (GDestroyNotify) g_bytes_unref);
  g_task_run_in_thread (task, print_worker);
}

gboolean
ct_printer_print_finish (CtPrinter     *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (CT_IS_PRINTER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ct_printer_print_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
ct_printer_finalize (GObject *object)
{
  CtPrinter *self = CT_PRINTER (object);

  g_clear_pointer (&self->address, ct_printer_address_free);

  G_OBJECT_CLASS (ct_printer_parent_class)->finalize (object);
}

static void
ct_printer_class_init (CtPrinterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ct_printer_finalize;
}

static void
ct_printer_init (CtPrinter *self)
{
  self->timeout = CT_PRINTER_DEFAULT_TIMEOUT;
}

CtPrinter *
ct_printer_new (const CtPrinterAddress *address)
{
  CtPrinter *self;

  g_return_val_if_fail (address != NULL, NULL);

  self = g_object_new (CT_TYPE_PRINTER, NULL);
  self->address = address_copy (address);
  return self;
}

const CtPrinterAddress *
ct_printer_get_address (CtPrinter *self)
{
  g_return_val_if_fail (CT_IS_PRINTER (self), NULL);
  return self->address;
}

/**
 * ct_printer_set_timeout:
 * @seconds: how long to wait for a connection, an answer or a write
 */
void
ct_printer_set_timeout (CtPrinter *self,
                        guint      seconds)
{
  g_return_if_fail (CT_IS_PRINTER (self));
  self->timeout = MAX (seconds, 1);
}
