/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>
#include <stdint.h>

G_BEGIN_DECLS

/* The wire codec: the JSON requests and answers of the card service API v1
 * (docs/api.md), and the plain data the rest of the till works with.
 * Answers are validated strictly: required fields, JSON types (a money field
 * must be a JSON integer token, never 12.0 or "100"), ranges; unknown fields
 * are ignored. */

/* One error domain for everything a client call can end with: the service's
 * refusal codes (the GError message is the service's own message), plus the
 * till's own outcomes. ct_client_error_code_to_string() gives the
 * snake_case code. */
#define CT_CLIENT_ERROR (ct_client_error_quark ())

typedef enum
{
  /* Codes the service sends, §4. */
  CT_CLIENT_ERROR_BAD_REQUEST,
  CT_CLIENT_ERROR_IDEMPOTENCY_KEY_MISSING,
  CT_CLIENT_ERROR_UNAUTHORIZED,
  CT_CLIENT_ERROR_FORBIDDEN,
  CT_CLIENT_ERROR_CARD_NOT_FOUND,
  CT_CLIENT_ERROR_NOT_FOUND,
  CT_CLIENT_ERROR_CARD_FROZEN,
  CT_CLIENT_ERROR_INSUFFICIENT_BALANCE,
  CT_CLIENT_ERROR_INSUFFICIENT_POOL,
  CT_CLIENT_ERROR_ALREADY_REFUNDED,
  CT_CLIENT_ERROR_CARD_EXISTS,
  CT_CLIENT_ERROR_PACKAGE_CHANGED,
  CT_CLIENT_ERROR_REQUEST_IN_PROGRESS,
  CT_CLIENT_ERROR_PAYLOAD_TOO_LARGE,
  CT_CLIENT_ERROR_INVALID_AMOUNT,
  CT_CLIENT_ERROR_INVALID_CARD_NO,
  CT_CLIENT_ERROR_IDEMPOTENCY_KEY_REUSED,
  CT_CLIENT_ERROR_PIN_LOCKED,
  CT_CLIENT_ERROR_RATE_LIMITED,
  CT_CLIENT_ERROR_INTERNAL,
  CT_CLIENT_ERROR_INSUFFICIENT_POINTS,
  CT_CLIENT_ERROR_MEMBER_CONSENT_REQUIRED,
  CT_CLIENT_ERROR_MEMBER_PIN_WRONG,
  CT_CLIENT_ERROR_MEMBER_PIN_LOCKED,
  CT_CLIENT_ERROR_MEMBER_PIN_NOT_SET,
  CT_CLIENT_ERROR_SHIFT_OPEN,
  CT_CLIENT_ERROR_SHIFT_CLOSED,
  CT_CLIENT_ERROR_SHIFT_REQUIRED,
  CT_CLIENT_ERROR_INVALID_TAKEN_AT,
  /* The card was lost and replaced by another (the message names it). */
  CT_CLIENT_ERROR_CARD_CLOSED,
  /* A well-formed error answer with a code this till does not know. */
  CT_CLIENT_ERROR_OTHER_REFUSAL,

  /* The till's own outcomes. */
  /* Bytes of the request reached the network but no definitive answer came:
   * the request stays in the outbox and is settled by retrying the same key.
   * Never offer a fresh "try again" for it. For an offline top-up (or an
   * offline payment the merchant's caps allow) this is "pending sync". */
  CT_CLIENT_ERROR_QUEUED,
  /* Service unreachable and the offline rules of §5 refuse the request
   * (a payment without or beyond the offline caps). Nothing was taken. */
  CT_CLIENT_ERROR_OFFLINE_REFUSED,
  /* Service unreachable before any byte was sent, for a request that needs
   * the service (refund, adjustment, card issue or change, lookups). Nothing
   * was done. */
  CT_CLIENT_ERROR_UNREACHABLE,
  /* The service answered something that is not a valid API answer (HTML,
   * truncated or malformed JSON, missing fields, wrong types). */
  CT_CLIENT_ERROR_BAD_ANSWER,
  /* TLS: certificate or pin does not match. Nothing was sent. */
  CT_CLIENT_ERROR_TLS,
  /* Invalid local input (amount, card number...): nothing was sent. */
  CT_CLIENT_ERROR_INVALID_INPUT,
  /* Local failure: the outbox or cache database, the disk, a file. */
  CT_CLIENT_ERROR_LOCAL,
  /* Configuration: no service, a bad URL, http:// to a non-loopback host. */
  CT_CLIENT_ERROR_CONFIG,
  /* The embedded service could not be created or started. */
  CT_CLIENT_ERROR_EMBEDDED,
  /* A request that needs the service (refund, adjustment, card issue or
   * change) could not be sent because an earlier request on the same card
   * is not settled yet. Nothing was sent and nothing is queued. */
  CT_CLIENT_ERROR_EARLIER_PENDING,
} CtClientError;

