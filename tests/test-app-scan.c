/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-app-scan"

#include "config.h"

#include <check.h>
#include <adwaita.h>

#include "ct-barcode.h"
#include "ct-card-view.h"
#include "ct-card-number.h"
#include "ct-hid-decode.h"
#include "ct-member-code.h"
#include "ct-pay-page.h"
#include "ct-scan-page.h"
#include "ct-screenshot.h"
#include "ct-settings-page.h"
#include "ct-app-fixture.h"
#include "ct-member-pin-dialog.h"
#include "ct-test-json.h"

#include <gdk/x11/gdkx.h>
#include <X11/extensions/XTest.h>

/* The Scan screen in the real window against a real cardtill-service: a
 * card comes from a keyboard-wedge scanner, a USB scanner's HID reports,
 * a typed number, a member code or a photo; a cached card shows at once. */

static gboolean
focus_editable (gpointer data)
{
  Till *till = data;

  return GTK_IS_EDITABLE (gtk_root_get_focus (GTK_ROOT (till->window)));
}
/* Synthetic keys with chosen time stamps: each goes through the window's
 * capture, and a key it lets through is typed into the focused field, as
 * GTK would. */
static void
feed_burst (Till       *till,
            const char *text,
            guint32    *time,
            guint       gap_ms)
{
  for (const char *p = text; *p != '\0'; p++)
    {
      guint keyval = gdk_unicode_to_keyval ((guchar) *p);
      GtkWidget *focus;

      *time += gap_ms;
      if (!ct_window_wedge_key (till->window, keyval, *time, TRUE, FALSE, 0) &&
          (focus = gtk_root_get_focus (GTK_ROOT (till->window))) != NULL &&
          GTK_IS_EDITABLE (focus))
        {
          char ch[2] = { *p, '\0' };
          int position = gtk_editable_get_position (GTK_EDITABLE (focus));

          gtk_editable_insert_text (GTK_EDITABLE (focus), ch, 1, &position);
          gtk_editable_set_position (GTK_EDITABLE (focus), position);
        }
      ct_window_wedge_key (till->window, keyval, *time + 1, FALSE, FALSE, 0);
    }
}

START_TEST (test_app_scan_by_wedge_burst_shows_member)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Wedge Member", phone, "p100");
  GtkEditable *search;
  guint32 time = 100000;
  gboolean taken;

  /* The focus is in the members search: a scanner burst must not land
   * there, and must show the member. */
  ct_window_show_page (till->window, "members");
  ck_assert (wait_until (focus_editable, till, 10000));
  search = GTK_EDITABLE (gtk_root_get_focus (GTK_ROOT (till->window)));
  ck_assert (GTK_IS_EDITABLE (search));

  feed_burst (till, card_no, &time, 4);
  taken = ct_window_wedge_key (till->window, GDK_KEY_Return, time + 4, TRUE, FALSE, 0);
  ck_assert (taken);

  ck_assert_str_eq (gtk_editable_get_text (search), "");
  ck_assert_str_eq (ct_window_get_page (till->window), "scan");
  ck_assert (wait_until (card_fresh, till, 15000));
  ck_assert_str_eq (ct_card_view_get_balance_text (scan_card_view (till)), "¥110.00");
  save_png (till, NULL, "scan-wedge");

  /* Slow typing is a person: the characters reach the focused entry. */
  ct_window_show_page (till->window, "members");
  ck_assert (wait_until (focus_editable, till, 10000));
  time += 10000;
  feed_burst (till, "13", &time, 250);
  ct_screenshot_settle (100);
  ck_assert_str_eq (gtk_editable_get_text (GTK_EDITABLE (gtk_root_get_focus (GTK_ROOT (till->window)))), "13");

  till_free (till);
}
END_TEST

static gboolean
pay_refused (gpointer data)
{
  CtPayPage *pay = data;

  return !ct_pay_page_is_busy (pay) && ct_pay_page_get_problem (pay) != NULL;
}

