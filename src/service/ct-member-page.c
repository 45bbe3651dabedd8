/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-member-page"

#include "config.h"

#include <gio/gio.h>
#include <json.h>
#include <stdlib.h>
#include <string.h>

#include "ct-format.h"
#include "ct-member-page.h"
#include "ct-store.h"
#include "ct-wire.h"
#include "zxing-c.h"

/*
 * The member's page, as the WeChat member card's 会员卡 page gives it: who,
 * balance, points, level, the dynamic payment code as a QR code, and the
 * history one day at a time. It is one server-rendered HTML document with
 * no external asset (the QR code is an SVG in a data: URI, the style is
 * inline), so it loads on a phone over a poor connection and nothing on it
 * can be changed by a third party. The Content-Security-Policy allows the
 * inline style and the one script by their SHA-256 hashes and nothing
 * else; the script only refreshes the payment code every 30 seconds, and
 * without it the page still shows everything (the code then refreshes
 * with the page).
 */

#define QR_QUIET_ZONE 4

static const char page_style[] =
  "*{box-sizing:border-box}"
  "body{margin:0;font-family:system-ui,-apple-system,'Noto Sans CJK SC','PingFang SC',sans-serif;"
  "background:#f2f3f5;color:#1d1d1f;font-size:16px;line-height:1.4}"
  "main{max-width:480px;margin:0 auto;padding:12px}"
  "header{padding:8px 4px 12px}"
  "header h1{font-size:1.1em;margin:0;color:#555;font-weight:600}"
  ".card{background:linear-gradient(135deg,#2b5876,#4e4376);color:#fff;border-radius:14px;"
  "padding:16px;margin-bottom:12px}"
  ".card .who{font-size:1.15em;font-weight:600}"
  ".card .no{opacity:.85;letter-spacing:.05em;font-variant-numeric:tabular-nums;margin-top:2px}"
  ".figures{display:flex;gap:8px;margin-top:14px}"
  ".figures div{flex:1}"
  ".figures span{display:block;font-size:.8em;opacity:.8}"
  ".figures strong{font-size:1.3em;font-variant-numeric:tabular-nums}"
  ".figures .balance strong{font-size:1.6em}"
  ".notice{background:#fff3cd;color:#664d03;border-radius:10px;padding:10px 12px;margin-bottom:12px}"
  "section{background:#fff;border-radius:14px;padding:14px;margin-bottom:12px}"
  "h2{font-size:1em;margin:0 0 8px}"
  ".pay{text-align:center}"
  ".pay img{width:70%;max-width:240px;height:auto;image-rendering:pixelated}"
  ".pay .code{font-size:1.4em;letter-spacing:.12em;font-variant-numeric:tabular-nums;margin:4px 0}"
  ".hint{color:#666;font-size:.85em;margin:4px 0 0}"
  ".js .nojs{display:none}"
  "nav{display:flex;justify-content:space-between;align-items:center;margin-bottom:8px}"
  "nav a{color:#2b5876;text-decoration:none;padding:6px 4px}"
  "nav .day{font-weight:600;text-align:center}"
  "nav .day small{display:block;font-weight:400;color:#777;font-size:.8em}"
  "nav .off{color:#bbb;padding:6px 4px}"
  "ul{list-style:none;margin:0;padding:0}"
  "li{display:flex;justify-content:space-between;padding:8px 0;border-top:1px solid #eee}"
  "li:first-child{border-top:none}"
  ".what small{display:block;color:#777;font-size:.8em}"
  ".amount{text-align:right;font-variant-numeric:tabular-nums}"
  ".amount small{display:block;color:#777;font-size:.8em}"
  ".plus{color:#1a7f37}"
  ".empty{color:#777;text-align:center;margin:12px 0}";

/* Fetches the next code when the current one runs out; the page's own
 * data-* attributes say where and when, so the script never changes and
 * its hash stays the same. */
