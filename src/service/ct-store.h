/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "ct-wallet.h"

G_BEGIN_DECLS

/* The service's storage interface. The HTTP layer and the ledger rules see
 * only these functions, never SQL nor a database handle. Each call is
 * forwarded to the store's backend (ct-store-private.h), chosen by the
 * location given to ct_store_open(). The contract every backend keeps:
 *
 *  - Writes happen inside ct_store_begin()/ct_store_commit() on one thread;
 *    a commit is durable when it returns. Every call made on that thread
 *    until the commit runs inside that transaction; a call made on any
 *    other thread reads what is committed.
 *  - Balance floors are enforced by the database itself: a debit is a
 *    conditional update (ct_store_post()) that refuses to take an account
 *    below zero, so two service processes can never overdraw a card.
 *    A refused ct_store_post() may have applied some of its postings: the
 *    caller rolls back its savepoint.
 *  - What refunds have given back of a transaction never exceeds what it
 *    took: ct_store_refund_claim() adds to its refunded total with one
 *    conditional write, so two refunds racing cannot both have the rest.
 *  - An idempotency record is written in the same transaction as the ledger
 *    change it answers for. "In progress" claims are taken with
 *    ct_store_claim_key(); the SQLite store is written by one process, so
 *    it keeps claims in memory beside its single writer connection; a
 *    multi-process store takes them in the database.
 *  - ct_store_batches_writes() tells how the service shapes its commits:
 *    TRUE for a store with one writer connection (the service runs many
 *    requests in one transaction, one savepoint each), FALSE for a store
 *    on a pool of connections, where each of a few committers runs the
 *    requests waiting in one transaction and claims their keys in it.
 *    A store may count what its transaction wrote (ct_store_write_count()):
 *    the service then runs a group without a savepoint per request and
 *    runs it again (with savepoints, or request by request) only when a
 *    refused request had written something.
 */

#define CT_STORE_ERROR (ct_store_error_quark ())

typedef enum
{
  CT_STORE_ERROR_FAILED,
  CT_STORE_ERROR_NOT_FOUND,
  CT_STORE_ERROR_EXISTS,
  CT_STORE_ERROR_INSUFFICIENT,
  /* The merchant's pool (the one ledger account with a floor) would go
   * below zero, found by the database's own floor where the store could
   * not ask first: a write deferred to the commit. A debit the store asks
   * about first is CT_STORE_ERROR_INSUFFICIENT, and the caller knows which
   * account it debited. */
  CT_STORE_ERROR_INSUFFICIENT_POOL,
  CT_STORE_ERROR_NOT_INITIALIZED,
  CT_STORE_ERROR_ALREADY_INITIALIZED,
  CT_STORE_ERROR_IN_PROGRESS,
  CT_STORE_ERROR_RETRY,       /* a deadlock or serialization failure: run the request again */
  CT_STORE_ERROR_SCHEMA,      /* the database has another schema version */
} CtStoreError;

/* Ledger accounts that are not cards. */
#define CT_ACCOUNT_POOL   "@pool"
#define CT_ACCOUNT_CASH   "@cash"
#define CT_ACCOUNT_PROMO  "@promo"
#define CT_ACCOUNT_LEGACY "@legacy"

/* How a customer paid for a top-up. Money taken is kept per tender: cash
 * in CT_ACCOUNT_CASH, every other tender in an account of its own
 * (ct_store_tender_account()). */
typedef enum
{
  CT_TENDER_CASH,
  CT_TENDER_WECHAT,
  CT_TENDER_ALIPAY,
  CT_TENDER_BANK_CARD,
  CT_TENDER_OTHER,
} CtTender;

#define CT_N_TENDERS 5

typedef struct _CtStore CtStore;

typedef struct
{
  char    *name;
  char    *currency;
  int      minor_units;
  char    *topup_mode;        /* "fixed" or "any" */
  int64_t  topup_min;
  int64_t  topup_max;
  int64_t  points_per_unit;
  char    *timezone;
  int64_t  offline_payment_cap;
  int64_t  offline_card_cap;
  char    *issuer_prefix;
  int64_t  points_redeem_rate;   /* points per major unit a payment may use; 0 = off */
  int64_t  points_redeem_max_bp; /* the largest share of a payment points may pay */
  int64_t  consent_over;         /* payments above it need the member's consent; 0 = off */
  gboolean require_shift;     /* money requests need an open shift */
  char    *code;              /* the merchant's id on the command line ("main" for the first) */
} CtStoreMerchant;

typedef struct
{
  char    *id;
  int64_t  amount;
  int64_t  bonus;             /* fixed bonus, when bonus_bp < 0 */
  int64_t  bonus_bp;          /* ratio in basis points, or -1 */
} CtStorePackage;

