/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

/* The service's storage interface. The HTTP layer and the ledger rules see
 * only these functions, never SQL. Each call is forwarded to the store's
 * backend (ct-store-private.h): SQLite today; a PostgreSQL backend is one
 * more function table, without touching the HTTP layer. The contract every
 * backend keeps:
 *
 *  - Writes happen inside ct_store_begin()/ct_store_commit(); a commit is
 *    durable when it returns. Each request runs inside its own savepoint.
 *  - Balance floors are enforced by the database itself: a debit is a
 *    conditional update (ct_store_post()) that refuses to take an account
 *    below zero, so two service processes can never overdraw a card.
 *  - A refund is unique per refunded transaction (a unique index).
 *  - An idempotency record is written in the same transaction as the ledger
 *    change it answers for. "In progress" claims are taken with
 *    ct_store_claim_key(); the SQLite store is written by one process, so
 *    it keeps claims in memory beside its single writer connection; a
 *    multi-process store takes them in the database.
 */

#define CT_STORE_ERROR (ct_store_error_quark ())

typedef enum
{
  CT_STORE_ERROR_FAILED,
  CT_STORE_ERROR_NOT_FOUND,
  CT_STORE_ERROR_EXISTS,
  CT_STORE_ERROR_INSUFFICIENT,
  CT_STORE_ERROR_NOT_INITIALIZED,
  CT_STORE_ERROR_ALREADY_INITIALIZED,
} CtStoreError;

/* Ledger accounts that are not cards. */
#define CT_ACCOUNT_POOL   "@pool"
#define CT_ACCOUNT_CASH   "@cash"
#define CT_ACCOUNT_PROMO  "@promo"
#define CT_ACCOUNT_LEGACY "@legacy"

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
} CtMerchant;

typedef struct
{
  char    *id;
  int64_t  amount;
  int64_t  bonus;             /* fixed bonus, when bonus_bp < 0 */
  int64_t  bonus_bp;          /* ratio in basis points, or -1 */
} CtPackage;

typedef struct
{
  char    *card_no;
  char    *status;            /* "active" or "frozen" */
  char    *level;             /* may be NULL */
  char    *name;
  char    *phone;
  int64_t  balance;
  int64_t  points;
  int64_t  created_at;        /* ms since the epoch, UTC */
  int64_t  updated_at;
} CtCard;

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
} CtTx;

typedef struct
{
  const char *account;        /* a card number or one of CT_ACCOUNT_* */
  int64_t     amount;         /* credit (+) or debit (-) of that account */
} CtPosting;

typedef struct
{
  int64_t  id;
  char    *store;
  char    *name;
  gboolean revoked;
} CtTill;

typedef struct
{
  char    *id;
  char    *pin_hash;
  int      failures;
  int64_t  locked_until;      /* ms since the epoch; 0 = not locked */
} CtManager;

typedef struct
{
  int64_t sum;
  int64_t cards;
  int64_t pool;
  int64_t cash;
  int64_t promo;
  int64_t legacy;
  int64_t postings_sum;       /* the sum over every posting ever made */
  gboolean balances_match;    /* every account's balance equals its postings */
} CtLedgerCheck;

GQuark    ct_store_error_quark       (void);

void      ct_merchant_clear          (CtMerchant *m);
void      ct_package_clear           (CtPackage  *p);
void      ct_card_clear              (CtCard     *c);
void      ct_tx_clear                (CtTx       *t);
void      ct_till_clear              (CtTill     *t);
void      ct_manager_clear           (CtManager  *m);
void      ct_tx_free                 (CtTx       *t);
void      ct_card_free               (CtCard     *c);
int64_t   ct_package_bonus           (const CtPackage *p);

/* Opening. ct_store_create() makes a new database and refuses an existing
 * one (CT_STORE_ERROR_ALREADY_INITIALIZED). @readers read connections serve
 * the GET requests of the worker threads. */
CtStore  *ct_store_create            (const char       *path,
                                      const CtMerchant *merchant,
                                      GError          **error);
CtStore  *ct_store_open              (const char       *path,
                                      guint             readers,
                                      GError          **error);
void      ct_store_free              (CtStore          *store);
/* How long the writer waits for a lock held by another connection (an
 * admin command) before the write fails; 10 s by default. */
#define CT_STORE_BUSY_TIMEOUT_MS 10000
void      ct_store_set_busy_timeout  (CtStore          *store,
                                      guint             ms);

/* Write transactions (one writer at a time). */
gboolean  ct_store_begin             (CtStore *store, GError **error);
gboolean  ct_store_commit            (CtStore *store, GError **error);
void      ct_store_rollback          (CtStore *store);
gboolean  ct_store_savepoint         (CtStore *store, GError **error);
void      ct_store_rollback_savepoint(CtStore *store);
gboolean  ct_store_release_savepoint (CtStore *store, GError **error);

/* Settings (usable inside or outside a write transaction). */
gboolean  ct_store_get_merchant      (CtStore *store, CtMerchant *out, GError **error);
gboolean  ct_store_set_merchant      (CtStore *store, const CtMerchant *m, GError **error);
GPtrArray *ct_store_list_packages    (CtStore *store, GError **error); /* of CtPackage* */
gboolean  ct_store_get_package       (CtStore *store, const char *id, CtPackage *out, GError **error);
gboolean  ct_store_put_package       (CtStore *store, const CtPackage *p, GError **error);
gboolean  ct_store_remove_package    (CtStore *store, const char *id, GError **error);