static const char page_script[] =
  "(function(){var q=document.getElementById('qr'),c=document.getElementById('code');"
  "if(!q||!window.fetch)return;document.body.className='js';var u=q.getAttribute('data-src');"
  "function tick(){fetch(u,{cache:'no-store',credentials:'same-origin'})"
  ".then(function(r){return r.ok?r.json():null}).then(function(j){"
  "if(!j){setTimeout(tick,10000);return}q.src=j.qr;c.textContent=j.code;"
  "setTimeout(tick,j.next_in*1000+300)}).catch(function(){setTimeout(tick,10000)})}"
  "setTimeout(tick,(+q.getAttribute('data-next'))*1000+300)})();";

typedef struct
{
  const char *lang;
  const char *title;
  const char *balance;
  const char *points;
  const char *level;
  const char *no_level;
  const char *card;
  const char *pay_code;
  const char *pay_hint;
  const char *no_code;
  const char *reload;
  const char *frozen;
  const char *history;
  const char *prev;
  const char *next;
  const char *today;
  const char *empty;
  const char *after;
  const char *points_unit;
  const char *weekdays[7];     /* Monday first, as GDateTime counts */
  const char *kinds[6];        /* topup payment refund void adjustment import */
  const char *refused_title;
  const char *refused_text;
} Words;

static const Words words_zh = {
  "zh-CN", "会员卡", "余额", "积分", "等级", "普通会员", "卡号",
  "付款码", "向收银员出示此码，每 30 秒更新，每个码只能付款一次。",
  "此卡现在不能付款。", "刷新页面可获取新的付款码。", "此卡已冻结：不能付款或充值，请联系门店。",
  "交易记录", "前一天", "后一天", "今天", "这一天没有交易。", "余额", "积分",
  { "周一", "周二", "周三", "周四", "周五", "周六", "周日" },
  { "充值", "消费", "退款", "撤销充值", "余额调整", "余额导入" },
  "链接已失效", "此会员链接已失效或已被更换。请向门店索取新的链接。",
};