typedef struct
{
  char    *card_no;
  char    *status;            /* "active", "frozen" or "closed" */
  char    *level;             /* may be NULL */
  char    *name;
  char    *phone;
  int64_t  balance;
  int64_t  points;
  int64_t  created_at;        /* ms since the epoch, UTC */
  int64_t  updated_at;
  char    *replaced_by;       /* a closed card: the card that replaced it; else NULL */
} CtStoreCard;

typedef struct
{
  int64_t  id;
  char    *card_no;
  char    *kind;              /* topup payment refund adjustment import */
  int64_t  delta;
  int64_t  bonus;
  int64_t  balance_after;
  int64_t  points_delta;
  int64_t  points_after;
  char    *store;
  char    *till;
  char    *operator_name;
  char    *manager;           /* may be NULL */
  char    *reason;            /* may be NULL */
  char    *order_ref;         /* may be NULL */
  int64_t  refund_of;         /* 0 when none */
  int64_t  created_at;
  char    *tender;            /* top-ups and their voids; NULL otherwise */
  int64_t  rest;              /* a split payment: the part another tender took (its refund: gave back); 0 */
  char    *rest_tender;       /* and that tender; NULL when there is no rest */
  int64_t  shift_id;          /* 0 when taken outside a shift */
  int64_t  taken_at;          /* when the customer paid (the till's clock); the day it belongs to */
  /* What the card's level and points gave it, kept beside it (tx_benefits,
   * redemptions) and read with it. */
  char    *level;             /* the level whose benefits applied, or NULL */
  int64_t  discount;          /* a payment: what the level took off the order */
  int64_t  level_bonus;       /* a top-up: the level's part of the bonus */
  int64_t  redeemed_points;   /* a payment: points that paid part of it */
  int64_t  redeemed_value;    /* and what they paid */
  int64_t  refunded;          /* a payment or top-up: what refunds gave back of it so far */
  char    *level_up;          /* a payment: the id of the level it moved the card up to, or NULL */
} CtStoreTx;

/* A cashier's shift on one till: open from opened_at until closed_at (0
 * while open). Times are the till's, ms since the epoch. */
typedef struct
{
  int64_t  id;
  char    *store;
  char    *till;
  char    *operator_name;
  int64_t  float_amount;      /* cash in the drawer at the start */
  int64_t  opened_at;
  int64_t  closed_at;         /* 0 while open */
  char    *closed_by;         /* NULL while open */
  int64_t  counted_cash;      /* what the drawer held at the close */
} CtStoreShift;

typedef struct
{
  const char *account;        /* a card number or one of CT_ACCOUNT_* */
  int64_t     amount;         /* credit (+) or debit (-) of that account */
} CtStorePosting;

typedef struct
{
  int64_t  id;
  char    *store;
  char    *name;
  gboolean revoked;
  int64_t  merchant;          /* the merchant the till sells for */
} CtStoreTill;

/* One merchant of the service: its number inside the database and its id. */
typedef struct
{
  int64_t  id;
  char    *code;
} CtStoreMerchantRef;

typedef struct
{
  char    *id;
  char    *pin_hash;
} CtStoreManager;

/* What the service keeps about the PINs given for a manager id, known or
 * not (an unknown id is locked out like a real one). */
typedef struct
{
  int      failures;          /* wrong PINs since the last success, lock-out or quiet hour */
  int      lockouts;          /* lock-outs since the last success */
  int64_t  last_failure_at;   /* ms since the epoch */
  int64_t  locked_until;      /* ms since the epoch; 0 = not locked */
  int      pin_short;         /* 1: shorter than 6; 0: not; -1: not known (set before the rule) */
} CtStorePinGuard;

typedef struct
{
  char            *id;
  CtStorePinGuard  guard;
} CtStoreManagerInfo;

/* A cashier who signs in at a till (docs/operations.md, "Cashiers"). The
 * PIN guard of a cashier is kept under ct_store_cashier_guard_id(), beside
 * the managers' and never mixed with them. */
typedef struct
{
  char            *id;
  char            *name;
  char            *pin_hash;
  CtStorePinGuard  guard;     /* filled by ct_store_cashier_list() only */
} CtStoreCashier;

#define CT_STORE_CASHIER_GUARD_PREFIX "cashier/"

/* One line of the audit log: a manager action or a refused PIN. */
typedef struct
{
  int64_t  id;
  int64_t  created_at;        /* ms since the epoch */
  char    *store;
  char    *till;
  char    *manager;           /* the id given, which may not exist */
  char    *action;            /* issue card_change refund adjustment import outcome pin_wrong pin_locked */
  char    *card_no;           /* may be NULL */
  char    *detail;            /* may be NULL */
} CtStoreAudit;

typedef struct
{
  int64_t sum;
  int64_t cards;
  int64_t pool;
  int64_t cash;
  int64_t promo;
  int64_t legacy;
  int64_t tenders[CT_N_TENDERS]; /* money taken per tender; tenders[CT_TENDER_CASH] == cash */
  int64_t postings_sum;       /* the sum over every posting ever made */
  gboolean balances_match;    /* every account's balance equals its postings */
} CtStoreLedgerCheck;

