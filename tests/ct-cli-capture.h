/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ct-cli.h"

G_BEGIN_DECLS

typedef int (*CtCliCommand) (CtCli *cli, int argc, char **argv);

char *ct_cli_capture (CtCliCommand   command,
                      char         **argv,
                      int           *status);

G_END_DECLS
