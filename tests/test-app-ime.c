/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-app-ime"

#include "config.h"

#include <check.h>
#include <gdk/x11/gdkx.h>

#include "ct-app-fixture.h"
#include "ct-members-page.h"
#include "ct-screenshot.h"

/* The real window with a real input method: IBus and its pinyin engine
 * (tests/run-with-ibus.sh starts them), keys typed through the X server
 * by xdotool. Pinyin typed into the member search becomes Chinese, and a
 * scanner's burst is still a scan that leaves the field empty. */

static void
subprocess_done_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  *(gboolean *) user_data = TRUE;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

/* Runs a program (xdotool, ibus), keeping the main loop running. */
static void
run_argv (const char * const *argv)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  gboolean done = FALSE;

  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_NONE, &error);
  ck_assert_msg (process != NULL, "%s", error ? error->message : "");
  g_subprocess_wait_async (process, NULL, subprocess_done_cb, &done);
  ck_assert_msg (wait_until (flag_set, &done, 60000), "%s did not finish", argv[0]);
  ck_assert_msg (g_subprocess_get_if_exited (process), "%s %s died", argv[0], argv[1]);
}

static void
run (const char *program,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  va_list ap;

  g_ptr_array_add (argv, (gpointer) program);
  va_start (ap, program);
  for (const char *arg = va_arg (ap, const char *); arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  run_argv ((const char * const *) argv->pdata);
}

static gboolean
has_han (const char *text)
{
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_get_script (g_utf8_get_char (p)) == G_UNICODE_SCRIPT_HAN)
      return TRUE;
  return FALSE;
}

static gboolean
field_has_han (gpointer data)
{
  return has_han (gtk_editable_get_text (GTK_EDITABLE (data)));
}

static gboolean
field_empty (gpointer data)
{
  return *gtk_editable_get_text (GTK_EDITABLE (data)) == '\0';
}

static gboolean
card_is (gpointer data)
{
  Till *till = data;
  const char *want = g_object_get_data (G_OBJECT (till->window), "want-card");
  const CtCard *card = ct_session_get_card (till->session);

  return card != NULL && g_strcmp0 (card->card_no, want) == 0 && card_fresh (till);
}

static gboolean
member_found (gpointer data)
{
  CtMembersPage *members = data;

  return !ct_members_page_is_loading (members) && ct_members_page_get_n_results (members) > 0;
}

/* The input method attaches to a field some time after it takes the
 * focus: type a syllable until it comes out as Chinese. */
static void
wait_for_input_method (GtkEditable *field)
{
  gint64 deadline = g_get_monotonic_time () + 90 * G_USEC_PER_SEC;

  while (TRUE)
    {
      gtk_editable_set_text (field, "");
      /* Setting the engine again is harmless and covers a daemon that
       had not finished starting its engine. */
      run ("ibus", "engine", "libpinyin", NULL);
      run ("xdotool", "type", "--delay", "80", "ni", NULL);
      run ("xdotool", "key", "space", NULL);
      if (wait_until (field_has_han, field, 5000))
        break;
      ck_assert_msg (g_get_monotonic_time () < deadline,
                     "IBus never turned pinyin into Chinese: the field holds \"%s\"",
                     gtk_editable_get_text (field));
    }
  gtk_editable_set_text (field, "");
}

START_TEST (test_app_ime_pinyin_in_member_search_and_burst_still_a_scan)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "王芳", phone, "p100");
  CtMembersPage *members = CT_MEMBERS_PAGE (ct_window_get_page_widget (till->window, "members"));
  GdkDisplay *display = gtk_widget_get_display (GTK_WIDGET (till->window));
  Display *dpy;
  GtkEditable *search;
  const char *text;

  ck_assert_msg (GDK_IS_X11_DISPLAY (display), "the input method test runs on X11 (Xvfb)");
  dpy = gdk_x11_display_get_xdisplay (display);
  XSetInputFocus (dpy, gdk_x11_surface_get_xid (gtk_native_get_surface (GTK_NATIVE (till->window))),
                  RevertToParent, CurrentTime);
  XFlush (dpy);

  /* A keyboard scanner's keys come much faster than a person's; a loaded
   * machine may stretch them, so the test allows the slowest scanner the
   * settings allow. */
  g_settings_set_uint (till->settings, "wedge-threshold-ms", 200);

  ct_window_show_page (till->window, "members");
  ct_screenshot_settle (200);
  search = GTK_EDITABLE (gtk_root_get_focus (GTK_ROOT (till->window)));
  ck_assert (GTK_IS_EDITABLE (search));
  wait_for_input_method (search);

  /* A person types the pinyin of a name and picks the first candidate
   * with Space: the field holds Chinese, not the letters. */
  run ("xdotool", "type", "--delay", "120", "wangfang", NULL);
  run ("xdotool", "key", "space", NULL);
  ck_assert_msg (wait_until (field_has_han, search, 30000), "no Chinese: \"%s\"",
                 gtk_editable_get_text (search));
  text = gtk_editable_get_text (search);
  g_message ("pinyin wangfang gave \"%s\"", text);
  ck_assert_msg (strpbrk (text, "abcdefghijklmnopqrstuvwxyz") == NULL, "letters left: \"%s\"", text);
  ck_assert_str_eq (text, "王芳");
  save_png (till, NULL, "members-pinyin");

  /* Enter searches, and finds the member by the name typed in Chinese. */
  run ("xdotool", "key", "Return", NULL);
  ck_assert_msg (wait_until (member_found, members, 30000), "no member found: %s",
                 ct_members_page_get_status (members));
  ck_assert_str_eq (ct_members_page_get_card (members)->card_no, card_no);

  /* A scanner's burst into the same field, with the input method on: a
   * scan, and nothing of it stays in the field. */
  gtk_editable_set_text (search, "");
  g_object_set_data_full (G_OBJECT (till->window), "want-card", g_strdup (card_no), g_free);
  {
    /* One xdotool call, each digit a key and then Enter, as a scanner
     * sends them. */
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);

    g_ptr_array_add (argv, g_strdup ("xdotool"));
    g_ptr_array_add (argv, g_strdup ("key"));
    g_ptr_array_add (argv, g_strdup ("--delay"));
    g_ptr_array_add (argv, g_strdup ("1"));
    for (const char *p = card_no; *p != '\0'; p++)
      g_ptr_array_add (argv, g_strndup (p, 1));
    g_ptr_array_add (argv, g_strdup ("Return"));
    g_ptr_array_add (argv, NULL);
    run_argv ((const char * const *) argv->pdata);
  }
  ck_assert_msg (wait_until (card_is, till, 30000), "the burst was not taken as a scan; the field holds \"%s\"",
                 gtk_editable_get_text (search));
  ck_assert_str_eq (ct_window_get_page (till->window), "scan");
  ck_assert_msg (wait_until (field_empty, search, 10000), "the scan stayed in the field: \"%s\"",
                 gtk_editable_get_text (search));
  /* Nothing of it arrives late either. */
  ct_screenshot_settle (500);
  ck_assert_str_eq (gtk_editable_get_text (search), "");

  till_free (till);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("app-ime");
  TCase *tc = tcase_create ("ibus");

  tcase_set_timeout (tc, 300);
  tcase_add_unchecked_fixture (tc, service_setup, service_teardown);
  tcase_add_test (tc, test_app_ime_pinyin_in_member_search_and_burst_still_a_scan);
  suite_add_tcase (s, tc);

  return run_app_suite (s);
}
