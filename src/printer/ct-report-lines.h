/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "ct-receipt-data.h"

G_BEGIN_DECLS

/* Shift and day reports as label/value lines (CtReceiptLine), from the
 * service's answers, for the screens, the CLI and the receipt printer. */
GPtrArray *ct_report_shift_lines (const char  *body,
                                  gsize        len,
                                  int          minor_units,
                                  const char  *currency,
                                  char       **out_title,
                                  GError     **error);
GPtrArray *ct_report_day_lines   (const char  *body,
                                  gsize        len,
                                  int          minor_units,
                                  const char  *currency,
                                  char       **out_title,
                                  GError     **error);
gboolean   ct_report_day_is_empty (const char  *body,
                                   gsize        len);

char      *ct_report_day_csv     (const char  *body,
                                  gsize        len,
                                  int          minor_units,
                                  GError     **error);

G_END_DECLS
