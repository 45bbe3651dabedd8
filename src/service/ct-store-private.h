/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "ct-store.h"

G_BEGIN_DECLS

/* The columns of a CtStoreDayTotals over a set of transactions, in the
 * order of ct_store_day_totals_fields(), the same SQL for every store. A
 * refund that names a tender is a void of a top-up. */
#define CT_STORE_TOTALS_TENDER_SQL(name) \
  ", coalesce (sum (CASE WHEN kind = 'topup' AND coalesce (tender, 'cash') = '" name "' THEN delta - bonus END), 0)" \
  ", coalesce (sum (CASE WHEN kind = 'refund' AND tender = '" name "' THEN -delta - bonus END), 0)"
/* The rest of a split payment, taken by another tender, and what its
 * refund gave back by the same tender. */
#define CT_STORE_TOTALS_REST_SQL(name) \
  ", coalesce (sum (CASE WHEN kind = 'payment' AND rest_tender = '" name "' THEN rest END), 0)" \
  ", coalesce (sum (CASE WHEN kind = 'refund' AND rest_tender = '" name "' THEN rest END), 0)"
#define CT_STORE_DAY_TOTALS_SQL \
  " count (*)" \
  ", coalesce (sum (CASE WHEN kind = 'topup' THEN delta - bonus END), 0)" \
  ", coalesce (sum (CASE WHEN kind = 'topup' THEN bonus END), 0)" \
  ", coalesce (sum (CASE WHEN kind = 'payment' THEN -delta END), 0)" \
  ", coalesce (sum (CASE WHEN kind = 'refund' AND tender IS NULL THEN delta END), 0)" \
  ", coalesce (sum (CASE WHEN kind = 'adjustment' THEN delta END), 0)" \
  ", coalesce (sum (CASE WHEN kind = 'import' THEN delta END), 0)" \
  ", coalesce (sum (CASE WHEN kind = 'refund' AND tender IS NOT NULL THEN -delta - bonus END), 0)" \
  ", coalesce (sum (CASE WHEN kind = 'refund' AND tender IS NOT NULL THEN bonus END), 0)" \
  ", count (CASE WHEN kind = 'topup' THEN 1 END)" \
  ", count (CASE WHEN kind = 'payment' THEN 1 END)" \
  ", count (CASE WHEN kind = 'refund' AND tender IS NULL THEN 1 END)" \
  ", count (CASE WHEN kind = 'refund' AND tender IS NOT NULL THEN 1 END)" \
  ", count (CASE WHEN kind = 'adjustment' THEN 1 END)" \
  ", count (CASE WHEN kind = 'import' THEN 1 END)" \
  ", count ((SELECT 1 FROM redemptions r WHERE r.tx_id = transactions.id))" \
  ", coalesce (sum ((SELECT r.points FROM redemptions r WHERE r.tx_id = transactions.id)), 0)" \
  ", coalesce (sum ((SELECT r.value FROM redemptions r WHERE r.tx_id = transactions.id)), 0)" \
  CT_STORE_TOTALS_TENDER_SQL ("cash") \
  CT_STORE_TOTALS_TENDER_SQL ("wechat") \
  CT_STORE_TOTALS_TENDER_SQL ("alipay") \
  CT_STORE_TOTALS_TENDER_SQL ("bank_card") \
  CT_STORE_TOTALS_TENDER_SQL ("other") \
  CT_STORE_TOTALS_REST_SQL ("cash") \
  CT_STORE_TOTALS_REST_SQL ("wechat") \
  CT_STORE_TOTALS_REST_SQL ("alipay") \
  CT_STORE_TOTALS_REST_SQL ("bank_card") \
  CT_STORE_TOTALS_REST_SQL ("other")

/* What a storage backend implements: one function per ct_store_*()
 * operation of ct-store.h, with the same contract, as the only door to its
 * database. ct-store.c forwards each call to the backend of the store; a
 * backend's store struct starts with a CtStore. */

typedef struct _CtStoreBackend CtStoreBackend;

