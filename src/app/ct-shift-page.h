/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ct-client-shifts.h"
#include "ct-session.h"

G_BEGIN_DECLS

#define CT_TYPE_SHIFT_PAGE (ct_shift_page_get_type ())

G_DECLARE_FINAL_TYPE (CtShiftPage, ct_shift_page, CT, SHIFT_PAGE, AdwBin)

GtkWidget     *ct_shift_page_new             (CtSession   *session);
void           ct_shift_page_reload          (CtShiftPage *self);
const char    *ct_shift_page_get_state_text  (CtShiftPage *self);
const char    *ct_shift_page_get_problem     (CtShiftPage *self);
gboolean       ct_shift_page_is_busy         (CtShiftPage *self);
const CtShift *ct_shift_page_get_shift       (CtShiftPage *self);
char          *ct_shift_page_get_report_text (CtShiftPage *self);
GtkEntry      *ct_shift_page_get_entry       (CtShiftPage *self,
                                              const char  *name);

G_END_DECLS