GQuark    ct_store_error_quark       (void);

void      ct_store_merchant_clear          (CtStoreMerchant *m);
void      ct_store_package_clear           (CtStorePackage  *p);
void      ct_store_card_clear              (CtStoreCard     *c);
void      ct_store_tx_clear                (CtStoreTx       *t);
void      ct_store_till_clear              (CtStoreTill     *t);
void      ct_store_manager_clear           (CtStoreManager  *m);
void      ct_store_audit_clear             (CtStoreAudit    *a);
void      ct_store_audit_free              (CtStoreAudit    *a);
void      ct_store_manager_info_free       (CtStoreManagerInfo *info);
void      ct_store_cashier_clear           (CtStoreCashier  *c);
void      ct_store_cashier_free            (CtStoreCashier  *c);
char     *ct_store_cashier_guard_id        (const char      *cashier_id);
void      ct_store_tx_free                 (CtStoreTx       *t);
void      ct_store_card_free               (CtStoreCard     *c);
void      ct_store_package_free            (CtStorePackage  *p);
void      ct_store_merchant_set_field      (CtStoreMerchant *m,
                                            const char      *key,
                                            const char      *value);
GStrv     ct_store_merchant_to_settings    (const CtStoreMerchant *m);
gboolean  ct_store_merchant_complete       (CtStoreMerchant *m,
                                            GError         **error);
void      ct_store_shift_clear             (CtStoreShift    *s);
void      ct_store_shift_free              (CtStoreShift    *s);
const char *ct_store_tender_to_string      (CtTender         tender);
gboolean  ct_store_tender_from_string      (const char      *text,
                                            CtTender        *out);
const char *ct_store_tender_account        (CtTender         tender);
int64_t   ct_store_package_bonus           (const CtStorePackage *p);

/* Opening. @location is a file path (SQLite) or a PostgreSQL connection
 * URI (postgresql:// or postgres://). ct_store_create() makes a new
 * database and refuses an existing or non-empty one
 * (CT_STORE_ERROR_ALREADY_INITIALIZED). @connections connections serve the
 * worker threads (0 for the admin command line). */
gboolean  ct_store_location_is_uri   (const char       *location);
CtStore  *ct_store_create            (const char       *location,
                                      const CtStoreMerchant *merchant,
                                      GError          **error);
CtStore  *ct_store_open              (const char       *location,
                                      guint             connections,
                                      GError          **error);
/* What `upgrade` did to the stored phones (docs/operations.md): how many
 * it wrote in the phone rule's form, and a line for each it left as it
 * is because the rule does not take it. */
typedef struct
{
  guint      normalised;
  GPtrArray *kept;              /* element-type utf8: "card NO (merchant M): \"TEXT\": why" */
} CtStorePhoneReport;

void      ct_store_phone_report_clear (CtStorePhoneReport *report);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtStorePhoneReport, ct_store_phone_report_clear)

gboolean  ct_store_upgrade           (const char       *location,
                                      int              *out_from,
                                      int              *out_to,
                                      CtStorePhoneReport *out_phones,
                                      GError          **error);
/* Copies a SQLite ledger into an empty PostgreSQL database and compares
 * both sides; @report gets what was copied and each figure compared. */
gboolean  ct_store_copy              (const char       *from,
                                      const char       *to,
                                      GString          *report,
                                      GError          **error);
const char *ct_store_backend_name    (CtStore          *store);
gboolean  ct_store_batches_writes    (CtStore          *store);
/* A count that grows with every row the writer inserts, updates or
 * deletes; -1 for a store that cannot tell. */
gint64    ct_store_write_count       (CtStore          *store);
/* Whether the store can say when its tills changed
 * (ct_store_tills_version()). */
gboolean  ct_store_tracks_tills      (CtStore          *store);
/* Inside a write transaction of a store that batches writes: a number
 * that differs from the one read in an earlier transaction whenever a
 * till was added, given a new token, revoked or enabled in between, by
 * this process or any other. It may also change without that. */
gboolean  ct_store_tills_version     (CtStore          *store,
                                      guint64          *out,
                                      GError          **error);
void      ct_store_free              (CtStore          *store);
/* How long the writer waits for a lock held by another connection (an
 * admin command) before the write fails; 10 s by default. */
#define CT_STORE_BUSY_TIMEOUT_MS 10000
void      ct_store_set_busy_timeout  (CtStore          *store,
                                      guint             ms);

/* Write transactions. */
gboolean  ct_store_begin             (CtStore *store, GError **error);
gboolean  ct_store_commit            (CtStore *store, GError **error);
void      ct_store_rollback          (CtStore *store);
gboolean  ct_store_savepoint         (CtStore *store, GError **error);
void      ct_store_rollback_savepoint(CtStore *store);
gboolean  ct_store_release_savepoint (CtStore *store, GError **error);