START_TEST (test_app_scanned_member_code_names_the_card_and_is_kept_for_it)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Code Member", phone, "p100");
  g_autofree char *other_phone = unique_phone ();
  g_autofree char *other = issue_card (till, "Other Member", other_phone, "p100");
  g_autofree char *payload = g_strdup_printf ("CTP1:%s:20481632", card_no);
  guint32 time = 200000;

  /* Through the keyboard wedge, as a scanner that types would send it. */
  ct_window_show_page (till->window, "members");
  ct_screenshot_settle (100);
  feed_burst (till, payload, &time, 4);
  ck_assert (ct_window_wedge_key (till->window, GDK_KEY_Return, time + 4, TRUE, FALSE, 0));
  ck_assert_str_eq (ct_window_get_page (till->window), "scan");
  ck_assert (wait_until (card_fresh, till, 15000));
  ck_assert_str_eq (ct_session_get_card (till->session)->card_no, card_no);
  ck_assert_str_eq (ct_session_get_member_code (till->session), "20481632");
  ck_assert_ptr_null (ct_session_get_problem (till->session));

  /* The code goes with the next payment: this one is not the card's code,
   * so the service refuses it for want of the member's consent (a payment
   * without a code would have gone through), and the code is used up. */
  {
    CtPayPage *pay = CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));

    ct_window_show_page (till->window, "pay");
    gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay)), "1.00");
    g_signal_emit_by_name (ct_pay_page_get_amount_entry (pay), "activate");
    ck_assert (wait_until (pay_refused, pay, 15000));
    ck_assert_msg (strstr (ct_pay_page_get_problem (pay), "member's consent") != NULL,
                   "%s", ct_pay_page_get_problem (pay));
    ck_assert_ptr_null (ct_session_get_member_code (till->session));
    save_png (till, NULL, "pay-consent-refused");
  }

  /* The code belongs to that card: another card on the counter drops it. */
  ct_window_handle_scan (till->window, other);
  ck_assert (wait_until (card_fresh, till, 15000));
  ck_assert_ptr_null (ct_session_get_member_code (till->session));

  /* A damaged code is a sentence, not a card. */
  ck_assert (!ct_session_scan (till->session, "CTP1:12", CT_SCAN_SOURCE_SCANNER));
  ck_assert_ptr_nonnull (ct_session_get_problem (till->session));

  till_free (till);
}
END_TEST

/* The member's dynamic payment code as their page shows it now, the way
 * its QR code holds it: "CTP1:<card>:<8 digits>". A manager reissues the
 * member's link; the page's code comes from it. */
static char *
member_code_payload (const char *card_no)
{
  g_autoptr(CtTestClient) http = ct_test_client_new (service);
  g_autofree char *link_path = g_strdup_printf ("/v1/cards/%s/member-link", card_no);
  g_autofree char *key = g_strdup_printf ("scan-link-%s", card_no);
  g_autoptr(CtTestResponse) link = NULL;
  g_autoptr(CtTestResponse) answer = NULL;
  g_autofree char *url = NULL;
  g_autofree char *code_path = NULL;
  g_autofree char *grouped = NULL;

  link = ct_test_client_request (http, "POST", link_path, key,
                                 "{\"manager\":{\"id\":\"" CT_TEST_SERVICE_MANAGER_ID "\",\"pin\":\""
                                 CT_TEST_SERVICE_MANAGER_PIN "\"}}", NULL);
  ck_assert (link != NULL && link->status == 201);
  url = ct_test_json_str (link->body, "member_url");
  ck_assert_ptr_nonnull (strstr (url, "/m/"));
  code_path = g_strconcat (strstr (url, "/m/"), "/code", NULL);
  answer = ct_test_http (service, "GET", code_path, NULL, NULL, NULL);
  ck_assert (answer != NULL && answer->status == 200);
  /* "1234 5678" on the page; the QR code holds the 8 digits. */
  grouped = ct_test_json_str (answer->body, "code");
  ck_assert (grouped != NULL && strlen (grouped) == 9);
  return g_strdup_printf ("CTP1:%s:%.4s%s", card_no, grouped, grouped + 5);
}

/* A boot-keyboard scanner's reports for @text (digits, capitals, ':')
 * then Enter, each key down then all keys up, as a USB scanner sends
 * them. */
