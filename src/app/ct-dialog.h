/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

GtkWidget *ct_dialog_get_response_button (AdwMessageDialog *dialog,
                                          const char       *response);
gboolean   ct_dialog_submit              (AdwMessageDialog *dialog,
                                          const char       *response);
void       ct_dialog_form                (AdwMessageDialog *dialog,
                                          const char       *response,
                                          GtkWidget        *first_field,
                                          ...) G_GNUC_NULL_TERMINATED;

void       ct_screen_form                (GtkWidget        *owner,
                                          const char       *action,
                                          GtkWidget        *submit,
                                          GtkWidget        *first_field,
                                          ...) G_GNUC_NULL_TERMINATED;

GtkWindow *ct_window_of                  (GtkWidget        *widget);
void       ct_dialog_cancel_task         (GTask           **task);
void       ct_problem_label_set          (GtkLabel         *label,
                                          const char       *problem);
const char *ct_problem_label_get         (GtkLabel         *label);

/* Removes every row of @list (gtk_list_box_remove_all() is newer than
 * GTK 4.8). */
void       ct_list_box_clear             (GtkListBox       *list);

G_END_DECLS