/* Several merchants. Every call on a store acts inside one merchant: the
 * first one (made by init) for a store just opened, or the one of a view
 * made by ct_store_for_merchant(). A view shares its store's connections
 * and transaction, and is freed with ct_store_free() before its store.
 * Cards, card numbers, accounts, packages, managers, tills, history,
 * reports, imports and member links of one merchant are never seen
 * through a view of another. */
CtStore  *ct_store_for_merchant      (CtStore *store, int64_t merchant);
int64_t   ct_store_get_merchant_id   (CtStore *store);
/* Adds a merchant with @m's settings and its own ledger accounts (inside a
 * write transaction); CT_STORE_ERROR_EXISTS when @m->code is taken. */
gboolean  ct_store_merchant_add      (CtStore *store, const CtStoreMerchant *m, int64_t *out_id,
                                      GError **error);
/* CT_STORE_ERROR_NOT_FOUND for an unknown merchant id. */
gboolean  ct_store_merchant_find     (CtStore *store, const char *code, int64_t *out_id,
                                      GError **error);
GPtrArray *ct_store_merchant_list    (CtStore *store, GError **error); /* of CtStoreMerchantRef*, by number */
void      ct_store_merchant_ref_free (CtStoreMerchantRef *ref);

/* Settings. */
gboolean  ct_store_get_merchant      (CtStore *store, CtStoreMerchant *out, GError **error);
gboolean  ct_store_set_merchant      (CtStore *store, const CtStoreMerchant *m, GError **error);
GPtrArray *ct_store_list_packages    (CtStore *store, GError **error); /* of CtStorePackage* */
gboolean  ct_store_get_package       (CtStore *store, const char *id, CtStorePackage *out, GError **error);
gboolean  ct_store_put_package       (CtStore *store, const CtStorePackage *p, GError **error);
gboolean  ct_store_remove_package    (CtStore *store, const char *id, GError **error);

/* Tills and managers. */
gboolean  ct_store_till_put          (CtStore *store, const char *store_name, const char *name,
                                      const guint8 token_hash[32], gboolean must_be_new,
                                      GError **error);
gboolean  ct_store_till_revoke       (CtStore *store, const char *store_name, const char *name,
                                      GError **error);
gboolean  ct_store_till_by_token     (CtStore *store, const guint8 token_hash[32], CtStoreTill *out,
                                      GError **error);
/* CT_STORE_ERROR_NOT_FOUND when there is no such till. */
gboolean  ct_store_till_get          (CtStore *store, const char *store_name, const char *name,
                                      CtStoreTill *out, GError **error);
gboolean  ct_store_manager_put       (CtStore *store, const char *id, const char *pin_hash,
                                      int must_be_new, GError **error);
gboolean  ct_store_manager_remove    (CtStore *store, const char *id, GError **error);
gboolean  ct_store_manager_get       (CtStore *store, const char *id, CtStoreManager *out, GError **error);
/* A manager id's guard; all zeros (pin_short -1) for an id never seen. */
gboolean  ct_store_pin_guard_get     (CtStore *store, const char *id, CtStorePinGuard *out, GError **error);
gboolean  ct_store_pin_guard_put     (CtStore *store, const char *id, const CtStorePinGuard *guard,
                                      GError **error);
/* Every manager with its guard, by id; of CtStoreManagerInfo*. */
GPtrArray *ct_store_manager_list     (CtStore *store, GError **error);
/* Cashiers: @must_be_new adds one (CT_STORE_ERROR_EXISTS when the id is
 * taken), otherwise changes the name and PIN hash of one that exists. */
gboolean  ct_store_cashier_put       (CtStore *store, const char *id, const char *name,
                                      const char *pin_hash, gboolean must_be_new, GError **error);
gboolean  ct_store_cashier_remove    (CtStore *store, const char *id, GError **error);
/* CT_STORE_ERROR_NOT_FOUND when there is no such cashier. */
gboolean  ct_store_cashier_get       (CtStore *store, const char *id, CtStoreCashier *out, GError **error);
/* Every cashier with its guard, by id; of CtStoreCashier* (pin_hash NULL). */
GPtrArray *ct_store_cashier_list     (CtStore *store, GError **error);

/* The audit log. @entry's id is set. */
gboolean  ct_store_audit_add         (CtStore *store, CtStoreAudit *entry, GError **error);
/* Entries from @since_ms on, oldest first; of CtStoreAudit*. */
GPtrArray *ct_store_audit_list       (CtStore *store, int64_t since_ms, GError **error);

