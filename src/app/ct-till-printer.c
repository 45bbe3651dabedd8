/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-till-printer"

#include "config.h"


#include "ct-printer.h"
#include "ct-printer-render.h"
#include "ct-till-printer.h"

/* The till's thermal receipt printer, as Settings sets it: receipts of
 * transactions as they are taken (with the cash drawer for a cash
 * top-up), reprints (never the drawer) and the test page. Jobs go to the
 * printer one after the other on a worker, which also draws them (the
 * first drawing loads fonts); the window only hears the outcome. A
 * failed job is not tried again by itself: "problem" holds the sentence
 * until the next job prints, and the cashier prints again when the
 * printer is ready. A receipt printed again is marked as a copy once a
 * paper of it has come out; until then (a paper-out, automatic printing
 * off) it is the customer's first paper and is not. */

typedef struct
{
  CtReceiptData *data;       /* NULL: the report below or the test page */
  char          *title;      /* a report (shift or day): its title and lines */
  GPtrArray     *lines;      /* element-type CtReceiptLine */
  char          *address;
  CtPaper        paper;
  gboolean       open_drawer;
  gboolean       again;      /* a receipt printed again: a copy if it printed before */
} TillJob;

static void
till_job_free (gpointer user_data)
{
  TillJob *job = user_data;

  ct_receipt_data_free (job->data);
  g_free (job->title);
  g_clear_pointer (&job->lines, g_ptr_array_unref);
  g_free (job->address);
  g_free (job);
}

struct _CtTillPrinter
{
  GObject       parent_instance;

  GSettings    *settings;
  GQueue        jobs;         /* TillJob, waiting */
  GCancellable *cancellable;
  char         *problem;
  guint         printed;
  gboolean      busy;
  CtReceiptData *last_printed; /* the receipt of the last job that printed one */
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

/* Whether @a and @b are receipts of one transaction: the same request
 * taken at the same moment (a pending one has no transaction id yet). */
static gboolean
same_receipt (const CtReceiptData *a,
              const CtReceiptData *b)
{
  return a->kind == b->kind && a->amount == b->amount && g_strcmp0 (a->transaction_id, b->transaction_id) == 0
         && g_strcmp0 (a->created_at, b->created_at) == 0 && g_strcmp0 (a->card_no, b->card_no) == 0;
}

static void
print_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  CtTillPrinter *self = CT_TILL_PRINTER (source);
  TillJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  if (g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (job->data != NULL)
        {
          g_clear_pointer (&self->last_printed, ct_receipt_data_free);
          self->last_printed = ct_receipt_data_copy (job->data);
        }
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
print_worker (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  TillJob *job = task_data;
  g_autoptr(CtPrinterAddress) address = NULL;
  g_autoptr(CtPrinter) printer = NULL;
  g_autoptr(CtRaster) raster = NULL;
  g_autoptr(GBytes) bytes = NULL;
  GError *error = NULL;

  address = ct_printer_address_parse (job->address, &error);
  if (address == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (job->data != NULL)
    raster = ct_render_receipt (job->data, job->paper, NULL);
  else if (job->lines != NULL)
    raster = ct_render_lines (job->title, NULL, job->lines, job->paper, NULL);
  else
    raster = ct_render_test_page (job->paper, job->address, NULL);
  bytes = ct_escpos_document (raster, job->open_drawer);
  printer = ct_printer_new (address);
  if (ct_printer_print (printer, bytes, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
send_next (CtTillPrinter *self)
{
  g_autoptr(GTask) task = NULL;
  TillJob *job;

  if (self->busy || g_queue_is_empty (&self->jobs))
    return;

  job = g_queue_pop_head (&self->jobs);
  /* Decided as the job starts, with every job before it done: a receipt
   * asked again while its first paper was still on its way is a copy. */
  if (job->again && job->data != NULL && self->last_printed != NULL
      && same_receipt (job->data, self->last_printed))
    job->data->copy = TRUE;
  set_busy (self, TRUE);
  task = g_task_new (self, self->cancellable, print_done_cb, NULL);
  g_task_set_source_tag (task, send_next);
  g_task_set_task_data (task, job, till_job_free);
  g_task_run_in_thread (task, print_worker);
}

static void
queue (CtTillPrinter *self,
       TillJob       *job)
{
  g_autofree char *paper = g_settings_get_string (self->settings, "paper-width");

  job->address = g_settings_get_string (self->settings, "printer");
  job->paper = g_strcmp0 (paper, "80") == 0 ? CT_PAPER_80MM : CT_PAPER_58MM;
  g_queue_push_tail (&self->jobs, job);
  send_next (self);
}

static void
queue_job (CtTillPrinter       *self,
           const CtReceiptData *data,
           gboolean             open_drawer,
           gboolean             again)
{
  TillJob *job = g_new0 (TillJob, 1);

  job->data = data ? ct_receipt_data_copy (data) : NULL;
  job->open_drawer = open_drawer;
  job->again = again;
  queue (self, job);
}

/**
 * ct_till_printer_print_report:
 * @title: the report's title
 * @lines: (element-type CtReceiptLine): its lines (ct_report_shift_lines(),
 *   ct_report_day_lines())
 *
 * Prints a shift or day report on the receipt printer; never the drawer.
 */
void
ct_till_printer_print_report (CtTillPrinter *self,
                              const char    *title,
                              GPtrArray     *lines)
{
  TillJob *job;

  g_return_if_fail (CT_IS_TILL_PRINTER (self));
  g_return_if_fail (lines != NULL);

  job = g_new0 (TillJob, 1);
  job->title = g_strdup (title);
  job->lines = g_ptr_array_ref (lines);
  queue (self, job);
}

/**
 * ct_till_printer_is_set:
 * @self: (nullable): the till's printer, %NULL on a till without one
 *
 * Returns: whether Settings names a receipt printer.
 */
gboolean
ct_till_printer_is_set (CtTillPrinter *self)
{
  g_autofree char *text = NULL;

  if (self == NULL)
    return FALSE;
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
  queue_job (self, data, drawer, FALSE);
}

/**
 * ct_till_printer_reprint:
 *
 * Prints @data again, as the cashier asked: never the drawer. Once a
 * paper of @data has printed, this one says it is a copy; the first paper
 * (after a paper-out, or with automatic printing off) does not.
 */
void
ct_till_printer_reprint (CtTillPrinter       *self,
                         const CtReceiptData *data)
{
  g_return_if_fail (CT_IS_TILL_PRINTER (self));
  g_return_if_fail (data != NULL);

  queue_job (self, data, FALSE, TRUE);
}

void
ct_till_printer_test_page (CtTillPrinter *self)
{
  g_return_if_fail (CT_IS_TILL_PRINTER (self));

  queue_job (self, NULL, FALSE, FALSE);
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
  g_queue_clear_full (&self->jobs, till_job_free);

  G_OBJECT_CLASS (ct_till_printer_parent_class)->dispose (object);
}

static void
ct_till_printer_finalize (GObject *object)
{
  CtTillPrinter *self = CT_TILL_PRINTER (object);

  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);
  g_free (self->problem);
  g_clear_pointer (&self->last_printed, ct_receipt_data_free);

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
