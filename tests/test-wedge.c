/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-wedge"
#include "config.h"

#include <check.h>
#include <string.h>

#include "ct-wedge.h"

/* Synthetic key events: the keyval of a printable ASCII key is its code. */
typedef struct
{
  CtWedge *wedge;
  GString *released;    /* the focused field: everything that reached it and stayed */
  char *before;         /* the field when the burst began */
  GPtrArray *scans;
} Harness;

static void
harness_init (Harness *h,
              guint    threshold)
{
  h->wedge = ct_wedge_new (threshold);
  h->released = g_string_new (NULL);
  h->before = NULL;
  h->scans = g_ptr_array_new_with_free_func (g_free);
}

static void
harness_clear (Harness *h)
{
  ct_wedge_free (h->wedge);
  g_string_free (h->released, TRUE);
  g_free (h->before);
  g_ptr_array_unref (h->scans);
}

/* Feeds one press and applies the verdict the way the app does: a key
 * that passes reaches the field (the cursor is at its end); a scan is
 * taken back out of it. */
static CtWedgeVerdict
press (Harness  *h,
       guint     keyval,
       gunichar  ch,
       guint32   t,
       gboolean  repeat,
       gboolean  modifier)
{
  CtWedgeResult r = { 0 };
  CtWedgeVerdict v;

  ct_wedge_feed (h->wedge, keyval, ch, t, TRUE, repeat, modifier, &r);
  if (r.burst_started)
    {
      g_free (h->before);
      h->before = g_strdup (h->released->str);
    }
  if (r.verdict == CT_WEDGE_SCAN)
    {
      glong end = g_utf8_strlen (h->before, -1);
      g_autofree char *missing = NULL;
      g_autofree char *text = NULL;
      int position = -1;

      g_ptr_array_add (h->scans, g_strdup (r.scan));
      ck_assert (ct_wedge_take_back (h->before, end, end, h->released->str, r.scan,
                                     &text, &position, &missing));
      ck_assert_ptr_null (missing);
      g_string_assign (h->released, text);
    }
  else if (r.verdict == CT_WEDGE_PASS)
    {
      if (ch != 0)
        g_string_append_unichar (h->released, ch);
      else if (keyval == CT_WEDGE_KEY_RETURN)
        g_string_append (h->released, "<Enter>");
      else if (keyval == CT_WEDGE_KEY_TAB)
        g_string_append (h->released, "<Tab>");
    }
  v = r.verdict;
  ct_wedge_result_clear (&r);
  return v;
}

static guint32
type_text (Harness    *h,
           const char *text,
           guint32     t,
           guint32     gap)
{
  for (const char *p = text; *p; p++)
    {
      press (h, (guint) *p, (gunichar) *p, t, FALSE, FALSE);
      t += gap;
    }
  return t;
}

START_TEST (test_wedge_fast_burst_with_enter_is_scan)
{
  Harness h;
  guint32 t;

  harness_init (&h, 30);
  t = type_text (&h, "8888000012345678", 1000, 8);
  ck_assert_int_eq (press (&h, CT_WEDGE_KEY_RETURN, 0, t, FALSE, FALSE), CT_WEDGE_SCAN);
  ck_assert_uint_eq (h.scans->len, 1);
  ck_assert_str_eq (g_ptr_array_index (h.scans, 0), "8888000012345678");
  /* Nothing of the scan reached the focused widget. */
  ck_assert_str_eq (h.released->str, "");
  harness_clear (&h);
}
END_TEST

START_TEST (test_wedge_kp_enter_and_tab_end_scans)
{
  Harness h;
  guint32 t;

  harness_init (&h, 30);
  t = type_text (&h, "ABCD", 0, 5);
  ck_assert_int_eq (press (&h, CT_WEDGE_KEY_KP_ENTER, 0, t, FALSE, FALSE), CT_WEDGE_SCAN);
  t = type_text (&h, "1234", t + 500, 5);
  ck_assert_int_eq (press (&h, CT_WEDGE_KEY_TAB, 0, t, FALSE, FALSE), CT_WEDGE_SCAN);
  ck_assert_uint_eq (h.scans->len, 2);
  ck_assert_str_eq (g_ptr_array_index (h.scans, 0), "ABCD");
  ck_assert_str_eq (g_ptr_array_index (h.scans, 1), "1234");
  harness_clear (&h);
}
END_TEST