static GPtrArray *
keyboard_reports_for (const char *text)
{
  GPtrArray *reports = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  static const guint8 release[8] = { 0 };

  for (const char *p = text; ; p++)
    {
      guint8 down[8] = { 0 };

      if (*p == '\0')
        down[2] = 0x28;                          /* Enter */
      else if (*p >= '1' && *p <= '9')
        down[2] = 0x1e + (*p - '1');
      else if (*p == '0')
        down[2] = 0x27;
      else if (*p >= 'A' && *p <= 'Z')
        {
          down[0] = 0x02;                        /* left Shift */
          down[2] = 0x04 + (*p - 'A');
        }
      else if (*p == ':')
        {
          down[0] = 0x02;
          down[2] = 0x33;                        /* ';' key */
        }
      else
        ck_abort_msg ("no key for '%c'", *p);
      g_ptr_array_add (reports, g_bytes_new (down, sizeof down));
      g_ptr_array_add (reports, g_bytes_new (release, sizeof release));
      if (*p == '\0')
        break;
    }
  return reports;
}

typedef enum
{
  CODE_BY_WEDGE,   /* a scanner that types, through the window's capture */
  CODE_BY_USB,     /* a USB scanner's HID reports through the decoder */
  CODE_BY_IMAGE,   /* a picture of the member's QR code */
} CodePath;

typedef struct
{
  Till       *till;
  const char *card_no;
  const char *code;
} CodeKept;

static gboolean
code_kept_and_card_fresh (gpointer data)
{
  CodeKept *kept = data;
  const CtCard *card = ct_session_get_card (kept->till->session);

  return card_fresh (kept->till) && g_strcmp0 (card->card_no, kept->card_no) == 0 &&
         g_strcmp0 (ct_session_get_member_code (kept->till->session), kept->code) == 0;
}

/* The member shows @payload on @path; the card comes up with its code
 * kept for the next payment. */
static void
show_member_code (Till       *till,
                  const char *payload,
                  CodePath    path,
                  const char *png,
                  guint32    *time)
{
  g_autofree char *card_no = NULL;
  g_autofree char *code = NULL;
  CodeKept kept = { till, NULL, NULL };

  ck_assert (ct_member_code_parse (payload, CT_CARD_NUMBER_DEFAULT_PREFIX, &card_no, &code, NULL));
  kept.card_no = card_no;
  kept.code = code;

  switch (path)
    {
    case CODE_BY_WEDGE:
      ct_window_show_page (till->window, "members");
      ck_assert (wait_until (focus_editable, till, 10000));
      *time += 10000;
      feed_burst (till, payload, time, 4);
      ck_assert (ct_window_wedge_key (till->window, GDK_KEY_Return, *time + 4, TRUE, FALSE, 0));
      break;

    case CODE_BY_USB:
      {
        g_autoptr(GPtrArray) reports = keyboard_reports_for (payload);
        g_autoptr(CtHidDecoder) decoder = ct_hid_decoder_new (CT_HID_MODE_KEYBOARD);
        g_autoptr(CtScan) scan = NULL;
        g_autoptr(GError) error = NULL;

        for (guint i = 0; i < reports->len && scan == NULL; i++)
          {
            gsize len;
            const guint8 *bytes = g_bytes_get_data (g_ptr_array_index (reports, i), &len);

            ck_assert_msg (ct_hid_decoder_feed (decoder, bytes, len, &scan, &error),
                           "%s", error ? error->message : "");
          }
        ck_assert_msg (scan != NULL, "the reports did not make a scan");
        ck_assert_str_eq (scan->text, payload);
        /* What the application does with the reader's "scanned" signal. */
        ct_window_show_page (till->window, "members");
        ct_window_handle_scan (till->window, scan->text);
      }
      break;

    case CODE_BY_IMAGE:
      {
        g_autoptr(GError) error = NULL;

        if (!g_file_test (png, G_FILE_TEST_EXISTS))
          ck_assert_msg (ct_barcode_encode_png (payload, zxing_BarcodeFormat_QRCode, 300, 300, png, &error),
                         "%s", error ? error->message : "");
        ct_window_show_page (till->window, "scan");
        ct_scan_page_read_image (CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan")), png);
      }
      break;
    }

  ck_assert_msg (wait_until (code_kept_and_card_fresh, &kept, 15000),
                 "the code did not bring the card up (%s)", ct_session_get_problem (till->session));
  ck_assert_str_eq (ct_window_get_page (till->window), "scan");
  ck_assert_ptr_null (ct_session_get_problem (till->session));
}

static gboolean
member_keypad_up (gpointer data)
{
  AdwMessageDialog *dialog = ct_find_dialog ("member-pin");

  return dialog != NULL && CT_IS_MEMBER_PIN_DIALOG (dialog);
}

static gboolean
paid_or_refused (gpointer data)
{
  Till *till = data;
  CtPayPage *pay = CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));

  return on_receipt (till) || pay_refused (pay) || member_keypad_up (NULL);
}