/* Cards and the ledger (writes inside a write transaction). */
gboolean  ct_store_card_get          (CtStore *store, const char *card_no, CtStoreCard *out, GError **error);
gboolean  ct_store_card_insert       (CtStore *store, const CtStoreCard *card, GError **error);
gboolean  ct_store_card_update       (CtStore *store, const CtStoreCard *card, GError **error);
/* Card changes that move no money (issue, freeze, edits) are recorded here
 * with who made them; @detail is the request's JSON. */
gboolean  ct_store_card_event        (CtStore *store, const char *card_no, const char *kind,
                                      const char *detail, const char *store_name, const char *till,
                                      const char *operator_name, const char *manager, GError **error);
/* A lost card replaced (docs/ledger.md, "Lost cards"): closes @old_no with
 * replaced_by @new_no (an existing card) and moves what is the member's
 * and not money to @new_no: the member page link with its payment-code
 * secret, the member PIN with its guard, and the spend. The balance and
 * points move as postings and transactions of the caller. Fails with
 * CT_STORE_ERROR_EXISTS when @old_no is closed already (another request
 * closed it first). */
gboolean  ct_store_card_replace      (CtStore *store, const char *old_no, const char *new_no,
                                      int64_t now_ms, GError **error);
/* Sets *@out_replaced to whether @holder replaced @card_no, directly or
 * through a chain of replacements (@card_no replaced by one that @holder
 * replaced...), within the store's merchant. Reads without a lock: a
 * card's replaced_by, once set, never changes. */
gboolean  ct_store_card_replaced_into (CtStore *store, const char *card_no, const char *holder,
                                       gboolean *out_replaced, GError **error);
gboolean  ct_store_card_add_points   (CtStore *store, const char *card_no, int64_t delta,
                                      int64_t *out_points, GError **error);
gboolean  ct_store_post              (CtStore *store, const CtStorePosting *postings, guint n_postings,
                                      GError **error);
/* ct_store_post(), then @card, read before in the same write transaction,
 * brought to what the store holds after it (its balance and updated_at);
 * a store without a cheaper way reads the card again. */
gboolean  ct_store_post_card         (CtStore *store, const CtStorePosting *postings, guint n_postings,
                                      CtStoreCard *card, GError **error);
gboolean  ct_store_tx_insert         (CtStore *store, CtStoreTx *tx, const CtStorePosting *postings,
                                      guint n_postings, GError **error);
gboolean  ct_store_tx_get            (CtStore *store, int64_t id, CtStoreTx *out, GError **error);
gboolean  ct_store_tx_refunded       (CtStore *store, int64_t id, int64_t *out_refunded, GError **error);
gboolean  ct_store_refund_claim      (CtStore *store, int64_t tx_id, int64_t total, int64_t amount,
                                      int64_t *out_before, GError **error);
int64_t   ct_store_account_balance   (CtStore *store, const char *account, GError **error);

/* Idempotency records, scoped by till id. */
typedef enum
{
  CT_STORE_KEY_NEW,
  CT_STORE_KEY_DONE,
} CtStoreKeyState;

/* Claims a key for the request that runs now; FALSE with
 * CT_STORE_ERROR_IN_PROGRESS while another request holds it, or another
 * error when the database failed. A store that takes claims in the
 * database is called inside the request's transaction, and the claim ends
 * with it. */
gboolean  ct_store_claim_key         (CtStore *store, int64_t till_id, const char *key,
                                      GError **error);
void      ct_store_unclaim_key       (CtStore *store, int64_t till_id, const char *key);

/* What a write will read after the claim of its key, named before the
 * claim so that a store that pays for each round trip can read it in the
 * claim's own (docs/performance.md): the till of the request's token
 * (again, inside the transaction), the card of its path (locked, as
 * ct_store_card_get() reads it in a write, with its spend), and the shift
 * open on its till at @shift_at. Each is optional (NULL). The reads answer
 * the matching calls of that transaction only; a store without the
 * operation reads them when they are made. */
typedef struct
{
  const guint8 *till_hash;
  const char   *card_no;
  const char   *shift_store;
  const char   *shift_till;
  int64_t       shift_at;
} CtStoreAhead;

void      ct_store_read_ahead        (CtStore *store, const CtStoreAhead *ahead);
gboolean  ct_store_key_get           (CtStore *store, int64_t till_id, const char *key,
                                      CtStoreKeyState *out_state, guint8 out_hash[32],
                                      guint *out_status, char **out_body, GError **error);
gboolean  ct_store_key_put           (CtStore *store, int64_t till_id, const char *key,
                                      const guint8 hash[32], guint status, const char *body,
                                      GError **error);
gboolean  ct_store_key_expire        (CtStore *store, int64_t older_than_ms, GError **error);

/* Reads (any thread). */
/* phone: a whole stored phone, or its last 4 digits (ct_phone_search_key) */
GPtrArray *ct_store_find_cards       (CtStore *store, const char *phone, const char *name,
                                      guint limit, GError **error); /* of CtStoreCard* */
/* History and day lists go by taken_at, the day the customer paid. A day
 * list with @store_name NULL covers every store, with @till NULL every till. */