START_TEST (test_wedge_slow_typing_is_released)
{
  Harness h;
  guint32 t;

  harness_init (&h, 30);
  t = type_text (&h, "hello", 0, 120);
  press (&h, CT_WEDGE_KEY_RETURN, 0, t, FALSE, FALSE);
  ck_assert_uint_eq (h.scans->len, 0);
  ck_assert_str_eq (h.released->str, "hello<Enter>");
  harness_clear (&h);
}
END_TEST

START_TEST (test_wedge_short_burst_is_not_scan)
{
  Harness h;
  guint32 t;

  harness_init (&h, 30);
  t = type_text (&h, "123", 0, 5);
  ck_assert_int_eq (press (&h, CT_WEDGE_KEY_RETURN, 0, t, FALSE, FALSE), CT_WEDGE_PASS);
  ck_assert_uint_eq (h.scans->len, 0);
  ck_assert_str_eq (h.released->str, "123<Enter>");
  harness_clear (&h);
}
END_TEST

START_TEST (test_wedge_non_printable_ends_burst)
{
  Harness h;
  guint32 t;

  harness_init (&h, 30);
  t = type_text (&h, "12345", 0, 5);
  /* An arrow key (no character) ends the burst; the held text comes back
   * before the key itself. */
  ck_assert_int_eq (press (&h, 0xff51, 0, t, FALSE, FALSE), CT_WEDGE_PASS);
  ck_assert_str_eq (h.released->str, "12345");
  t = type_text (&h, "6", t + 5, 5);
  press (&h, CT_WEDGE_KEY_RETURN, 0, t, FALSE, FALSE);
  ck_assert_uint_eq (h.scans->len, 0);
  ck_assert_str_eq (h.released->str, "123456<Enter>");
  harness_clear (&h);
}
END_TEST

START_TEST (test_wedge_gap_before_enter_is_not_scan)
{
  Harness h;
  guint32 t;

  harness_init (&h, 30);
  t = type_text (&h, "12345", 0, 5);
  press (&h, CT_WEDGE_KEY_RETURN, 0, t + 200, FALSE, FALSE);
  ck_assert_uint_eq (h.scans->len, 0);
  ck_assert_str_eq (h.released->str, "12345<Enter>");
  harness_clear (&h);
}
END_TEST

START_TEST (test_wedge_auto_repeat_ignored)
{
  Harness h;
  guint32 t;

  harness_init (&h, 30);
  /* A person holds "a": first press, then repeats 5 ms apart. The repeats
   * never form a burst and nothing is held back. */
  press (&h, 'a', 'a', 0, FALSE, FALSE);
  t = 500;
  for (int i = 0; i < 10; i++, t += 5)
    ck_assert_int_eq (press (&h, 'a', 'a', t, TRUE, FALSE), CT_WEDGE_PASS);
  ck_assert_int_eq (press (&h, CT_WEDGE_KEY_RETURN, 0, t, FALSE, FALSE), CT_WEDGE_PASS);
  ck_assert_uint_eq (h.scans->len, 0);
  ck_assert_str_eq (h.released->str, "aaaaaaaaaaa<Enter>");
  harness_clear (&h);
}
END_TEST

START_TEST (test_wedge_shift_does_not_break_burst)
{
  Harness h;
  CtWedgeResult r = { 0 };

  harness_init (&h, 30);
  press (&h, 0xffe1, 0, 0, FALSE, TRUE);  /* Shift_L */
  press (&h, 'A', 'A', 3, FALSE, FALSE);
  ct_wedge_feed (h.wedge, 0xffe1, 0, 5, FALSE, FALSE, TRUE, &r); /* release */
  ck_assert_int_eq (r.verdict, CT_WEDGE_PASS);
  ct_wedge_result_clear (&r);
  type_text (&h, "b12", 8, 5);
  press (&h, CT_WEDGE_KEY_RETURN, 0, 25, FALSE, FALSE);
  ck_assert_uint_eq (h.scans->len, 1);
  ck_assert_str_eq (g_ptr_array_index (h.scans, 0), "Ab12");
  harness_clear (&h);
}
END_TEST