static const Words words_en = {
  "en", "Membership card", "Balance", "Points", "Level", "Member", "Card",
  "Payment code", "Show this code to the cashier. It changes every 30 seconds and pays once.",
  "This card cannot pay now.", "Reload the page for a new code.", "This card is frozen: no payments or top-ups. Please ask the store.",
  "History", "Previous", "Next", "Today", "Nothing on this day.", "Balance", "points",
  { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" },
  { "Top-up", "Payment", "Refund", "Top-up voided", "Adjustment", "Opening balance" },
  "Link no longer valid", "This member link has expired or was replaced. Ask the store for a new one.",
};

static const Words *
words_for (CtMemberPageLanguage language)
{
  return language == CT_MEMBER_PAGE_EN ? &words_en : &words_zh;
}

/**
 * ct_member_page_language:
 * @accept_language: (nullable): the request's Accept-Language header
 *
 * Picks Chinese or English by the member's browser: the language range with
 * the highest q value that is either wins; Chinese when neither is named.
 */
CtMemberPageLanguage
ct_member_page_language (const char *accept_language)
{
  g_auto(GStrv) ranges = NULL;
  CtMemberPageLanguage best = CT_MEMBER_PAGE_ZH;
  int best_q = -1;

  if (accept_language == NULL)
    return CT_MEMBER_PAGE_ZH;
  ranges = g_strsplit (accept_language, ",", 32);
  for (guint i = 0; ranges[i] != NULL; i++)
    {
      g_auto(GStrv) parts = g_strsplit (ranges[i], ";", 4);
      const char *tag = g_strstrip (parts[0]);
      int q = 1000;

      for (guint j = 1; parts[j] != NULL; j++)
        {
          const char *p = g_strstrip (parts[j]);

          /* q is 0 to 1 with up to three decimals; read it as thousandths. */
          if (g_str_has_prefix (p, "q="))
            {
              const char *v = p + 2;

              q = 0;
              if (*v == '1')
                q = 1000;
              else if (*v == '0' && v[1] == '.')
                for (int k = 0, scale = 100; k < 3 && g_ascii_isdigit (v[2 + k]); k++, scale /= 10)
                  q += (v[2 + k] - '0') * scale;
            }
        }
      if (q <= best_q)
        continue;
      if (g_ascii_strncasecmp (tag, "zh", 2) == 0 && (tag[2] == '\0' || tag[2] == '-'))
        best = CT_MEMBER_PAGE_ZH, best_q = q;
      else if (g_ascii_strncasecmp (tag, "en", 2) == 0 && (tag[2] == '\0' || tag[2] == '-'))
        best = CT_MEMBER_PAGE_EN, best_q = q;
    }
  return best;
}

static char *
sha256_source (const char *text)
{
  guint8 digest[32];
  gsize len = sizeof digest;
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *b64 = NULL;

  g_checksum_update (sum, (const guchar *) text, strlen (text));
  g_checksum_get_digest (sum, digest, &len);
  b64 = g_base64_encode (digest, len);
  return g_strdup_printf ("'sha256-%s'", b64);
}

/**
 * ct_member_page_csp:
 *
 * Returns: (transfer full): the Content-Security-Policy the page is served
 *   with: nothing from anywhere but the page's own style and script (by
 *   hash), images only from data: URIs, and fetches only to the service.
 */
char *
ct_member_page_csp (void)
{
  g_autofree char *style = sha256_source (page_style);
  g_autofree char *script = sha256_source (page_script);

  return g_strdup_printf ("default-src 'none'; style-src %s; script-src %s; img-src data:; "
                          "connect-src 'self'; base-uri 'none'; form-action 'none'; "
                          "frame-ancestors 'none'", style, script);
}

/**
 * ct_member_page_qr_data_uri:
 * @text: what the QR code holds
 * @error: a #G_IO_ERROR when the encoder fails
 *
 * Returns: (transfer full): a data: URI of an SVG of the QR code, one unit
 *   per module with a four-module quiet zone
 */
char *
ct_member_page_qr_data_uri (const char  *text,
                            GError     **error)
{
  g_autoptr(GString) svg = g_string_new (NULL);
  g_autofree char *b64 = NULL;
  char *message = NULL;
  uint8_t *pixels;
  int w = 0, h = 0;

  pixels = cardtill_zxing_WriteBarcode (text, zxing_BarcodeFormat_QRCode, 0, 0, 0, &w, &h, &message);
  if (pixels == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "QR code: %s", message ? message : "failed");
      free (message);
      return NULL;
    }
  g_string_append_printf (svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                          "shape-rendering=\"crispEdges\"><rect width=\"100%%\" height=\"100%%\" "
                          "fill=\"#fff\"/><path fill=\"#000\" d=\"",
                          w + 2 * QR_QUIET_ZONE, h + 2 * QR_QUIET_ZONE);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        int run = 0;

        /* One horizontal bar per run of dark modules keeps the SVG small. */
        if (pixels[(gsize) y * w + x] != 0 || (x > 0 && pixels[(gsize) y * w + x - 1] == 0))
          continue;
        while (x + run < w && pixels[(gsize) y * w + x + run] == 0)
          run++;
        g_string_append_printf (svg, "M%d %dh%dv1h-%dz", x + QR_QUIET_ZONE, y + QR_QUIET_ZONE, run, run);
      }
  g_string_append (svg, "\"/></svg>");
  free (pixels);
  b64 = g_base64_encode ((const guchar *) svg->str, svg->len);
  return g_strconcat ("data:image/svg+xml;base64,", b64, NULL);
}

/* "2048 1632": the code in two groups, easier to read out. */
static char *
group_code (const char *code)
{
  gsize len = strlen (code);

  if (len != 8)
    return g_strdup (code);
  return g_strdup_printf ("%.4s %s", code, code + 4);
}

/**
 * ct_member_page_code_json:
 *
 * Returns: (transfer full): what the page's script fetches to refresh the
 *   code: `{"qr", "code", "next_in"}`, or %NULL when the QR code cannot be
 *   drawn
 */
