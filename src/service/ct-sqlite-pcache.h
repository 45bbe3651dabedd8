/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

gboolean ct_sqlite_pcache_install (void);
void     ct_sqlite_pcache_counts (guint *skipped,
                                  guint *far);

const sqlite3_pcache_methods2 *ct_sqlite_pcache_methods (void);

G_END_DECLS
