/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void ct_focus_soon       (GtkWidget *widget);
void ct_focus_soon_first (GtkWidget *first,
                          ...) G_GNUC_NULL_TERMINATED;

G_END_DECLS