char *
ct_member_page_code_json (const char *code_payload,
                          const char *code,
                          int         seconds_left)
{
  g_autofree char *qr = ct_member_page_qr_data_uri (code_payload, NULL);
  g_autofree char *grouped = group_code (code);
  json_object *obj;

  if (qr == NULL)
    return NULL;
  obj = json_object_new_object ();
  json_object_object_add (obj, "qr", json_object_new_string (qr));
  json_object_object_add (obj, "code", json_object_new_string (grouped));
  json_object_object_add (obj, "next_in", json_object_new_int (MAX (seconds_left, 1)));
  return ct_wire_json_take_text (obj);
}

static void
append_escaped (GString    *out,
                const char *text)
{
  g_autofree char *escaped = g_markup_escape_text (text != NULL ? text : "", -1);

  g_string_append (out, escaped);
}

static void
append_head (GString     *out,
             const Words *w,
             const char  *title)
{
  g_string_append_printf (out, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
                          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                          "<meta name=\"referrer\" content=\"no-referrer\">"
                          "<meta name=\"robots\" content=\"noindex\"><title>", w->lang);
  append_escaped (out, title);
  g_string_append_printf (out, "</title><style>%s</style></head><body><main>", page_style);
}

static int
kind_index (const CtStoreTx *tx)
{
  if (g_strcmp0 (tx->kind, "topup") == 0)
    return 0;
  if (g_strcmp0 (tx->kind, "payment") == 0)
    return 1;
  if (g_strcmp0 (tx->kind, "refund") == 0)
    return tx->delta < 0 ? 3 : 2;
  if (g_strcmp0 (tx->kind, "adjustment") == 0)
    return 4;
  return 5;
}

static void
append_history (GString                *out,
                const CtMemberPageData *data,
                const Words            *w)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier (data->timezone);
  g_autoptr(GDateTime) day = NULL;
  g_autofree char *day_iso = g_strdup_printf ("%sT00:00:00", data->day);

  if (tz == NULL)
    tz = g_time_zone_new_utc ();
  day = g_date_time_new_from_iso8601 (day_iso, tz);

  g_string_append_printf (out, "<section class=\"history\"><h2>%s</h2><nav>", w->history);
  if (data->prev_day != NULL)
    {
      g_string_append (out, "<a class=\"prev\" href=\"");
      append_escaped (out, data->page_path);
      g_string_append_printf (out, "?date=%s\">‹ %s</a>", data->prev_day, w->prev);
    }
  else
    g_string_append_printf (out, "<span class=\"off\">‹ %s</span>", w->prev);
  g_string_append_printf (out, "<span class=\"day\">%s", data->day);
  if (day != NULL)
    g_string_append_printf (out, " %s", w->weekdays[g_date_time_get_day_of_week (day) - 1]);
  if (data->next_day == NULL)
    g_string_append_printf (out, "<small>%s</small>", w->today);
  g_string_append (out, "</span>");
  if (data->next_day != NULL)
    {
      g_string_append (out, "<a class=\"next\" href=\"");
      append_escaped (out, data->page_path);
      g_string_append_printf (out, "?date=%s\">%s ›</a>", data->next_day, w->next);
    }
  else
    g_string_append_printf (out, "<span class=\"off\">%s ›</span>", w->next);
  g_string_append (out, "</nav>");

  if (data->transactions == NULL || data->transactions->len == 0)
    {
      g_string_append_printf (out, "<p class=\"empty\">%s</p></section>", w->empty);
      return;
    }
  g_string_append (out, "<ul>");
  for (guint i = 0; i < data->transactions->len; i++)
    {
      const CtStoreTx *tx = g_ptr_array_index (data->transactions, i);
      g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (tx->created_at / 1000);
      g_autoptr(GDateTime) local = utc != NULL ? g_date_time_to_timezone (utc, tz) : NULL;
      g_autofree char *time = local != NULL ? g_date_time_format (local, "%H:%M") : g_strdup ("");
      g_autofree char *delta = ct_format_signed_money (tx->delta, data->minor_units, data->currency);
      g_autofree char *after = ct_format_money (tx->balance_after, data->minor_units, data->currency);

      g_string_append_printf (out, "<li><span class=\"what\">%s<small>%s", w->kinds[kind_index (tx)], time);
      if (tx->points_delta != 0)
        g_string_append_printf (out, " · %+" G_GINT64_FORMAT " %s", tx->points_delta, w->points_unit);
      g_string_append_printf (out, "</small></span><span class=\"amount%s\">%s<small>%s %s</small></span></li>",
                              tx->delta > 0 ? " plus" : "", delta, w->after, after);
    }
  g_string_append (out, "</ul></section>");
}