GQuark      ct_client_error_quark              (void);
/* "insufficient_balance", ..., "queued", "offline_refused", "unreachable",
 * "bad_answer", "tls", "invalid_input", "local", "config", "embedded",
 * "earlier_pending". */
const char *ct_client_error_code_to_string     (CtClientError code);
/* Maps a service code; unknown codes give CT_CLIENT_ERROR_OTHER_REFUSAL. */
CtClientError ct_client_error_code_from_string (const char   *code);
/* TRUE for codes the service sends (the request was refused by it). */
gboolean    ct_client_error_is_refusal         (const GError *error);

typedef enum
{
  CT_CARD_STATUS_ACTIVE,
  CT_CARD_STATUS_FROZEN,
  CT_CARD_STATUS_CLOSED,     /* lost and replaced: see replaced_by */
} CtCardStatus;

/* A card as the service last described it. */
typedef struct
{
  char         *card_no;
  CtCardStatus  status;
  char         *level;         /* nullable */
  char         *member_name;   /* nullable */
  char         *member_phone;  /* nullable */
  int64_t       balance;       /* minor units */
  int64_t       points;
  char         *created_at;    /* RFC 3339 UTC, as sent */
  char         *updated_at;
  char         *replaced_by;   /* nullable: the card that replaced a closed one */
  /* When this state came from the service (g_get_real_time(), µs), and
   * whether it was read from the member cache rather than a live answer. */
  gint64        fetched_at;
  gboolean      from_cache;
} CtCard;

typedef enum
{
  CT_TRANSACTION_TOPUP,
  CT_TRANSACTION_PAYMENT,
  CT_TRANSACTION_REFUND,
  CT_TRANSACTION_ADJUSTMENT,
  CT_TRANSACTION_IMPORT,
  CT_TRANSACTION_REPLACEMENT,  /* a lost card's money moving to its new card */
} CtTransactionKind;

typedef struct
{
  char              *id;
  char              *card_no;
  CtTransactionKind  kind;
  int64_t            delta;         /* signed change of the card balance, bonus included */
  int64_t            bonus;         /* 0 except on top-ups */
  int64_t            balance_after;
  int64_t            points_delta;
  int64_t            points_after;
  char              *store;         /* nullable ... */
  char              *till;
  char              *operator_name;
  char              *manager;
  char              *reason;
  char              *order_ref;
  char              *refund_of;
  char              *created_at;
  char              *taken_at;      /* when the customer paid (the till's clock); NULL from an older service */
  char              *tender;        /* top-ups and their voids: "cash", "wechat", ...; NULL otherwise */
  char              *shift_id;      /* the shift it was taken in, or NULL */
  /* What the service applied (0 and NULL from a service before levels). */
  char              *level;         /* the id of the level whose benefits applied, or NULL */
  int64_t            discount;      /* a payment: what the level took off the order */
  int64_t            level_bonus;   /* a top-up: the level's part of the bonus */
  int64_t            redeemed_points; /* a payment: points that paid part of it */
  int64_t            redeemed_value;  /* and what they paid */
  /* A split payment: the part of the order another tender took (its
   * refund: gave back); 0 and NULL otherwise or from an older service. */
  int64_t            rest;
  char              *rest_tender;
  int64_t            refunded;        /* a payment or top-up: what refunds gave back of it so far */
  char              *level_up;      /* a payment: the id of the level it moved the card up to, or NULL */
} CtTransaction;

