/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ct-session.h"

G_BEGIN_DECLS

#define CT_TYPE_SETTINGS_PAGE (ct_settings_page_get_type ())

G_DECLARE_FINAL_TYPE (CtSettingsPage, ct_settings_page, CT, SETTINGS_PAGE, AdwBin)

GtkWidget  *ct_settings_page_new               (CtSession      *session);
const char *ct_settings_page_get_last_scan     (CtSettingsPage *self);
const char *ct_settings_page_get_payment_cap   (CtSettingsPage *self);
void        ct_settings_page_reload_scanners   (CtSettingsPage *self);
const char *ct_settings_page_get_printer_state (CtSettingsPage *self);

G_END_DECLS
