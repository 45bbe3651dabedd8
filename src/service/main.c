/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "cardtill-service"
#include "config.h"

#include <locale.h>
#include <sqlite3.h>

#include "ct-service-admin.h"
#include "ct-sqlite-pcache.h"

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  /* SQLite's count of its own memory takes a process-wide mutex around
   * every allocation and free (about 70 of each per payment, 11,000
   * instructions); nothing here reads the count. Before any connection:
   * it is refused once SQLite is initialized. */
  sqlite3_config (SQLITE_CONFIG_MEMSTATUS, 0);
  /* Likewise before SQLite starts: commits without a scan of the whole
   * page cache (ct-sqlite-pcache.c). */
  ct_sqlite_pcache_install ();
  return ct_service_admin_main (argc, argv);
}
