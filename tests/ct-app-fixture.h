/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>
#include <check.h>

#include "ct-card-view.h"
#include "ct-fault-proxy.h"
#include "ct-session.h"
#include "ct-test-dialog.h"
#include "ct-test-service.h"
#include "ct-window.h"

G_BEGIN_DECLS

/* The UI tests' shared fixture: a till (client, settings, session and the
 * real window) against a real cardtill-service, and ways to wait for the
 * state a test needs without assuming how fast the machine is. */

typedef struct
{
  CtClient  *client;
  GSettings *settings;
  CtSession *session;
  CtWindow  *window;
  char      *data_dir;
  CtTestService *own_service;  /* till_new_behind_proxy(): its service and proxy */
  CtFaultProxy  *proxy;
} Till;

extern CtTestService *service;

gboolean       wait_until (gboolean (*predicate) (gpointer), gpointer data, guint timeout_ms);
void           save_png (Till *till, GtkWidget *widget, const char *name);
/* The whole window, once the screens have stopped cross-fading. */
void           save_png_settled (Till *till, const char *name);
void           async_done_cb (GObject *object, GAsyncResult *result, gpointer user_data);
gboolean       result_arrived (gpointer data);
GAsyncResult * wait_result (GAsyncResult **slot);
Till *         till_new_for (CtTestService *svc, guint queue_wait_ms);
/* A till of @svc that reaches it at @url (a proxy in front of it). */
Till *         till_new_via (CtTestService *svc, const char *url, guint queue_wait_ms);
Till *         till_new (void);
/* A till of a card service of its own that it reaches through a fault
 * proxy answering as @weights say (an older service: .hide_feature);
 * till_free() stops both. */
Till *         till_new_behind_proxy (const CtFaultWeights *weights);
/* A new window for @till, @width × @height, on screen. */
void           till_show_at (Till *till, int width, int height);
/* till_new() on a 1024×600 display. */
Till *         till_new_small (void);
void           remove_tree (const char *path);
void           till_free (Till *till);
char *         issue_card (Till *till, const char *name, const char *phone, const char *topup_package);
void           pay_directly (Till *till, const char *card_no, int64_t amount);
char *         unique_phone (void);
gboolean       card_fresh (gpointer data);
gboolean       on_receipt (gpointer data);
gboolean       scan_problem_shown (gpointer data);
CtCardView *   scan_card_view (Till *till);
char *         receipt_text (Till *till);
void           scan_and_wait (Till *till, const char *card_no);
gboolean       pin_dialog_up (gpointer data);
gboolean       pin_dialog_with_problem (gpointer data);
void           answer_pin (const char *manager, const char *pin);
void           fill_named (GtkWidget *root, const char *name, const char *text);
gboolean       problem_dialog_up (gpointer data);
/* The message dialog named @name, once it is on screen (a form that
 * asks the service first comes up after its answer). */
AdwMessageDialog *wait_dialog (const char *name);
gboolean       members_idle (gpointer data);
void           service_setup (void);
void           service_teardown (void);

/* Real key events through the X server (XTest), time-stamped by it. */
void           keys_focus (GtkWindow *window);
void           keys_type (const char *text, guint gap_ms);
void           keys_press (guint keysym);
void           keys_chord (guint modifier, guint keysym);
GtkWidget *    find_widget (GtkWidget *root, GType type, const char *name);
gboolean       any_widget (GtkWidget *root, gboolean (*match) (GtkWidget *widget, const char *text),
                           const char *text);
gboolean       row_subtitle_contains (GtkWidget *root, const char *text);
GtkWidget *    find_action_button (GtkWidget *root, const char *action_name);
guint          count_windows (GType type);
void           assert_actions_in_view (GtkWidget *page, const char *action_name, guint expected);
gboolean       scan_page_shown (gpointer data);
gboolean       test_selected (const char *name);
int            run_app_suite (Suite *suite);

#define add_test(tc, test) \
  G_STMT_START { if (test_selected (#test)) tcase_add_test (tc, test); } G_STMT_END

G_END_DECLS