/* Pays 60.00 (over the merchant's consent limit of 50.00) on the Pay
 * screen with the code the member showed. */
static void
pay_over_the_limit (Till *till)
{
  CtPayPage *pay = CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"));

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (till->window), "win.page", "s", "pay"));
  ck_assert_str_eq (ct_window_get_page (till->window), "pay");
  ck_assert_ptr_nonnull (ct_session_get_member_code (till->session));
  gtk_editable_set_text (GTK_EDITABLE (ct_pay_page_get_amount_entry (pay)), "60.00");
  g_signal_emit_by_name (ct_pay_page_get_amount_entry (pay), "activate");
  ck_assert (wait_until (paid_or_refused, till, 15000));
  /* The code is the consent: the member's keypad is not asked for. */
  ck_assert (!member_keypad_up (NULL));
  ck_assert_ptr_null (ct_session_get_member_code (till->session));
}

/* Every scanner path the till has: the member's payment code is the
 * member's consent to one payment over the merchant's limit, and a second
 * payment with the same code is refused, nothing taken. */
static void
member_code_pays_once (CodePath    path,
                       const char *name)
{
  Till *till;
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = NULL;
  g_autofree char *payload = NULL;
  g_autofree char *png = NULL;
  g_autofree char *png_name = NULL;
  guint32 time = 300000;

  ck_assert_int_eq (ct_test_service_admin (service, NULL, "merchant", "set", "--consent-over", "50.00", NULL), 0);
  till = till_new ();
  card_no = issue_card (till, "Code Member", phone, "p200");
  payload = member_code_payload (card_no);
  png = g_build_filename (till->data_dir, "member-code.png", NULL);

  show_member_code (till, payload, path, png, &time);
  pay_over_the_limit (till);
  ck_assert_msg (on_receipt (till), "refused: %s",
                 ct_pay_page_get_problem (CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"))));
  {
    g_autofree char *text = receipt_text (till);

    ck_assert_msg (strstr (text, "Balance after: ¥170.00") != NULL, "%s", text);
  }
  png_name = g_strdup_printf ("pay-member-code-%s", name);
  save_png (till, NULL, png_name);

  /* The same code again, the same way: refused, nothing taken. */
  show_member_code (till, payload, path, png, &time);
  ck_assert_str_eq (ct_card_view_get_balance_text (scan_card_view (till)), "¥170.00");
  pay_over_the_limit (till);
  ck_assert (!on_receipt (till));
  {
    const char *problem = ct_pay_page_get_problem (CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay")));

    ck_assert_msg (strstr (problem, "member's consent") != NULL, "%s", problem);
  }
  ct_session_refresh_card (till->session);
  ck_assert (wait_until (card_fresh, till, 15000));
  ck_assert_int_eq (ct_session_get_card (till->session)->balance, 17000);

  ck_assert_int_eq (ct_test_service_admin (service, NULL, "merchant", "set", "--consent-over", "0", NULL), 0);
  till_free (till);
}

START_TEST (test_app_member_code_by_wedge_pays_once)
{
  member_code_pays_once (CODE_BY_WEDGE, "wedge");
}
END_TEST

START_TEST (test_app_member_code_by_usb_reports_pays_once)
{
  member_code_pays_once (CODE_BY_USB, "usb");
}
END_TEST

START_TEST (test_app_member_code_by_image_pays_once)
{
  member_code_pays_once (CODE_BY_IMAGE, "image");
}
END_TEST

static guint8
usage_for (char c)
{
  if (c >= '1' && c <= '9')
    return 0x1e + (c - '1');
  if (c == '0')
    return 0x27;
  if (c >= 'A' && c <= 'Z')
    return 0x04 + (c - 'A');
  return 0;
}

START_TEST (test_app_scan_by_replayed_hid_reports)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "HID Member", phone, "p200");
  g_autoptr(CtHidDecoder) decoder = ct_hid_decoder_new (CT_HID_MODE_KEYBOARD);
  g_autoptr(CtScan) scan = NULL;
  g_autoptr(GError) error = NULL;
  static const guint8 release[8] = { 0 };

  /* A boot-keyboard scanner: one report with the key down, one with all
   * keys up, per character, then Enter. */
  for (const char *p = card_no; *p != '\0' && scan == NULL; p++)
    {
      guint8 down[8] = { 0, 0, usage_for (*p), 0, 0, 0, 0, 0 };

      ck_assert (ct_hid_decoder_feed (decoder, down, 8, &scan, &error));
      ck_assert (ct_hid_decoder_feed (decoder, release, 8, &scan, &error));
    }
  {
    guint8 enter[8] = { 0, 0, 0x28, 0, 0, 0, 0, 0 };

    ck_assert (ct_hid_decoder_feed (decoder, enter, 8, &scan, &error));
  }
  ck_assert_msg (scan != NULL, "the reports did not make a scan");
  ck_assert_str_eq (scan->text, card_no);

  /* The reader hands scans to the main loop; the window takes them. */
  ct_window_show_page (till->window, "settings");
  ct_window_handle_scan (till->window, scan->text);
  ck_assert (wait_until (card_fresh, till, 15000));
  /* On Settings the scan stays there as the test-scan field's result. */
  ck_assert_str_eq (ct_window_get_page (till->window), "settings");
  ck_assert_msg (strstr (ct_settings_page_get_last_scan (CT_SETTINGS_PAGE (ct_window_get_page_widget (till->window, "settings"))),
                         card_no) != NULL, "last scan not shown");
  save_png (till, NULL, "settings-test-scan");

  ct_window_show_page (till->window, "scan");
  ck_assert_str_eq (ct_card_view_get_balance_text (scan_card_view (till)), "¥230.00");
  save_png (till, NULL, "scan-hid");

  till_free (till);
}
END_TEST

START_TEST (test_app_cached_card_shows_at_once_marked_refreshing)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Cached Member", phone, "p100");
  CtCardView *view = scan_card_view (till);

  scan_and_wait (till, card_no);
  ct_session_clear_card (till->session);

  /* Second scan: the cached card is on screen before any answer. */
  ct_window_handle_scan (till->window, card_no);
  ck_assert_str_eq (ct_card_view_get_balance_text (view), "¥110.00");
  ck_assert_msg (strstr (ct_card_view_get_freshness_text (view), "Refreshing") != NULL,
                 "freshness: %s", ct_card_view_get_freshness_text (view));
  save_png (till, NULL, "scan-cached-refreshing");

  ck_assert (wait_until (card_fresh, till, 15000));
  ck_assert_str_eq (ct_card_view_get_freshness_text (view), "Up to date.");

  till_free (till);
}
END_TEST