/**
 * ct_member_page_render:
 * @data: what the page shows
 * @language: Chinese or English
 *
 * Returns: (transfer full): the page, a complete HTML document
 */
char *
ct_member_page_render (const CtMemberPageData *data,
                       CtMemberPageLanguage    language)
{
  const Words *w = words_for (language);
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *balance = ct_format_money (data->balance, data->minor_units, data->currency);
  g_autofree char *card_no = ct_format_card_no (data->card_no);
  g_autofree char *title = g_strdup_printf ("%s · %s", w->title,
                                            data->merchant_name != NULL ? data->merchant_name : "");

  g_return_val_if_fail (data != NULL && data->card_no != NULL && data->day != NULL, NULL);

  append_head (out, w, title);
  g_string_append (out, "<header><h1>");
  append_escaped (out, data->merchant_name);
  g_string_append_printf (out, " · %s</h1></header>", w->title);

  g_string_append (out, "<div class=\"card\"><div class=\"who\">");
  append_escaped (out, data->member_name);
  g_string_append_printf (out, "</div><div class=\"no\">%s %s</div><div class=\"figures\">", w->card, card_no);
  g_string_append_printf (out, "<div class=\"balance\"><span>%s</span><strong>%s</strong></div>", w->balance, balance);
  g_string_append_printf (out, "<div class=\"points\"><span>%s</span><strong>%" G_GINT64_FORMAT "</strong></div>",
                          w->points, data->points);
  g_string_append_printf (out, "<div class=\"level\"><span>%s</span><strong>", w->level);
  append_escaped (out, data->level != NULL ? data->level : w->no_level);
  g_string_append (out, "</strong></div></div></div>");

  if (g_strcmp0 (data->status, "frozen") == 0)
    g_string_append_printf (out, "<p class=\"notice\">%s</p>", w->frozen);

  g_string_append_printf (out, "<section class=\"pay\"><h2>%s</h2>", w->pay_code);
  if (data->code_payload != NULL)
    {
      g_autofree char *qr = ct_member_page_qr_data_uri (data->code_payload, NULL);
      g_autofree char *grouped = group_code (data->code);

      g_string_append (out, "<img id=\"qr\" alt=\"");
      append_escaped (out, w->pay_code);
      g_string_append_printf (out, "\" src=\"%s\" data-src=\"", qr != NULL ? qr : "");
      append_escaped (out, data->code_url);
      g_string_append_printf (out, "\" data-next=\"%d\"><p class=\"code\" id=\"code\">%s</p>"
                              "<p class=\"hint\">%s</p><p class=\"hint nojs\">%s</p>",
                              MAX (data->code_seconds_left, 1), grouped, w->pay_hint, w->reload);
    }
  else
    g_string_append_printf (out, "<p class=\"hint\">%s</p>", w->no_code);
  g_string_append (out, "</section>");

  append_history (out, data, w);
  g_string_append_printf (out, "</main><script>%s</script></body></html>\n", page_script);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/**
 * ct_member_page_refused:
 *
 * Returns: (transfer full): the page for a link that is unknown, expired or
 *   replaced; it says nothing about any card
 */
char *
ct_member_page_refused (CtMemberPageLanguage language)
{
  const Words *w = words_for (language);
  g_autoptr(GString) out = g_string_new (NULL);

  append_head (out, w, w->refused_title);
  g_string_append_printf (out, "<section><h2>%s</h2><p>%s</p></section></main></body></html>\n",
                          w->refused_title, w->refused_text);
  return g_string_free (g_steal_pointer (&out), FALSE);
}