struct _CtStore
{
  const CtStoreBackend *backend;
  CtStore              *root;     /* the store opened: it owns the connections */
  int64_t               merchant; /* the merchant every call acts inside; 0: all (listings) */
};

/* The first merchant, made by init: a store opened acts inside it until
 * ct_store_for_merchant() says otherwise. */
#define CT_STORE_FIRST_MERCHANT 1

struct _CtStoreBackend
{
  const char *name;
  gboolean    batches_writes;
  gint64 (*write_count) (CtStore *store); /* optional */
  gboolean (*tills_version) (CtStore *store, guint64 *out, GError **error); /* optional */
  void (*free) (CtStore *store);
  void (*set_busy_timeout) (CtStore *store, guint ms);
  gboolean (*begin) (CtStore *store, GError **error);
  gboolean (*commit) (CtStore *store, GError **error);
  void (*rollback) (CtStore *store);
  gboolean (*savepoint) (CtStore *store, GError **error);
  void (*rollback_savepoint) (CtStore *store);
  gboolean (*release_savepoint) (CtStore *store, GError **error);
  gboolean (*merchant_add) (CtStore *store, const CtStoreMerchant *m, int64_t *out_id, GError **error);
  gboolean (*merchant_find) (CtStore *store, const char *code, int64_t *out_id, GError **error);
  GPtrArray * (*merchant_list) (CtStore *store, GError **error);
  gboolean (*get_merchant) (CtStore *store, CtStoreMerchant *out, GError **error);
  gboolean (*set_merchant) (CtStore *store, const CtStoreMerchant *m, GError **error);
  GPtrArray * (*list_packages) (CtStore *store, GError **error);
  gboolean (*get_package) (CtStore *store, const char *id, CtStorePackage *out, GError **error);
  gboolean (*put_package) (CtStore *store, const CtStorePackage *p, GError **error);
  gboolean (*remove_package) (CtStore *store, const char *id, GError **error);
  gboolean (*till_put) (CtStore *store, const char *store_name, const char *name, const guint8 token_hash[32], gboolean must_be_new, GError **error);
  gboolean (*till_revoke) (CtStore *store, const char *store_name, const char *name, GError **error);
  gboolean (*till_by_token) (CtStore *store, const guint8 token_hash[32], CtStoreTill *out, GError **error);
  gboolean (*till_get) (CtStore *store, const char *store_name, const char *name, CtStoreTill *out, GError **error);
  gboolean (*manager_put) (CtStore *store, const char *id, const char *pin_hash, int must_be_new, GError **error);
  gboolean (*manager_remove) (CtStore *store, const char *id, GError **error);
  gboolean (*manager_get) (CtStore *store, const char *id, CtStoreManager *out, GError **error);
  gboolean (*pin_guard_get) (CtStore *store, const char *id, CtStorePinGuard *out, GError **error);
  gboolean (*pin_guard_put) (CtStore *store, const char *id, const CtStorePinGuard *guard, GError **error);
  GPtrArray * (*manager_list) (CtStore *store, GError **error);
  gboolean (*cashier_put) (CtStore *store, const char *id, const char *name, const char *pin_hash, gboolean must_be_new, GError **error);
  gboolean (*cashier_remove) (CtStore *store, const char *id, GError **error);
  gboolean (*cashier_get) (CtStore *store, const char *id, CtStoreCashier *out, GError **error);
  GPtrArray * (*cashier_list) (CtStore *store, GError **error);
  gboolean (*audit_add) (CtStore *store, CtStoreAudit *entry, GError **error);
  GPtrArray * (*audit_list) (CtStore *store, int64_t since_ms, GError **error);
  gboolean (*card_get) (CtStore *store, const char *card_no, CtStoreCard *out, GError **error);
  gboolean (*card_insert) (CtStore *store, const CtStoreCard *card, GError **error);
  gboolean (*card_update) (CtStore *store, const CtStoreCard *card, GError **error);
  gboolean (*card_replace) (CtStore *store, const char *old_no, const char *new_no, int64_t now_ms, GError **error);
  gboolean (*card_replaced_into) (CtStore *store, const char *card_no, const char *holder, gboolean *out_replaced, GError **error);
  gboolean (*card_add_points) (CtStore *store, const char *card_no, int64_t delta, int64_t *out_points, GError **error);
  gboolean (*card_event) (CtStore *store, const char *card_no, const char *kind, const char *detail, const char *store_name, const char *till, const char *operator_name, const char *manager, GError **error);
  gboolean (*post) (CtStore *store, const CtStorePosting *postings, guint n_postings, GError **error);
  /* Optional: ct_store_post_card() without reading the card again. */
  gboolean (*post_card) (CtStore *store, const CtStorePosting *postings, guint n_postings, CtStoreCard *card, GError **error);
  gboolean (*tx_insert) (CtStore *store, CtStoreTx *tx, const CtStorePosting *postings, guint n_postings, GError **error);
  gboolean (*tx_get) (CtStore *store, int64_t id, CtStoreTx *out, GError **error);
  gboolean (*tx_refunded) (CtStore *store, int64_t id, int64_t *out_refunded, GError **error);
  gboolean (*refund_claim) (CtStore *store, int64_t tx_id, int64_t total, int64_t amount, int64_t *out_before, GError **error);
  int64_t (*account_balance) (CtStore *store, const char *account, GError **error);
  gboolean (*claim_key) (CtStore *store, int64_t till_id, const char *key, GError **error);
  void (*unclaim_key) (CtStore *store, int64_t till_id, const char *key);
  void (*read_ahead) (CtStore *store, const CtStoreAhead *ahead); /* optional */
  gboolean (*key_get) (CtStore *store, int64_t till_id, const char *key, CtStoreKeyState *out_state, guint8 out_hash[32], guint *out_status, char **out_body, GError **error);
  gboolean (*key_put) (CtStore *store, int64_t till_id, const char *key, const guint8 hash[32], guint status, const char *body, GError **error);
  gboolean (*key_expire) (CtStore *store, int64_t older_than_ms, GError **error);
  GPtrArray * (*find_cards) (CtStore *store, const char *phone, const char *name, guint limit, GError **error);
  GPtrArray * (*card_history) (CtStore *store, const char *card_no, int64_t from_ms, int64_t to_ms, int64_t before_id, guint limit, GError **error);
  GPtrArray * (*store_day) (CtStore *store, const char *store_name, const char *till, int64_t from_ms, int64_t to_ms, int64_t after_id, guint limit, GError **error);
  GPtrArray * (*day_totals) (CtStore *store, const char *store_name, const char *till, int64_t from_ms, int64_t to_ms, gboolean by_till, GError **error);
  gboolean (*ledger_check) (CtStore *store, CtStoreLedgerCheck *out, GError **error);
  gboolean (*shift_open) (CtStore *store, CtStoreShift *shift, GError **error);
  gboolean (*shift_close) (CtStore *store, const CtStoreShift *shift, GError **error);
  gboolean (*shift_get) (CtStore *store, int64_t id, CtStoreShift *out, GError **error);
  int64_t (*shift_at) (CtStore *store, const char *store_name, const char *till, int64_t at_ms, GError **error);
  GPtrArray * (*shift_list) (CtStore *store, const char *store_name, const char *till, int64_t from_ms, int64_t to_ms, GError **error);
  gboolean (*shift_totals) (CtStore *store, int64_t shift_id, CtStoreDayTotals *out, GError **error);
  gboolean (*shift_outcome_cash) (CtStore *store, int64_t shift_id, int64_t amount, int64_t audit_id, int64_t at_ms, GError **error);
  gboolean (*import_row) (CtStore *store, const CtStoreTx *origin, const CtStoreImportRow *row, CtStoreImportOutcome *out_outcome, char **out_other_batch, GError **error);
  /* Optional: several rows at once (ct_store_import_rows()). */
  gboolean (*import_rows) (CtStore *store, const CtStoreTx *origin, const CtStoreImportRow *rows, guint n, CtStoreImportOutcome *outcomes, char **other_batches, GError **error);
  gboolean (*import_finish) (CtStore *store, const char *batch_id, const CtStoreImportBatch *counts, GError **error);
  gboolean (*import_batch_get) (CtStore *store, const char *batch_id, CtStoreImportBatch *out, GError **error);
  gboolean (*wallet_connector_put) (CtStore *store, CtWalletConnector *connector, GError **error);
  gboolean (*wallet_connector_remove) (CtStore *store, const char *merchant, CtWalletKind kind, GError **error);
  GPtrArray * (*wallet_connectors) (CtStore *store, GError **error);
  gboolean (*wallet_enqueue) (CtStore *store, CtWalletMessage *msg, int64_t now_ms, GError **error);
  GPtrArray * (*wallet_due) (CtStore *store, int64_t now_ms, guint limit, int64_t lease_until_ms, GError **error);
  gboolean (*wallet_link_get) (CtStore *store, int64_t connector_id, const char *card_no, char **out_biz_card_no, GError **error);
  gboolean (*wallet_link_put) (CtStore *store, int64_t connector_id, const char *card_no, const char *biz_card_no, GError **error);
  gboolean (*wallet_settle) (CtStore *store, int64_t id, CtWalletOutcome outcome, int64_t next_at_ms, const char *reason, int64_t now_ms, GError **error);
  gboolean (*wallet_status) (CtStore *store, int64_t connector_id, int64_t since_ms, CtStoreWalletStatus *out, GError **error);
  gboolean (*member_link_put) (CtStore *store, const char *card_no, const guint8 token_hash[32], const guint8 *secret, gsize secret_len, int64_t now_ms, GError **error);
  gboolean (*member_link_get) (CtStore *store, const guint8 token_hash[32], int64_t *out_merchant, char **out_card_no, GBytes **out_secret, GError **error);
  gboolean (*member_secret_get) (CtStore *store, const char *card_no, GBytes **out_secret, GError **error);
  gboolean (*member_code_take) (CtStore *store, const char *card_no, int64_t step, GError **error);
  gboolean (*member_pin_get) (CtStore *store, const char *card_no, char **out_hash, CtStorePinGuard *out_guard, GError **error);
  gboolean (*member_pin_put) (CtStore *store, const char *card_no, const char *pin_hash, int64_t now_ms, GError **error);
  gboolean (*member_pin_guard_put) (CtStore *store, const char *card_no, const CtStorePinGuard *guard, GError **error);
  gboolean (*redemption_put) (CtStore *store, int64_t tx_id, int64_t points, int64_t value, GError **error);
  gboolean (*redemption_get) (CtStore *store, int64_t tx_id, int64_t *out_points, int64_t *out_value, GError **error);
  GPtrArray * (*level_list) (CtStore *store, GError **error);
  gboolean (*level_put) (CtStore *store, const CtStoreLevel *level, GError **error);
  gboolean (*level_remove) (CtStore *store, const char *id, GError **error);
  gboolean (*card_add_spend) (CtStore *store, const char *card_no, int64_t delta, int64_t *out_spend, GError **error);
  gboolean (*benefit_put) (CtStore *store, int64_t tx_id, const CtStoreBenefit *benefit, GError **error);
};

CtStore *ct_store_sqlite_create (const char             *path,
                                 const CtStoreMerchant  *merchant,
                                 GError                **error);
CtStore *ct_store_sqlite_open   (const char             *path,
                                 guint                   readers,
                                 GError                **error);

gboolean ct_store_sqlite_upgrade (const char             *path,
                                 int                    *out_from,
                                 int                    *out_to,
                                 CtStorePhoneReport     *out_phones,
                                 GError                **error);
CtStore *ct_store_pg_create     (const char             *uri,
                                 const CtStoreMerchant  *merchant,
                                 GError                **error);
CtStore *ct_store_pg_open       (const char             *uri,
                                 guint                   connections,
                                 GError                **error);
gboolean ct_store_pg_upgrade    (const char             *uri,
                                 int                    *out_from,
                                 int                    *out_to,
                                 CtStorePhoneReport     *out_phones,
                                 GError                **error);

char    *ct_store_phone_upgrade  (CtStorePhoneReport     *report,
                                 const char             *merchant,
                                 const char             *card_no,
                                 const char             *phone);

G_END_DECLS