GPtrArray *ct_store_card_history     (CtStore *store, const char *card_no, int64_t from_ms,
                                      int64_t to_ms, int64_t before_id, guint limit,
                                      GError **error); /* of CtStoreTx*, newest first */
/* One page of a day: the transactions of @store_name (and @till, unless
 * NULL) in [@from_ms, @to_ms) with an id above @after_id, oldest first,
 * at most @limit. */
GPtrArray *ct_store_store_day        (CtStore *store, const char *store_name, const char *till,
                                      int64_t from_ms, int64_t to_ms, int64_t after_id, guint limit,
                                      GError **error);

/* Totals of a day's transactions by kind, summed by the database. */
typedef struct
{
  char    *store;
  char    *till;
  int64_t  count;
  int64_t  topups;            /* the amounts paid in, without bonus */
  int64_t  bonus;
  int64_t  payments;
  int64_t  refunds;           /* of payments: back onto the card */
  int64_t  adjustments;
  int64_t  imports;
  int64_t  voids;             /* top-ups taken back: money given back, bonus excluded */
  int64_t  void_bonus;
  int64_t  topup_count;
  int64_t  payment_count;
  int64_t  refund_count;
  int64_t  void_count;
  int64_t  adjustment_count;
  int64_t  import_count;
  int64_t  redeem_count;      /* payments that points paid part of */
  int64_t  points_redeemed;   /* the points they took off cards */
  int64_t  redeemed_value;    /* and the money those points paid */
  int64_t  taken[CT_N_TENDERS];      /* top-ups, bonus excluded, by how the customer paid */
  int64_t  given_back[CT_N_TENDERS]; /* voids, by the same tender */
  int64_t  rest_taken[CT_N_TENDERS]; /* the rests of split payments, by the tender that took them */
  int64_t  rest_given_back[CT_N_TENDERS]; /* the rests their refunds gave back, by the same tender */
  int64_t  outcome_cash;      /* a shift's: cash handed back through recorded outcomes */
} CtStoreDayTotals;

void       ct_store_day_totals_free  (CtStoreDayTotals *t);
void       ct_store_day_totals_add   (CtStoreDayTotals *sum, const CtStoreDayTotals *t);
/* The fields in the order of CT_STORE_DAY_TOTALS_SQL's columns: 18 by
 * kind, then taken and given back per tender, then the rests of split
 * payments taken and given back per tender. */
#define CT_STORE_DAY_TOTALS_N (18 + 4 * CT_N_TENDERS)
guint      ct_store_day_totals_fields (CtStoreDayTotals *t, int64_t *out[]);
/* With @by_till one row per store and till that has transactions that day
 * (store, till order), for every store when @store_name is NULL; without,
 * one row for @store_name (and @till unless NULL). */
GPtrArray *ct_store_day_totals       (CtStore *store, const char *store_name, const char *till,
                                      int64_t from_ms, int64_t to_ms, gboolean by_till,
                                      GError **error); /* of CtStoreDayTotals* */
gboolean  ct_store_ledger_check      (CtStore *store, CtStoreLedgerCheck *out, GError **error);

/* Shifts. The totals of a shift are those of the transactions booked
 * into it. ct_store_shift_open() fills @shift->id, or fails with
 * CT_STORE_ERROR_EXISTS while the till has an open shift (a unique index).
 * ct_store_shift_close() fails with CT_STORE_ERROR_EXISTS when the shift
 * is closed already. ct_store_shift_at() gives the till's shift that covers
 * @at_ms (0 for none, -1 on error). Day lists take shifts opened in
 * [from_ms, to_ms) of one store, or of one till when @till is set. */
gboolean  ct_store_shift_open        (CtStore *store, CtStoreShift *shift, GError **error);
gboolean  ct_store_shift_close       (CtStore *store, const CtStoreShift *shift, GError **error);
gboolean  ct_store_shift_get         (CtStore *store, int64_t id, CtStoreShift *out, GError **error);
int64_t   ct_store_shift_at          (CtStore *store, const char *store_name, const char *till,
                                      int64_t at_ms, GError **error);
GPtrArray *ct_store_shift_list       (CtStore *store, const char *store_name, const char *till,
                                      int64_t from_ms, int64_t to_ms,
                                      GError **error); /* of CtStoreShift*, oldest first */
gboolean  ct_store_shift_totals      (CtStore *store, int64_t shift_id, CtStoreDayTotals *out,
                                      GError **error);
/* Cash a manager handed back from the drawer of @shift_id's till, as an
 * outcome recorded at the service (@audit_id its audit entry): it leaves
 * the shift's expected cash. */
gboolean  ct_store_shift_outcome_cash (CtStore *store, int64_t shift_id, int64_t amount,
                                       int64_t audit_id, int64_t at_ms, GError **error);

