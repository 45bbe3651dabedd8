/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-till-printer"

#include "config.h"


#include "ct-printer.h"
#include "ct-printer-render.h"
#include "ct-till-printer.h"

/* The till's thermal receipt printer, as Settings sets it: receipts of
 * transactions as they are taken (with the cash drawer for a cash
 * top-up), reprints (never the drawer) and the test page. Jobs go to the
 * printer one after the other on a worker; the window only hears the
 * outcome. A failed job is not tried again by itself: "problem" holds
 * the sentence until the next job prints, and the cashier prints again
 * when the printer is ready. */

struct _CtTillPrinter
{
  GObject       parent_instance;

  GSettings    *settings;
  GQueue        jobs;         /* GBytes, waiting */
  GCancellable *cancellable;
  char         *problem;
  guint         printed;
  gboolean      busy;
};

G_DEFINE_FINAL_TYPE (CtTillPrinter, ct_till_printer, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_PROBLEM,
  PROP_BUSY,
  PROP_PRINTED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void send_next (CtTillPrinter *self);

static void
set_problem (CtTillPrinter *self,
             const char    *problem)
{
  if (g_strcmp0 (self->problem, problem) == 0)
    return;
  g_free (self->problem);
  self->problem = g_strdup (problem);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROBLEM]);
}

static void
set_busy (CtTillPrinter *self,
          gboolean       busy)
{
  if (self->busy == busy)
    return;
  self->busy = busy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static CtPaper
paper (CtTillPrinter *self)
{
  g_autofree char *text = g_settings_get_string (self->settings, "paper-width");
  CtPaper out = CT_PAPER_58MM;

  ct_paper_from_mm (g_strcmp0 (text, "80") == 0 ? 80 : 58, &out);
  return out;
}

static void
print_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(CtTillPrinter) self = user_data;
  g_autoptr(GError) error = NULL;

  if (ct_printer_print_finish (CT_PRINTER (source), result, &error))
    {
      self->printed++;
      set_problem (self, NULL);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRINTED]);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  else
    set_problem (self, error->message);

  set_busy (self, FALSE);
  send_next (self);
}

static void
send_next (CtTillPrinter *self)
{
  g_autofree char *text = NULL;
  g_autoptr(CtPrinterAddress) address = NULL;
  g_autoptr(CtPrinter) printer = NULL;
  g_autoptr(GBytes) job = NULL;
  g_autoptr(GError) error = NULL;

  if (self->busy || g_queue_is_empty (&self->jobs))
    return;

  job = g_queue_pop_head (&self->jobs);
  text = g_settings_get_string (self->settings, "printer");
  address = ct_printer_address_parse (text, &error);
  if (address == NULL)
    {
      set_problem (self, error->message);
      return;
    }

  printer = ct_printer_new (address);
  set_busy (self, TRUE);
  ct_printer_print_async (printer, job, self->cancellable, print_done_cb, g_object_ref (self));
}

static void
queue_raster (CtTillPrinter *self,
              CtRaster      *raster,
              gboolean       open_drawer)
{
  g_autoptr(CtRaster) owned = raster;

  g_queue_push_tail (&self->jobs, ct_escpos_document (owned, open_drawer));
  send_next (self);
}

/**
 * ct_till_printer_is_set:
 *
 * Returns: whether Settings names a receipt printer.
 */
gboolean
ct_till_printer_is_set (CtTillPrinter *self)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (CT_IS_TILL_PRINTER (self), FALSE);

  text = g_settings_get_string (self->settings, "printer");
  return text != NULL && *text != '\0';
}

/**
 * ct_till_printer_taken:
 *
 * A transaction was just taken: prints its receipt when a printer is set
 * and automatic printing is on, opening the cash drawer for a cash
 * top-up when Settings says the drawer hangs on the printer.
 */
void
ct_till_printer_taken (CtTillPrinter       *self,
                       const CtReceiptData *data)
{
  gboolean drawer;

  g_return_if_fail (CT_IS_TILL_PRINTER (self));
  g_return_if_fail (data != NULL);

  if (!ct_till_printer_is_set (self) || !g_settings_get_boolean (self->settings, "auto-print"))
    return;
  drawer = g_settings_get_boolean (self->settings, "open-drawer") && ct_receipt_data_opens_drawer (data);
  queue_raster (self, ct_render_receipt (data, paper (self), NULL), drawer);
}

/**
 * ct_till_printer_reprint:
 *
 * Prints @data again, as the cashier asked: never the drawer.
 */
void
ct_till_printer_reprint (CtTillPrinter       *self,
                         const CtReceiptData *data)
{
  g_return_if_fail (CT_IS_TILL_PRINTER (self));
  g_return_if_fail (data != NULL);

  queue_raster (self, ct_render_receipt (data, paper (self), NULL), FALSE);
}

void
ct_till_printer_test_page (CtTillPrinter *self)
{
  g_autofree char *text = NULL;

  g_return_if_fail (CT_IS_TILL_PRINTER (self));

  text = g_settings_get_string (self->settings, "printer");
  queue_raster (self, ct_render_test_page (paper (self), text, NULL), FALSE);
}

const char *
ct_till_printer_get_problem (CtTillPrinter *self)
{
  g_return_val_if_fail (CT_IS_TILL_PRINTER (self), NULL);
  return self->problem;
}

gboolean
ct_till_printer_get_busy (CtTillPrinter *self)
{
  g_return_val_if_fail (CT_IS_TILL_PRINTER (self), FALSE);
  return self->busy;
}

guint
ct_till_printer_get_printed (CtTillPrinter *self)
{
  g_return_val_if_fail (CT_IS_TILL_PRINTER (self), 0);
  return self->printed;
}

static void
ct_till_printer_dispose (GObject *object)
{
  CtTillPrinter *self = CT_TILL_PRINTER (object);

  g_cancellable_cancel (self->cancellable);
  g_queue_clear_full (&self->jobs, (GDestroyNotify) g_bytes_unref);

  G_OBJECT_CLASS (ct_till_printer_parent_class)->dispose (object);
}

static void
ct_till_printer_finalize (GObject *object)
{
  CtTillPrinter *self = CT_TILL_PRINTER (object);

  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);
  g_free (self->problem);

  G_OBJECT_CLASS (ct_till_printer_parent_class)->finalize (object);
}

static void
ct_till_printer_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  CtTillPrinter *self = CT_TILL_PRINTER (object);

  switch (prop_id)
    {
    case PROP_PROBLEM:
      g_value_set_string (value, self->problem);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;
    case PROP_PRINTED:
      g_value_set_uint (value, self->printed);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ct_till_printer_class_init (CtTillPrinterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ct_till_printer_dispose;
  object_class->finalize = ct_till_printer_finalize;
  object_class->get_property = ct_till_printer_get_property;

  properties[PROP_PROBLEM] =
    g_param_spec_string ("problem", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PRINTED] =
    g_param_spec_uint ("printed", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ct_till_printer_init (CtTillPrinter *self)
{
  g_queue_init (&self->jobs);
  self->cancellable = g_cancellable_new ();
}

CtTillPrinter *
ct_till_printer_new (GSettings *settings)
{
  CtTillPrinter *self;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (CT_TYPE_TILL_PRINTER, NULL);
  self->settings = g_object_ref (settings);
  return self;
}
