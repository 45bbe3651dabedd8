/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "ct-dialog.h"
#include "ct-session.h"

G_BEGIN_DECLS

void       ct_manager_adjust         (GtkWidget           *parent,
                                      CtSession           *session,
                                      const char          *card_no);
void       ct_manager_refund         (GtkWidget           *parent,
                                      CtSession           *session,
                                      const CtCard        *card,
                                      const CtTransaction *transaction);
void       ct_manager_set_frozen     (GtkWidget           *parent,
                                      CtSession           *session,
                                      const char          *card_no,
                                      gboolean             freeze);
void       ct_manager_set_member_pin (GtkWidget           *parent,
                                      CtSession           *session,
                                      const char          *card_no);
void       ct_manager_replace_card   (GtkWidget           *parent,
                                      CtSession           *session,
                                      const CtCard        *card);
void       ct_manager_issue_card     (GtkWidget           *parent,
                                      CtSession           *session);
void       ct_manager_resend         (GtkWidget           *parent,
                                      CtSession           *session,
                                      const CtOutboxEntry *entry);
void       ct_manager_record_outcome (GtkWidget           *parent,
                                      CtSession           *session,
                                      const CtOutboxEntry *entry);
void       ct_show_problem           (GtkWidget           *parent,
                                      const char          *heading,
                                      const char          *body);

G_END_DECLS
