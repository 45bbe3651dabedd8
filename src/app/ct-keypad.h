/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define CT_TYPE_KEYPAD (ct_keypad_get_type ())

G_DECLARE_FINAL_TYPE (CtKeypad, ct_keypad, CT, KEYPAD, GtkWidget)

GtkWidget   *ct_keypad_new        (void);
void         ct_keypad_set_target (CtKeypad    *self,
                                   GtkEditable *target);
GtkEditable *ct_keypad_get_target (CtKeypad    *self);
void         ct_keypad_press      (CtKeypad    *self,
                                   const char  *key);

G_END_DECLS