START_TEST (test_app_typed_card_number_with_bad_check_digit_is_refused)
{
  Till *till = till_new ();
  GtkEntry *entry = ct_scan_page_get_entry (CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan")));
  const char *problem;

  gtk_editable_set_text (GTK_EDITABLE (entry), "8888 0000 0000 0001");
  g_signal_emit_by_name (entry, "activate");
  problem = ct_scan_page_get_problem (CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan")));
  ck_assert_msg (problem != NULL && strstr (problem, "check digit") != NULL, "problem: %s", problem);
  ck_assert (!ct_scan_page_is_showing_card (CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan"))));
  save_png (till, NULL, "scan-typo");

  /* A well-formed number the service does not know. */
  gtk_editable_set_text (GTK_EDITABLE (entry), "old-4711");
  g_signal_emit_by_name (entry, "activate");
  ck_assert (wait_until (scan_problem_shown, ct_window_get_page_widget (till->window, "scan"), 15000));
  problem = ct_scan_page_get_problem (CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan")));
  ck_assert_msg (strstr (problem, "This card is not known") != NULL, "problem: %s", problem);
  ck_assert (!ct_scan_page_is_showing_card (CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan"))));
  ck_assert (ct_session_get_card (till->session) == NULL);

  till_free (till);
}
END_TEST
/* Real key events through the X server (XTest), so the time stamps are
 * the server's: a burst as fast as a scanner types is a scan, a person's
 * typing reaches the entry. Tolerant: a loaded machine may stretch the
 * gaps of the burst, so the burst is sent in one go. */


static GtkEditable *typed_field;
static const char *typed_want;

static gboolean
field_holds (gpointer data)
{
  return g_strcmp0 (gtk_editable_get_text (typed_field), typed_want) == 0;
}

static gboolean
pay_summary_ready (gpointer data)
{
  Till *till = data;

  return g_strcmp0 (ct_pay_page_get_summary (CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"))),
                    "Pay ¥7.50") == 0;
}

static const char *screen_wanted;

static gboolean
screen_shown (gpointer data)
{
  Till *till = data;

  return g_strcmp0 (ct_window_get_page (till->window), screen_wanted) == 0 &&
         gtk_widget_get_mapped (ct_window_get_page_widget (till->window, screen_wanted));
}

/* The screen is shown, and the focus it gives (in an idle) is given. */
static void
wait_screen (Till       *till,
             const char *name)
{
  screen_wanted = name;
  ck_assert_msg (wait_until (screen_shown, till, 10000), "%s is not shown", name);
  for (guint i = 0; i < 1000 && g_main_context_pending (NULL); i++)
    g_main_context_iteration (NULL, FALSE);
}

START_TEST (test_app_real_typing_burst_is_a_scan_slow_typing_is_text)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Typing Member", phone, "p100");
  GdkDisplay *display = gtk_widget_get_display (GTK_WIDGET (till->window));
  GtkWidget *focus;

  if (!GDK_IS_X11_DISPLAY (display))
    {
      g_message ("Not on X11: no real typing test");
      till_free (till);
      return;
    }

  keys_focus (GTK_WINDOW (till->window));
  ct_window_show_page (till->window, "members");
  ck_assert (wait_until (focus_editable, till, 10000));
  focus = gtk_root_get_focus (GTK_ROOT (till->window));

  /* A person types "12" with pauses: it lands in the search entry. */
  keys_type ("12", 150);
  typed_field = GTK_EDITABLE (focus);
  typed_want = "12";
  ck_assert_msg (wait_until (field_holds, NULL, 10000), "the field holds \"%s\"",
                 gtk_editable_get_text (GTK_EDITABLE (focus)));
  gtk_editable_set_text (GTK_EDITABLE (focus), "");

  /* A scanner's burst, ended by Enter: the card comes up, the entry
   * stays empty. A loaded machine may stretch the burst's gaps: the test
   * allows the slowest scanner the settings allow. */
  g_settings_set_uint (till->settings, "wedge-threshold-ms", 200);
  keys_press (XK_End);  /* a key that types nothing: "12" is over */
  keys_type (card_no, 0);
  keys_press (XK_Return);
  ck_assert_msg (wait_until (card_fresh, till, 15000), "the burst was not taken as a scan");
  g_settings_set_uint (till->settings, "wedge-threshold-ms", 30);
  ck_assert_str_eq (ct_window_get_page (till->window), "scan");
  ck_assert_str_eq (gtk_editable_get_text (GTK_EDITABLE (focus)), "");
  ck_assert_str_eq (ct_session_get_card (till->session)->card_no, card_no);
  save_png (till, NULL, "scan-real-typing");

  /* The cashier's keys: F3 top up, Escape back, F4 pay, type, Enter
   * confirms, Escape leaves the receipt. Each waits for its screen. */
  keys_press (XK_F3);
  wait_screen (till, "topup");
  keys_press (XK_Escape);
  wait_screen (till, "scan");
  keys_press (XK_F4);
  wait_screen (till, "pay");
  ck_assert (wait_until (focus_editable, till, 10000));
  /* Three keys: never a scan's four, however the machine bunches them. */
  keys_type ("7.5", 120);
  ck_assert_msg (wait_until (pay_summary_ready, till, 10000), "summary: %s",
                 ct_pay_page_get_summary (CT_PAY_PAGE (ct_window_get_page_widget (till->window, "pay"))));
  keys_press (XK_Return);
  ck_assert_msg (wait_until (on_receipt, till, 15000), "Enter did not confirm the payment");
  {
    g_autofree char *text = receipt_text (till);

    ck_assert_msg (strstr (text, "Balance after: ¥102.50") != NULL, "%s", text);
  }
  wait_screen (till, "receipt");
  keys_press (XK_Escape);
  ck_assert (wait_until (scan_page_shown, till, 10000));
  ck_assert_ptr_null (ct_session_get_card (till->session));

  till_free (till);
}
END_TEST


static gboolean
card_shown_any (gpointer data)
{
  Till *till = data;

  return ct_scan_page_is_showing_card (CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan"))) &&
         card_fresh (data);
}

START_TEST (test_app_card_read_from_photo)
{
  Till *till = till_new ();
  g_autofree char *phone = unique_phone ();
  g_autofree char *card_no = issue_card (till, "Photo Member", phone, "p200");
  g_autofree char *png = g_build_filename (till->data_dir, "card.png", NULL);
  g_autoptr(GError) error = NULL;

  /* A QR code holding the card's https address, as printed on cards. */
  {
    g_autofree char *url = g_strdup_printf ("https://cards.example.com/c/%s?src=print", card_no);

    ck_assert_msg (ct_barcode_encode_png (url, zxing_BarcodeFormat_QRCode, 300, 300, png, &error),
                   "%s", error ? error->message : "");
  }

  ct_scan_page_read_image (CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan")), png);
  ck_assert_msg (wait_until (card_shown_any, till, 15000), "the photo did not bring the card up");
  ck_assert_str_eq (ct_session_get_card (till->session)->card_no, card_no);
  ck_assert_str_eq (ct_card_view_get_balance_text (scan_card_view (till)), "¥230.00");

  /* A picture without any code says so. */
  {
    g_autofree char *blank = g_build_filename (till->data_dir, "blank.png", NULL);
    g_autoptr(GdkPixbuf) white = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 64, 64);
    CtScanPage *scan = CT_SCAN_PAGE (ct_window_get_page_widget (till->window, "scan"));

    gdk_pixbuf_fill (white, 0xffffffff);
    ck_assert (gdk_pixbuf_save (white, blank, "png", NULL, NULL));
    ct_scan_page_read_image (scan, blank);
    ck_assert (wait_until (scan_problem_shown, scan, 15000));
    ck_assert_msg (strstr (ct_scan_page_get_problem (scan), "No barcode") != NULL,
                   "%s", ct_scan_page_get_problem (scan));
  }
  save_png (till, NULL, "scan-photo");

  till_free (till);
}
END_TEST
int
main (void)
{
  Suite *s = suite_create ("app-scan");
  TCase *tc = tcase_create ("scan");

  tcase_set_timeout (tc, 120);
  tcase_add_unchecked_fixture (tc, service_setup, service_teardown);
  add_test (tc, test_app_scan_by_wedge_burst_shows_member);
  add_test (tc, test_app_scanned_member_code_names_the_card_and_is_kept_for_it);
  add_test (tc, test_app_member_code_by_wedge_pays_once);
  add_test (tc, test_app_member_code_by_usb_reports_pays_once);
  add_test (tc, test_app_member_code_by_image_pays_once);
  add_test (tc, test_app_scan_by_replayed_hid_reports);
  add_test (tc, test_app_cached_card_shows_at_once_marked_refreshing);
  add_test (tc, test_app_typed_card_number_with_bad_check_digit_is_refused);
  add_test (tc, test_app_real_typing_burst_is_a_scan_slow_typing_is_text);
  add_test (tc, test_app_card_read_from_photo);
  suite_add_tcase (s, tc);

  return run_app_suite (s);
}
