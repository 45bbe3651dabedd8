/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <check.h>
#include <glib.h>
#include <stdint.h>

#include "ct-test-json.h"
#include "ct-test-service.h"

G_BEGIN_DECLS

/* The service ledger tests' shared fixture (test-service-split,
 * test-service-day, test-refunds, test-loyalty, test-card-replace): each
 * test gets a fresh cardtill-service over HTTPS and a client of its till;
 * the teardown checks that the ledger still sums to zero and balances, and
 * that the service stops cleanly. Requests fail the test when no answer
 * comes; what the answer says is the test's to check. */

/* The manager of the test service, as a request's "manager" member. */
#define MGR "\"manager\":{\"id\":\"" CT_TEST_SERVICE_MANAGER_ID "\",\"pin\":\"" CT_TEST_SERVICE_MANAGER_PIN "\"}"

extern CtTestService *svc;
extern CtTestClient  *cl;

/* tcase_add_checked_fixture (tc, ledger_setup, ledger_teardown) */
void            ledger_setup    (void);
void            ledger_teardown (void);

/* A new Idempotency-Key. */
char           *new_key         (void);
/* @method @path on @client under @key; a POST, PATCH or DELETE without a
 * @key gets a new one, a GET none. */
CtTestResponse *req_on          (CtTestClient *client,
                                 const char   *method,
                                 const char   *path,
                                 const char   *key,
                                 const char   *body);
/* The same on the test's client with a new key. */
CtTestResponse *req             (const char   *method,
                                 const char   *path,
                                 const char   *body);
/* /v1/cards/@card/@what (@what NULL: the card itself). */
CtTestResponse *card_req        (const char   *method,
                                 const char   *card,
                                 const char   *what,
                                 const char   *body);
CtTestResponse *card_post       (const char   *card,
                                 const char   *what,
                                 const char   *body);

/* A p100 top-up (100.00 + 10.00 bonus) on @client by @tender (NULL: not
 * said) at the till's time @taken_at (NULL: now); returns the answer. */
CtTestResponse *topup_on        (CtTestClient *client,
                                 const char   *card,
                                 const char   *tender,
                                 const char   *taken_at);
/* The same on the test's client, taken (201); returns its transaction id. */
char           *topup           (const char   *card,
                                 const char   *tender);

/* A payment on @card with @body, taken (201); returns its transaction id. */
char           *pay             (const char   *card,
                                 const char   *body);
/* A refund of @tx_id on @card by the test's manager: @amount of it, or
 * with @amount 0 all that is left; returns the answer. */
CtTestResponse *refund          (const char   *card,
                                 const char   *tx_id,
                                 int64_t       amount);

/* The answer has @status and, unless @code is NULL, that error code; a
 * refusal says a message too. A failure names the caller's line. */
#define expect(r, status, code) expect_at (r, status, code, __LINE__)
void            expect_at       (CtTestResponse *r,
                                 long            status,
                                 const char     *code,
                                 int             line);

/* GET /v1/ledger/check: sums to zero (entries and postings) and balances. */
void            assert_balanced (void);
/* A figure of /v1/ledger/check (which also sums to zero). */
int64_t         ledger_figure   (const char   *name);

/* The integer at a dotted @path ("card.points") of @body; it must be there. */
int64_t         json_int        (const char   *body,
                                 const char   *path);
/* The string at @path, or NULL for null, absent or not a string. */
char           *json_str        (const char   *body,
                                 const char   *path);
void            expect_str      (const char   *body,
                                 const char   *path,
                                 const char   *want);

/* Every row of @sql's answer on the service's database, columns joined by
 * '|' (to look for a PIN or a card in it). */
char           *db_text         (const char   *sql);

G_END_DECLS
