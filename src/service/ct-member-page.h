/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

/* The member's own page (GET /m/{token}): rendered from plain data, with no
 * database and no clock of its own, so that the tests can render any state. */

typedef enum
{
  CT_MEMBER_PAGE_ZH,
  CT_MEMBER_PAGE_EN,
} CtMemberPageLanguage;

typedef struct
{
  const char *merchant_name;
  const char *currency;
  int         minor_units;
  const char *timezone;       /* the merchant's; history times are shown in it */

  const char *member_name;    /* may be NULL */
  const char *card_no;
  const char *level;          /* may be NULL */
  const char *status;         /* "active", "frozen" */
  int64_t     balance;
  int64_t     points;

  const char *code_payload;   /* "CTP1:<card>:<code>", or NULL when the card cannot pay */
  const char *code;           /* the 8 digits of it */
  int         code_seconds_left;
  const char *code_url;       /* what the refresh fetches: the page's path + "/code" */
  const char *page_path;      /* "/m/{token}", for the day links */

  const char *day;            /* YYYY-MM-DD shown */
  const char *prev_day;       /* NULL: no earlier day */
  const char *next_day;       /* NULL: the day shown is today */
  GPtrArray  *transactions;   /* of CtStoreTx*, newest first, that day's */
} CtMemberPageData;

CtMemberPageLanguage  ct_member_page_language     (const char             *accept_language);
char                 *ct_member_page_render       (const CtMemberPageData *data,
                                                   CtMemberPageLanguage    language);
char                 *ct_member_page_code_json    (const char             *code_payload,
                                                   const char             *code,
                                                   int                     seconds_left);
char                 *ct_member_page_csp          (void);
char                 *ct_member_page_refused      (CtMemberPageLanguage    language);
char                 *ct_member_page_qr_data_uri  (const char             *text,
                                                   GError                **error);

G_END_DECLS