typedef struct
{
  char    *id;
  int64_t  amount;
  int64_t  bonus;
} CtPackage;

/* A level by spend (docs/ledger.md, "Levels"), as GET /v1/merchant lists it. */
typedef struct
{
  char    *id;
  char    *name;
  int64_t  min_spend;
  int64_t  discount_bp;
  int64_t  points_multiplier_bp;
  int64_t  topup_bonus_bp;
} CtLevel;

typedef enum
{
  CT_TOPUP_MODE_FIXED,
  CT_TOPUP_MODE_ANY,
} CtTopupMode;

typedef struct
{
  char        *name;
  char        *currency;
  int          minor_units;
  CtTopupMode  topup_mode;
  GPtrArray   *packages;        /* element-type CtPackage */
  int64_t      topup_min;
  int64_t      topup_max;
  int64_t      points_per_unit;
  char        *timezone;
  int64_t      offline_payment_cap;
  int64_t      offline_card_cap;
  int64_t      pool_balance;
  gboolean     cashier_sign_in; /* cashiers exist: the till asks who is at it */
  int64_t      points_redeem_rate;   /* points that pay one major unit; 0: points cannot pay */
  int64_t      points_redeem_max_bp; /* the largest share of what is due points may pay */
  int64_t      consent_over;    /* payments above it need the member's consent; 0: never */
  GPtrArray   *levels;          /* element-type CtLevel, by min_spend; empty from an older service */
  char        *store;           /* the asking till's store and till as its transactions name them; */
  char        *till;            /*   NULL from an older service */
  gint64       fetched_at;      /* g_get_real_time() when it came */
} CtMerchant;

/* How the member consented to a payment (docs/api.md, "Member consent"). */
typedef enum
{
  CT_MEMBER_CONSENT_NONE,
  CT_MEMBER_CONSENT_CODE,       /* the payment code on the member's page */
  CT_MEMBER_CONSENT_PIN,        /* the member's PIN on the till's keypad */
} CtMemberConsent;

/* The answer to a money request: {"transaction","card"}. */
typedef struct
{
  CtTransaction *transaction;
  CtCard        *card;
  char          *idempotency_key;
  gboolean       replayed;      /* the service replayed a stored answer */
  int64_t        redeemed_points; /* a payment: points that paid part of it (0: none) */
  int64_t        redeemed_value;  /* and what they paid, minor units */
  CtMemberConsent member_consent; /* a payment: how the member consented */
  char          *level_up;        /* a payment: the name of the level it moved the card up to, or NULL */
  /* A refund: what it gave back, what the refunds of that transaction gave
   * back so far and what the transaction took (0 from an older service). */
  int64_t        refund_amount;
  int64_t        refunded;
  int64_t        refund_total;
} CtReceipt;

typedef struct
{
  GPtrArray *transactions;      /* element-type CtTransaction, newest first */
  char      *next_cursor;       /* nullable */
} CtHistoryPage;

typedef struct
{
  int64_t topups;
  int64_t bonus;
  int64_t payments;
  int64_t refunds;
  int64_t adjustments;
  int64_t imports;
} CtDayTotals;

typedef struct
{
  char        *date;
  char        *store;
  GPtrArray   *transactions;    /* element-type CtTransaction */
  CtDayTotals  totals;          /* the whole day's, whatever the page */
  char        *next_cursor;     /* the next page's cursor, or NULL on the last */
} CtDayReport;

typedef struct
{
  int64_t sum;
  int64_t cards;
  int64_t pool;
  int64_t cash;
  int64_t promo;
  int64_t legacy;
} CtLedgerCheck;

/* A change to a card (PATCH): NULL fields stay as they are. */
typedef enum
{
  CT_CARD_STATUS_CHANGE_NONE,
  CT_CARD_STATUS_CHANGE_FREEZE,
  CT_CARD_STATUS_CHANGE_UNFREEZE,
} CtCardStatusChange;

typedef struct
{
  const char         *member_name;
  const char         *member_phone;
  const char         *level;
  CtCardStatusChange  status;
} CtCardPatch;

/* A card issue (POST /v1/cards): the member's name and phone (null when
 * NULL); the level, the card number and the member's PIN only when set. */
