/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

const char *ct_sqlite_walbuf_vfs (void);

G_END_DECLS
