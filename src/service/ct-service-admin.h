/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Exit statuses of cardtill-service (docs/api.md). */
typedef enum
{
  CT_SERVICE_EXIT_OK = 0,
  CT_SERVICE_EXIT_USAGE = 1,
  CT_SERVICE_EXIT_REFUSED = 2,
  CT_SERVICE_EXIT_LOCAL = 4,
} CtServiceExit;

/* Runs the cardtill-service command line; returns a CtServiceExit. */
int ct_service_admin_main (int    argc,
                           char **argv);

G_END_DECLS