/* Imports of opening balances. A row is a new card with its balance and an
 * import transaction legacy → card that carries the batch id in order_ref;
 * a card number that exists is not touched. */
typedef struct
{
  const char *card_no;
  const char *name;           /* may be NULL */
  const char *phone;          /* may be NULL */
  const char *level;          /* may be NULL */
  int64_t     balance;
  int64_t     points;
} CtStoreImportRow;

typedef enum
{
  CT_STORE_IMPORT_INSERTED,
  CT_STORE_IMPORT_ALREADY_IN_BATCH,
  CT_STORE_IMPORT_CARD_EXISTS,
} CtStoreImportOutcome;

typedef struct
{
  int64_t rows_accepted;
  int64_t rows_rejected;
  int64_t total_balance;
  int64_t total_points;
} CtStoreImportBatch;

/* @origin gives the transaction's store, till, operator, manager,
 * order_ref (the batch id) and created_at. On CT_STORE_IMPORT_CARD_EXISTS
 * @out_other_batch is the batch that imported the card, or NULL. */
gboolean  ct_store_import_row        (CtStore *store, const CtStoreTx *origin,
                                      const CtStoreImportRow *row,
                                      CtStoreImportOutcome *out_outcome,
                                      char **out_other_batch, GError **error);
gboolean  ct_store_import_rows       (CtStore *store, const CtStoreTx *origin,
                                      const CtStoreImportRow *rows, guint n,
                                      CtStoreImportOutcome *outcomes, char **other_batches,
                                      GError **error);
/* Debits @legacy once for the rows inserted and adds @counts to the
 * batch's running totals. */
gboolean  ct_store_import_finish     (CtStore *store, const char *batch_id,
                                      const CtStoreImportBatch *counts, GError **error);
gboolean  ct_store_import_batch_get  (CtStore *store, const char *batch_id,
                                      CtStoreImportBatch *out, GError **error);

/* Wallet connectors and their outbox (docs/wallet.md). Messages are
 * enqueued inside the write transaction of the ledger change they reflect;
 * the delivery worker reads the due ones and settles each in a write
 * transaction of its own. */
typedef struct
{
  char    *card_no;
  char    *method;
  char    *request_no;
  char    *reason;
  int64_t  settled_at;
} CtStoreWalletRefusal;

typedef struct
{
  int64_t    pending;             /* messages not yet delivered */
  int64_t    oldest_pending_ms;   /* when the oldest of them was written; 0 = none */
  char      *last_error;          /* why the latest attempt failed, or NULL */
  int64_t    delivered_since;     /* delivered at or after the given time */
  int64_t    refused;
  GPtrArray *refusals;            /* of CtStoreWalletRefusal*, newest first, at most 20 */
} CtStoreWalletStatus;

void       ct_store_wallet_status_clear     (CtStoreWalletStatus *status);
/* Adds a connector, or replaces the one of the same merchant and kind;
 * sets @connector->id. */
gboolean   ct_store_wallet_connector_put    (CtStore *store, CtWalletConnector *connector,
                                             GError **error);
/* Removes a connector with its undelivered messages and card links. */
gboolean   ct_store_wallet_connector_remove (CtStore *store, const char *merchant, CtWalletKind kind,
                                             GError **error);
GPtrArray *ct_store_wallet_connectors       (CtStore *store, GError **error); /* of CtWalletConnector* */
/* @msg->id is set. */
gboolean   ct_store_wallet_enqueue          (CtStore *store, CtWalletMessage *msg, int64_t now_ms,
                                             GError **error);
/* As CtWalletOutboxOps.due: takes the oldest pending message per
 * connector and card, when due at @now_ms, oldest first, and holds them
 * until @lease_until_ms (inside a write transaction). */
GPtrArray *ct_store_wallet_due              (CtStore *store, int64_t now_ms, guint limit,
                                             int64_t lease_until_ms,
                                             GError **error); /* of CtWalletMessage* */
gboolean   ct_store_wallet_link_get         (CtStore *store, int64_t connector_id, const char *card_no,
                                             char **out_biz_card_no, GError **error);
gboolean   ct_store_wallet_link_put         (CtStore *store, int64_t connector_id, const char *card_no,
                                             const char *biz_card_no, GError **error);
/* Records an attempt: delivered, refused for good (with @reason), or to be
 * retried at @next_at_ms (attempts counted, @reason kept). */
gboolean   ct_store_wallet_settle           (CtStore *store, int64_t id, CtWalletOutcome outcome,
                                             int64_t next_at_ms, const char *reason, int64_t now_ms,
                                             GError **error);
gboolean   ct_store_wallet_status           (CtStore *store, int64_t connector_id, int64_t since_ms,
                                             CtStoreWalletStatus *out, GError **error);

