/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "ct-test-service.h"

G_BEGIN_DECLS

/* The real cardtill-cli binary as a till of @svc would run it: its own
 * data and config directories under @dir, the service's URL, token, CA
 * and pin in the environment, operator 王芳, English messages. @service_url
 * replaces the service's own (a fault proxy; then no CA or pin). */
typedef struct
{
  int   status;
  char *out;
  char *err;
} CtTestCliRun;

int   ct_test_cli_run       (CtTestService *svc,
                             const char    *dir,
                             const char    *service_url,
                             CtTestCliRun  *run,
                             ...) G_GNUC_NULL_TERMINATED;
int   ct_test_cli_runv      (CtTestService *svc,
                             const char    *dir,
                             const char    *service_url,
                             CtTestCliRun  *run,
                             va_list        args);
void  ct_test_cli_run_clear (CtTestCliRun  *run);

G_END_DECLS
