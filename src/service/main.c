/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "cardtill-service"
#include "config.h"

#include <locale.h>

#include "ct-service-admin.h"

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  return ct_service_admin_main (argc, argv);
}
