/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A network receipt printer for tests: a TCP listener on 127.0.0.1 that
 * answers DLE EOT as a printer does ("paper out" as many times as asked,
 * or never) and keeps every byte each connection brought. */
typedef struct _CtPrinterListener CtPrinterListener;

CtPrinterListener *ct_printer_listener_new          (void);
void               ct_printer_listener_free         (CtPrinterListener *l);
char              *ct_printer_listener_address      (CtPrinterListener *l);
void               ct_printer_listener_answer       (CtPrinterListener *l,
                                                     guint              paper_out_answers,
                                                     gboolean           silent);
GByteArray        *ct_printer_listener_wait         (CtPrinterListener *l,
                                                     guint              n);
guint              ct_printer_listener_connections  (CtPrinterListener *l);

G_END_DECLS