/* Tills and managers. */
gboolean  ct_store_till_put          (CtStore *store, const char *store_name, const char *name,
                                      const guint8 token_hash[32], gboolean must_be_new,
                                      GError **error);
gboolean  ct_store_till_revoke       (CtStore *store, const char *store_name, const char *name,
                                      GError **error);
gboolean  ct_store_till_by_token     (CtStore *store, const guint8 token_hash[32], CtTill *out,
                                      GError **error);
gboolean  ct_store_manager_put       (CtStore *store, const char *id, const char *pin_hash,
                                      int must_be_new, GError **error);
gboolean  ct_store_manager_remove    (CtStore *store, const char *id, GError **error);
gboolean  ct_store_manager_get       (CtStore *store, const char *id, CtManager *out, GError **error);
gboolean  ct_store_manager_set_failures (CtStore *store, const char *id, int failures,
                                         int64_t locked_until, GError **error);

/* Cards and the ledger (inside a write transaction). */
gboolean  ct_store_card_get          (CtStore *store, const char *card_no, CtCard *out, GError **error);
gboolean  ct_store_card_insert       (CtStore *store, const CtCard *card, GError **error);
gboolean  ct_store_card_update       (CtStore *store, const CtCard *card, GError **error);
/* Card changes that move no money (issue, freeze, edits) are recorded here
 * with who made them; @detail is the request's JSON. */
gboolean  ct_store_card_event        (CtStore *store, const char *card_no, const char *kind,
                                      const char *detail, const char *store_name, const char *till,
                                      const char *operator_name, const char *manager, GError **error);
gboolean  ct_store_card_add_points   (CtStore *store, const char *card_no, int64_t delta,
                                      int64_t *out_points, GError **error);
gboolean  ct_store_post              (CtStore *store, const CtPosting *postings, guint n_postings,
                                      GError **error);
gboolean  ct_store_tx_insert         (CtStore *store, CtTx *tx, const CtPosting *postings,
                                      guint n_postings, GError **error);
gboolean  ct_store_tx_get            (CtStore *store, int64_t id, CtTx *out, GError **error);
gboolean  ct_store_tx_refunded       (CtStore *store, int64_t id);
int64_t   ct_store_account_balance   (CtStore *store, const char *account, GError **error);

/* Idempotency records, scoped by till id. */
typedef enum
{
  CT_STORE_KEY_NEW,
  CT_STORE_KEY_DONE,
} CtStoreKeyState;

gboolean  ct_store_claim_key         (CtStore *store, int64_t till_id, const char *key);
void      ct_store_unclaim_key       (CtStore *store, int64_t till_id, const char *key);
gboolean  ct_store_key_get           (CtStore *store, int64_t till_id, const char *key,
                                      CtStoreKeyState *out_state, guint8 out_hash[32],
                                      guint *out_status, char **out_body, GError **error);
gboolean  ct_store_key_put           (CtStore *store, int64_t till_id, const char *key,
                                      const guint8 hash[32], guint status, const char *body,
                                      GError **error);
gboolean  ct_store_key_expire        (CtStore *store, int64_t older_than_ms, GError **error);

/* Reads (any thread; served by the read connections). */
gboolean  ct_store_read_card         (CtStore *store, const char *card_no, CtCard *out, GError **error);
GPtrArray *ct_store_find_cards       (CtStore *store, const char *phone, const char *name,
                                      guint limit, GError **error); /* of CtCard* */
GPtrArray *ct_store_card_history     (CtStore *store, const char *card_no, int64_t from_ms,
                                      int64_t to_ms, int64_t before_id, guint limit,
                                      GError **error); /* of CtTx*, newest first */
GPtrArray *ct_store_store_day        (CtStore *store, const char *store_name, const char *till,
                                      int64_t from_ms, int64_t to_ms, GError **error);
gboolean  ct_store_ledger_check      (CtStore *store, CtLedgerCheck *out, GError **error);
gboolean  ct_store_read_merchant     (CtStore *store, CtMerchant *out, GError **error);
GPtrArray *ct_store_read_packages    (CtStore *store, GError **error);
int64_t   ct_store_read_balance      (CtStore *store, const char *account, GError **error);
gboolean  ct_store_read_manager      (CtStore *store, const char *id, CtManager *out, GError **error);

/* Runs @func on a read connection; for store functions added in other files
 * (imports) that need their own queries. The pointer is the backend's
 * native handle (a sqlite3 * for SQLite), so such code is backend-specific. */
typedef gboolean (*CtStoreReadFunc) (gpointer db, gpointer user_data, GError **error);
gboolean  ct_store_with_reader       (CtStore *store, CtStoreReadFunc func, gpointer user_data,
                                      GError **error);
/* The writer's handle, for store functions added in other files. */
gpointer  ct_store_writer_handle     (CtStore *store);

int64_t   ct_store_now_ms            (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtStore, ct_store_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtMerchant, ct_merchant_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtPackage, ct_package_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtCard, ct_card_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtTx, ct_tx_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtTill, ct_till_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtManager, ct_manager_clear)

G_END_DECLS