START_TEST (test_wedge_keys_of_a_burst_reach_the_field)
{
  Harness h;
  guint32 t = 0;

  /* Every key of a burst goes on to the field and its input method; only
   * the terminator of a scan is kept from it. */
  harness_init (&h, 30);
  for (const char *p = "88880000"; *p; p++, t += 5)
    ck_assert_int_eq (press (&h, (guint) *p, (gunichar) *p, t, FALSE, FALSE), CT_WEDGE_PASS);
  ck_assert_uint_eq (ct_wedge_get_burst_length (h.wedge), 8);
  ck_assert_str_eq (h.released->str, "88880000");
  ck_assert_int_eq (press (&h, CT_WEDGE_KEY_RETURN, 0, t, FALSE, FALSE), CT_WEDGE_SCAN);
  ck_assert_uint_eq (ct_wedge_get_burst_length (h.wedge), 0);
  ck_assert_str_eq (h.released->str, "");
  harness_clear (&h);
}
END_TEST

START_TEST (test_wedge_take_back_keeps_composed_text)
{
  g_autofree char *text = NULL;
  g_autofree char *missing = NULL;
  int position = -1;

  /* An input method committed 王芳 while the burst was under way: it
   * stays, the scan goes. */
  ck_assert (ct_wedge_take_back ("", 0, 0, "王芳8888000012345678", "8888000012345678",
                                 &text, &position, &missing));
  ck_assert_str_eq (text, "王芳");
  ck_assert_int_eq (position, 2);
  ck_assert_ptr_null (missing);
  g_clear_pointer (&text, g_free);

  /* Composed text between the scan's characters stays too. */
  ck_assert (ct_wedge_take_back ("张", 1, 1, "张12王34", "1234", &text, &position, &missing));
  ck_assert_str_eq (text, "张王");
  ck_assert_int_eq (position, 2);
  ck_assert_ptr_null (missing);
}
END_TEST

START_TEST (test_wedge_take_back_restores_field_around_cursor)
{
  g_autofree char *text = NULL;
  g_autofree char *missing = NULL;
  g_autofree char *again = NULL;
  g_autofree char *selected = NULL;
  int position = -1;

  /* The scan was typed at the cursor, in the middle of the text. */
  ck_assert (ct_wedge_take_back ("abcdef", 3, 3, "abc1234def", "1234", &text, &position, &missing));
  ck_assert_str_eq (text, "abcdef");
  ck_assert_int_eq (position, 3);
  ck_assert_ptr_null (missing);

  /* The text before the cursor looks like the scan: the cursor decides
   * where the burst went in. */
  ck_assert (ct_wedge_take_back ("8", 1, 1, "88888", "8888", &again, &position, &missing));
  ck_assert_str_eq (again, "8");
  ck_assert_int_eq (position, 1);

  /* The first key replaced a selection: the field gets it back. */
  ck_assert (ct_wedge_take_back ("hello", 0, 5, "1234", "1234", &selected, &position, &missing));
  ck_assert_str_eq (selected, "hello");
  ck_assert_int_eq (position, 5);
}
END_TEST

START_TEST (test_wedge_composed_text_alone_is_not_a_scan)
{
  g_autofree char *text = NULL;
  g_autofree char *missing = NULL;
  int position = -1;

  /* A fast typist's pinyin became 王芳 and none of the keys' letters
   * reached the field: a person, not a scanner. */
  ck_assert (!ct_wedge_take_back ("", 0, 0, "王芳", "wangfang ", &text, &position, &missing));
  ck_assert_ptr_null (text);
  ck_assert_ptr_null (missing);
}
END_TEST

START_TEST (test_wedge_take_back_reports_characters_still_to_come)
{
  g_autofree char *text = NULL;
  g_autofree char *missing = NULL;
  int position = -1;

  /* An input method still holds the end of the scan when its terminator
   * arrives: what is there goes, the rest is reported to be caught. */
  ck_assert (ct_wedge_take_back ("", 0, 0, "88880", "8888000012345678", &text, &position, &missing));
  ck_assert_str_eq (text, "");
  ck_assert_str_eq (missing, "00012345678");
}
END_TEST