typedef struct
{
  const char *member_name, *member_phone;
  const char *level, *card_no, *member_pin;
  const char *operator_name, *manager_id, *manager_pin;
} CtCardIssue;

GType          ct_card_get_type            (void) G_GNUC_CONST;
GType          ct_transaction_get_type     (void) G_GNUC_CONST;
GType          ct_package_get_type         (void) G_GNUC_CONST;
GType          ct_merchant_get_type        (void) G_GNUC_CONST;
GType          ct_receipt_get_type         (void) G_GNUC_CONST;
GType          ct_history_page_get_type    (void) G_GNUC_CONST;
GType          ct_day_report_get_type      (void) G_GNUC_CONST;

#define CT_TYPE_CARD         (ct_card_get_type ())
#define CT_TYPE_TRANSACTION  (ct_transaction_get_type ())
#define CT_TYPE_PACKAGE      (ct_package_get_type ())
#define CT_TYPE_MERCHANT     (ct_merchant_get_type ())
#define CT_TYPE_RECEIPT      (ct_receipt_get_type ())
#define CT_TYPE_HISTORY_PAGE (ct_history_page_get_type ())
#define CT_TYPE_DAY_REPORT   (ct_day_report_get_type ())

CtCard        *ct_card_copy                (const CtCard        *card);
void           ct_card_free                (CtCard              *card);
CtTransaction *ct_transaction_copy         (const CtTransaction *tx);
void           ct_transaction_free         (CtTransaction       *tx);
CtPackage     *ct_package_copy             (const CtPackage     *package);
void           ct_package_free             (CtPackage           *package);
CtMerchant    *ct_merchant_copy            (const CtMerchant    *merchant);
void           ct_merchant_free            (CtMerchant          *merchant);
/* The level @level_id names, or NULL (a card's level text that names no
 * level gives no benefits). */
const CtLevel *ct_merchant_find_level      (const CtMerchant    *merchant,
                                            const char          *level_id);
/* A card's level for a person to read: its name, or the text itself. */
const char    *ct_merchant_level_name      (const CtMerchant    *merchant,
                                            const char          *level_id);
const CtPackage *ct_merchant_find_package  (const CtMerchant    *merchant,
                                            const char          *package_id);
CtReceipt     *ct_receipt_copy             (const CtReceipt     *receipt);
void           ct_receipt_free             (CtReceipt           *receipt);
CtHistoryPage *ct_history_page_copy        (const CtHistoryPage *page);
void           ct_history_page_free        (CtHistoryPage       *page);
CtDayReport   *ct_day_report_copy          (const CtDayReport   *report);
void           ct_day_report_free          (CtDayReport         *report);

const char    *ct_transaction_kind_to_string (CtTransactionKind kind);
const char    *ct_card_status_to_string      (CtCardStatus      status);

/* Decoders: body/len is the raw answer body (not NUL-terminated necessarily).
 * A body that is not a valid answer gives CT_CLIENT_ERROR_BAD_ANSWER. */
CtCard        *ct_wire_decode_card         (const char *body, gsize len, GError **error);
/* The answer of a lost card's replacement: the new card and the closed one. */
gboolean       ct_wire_decode_card_replaced (const char *body, gsize len, CtCard **out_card,
                                             CtCard **out_replaced, GError **error);
GPtrArray     *ct_wire_decode_card_list    (const char *body, gsize len, GError **error);
CtMerchant    *ct_wire_decode_merchant     (const char *body, gsize len, GError **error);
CtReceipt     *ct_wire_decode_receipt      (const char *body, gsize len, GError **error);
CtHistoryPage *ct_wire_decode_history      (const char *body, gsize len, GError **error);
CtDayReport   *ct_wire_decode_day_report   (const char *body, gsize len, GError **error);
gboolean       ct_wire_decode_ledger_check (const char *body, gsize len,
                                            CtLedgerCheck *out, GError **error);
gboolean       ct_wire_decode_health       (const char *body, gsize len,
                                            char **out_version, char ***out_features,
                                            GError **error);
