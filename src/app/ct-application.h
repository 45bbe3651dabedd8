/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ct-client.h"

G_BEGIN_DECLS

#define CT_TYPE_APPLICATION (ct_application_get_type ())

G_DECLARE_FINAL_TYPE (CtApplication, ct_application, CT, APPLICATION, AdwApplication)

CtApplication  *ct_application_new               (void);
CtClientConfig *ct_application_config_from_settings (GSettings *settings,
                                                     GError   **error);
int             ct_application_get_exit_status   (CtApplication *self);

void ct_application_prefer_software_rendering (void);

G_END_DECLS