START_TEST (test_wedge_take_back_finds_characters_out_of_order)
{
  g_autofree char *text = NULL;
  g_autofree char *missing = NULL;
  int position = -1;

  /* An asynchronous input method committed the burst backwards. */
  ck_assert (ct_wedge_take_back ("", 0, 0, "6104432890438888", "8888340982340416",
                                 &text, &position, &missing));
  ck_assert_str_eq (text, "");
  ck_assert_ptr_null (missing);
}
END_TEST

START_TEST (test_wedge_threshold_boundary)
{
  Harness h;
  guint32 t;

  /* Exactly the threshold still belongs to the burst; one more does not. */
  harness_init (&h, 30);
  t = type_text (&h, "WXYZ", 0, 30);
  press (&h, CT_WEDGE_KEY_RETURN, 0, t - 30 + 30, FALSE, FALSE);
  ck_assert_uint_eq (h.scans->len, 1);
  t = type_text (&h, "WXYZ", 1000, 31);
  press (&h, CT_WEDGE_KEY_RETURN, 0, t, FALSE, FALSE);
  ck_assert_uint_eq (h.scans->len, 1);
  ck_assert_str_eq (h.released->str, "WXYZ<Enter>");
  harness_clear (&h);
}
END_TEST

START_TEST (test_wedge_time_wraps)
{
  Harness h;
  guint32 t;

  harness_init (&h, 30);
  t = type_text (&h, "9876", G_MAXUINT32 - 10, 6);
  press (&h, CT_WEDGE_KEY_RETURN, 0, t, FALSE, FALSE);
  ck_assert_uint_eq (h.scans->len, 1);
  ck_assert_str_eq (g_ptr_array_index (h.scans, 0), "9876");
  harness_clear (&h);
}
END_TEST

START_TEST (test_wedge_unicode_characters_counted_not_bytes)
{
  Harness h;

  harness_init (&h, 30);
  /* Three characters of six bytes are still fewer than four. */
  press (&h, 0x1000000 + 0x4e2d, 0x4e2d, 0, FALSE, FALSE);
  press (&h, 0x1000000 + 0x6587, 0x6587, 5, FALSE, FALSE);
  press (&h, 0x1000000 + 0x5b57, 0x5b57, 10, FALSE, FALSE);
  press (&h, CT_WEDGE_KEY_RETURN, 0, 15, FALSE, FALSE);
  ck_assert_uint_eq (h.scans->len, 0);
  ck_assert_str_eq (h.released->str, "中文字<Enter>");
  harness_clear (&h);
}
END_TEST

static Suite *
wedge_suite (void)
{
  Suite *s = suite_create ("wedge");
  TCase *tc = tcase_create ("rule");

  tcase_add_test (tc, test_wedge_fast_burst_with_enter_is_scan);
  tcase_add_test (tc, test_wedge_kp_enter_and_tab_end_scans);
  tcase_add_test (tc, test_wedge_slow_typing_is_released);
  tcase_add_test (tc, test_wedge_short_burst_is_not_scan);
  tcase_add_test (tc, test_wedge_non_printable_ends_burst);
  tcase_add_test (tc, test_wedge_gap_before_enter_is_not_scan);
  tcase_add_test (tc, test_wedge_auto_repeat_ignored);
  tcase_add_test (tc, test_wedge_shift_does_not_break_burst);
  tcase_add_test (tc, test_wedge_keys_of_a_burst_reach_the_field);
  tcase_add_test (tc, test_wedge_take_back_keeps_composed_text);
  tcase_add_test (tc, test_wedge_take_back_restores_field_around_cursor);
  tcase_add_test (tc, test_wedge_take_back_reports_characters_still_to_come);
  tcase_add_test (tc, test_wedge_composed_text_alone_is_not_a_scan);
  tcase_add_test (tc, test_wedge_take_back_finds_characters_out_of_order);
  tcase_add_test (tc, test_wedge_threshold_boundary);
  tcase_add_test (tc, test_wedge_time_wraps);
  tcase_add_test (tc, test_wedge_unicode_characters_counted_not_bytes);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (wedge_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