/* TRUE when the body is exactly one complete JSON object (any content). */
gboolean       ct_wire_check_object        (const char *body, gsize len, GError **error);
/* Turns a non-2xx answer into a GError: the service's code and message when
 * the body is a valid error object, CT_CLIENT_ERROR_BAD_ANSWER otherwise.
 * Always returns FALSE and sets @error. */
gboolean       ct_wire_decode_error        (int status, const char *body, gsize len,
                                            GError **error);

/* The compact text of @obj, which it takes (json_object_put): no spaces,
 * "/" not escaped, as every body cardtill writes, the till's and the
 * service's alike. */
struct json_object;
char          *ct_wire_json_take_text      (struct json_object *obj);

/* Encoders: the exact body bytes of each POST/PATCH (NUL-terminated JSON).
 * Nullable arguments are left out of the body (or sent as null where §4
 * says the field is optional). */
char          *ct_wire_encode_payment      (int64_t amount, const char *order_ref,
                                            int64_t redeem_points, const char *member_code,
                                            const char *member_pin, const char *operator_name);
/* A split payment: the card pays @amount, @rest_tender took @rest (> 0)
 * of the order; @rest 0 is a plain payment. */
char          *ct_wire_encode_split_payment (int64_t amount, const char *order_ref,
                                             int64_t redeem_points, const char *member_code,
                                             const char *member_pin, int64_t rest,
                                             const char *rest_tender, const char *operator_name);
gboolean       ct_wire_payment_needs_service (GBytes *body);
/* @tender: "cash", "wechat", "alipay", "bank_card" or "other"; NULL
 * leaves it out (the service takes cash). */
char          *ct_wire_encode_topup_package (const char *package_id,
                                             gboolean    with_expect,
                                             int64_t     expect_amount,
                                             int64_t     expect_bonus,
                                             const char *tender,
                                             const char *operator_name);
char          *ct_wire_encode_topup_amount (int64_t amount, const char *tender,
                                            const char *operator_name);
char          *ct_wire_encode_shift_open   (int64_t float_amount, const char *operator_name);
char          *ct_wire_encode_shift_close  (int64_t counted_cash, const char *operator_name);
/* @body with "taken_at" (@now_us, g_get_real_time()) added, unless it has
 * one: when the customer paid, by the till's clock, so a request sent
 * later still belongs to its day and shift. NULL if @body is not an
 * object. */
char          *ct_wire_add_taken_at        (const char *body, gsize len, gint64 now_us);
/* Whether @text names a tender the service knows. */
gboolean       ct_wire_tender_is_valid     (const char *text);
/* @amount: a part of the payment (minor units), or 0 for all that is left. */
char          *ct_wire_encode_refund       (const char *transaction_id,
                                            int64_t     amount,
                                            const char *operator_name,
                                            const char *manager_id,
                                            const char *manager_pin);
/* POST /v1/outcomes: what a manager did instead of a refused request,
 * with the cash handed back from the drawer (0: none, left out). */
char          *ct_wire_encode_outcome      (const char *card_no,
                                            const char *idempotency_key,
                                            const char *kind,
                                            const char *outcome,
                                            int64_t     cash_given_back,
                                            const char *manager_id,
                                            const char *manager_pin);
char          *ct_wire_encode_adjustment   (int64_t delta, const char *reason,
                                            const char *operator_name,
                                            const char *manager_id,
                                            const char *manager_pin);
char          *ct_wire_encode_card_issue   (const CtCardIssue *issue);
char          *ct_wire_encode_member_pin   (const char *member_pin,
                                            const char *operator_name,
                                            const char *manager_id,
                                            const char *manager_pin);
char          *ct_wire_encode_card_replace (const char *new_card_no,
                                            const char *operator_name,
                                            const char *manager_id,
                                            const char *manager_pin);
char          *ct_wire_encode_card_patch   (const CtCardPatch *patch,
                                            const char *manager_id,
                                            const char *manager_pin);

/* Card and merchant state as JSON, for the member cache (same shape as the
 * service's card object). */
char          *ct_wire_encode_card         (const CtCard *card);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtCard, ct_card_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtTransaction, ct_transaction_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtPackage, ct_package_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtMerchant, ct_merchant_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtReceipt, ct_receipt_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtHistoryPage, ct_history_page_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtDayReport, ct_day_report_free)

G_END_DECLS