int64_t   ct_store_now_ms            (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtStore, ct_store_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtStoreMerchant, ct_store_merchant_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtStorePackage, ct_store_package_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtStoreCard, ct_store_card_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtStoreTx, ct_store_tx_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtStoreShift, ct_store_shift_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtStoreTill, ct_store_till_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtStoreManager, ct_store_manager_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtStoreCashier, ct_store_cashier_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtStoreAudit, ct_store_audit_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtStoreWalletStatus, ct_store_wallet_status_clear)

/* The member's page link and payment code. A card has at most one link:
 * putting a new one replaces the old token (the old link stops) and keeps
 * the card's code secret if it has one already, else stores @secret. Only
 * the SHA-256 of a token is stored. member_code_take() records that the
 * code of @step paid: CT_STORE_ERROR_EXISTS when that step or a later one
 * already did (each code pays once). */
gboolean  ct_store_member_link_put   (CtStore *store, const char *card_no, const guint8 token_hash[32],
                                      const guint8 *secret, gsize secret_len, int64_t now_ms,
                                      GError **error);
/* Any merchant's link; @out_merchant tells whose card it is. */
gboolean  ct_store_member_link_get   (CtStore *store, const guint8 token_hash[32], int64_t *out_merchant,
                                      char **out_card_no, GBytes **out_secret, GError **error);
gboolean  ct_store_member_secret_get (CtStore *store, const char *card_no, GBytes **out_secret,
                                      GError **error);
gboolean  ct_store_member_code_take  (CtStore *store, const char *card_no, int64_t step,
                                      GError **error);

/* A card's member PIN (docs/api.md, "Member consent"): its salted slow
 * hash and the guard against guessing it, one row a card. _get answers a
 * NULL hash and a zero guard for a card without a PIN; inside a write
 * transaction it holds the card's row until the commit (PostgreSQL), so
 * wrong PINs sent to several processes at once are all counted. _put sets
 * a new hash and forgets the wrong PINs and locks; _guard_put keeps the
 * guard of a card that has a PIN (failures, lockouts, last_failure_at and
 * locked_until; pin_short is not kept). */
gboolean  ct_store_member_pin_get    (CtStore *store, const char *card_no, char **out_hash,
                                      CtStorePinGuard *out_guard, GError **error);
gboolean  ct_store_member_pin_put    (CtStore *store, const char *card_no, const char *pin_hash,
                                      int64_t now_ms, GError **error);
gboolean  ct_store_member_pin_guard_put (CtStore *store, const char *card_no, const CtStorePinGuard *guard,
                                         GError **error);

/* Points a payment redeemed and the value (minor units) they paid, funded
 * by promo; _get answers 0 and 0 for a payment without redemption. */
gboolean  ct_store_redemption_put    (CtStore *store, int64_t tx_id, int64_t points, int64_t value,
                                      GError **error);
gboolean  ct_store_redemption_get    (CtStore *store, int64_t tx_id, int64_t *out_points,
                                      int64_t *out_value, GError **error);

/* Levels by spend (docs/ledger.md, "Levels"). A level is reached by spend
 * when its min_spend is above 0; a level of min_spend 0 is given by a
 * manager only. Benefits are in basis points: points_multiplier_bp scales
 * the points a payment earns (10000 = as many), discount_bp lowers what the
 * balance pays, topup_bonus_bp adds to a package's bonus. */
typedef struct
{
  char    *id;
  char    *name;
  int64_t  min_spend;
  int64_t  points_multiplier_bp;
  int64_t  discount_bp;
  int64_t  topup_bonus_bp;
} CtStoreLevel;

/* What a level gave a transaction: the order's total and the discount of
 * a payment, the multiplier its points got, the extra bonus of a top-up. */
typedef struct
{
  const char *level;
  int64_t     order_amount;
  int64_t     discount;
  int64_t     points_multiplier_bp;
  int64_t     topup_bonus;
} CtStoreBenefit;

void       ct_store_level_clear      (CtStoreLevel *level);
void       ct_store_level_free       (CtStoreLevel *level);
/* Every level, by min_spend then id; of CtStoreLevel*. */
GPtrArray *ct_store_level_list       (CtStore *store, GError **error);
/* Adds a level, or replaces the one of the same id. */
gboolean   ct_store_level_put        (CtStore *store, const CtStoreLevel *level, GError **error);
/* CT_STORE_ERROR_NOT_FOUND for an unknown id. Cards keep the id as their
 * level's text. */
gboolean   ct_store_level_remove     (CtStore *store, const char *id, GError **error);
/* Adds @delta (a payment's balance part, or less a refund's) to the card's
 * spend, never below 0; @out_spend is the spend after. */
gboolean   ct_store_card_add_spend   (CtStore *store, const char *card_no, int64_t delta,
                                      int64_t *out_spend, GError **error);
gboolean   ct_store_benefit_put      (CtStore *store, int64_t tx_id, const CtStoreBenefit *benefit,
                                      GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtStoreLevel, ct_store_level_clear)

G_END_DECLS
