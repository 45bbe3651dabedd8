/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-store"
#include "config.h"

#include <string.h>

#include "ct-money.h"
#include "ct-phone.h"
#include "ct-store-private.h"
#include "ct-store.h"

/* The storage interface: the value types shared by every backend, and one
 * forwarding function per operation. The HTTP layer and the ledger rules
 * call only these. */

G_DEFINE_QUARK (ct-store-error-quark, ct_store_error)

int64_t
ct_store_now_ms (void)
{
  return g_get_real_time () / 1000;
}

void
ct_store_merchant_clear (CtStoreMerchant *m)
{
  g_clear_pointer (&m->code, g_free);
  g_clear_pointer (&m->name, g_free);
  g_clear_pointer (&m->currency, g_free);
  g_clear_pointer (&m->topup_mode, g_free);
  g_clear_pointer (&m->timezone, g_free);
  g_clear_pointer (&m->issuer_prefix, g_free);
}

/* The merchant's settings as every backend stores them: one row of key
 * and text value each. One table, so that a new setting is added once. */
typedef enum
{
  FIELD_TEXT,
  FIELD_INT64,
  FIELD_INT,
} FieldKind;

static const struct
{
  const char *key;
  gsize       offset;
  FieldKind   kind;
} merchant_fields[] = {
  { "name", G_STRUCT_OFFSET (CtStoreMerchant, name), FIELD_TEXT },
  { "currency", G_STRUCT_OFFSET (CtStoreMerchant, currency), FIELD_TEXT },
  { "minor_units", G_STRUCT_OFFSET (CtStoreMerchant, minor_units), FIELD_INT },
  { "topup_mode", G_STRUCT_OFFSET (CtStoreMerchant, topup_mode), FIELD_TEXT },
  { "topup_min", G_STRUCT_OFFSET (CtStoreMerchant, topup_min), FIELD_INT64 },
  { "topup_max", G_STRUCT_OFFSET (CtStoreMerchant, topup_max), FIELD_INT64 },
  { "points_per_unit", G_STRUCT_OFFSET (CtStoreMerchant, points_per_unit), FIELD_INT64 },
  { "timezone", G_STRUCT_OFFSET (CtStoreMerchant, timezone), FIELD_TEXT },
  { "offline_payment_cap", G_STRUCT_OFFSET (CtStoreMerchant, offline_payment_cap), FIELD_INT64 },
  { "offline_card_cap", G_STRUCT_OFFSET (CtStoreMerchant, offline_card_cap), FIELD_INT64 },
  { "issuer_prefix", G_STRUCT_OFFSET (CtStoreMerchant, issuer_prefix), FIELD_TEXT },
  { "points_redeem_rate", G_STRUCT_OFFSET (CtStoreMerchant, points_redeem_rate), FIELD_INT64 },
  { "points_redeem_max_bp", G_STRUCT_OFFSET (CtStoreMerchant, points_redeem_max_bp), FIELD_INT64 },
  { "consent_over", G_STRUCT_OFFSET (CtStoreMerchant, consent_over), FIELD_INT64 },
  { "require_shift", G_STRUCT_OFFSET (CtStoreMerchant, require_shift), FIELD_INT },
};

/* Sets the merchant setting @key from its stored text; unknown keys are
 * ignored. */
void
ct_store_merchant_set_field (CtStoreMerchant *m,
                             const char      *key,
                             const char      *value)
{
  for (gsize i = 0; i < G_N_ELEMENTS (merchant_fields); i++)
    {
      gpointer field = G_STRUCT_MEMBER_P (m, merchant_fields[i].offset);

      if (!g_str_equal (key, merchant_fields[i].key))
        continue;
      switch (merchant_fields[i].kind)
        {
        case FIELD_TEXT:
          g_free (*(char **) field);
          *(char **) field = g_strdup (value);
          break;
        case FIELD_INT64:
          *(int64_t *) field = g_ascii_strtoll (value, NULL, 10);
          break;
        case FIELD_INT:
          *(int *) field = (int) g_ascii_strtoll (value, NULL, 10);
          break;
        default:
          g_assert_not_reached ();
        }
      return;
    }
}

/**
 * ct_store_merchant_to_settings:
 * The merchant as stored settings: key, value, key, value…, NULL. A
 * NULL text setting is left out.
 */
GStrv
ct_store_merchant_to_settings (const CtStoreMerchant *m)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();

  for (gsize i = 0; i < G_N_ELEMENTS (merchant_fields); i++)
    {
      gconstpointer field = G_STRUCT_MEMBER_P (m, merchant_fields[i].offset);
      g_autofree char *value = NULL;

      switch (merchant_fields[i].kind)
        {
        case FIELD_TEXT:
          value = g_strdup (*(char * const *) field);
          break;
        case FIELD_INT64:
          value = g_strdup_printf ("%" G_GINT64_FORMAT, *(const int64_t *) field);
          break;
        case FIELD_INT:
          value = g_strdup_printf ("%d", *(const int *) field);
          break;
        default:
          g_assert_not_reached ();
        }
      if (value == NULL)
        continue;
      g_strv_builder_add (b, merchant_fields[i].key);
      g_strv_builder_add (b, value);
    }
  return g_strv_builder_end (b);
}

/* Checks that the settings read name a merchant, and fills the settings
 * that older databases lack. */
gboolean
ct_store_merchant_complete (CtStoreMerchant  *m,
                            GError          **error)
{
  if (m->name == NULL || m->currency == NULL || m->topup_mode == NULL)
    {
      ct_store_merchant_clear (m);
      g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_NOT_INITIALIZED,
                   "the database has no merchant settings (run `cardtill-service init`)");
      return FALSE;
    }
  if (m->timezone == NULL)
    m->timezone = g_strdup ("UTC");
  if (m->issuer_prefix == NULL)
    m->issuer_prefix = g_strdup ("8888");
  return TRUE;
}

void
ct_store_package_clear (CtStorePackage *p)
{
  g_clear_pointer (&p->id, g_free);
}

void
ct_store_package_free (CtStorePackage *p)
{
  ct_store_package_clear (p);
  g_free (p);
}

int64_t
ct_store_package_bonus (const CtStorePackage *p)
{
  int64_t bonus = 0;

  if (p->bonus_bp < 0)
    return p->bonus;
  /* Amount and ratio were checked when the package was added. */
  if (!ct_bonus_from_ratio (p->amount, p->bonus_bp, &bonus, NULL))
    return 0;
  return bonus;
}

void
ct_store_card_clear (CtStoreCard *c)
{
  g_clear_pointer (&c->card_no, g_free);
  g_clear_pointer (&c->status, g_free);
  g_clear_pointer (&c->level, g_free);
  g_clear_pointer (&c->name, g_free);
  g_clear_pointer (&c->phone, g_free);
  g_clear_pointer (&c->replaced_by, g_free);
}

void
ct_store_card_free (CtStoreCard *c)
{
  ct_store_card_clear (c);
  g_free (c);
}

void
ct_store_tx_clear (CtStoreTx *t)
{
  g_clear_pointer (&t->card_no, g_free);
  g_clear_pointer (&t->kind, g_free);
  g_clear_pointer (&t->store, g_free);
  g_clear_pointer (&t->till, g_free);
  g_clear_pointer (&t->operator_name, g_free);
  g_clear_pointer (&t->manager, g_free);
  g_clear_pointer (&t->reason, g_free);
  g_clear_pointer (&t->order_ref, g_free);
  g_clear_pointer (&t->tender, g_free);
  g_clear_pointer (&t->rest_tender, g_free);
  g_clear_pointer (&t->level, g_free);
  g_clear_pointer (&t->level_up, g_free);
}

void
ct_store_shift_clear (CtStoreShift *s)
{
  g_clear_pointer (&s->store, g_free);
  g_clear_pointer (&s->till, g_free);
  g_clear_pointer (&s->operator_name, g_free);
  g_clear_pointer (&s->closed_by, g_free);
}

void
ct_store_shift_free (CtStoreShift *s)
{
  ct_store_shift_clear (s);
  g_free (s);
}

static const struct
{
  const char *name;
  const char *account;
} tenders[CT_N_TENDERS] = {
  [CT_TENDER_CASH] = { "cash", CT_ACCOUNT_CASH },
  [CT_TENDER_WECHAT] = { "wechat", "@wechat" },
  [CT_TENDER_ALIPAY] = { "alipay", "@alipay" },
  [CT_TENDER_BANK_CARD] = { "bank_card", "@bank_card" },
  [CT_TENDER_OTHER] = { "other", "@other" },
};

/**
 * ct_store_tender_to_string:
 * The tender's name in the API ("cash", "wechat", "alipay", "bank_card",
 * "other").
 */
const char *
ct_store_tender_to_string (CtTender tender)
{
  g_return_val_if_fail ((guint) tender < CT_N_TENDERS, NULL);
  return tenders[tender].name;
}

gboolean
ct_store_tender_from_string (const char *text,
                             CtTender   *out)
{
  for (guint i = 0; text != NULL && i < CT_N_TENDERS; i++)
    if (g_str_equal (text, tenders[i].name))
      {
        *out = (CtTender) i;
        return TRUE;
      }
  return FALSE;
}

/**
 * ct_store_tender_account:
 * The ledger account that holds the money taken by @tender.
 */
const char *
ct_store_tender_account (CtTender tender)
{
  g_return_val_if_fail ((guint) tender < CT_N_TENDERS, NULL);
  return tenders[tender].account;
}

void
ct_store_tx_free (CtStoreTx *t)
{
  ct_store_tx_clear (t);
  g_free (t);
}

void
ct_store_till_clear (CtStoreTill *t)
{
  g_clear_pointer (&t->store, g_free);
  g_clear_pointer (&t->name, g_free);
}

void
ct_store_manager_clear (CtStoreManager *m)
{
  g_clear_pointer (&m->id, g_free);
  g_clear_pointer (&m->pin_hash, g_free);
}

void
ct_store_manager_info_free (CtStoreManagerInfo *info)
{
  g_free (info->id);
  g_free (info);
}

void
ct_store_cashier_clear (CtStoreCashier *c)
{
  g_clear_pointer (&c->id, g_free);
  g_clear_pointer (&c->name, g_free);
  g_clear_pointer (&c->pin_hash, g_free);
}

void
ct_store_cashier_free (CtStoreCashier *c)
{
  ct_store_cashier_clear (c);
  g_free (c);
}

/**
 * ct_store_cashier_guard_id:
 *
 * Returns: (transfer full): the key of @cashier_id's PIN guard. Manager ids
 *   may not start with CT_STORE_CASHIER_GUARD_PREFIX, so a cashier's wrong
 *   PINs never count against a manager of the same name.
 */
char *
ct_store_cashier_guard_id (const char *cashier_id)
{
  return g_strconcat (CT_STORE_CASHIER_GUARD_PREFIX, cashier_id, NULL);
}

void
ct_store_audit_free (CtStoreAudit *a)
{
  ct_store_audit_clear (a);
  g_free (a);
}

void
ct_store_audit_clear (CtStoreAudit *a)
{
  g_clear_pointer (&a->store, g_free);
  g_clear_pointer (&a->till, g_free);
  g_clear_pointer (&a->manager, g_free);
  g_clear_pointer (&a->action, g_free);
  g_clear_pointer (&a->card_no, g_free);
  g_clear_pointer (&a->detail, g_free);
}

/**
 * ct_store_location_is_uri:
 * Whether @location names a PostgreSQL database rather than a file.
 */
gboolean
ct_store_location_is_uri (const char *location)
{
  return g_str_has_prefix (location, "postgresql://") || g_str_has_prefix (location, "postgres://");
}

/**
 * ct_store_create:
 * Makes a new database at @location (refusing an existing or non-empty
 * one) with the merchant's settings.
 */
CtStore *
ct_store_create (const char            *location,
                 const CtStoreMerchant *merchant,
                 GError               **error)
{
  g_return_val_if_fail (location != NULL && merchant != NULL, NULL);

  if (ct_store_location_is_uri (location))
    return ct_store_pg_create (location, merchant, error);
  return ct_store_sqlite_create (location, merchant, error);
}

/**
 * ct_store_open:
 * Opens the database at @location; @connections connections serve the
 * worker threads (0 for the admin command line).
 */
CtStore *
ct_store_open (const char *location,
               guint       connections,
               GError    **error)
{
  g_return_val_if_fail (location != NULL, NULL);

  if (ct_store_location_is_uri (location))
    return ct_store_pg_open (location, connections, error);
  return ct_store_sqlite_open (location, connections, error);
}

/**
 * ct_store_upgrade:
 * Brings the schema of the database at @location to this version in one
 * transaction; @out_from and @out_to are the versions before and after.
 */
gboolean
ct_store_upgrade (const char         *location,
                  int                *out_from,
                  int                *out_to,
                  CtStorePhoneReport *out_phones,
                  GError            **error)
{
  g_return_val_if_fail (location != NULL && out_phones != NULL, FALSE);

  out_phones->normalised = 0;
  if (out_phones->kept == NULL)
    out_phones->kept = g_ptr_array_new_with_free_func (g_free);
  if (ct_store_location_is_uri (location))
    return ct_store_pg_upgrade (location, out_from, out_to, out_phones, error);
  return ct_store_sqlite_upgrade (location, out_from, out_to, out_phones, error);
}

void
ct_store_phone_report_clear (CtStorePhoneReport *report)
{
  g_clear_pointer (&report->kept, g_ptr_array_unref);
  report->normalised = 0;
}

/**
 * ct_store_phone_upgrade:
 * @phone: a card's stored phone
 *
 * The upgrade step of stored phones, the same for every store: @phone in
 * the one phone rule's form (ct_phone_normalize()). Returns the phone to
 * store instead, counted in @report, or %NULL when it stays as it is:
 * already in that form, or one the rule does not take, which @report
 * lists with the reason.
 */
char *
ct_store_phone_upgrade (CtStorePhoneReport *report,
                        const char         *merchant,
                        const char         *card_no,
                        const char         *phone)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *digits = NULL;

  if (phone == NULL || *phone == '\0')
    return NULL;
  digits = ct_phone_normalize (phone, &error);
  if (digits == NULL)
    {
      g_ptr_array_add (report->kept, g_strdup_printf ("card %s (merchant %s): \"%s\": %s", card_no, merchant, phone,
                                                      error->message));
      return NULL;
    }
  if (g_str_equal (digits, phone))
    return NULL;
  report->normalised++;
  return g_steal_pointer (&digits);
}

const char *
ct_store_backend_name (CtStore *store)
{
  return store->backend->name;
}

gboolean
ct_store_batches_writes (CtStore *store)
{
  return store->backend->batches_writes;
}

gint64
ct_store_write_count (CtStore *store)
{
  return store->backend->write_count != NULL ? store->backend->write_count (store) : -1;
}

void
ct_store_read_ahead (CtStore            *store,
                     const CtStoreAhead *ahead)
{
  g_return_if_fail (store != NULL && ahead != NULL);
  if (store->backend->read_ahead != NULL)
    store->backend->read_ahead (store, ahead);
}

gboolean
ct_store_tracks_tills (CtStore *store)
{
  return store->backend->tills_version != NULL;
}

gboolean
ct_store_tills_version (CtStore  *store,
                        guint64  *out,
                        GError  **error)
{
  g_return_val_if_fail (store->backend->tills_version != NULL, FALSE);
  return store->backend->tills_version (store, out, error);
}

void
ct_store_free (CtStore *store)
{
  if (store == NULL)
    return;
  if (store->root != store)
    g_free (store);
  else
    store->backend->free (store);
}

/**
 * ct_store_for_merchant:
 * A view of @store whose calls act inside @merchant (a number from
 * ct_store_merchant_find(), a till or a member link). Free it with
 * ct_store_free() before @store.
 */
CtStore *
ct_store_for_merchant (CtStore *store,
                       int64_t  merchant)
{
  CtStore *view;

  g_return_val_if_fail (store != NULL && merchant >= 0, NULL);

  view = g_new0 (CtStore, 1);
  view->backend = store->backend;
  view->root = store->root;
  view->merchant = merchant;
  return view;
}

int64_t
ct_store_get_merchant_id (CtStore *store)
{
  return store->merchant;
}

gboolean
ct_store_merchant_add (CtStore               *store,
                       const CtStoreMerchant *m,
                       int64_t               *out_id,
                       GError               **error)
{
  g_return_val_if_fail (m != NULL && m->code != NULL, FALSE);
  return store->backend->merchant_add (store, m, out_id, error);
}

gboolean
ct_store_merchant_find (CtStore     *store,
                        const char  *code,
                        int64_t     *out_id,
                        GError     **error)
{
  return store->backend->merchant_find (store, code, out_id, error);
}

GPtrArray *
ct_store_merchant_list (CtStore  *store,
                        GError  **error)
{
  return store->backend->merchant_list (store, error);
}

void
ct_store_merchant_ref_free (CtStoreMerchantRef *ref)
{
  g_free (ref->code);
  g_free (ref);
}

void
ct_store_set_busy_timeout (CtStore *store,
                           guint    ms)
{
  store->backend->set_busy_timeout (store, ms);
}

gboolean
ct_store_begin (CtStore *store,
                GError **error)
{
  return store->backend->begin (store, error);
}

gboolean
ct_store_commit (CtStore *store,
                 GError **error)
{
  return store->backend->commit (store, error);
}

void
ct_store_rollback (CtStore *store)
{
  store->backend->rollback (store);
}

gboolean
ct_store_savepoint (CtStore *store,
                    GError **error)
{
  return store->backend->savepoint (store, error);
}

void
ct_store_rollback_savepoint (CtStore *store)
{
  store->backend->rollback_savepoint (store);
}

gboolean
ct_store_release_savepoint (CtStore *store,
                            GError **error)
{
  return store->backend->release_savepoint (store, error);
}

gboolean
ct_store_get_merchant (CtStore    *store,
                       CtStoreMerchant *out,
                       GError    **error)
{
  return store->backend->get_merchant (store, out, error);
}

gboolean
ct_store_set_merchant (CtStore          *store,
                       const CtStoreMerchant *m,
                       GError          **error)
{
  return store->backend->set_merchant (store, m, error);
}

GPtrArray *
ct_store_list_packages (CtStore *store,
                        GError **error)
{
  return store->backend->list_packages (store, error);
}

gboolean
ct_store_get_package (CtStore    *store,
                      const char *id,
                      CtStorePackage  *out,
                      GError    **error)
{
  return store->backend->get_package (store, id, out, error);
}

gboolean
ct_store_put_package (CtStore         *store,
                      const CtStorePackage *p,
                      GError         **error)
{
  return store->backend->put_package (store, p, error);
}

gboolean
ct_store_remove_package (CtStore    *store,
                         const char *id,
                         GError    **error)
{
  return store->backend->remove_package (store, id, error);
}

gboolean
ct_store_till_put (CtStore     *store,
                   const char  *store_name,
                   const char  *name,
                   const guint8 token_hash[32],
                   gboolean     must_be_new,
                   GError     **error)
{
  return store->backend->till_put (store, store_name, name, token_hash, must_be_new, error);
}

gboolean
ct_store_till_revoke (CtStore    *store,
                      const char *store_name,
                      const char *name,
                      GError    **error)
{
  return store->backend->till_revoke (store, store_name, name, error);
}

gboolean
ct_store_till_by_token (CtStore     *store,
                        const guint8 token_hash[32],
                        CtStoreTill      *out,
                        GError     **error)
{
  return store->backend->till_by_token (store, token_hash, out, error);
}

gboolean
ct_store_till_get (CtStore     *store,
                   const char  *store_name,
                   const char  *name,
                   CtStoreTill *out,
                   GError     **error)
{
  return store->backend->till_get (store, store_name, name, out, error);
}

gboolean
ct_store_manager_put (CtStore    *store,
                      const char *id,
                      const char *pin_hash,
                      int         must_be_new,
                      GError    **error)
{
  return store->backend->manager_put (store, id, pin_hash, must_be_new, error);
}

gboolean
ct_store_manager_remove (CtStore    *store,
                         const char *id,
                         GError    **error)
{
  return store->backend->manager_remove (store, id, error);
}

gboolean
ct_store_manager_get (CtStore    *store,
                      const char *id,
                      CtStoreManager  *out,
                      GError    **error)
{
  return store->backend->manager_get (store, id, out, error);
}

gboolean
ct_store_pin_guard_get (CtStore         *store,
                        const char      *id,
                        CtStorePinGuard *out,
                        GError         **error)
{
  return store->backend->pin_guard_get (store, id, out, error);
}

gboolean
ct_store_pin_guard_put (CtStore               *store,
                        const char            *id,
                        const CtStorePinGuard *guard,
                        GError               **error)
{
  return store->backend->pin_guard_put (store, id, guard, error);
}

GPtrArray *
ct_store_manager_list (CtStore  *store,
                       GError  **error)
{
  return store->backend->manager_list (store, error);
}

gboolean
ct_store_cashier_put (CtStore     *store,
                      const char  *id,
                      const char  *name,
                      const char  *pin_hash,
                      gboolean     must_be_new,
                      GError     **error)
{
  return store->backend->cashier_put (store, id, name, pin_hash, must_be_new, error);
}

gboolean
ct_store_cashier_remove (CtStore     *store,
                         const char  *id,
                         GError     **error)
{
  return store->backend->cashier_remove (store, id, error);
}

gboolean
ct_store_cashier_get (CtStore         *store,
                      const char      *id,
                      CtStoreCashier  *out,
                      GError         **error)
{
  return store->backend->cashier_get (store, id, out, error);
}

GPtrArray *
ct_store_cashier_list (CtStore  *store,
                       GError  **error)
{
  return store->backend->cashier_list (store, error);
}

gboolean
ct_store_audit_add (CtStore       *store,
                    CtStoreAudit  *entry,
                    GError       **error)
{
  return store->backend->audit_add (store, entry, error);
}

GPtrArray *
ct_store_audit_list (CtStore  *store,
                     int64_t   since_ms,
                     GError  **error)
{
  return store->backend->audit_list (store, since_ms, error);
}

gboolean
ct_store_card_get (CtStore    *store,
                   const char *card_no,
                   CtStoreCard     *out,
                   GError    **error)
{
  return store->backend->card_get (store, card_no, out, error);
}

gboolean
ct_store_card_insert (CtStore      *store,
                      const CtStoreCard *card,
                      GError      **error)
{
  return store->backend->card_insert (store, card, error);
}

gboolean
ct_store_card_update (CtStore      *store,
                      const CtStoreCard *card,
                      GError      **error)
{
  return store->backend->card_update (store, card, error);
}

gboolean
ct_store_card_replace (CtStore    *store,
                       const char *old_no,
                       const char *new_no,
                       int64_t     now_ms,
                       GError    **error)
{
  return store->backend->card_replace (store, old_no, new_no, now_ms, error);
}

gboolean
ct_store_card_replaced_into (CtStore     *store,
                             const char  *card_no,
                             const char  *holder,
                             gboolean    *out_replaced,
                             GError     **error)
{
  g_return_val_if_fail (card_no != NULL && holder != NULL && out_replaced != NULL, FALSE);

  return store->backend->card_replaced_into (store, card_no, holder, out_replaced, error);
}

gboolean
ct_store_card_add_points (CtStore    *store,
                          const char *card_no,
                          int64_t     delta,
                          int64_t    *out_points,
                          GError    **error)
{
  return store->backend->card_add_points (store, card_no, delta, out_points, error);
}

gboolean
ct_store_card_event (CtStore    *store,
                     const char *card_no,
                     const char *kind,
                     const char *detail,
                     const char *store_name,
                     const char *till,
                     const char *operator_name,
                     const char *manager,
                     GError    **error)
{
  return store->backend->card_event (store, card_no, kind, detail, store_name, till, operator_name, manager, error);
}

gboolean
ct_store_post (CtStore         *store,
               const CtStorePosting *postings,
               guint            n_postings,
               GError         **error)
{
  return store->backend->post (store, postings, n_postings, error);
}

gboolean
ct_store_post_card (CtStore              *store,
                    const CtStorePosting *postings,
                    guint                 n_postings,
                    CtStoreCard          *card,
                    GError              **error)
{
  CtStoreCard fresh = { 0 };
  char *no;

  if (store->backend->post_card != NULL)
    return store->backend->post_card (store, postings, n_postings, card, error);
  if (!ct_store_post (store, postings, n_postings, error)
      || !ct_store_card_get (store, card->card_no, &fresh, error))
    return FALSE;
  /* The card's number stays the caller's string: @postings may name the
   * card's account with it. */
  no = g_steal_pointer (&card->card_no);
  ct_store_card_clear (card);
  g_free (fresh.card_no);
  fresh.card_no = no;
  *card = fresh;
  return TRUE;
}

gboolean
ct_store_tx_insert (CtStore         *store,
                    CtStoreTx            *tx,
                    const CtStorePosting *postings,
                    guint            n_postings,
                    GError         **error)
{
  return store->backend->tx_insert (store, tx, postings, n_postings, error);
}

gboolean
ct_store_tx_get (CtStore *store,
                 int64_t  id,
                 CtStoreTx    *out,
                 GError **error)
{
  return store->backend->tx_get (store, id, out, error);
}

/**
 * ct_store_tx_refunded:
 * Sets @out_refunded to what refunds have given back of transaction @id
 * so far (0 when none).
 */
gboolean
ct_store_tx_refunded (CtStore  *store,
                      int64_t   id,
                      int64_t  *out_refunded,
                      GError  **error)
{
  return store->backend->tx_refunded (store, id, out_refunded, error);
}

/**
 * ct_store_refund_claim:
 * @total: what transaction @tx_id took, the most its refunds give back
 * @amount: what this refund gives back
 * @out_before: (out): what refunds had given back before this one
 *
 * Adds @amount to what refunds have given back of @tx_id, in the caller's
 * transaction, with one conditional write that the database decides: a
 * refund that would take the total beyond @total fails with
 * CT_STORE_ERROR_INSUFFICIENT (and @out_before then says what is given
 * back already), whatever refunds of it run at the same time.
 */
gboolean
ct_store_refund_claim (CtStore  *store,
                       int64_t   tx_id,
                       int64_t   total,
                       int64_t   amount,
                       int64_t  *out_before,
                       GError  **error)
{
  g_return_val_if_fail (amount > 0 && amount <= total, FALSE);
  return store->backend->refund_claim (store, tx_id, total, amount, out_before, error);
}

int64_t
ct_store_account_balance (CtStore    *store,
                          const char *account,
                          GError    **error)
{
  return store->backend->account_balance (store, account, error);
}

gboolean
ct_store_claim_key (CtStore    *store,
                    int64_t     till_id,
                    const char *key,
                    GError    **error)
{
  return store->backend->claim_key (store, till_id, key, error);
}

void
ct_store_unclaim_key (CtStore    *store,
                      int64_t     till_id,
                      const char *key)
{
  store->backend->unclaim_key (store, till_id, key);
}

gboolean
ct_store_key_get (CtStore         *store,
                  int64_t          till_id,
                  const char      *key,
                  CtStoreKeyState *out_state,
                  guint8           out_hash[32],
                  guint           *out_status,
                  char           **out_body,
                  GError         **error)
{
  return store->backend->key_get (store, till_id, key, out_state, out_hash, out_status, out_body, error);
}

gboolean
ct_store_key_put (CtStore     *store,
                  int64_t      till_id,
                  const char  *key,
                  const guint8 hash[32],
                  guint        status,
                  const char  *body,
                  GError     **error)
{
  return store->backend->key_put (store, till_id, key, hash, status, body, error);
}

gboolean
ct_store_key_expire (CtStore *store,
                     int64_t  older_than_ms,
                     GError **error)
{
  return store->backend->key_expire (store, older_than_ms, error);
}

GPtrArray *
ct_store_find_cards (CtStore    *store,
                     const char *phone,
                     const char *name,
                     guint       limit,
                     GError    **error)
{
  return store->backend->find_cards (store, phone, name, limit, error);
}

GPtrArray *
ct_store_card_history (CtStore    *store,
                       const char *card_no,
                       int64_t     from_ms,
                       int64_t     to_ms,
                       int64_t     before_id,
                       guint       limit,
                       GError    **error)
{
  return store->backend->card_history (store, card_no, from_ms, to_ms, before_id, limit, error);
}

GPtrArray *
ct_store_store_day (CtStore    *store,
                    const char *store_name,
                    const char *till,
                    int64_t     from_ms,
                    int64_t     to_ms,
                    int64_t     after_id,
                    guint       limit,
                    GError    **error)
{
  return store->backend->store_day (store, store_name, till, from_ms, to_ms, after_id, limit, error);
}

void
ct_store_day_totals_free (CtStoreDayTotals *t)
{
  g_free (t->store);
  g_free (t->till);
  g_free (t);
}

/**
 * ct_store_day_totals_fields:
 * @out: room for CT_STORE_DAY_TOTALS_N pointers
 *
 * Returns: how many of @t's fields CT_STORE_DAY_TOTALS_SQL fills, with
 *   their addresses in its column order in @out.
 */
guint
ct_store_day_totals_fields (CtStoreDayTotals *t,
                            int64_t          *out[])
{
  int64_t *fields[] = {
    &t->count, &t->topups, &t->bonus, &t->payments, &t->refunds, &t->adjustments, &t->imports,
    &t->voids, &t->void_bonus, &t->topup_count, &t->payment_count, &t->refund_count, &t->void_count,
    &t->adjustment_count, &t->import_count, &t->redeem_count, &t->points_redeemed, &t->redeemed_value,
  };
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    out[n++] = fields[i];
  for (guint i = 0; i < CT_N_TENDERS; i++)
    {
      out[n++] = &t->taken[i];
      out[n++] = &t->given_back[i];
    }
  for (guint i = 0; i < CT_N_TENDERS; i++)
    {
      out[n++] = &t->rest_taken[i];
      out[n++] = &t->rest_given_back[i];
    }
  g_assert (n == CT_STORE_DAY_TOTALS_N);
  return n;
}

void
ct_store_day_totals_add (CtStoreDayTotals       *sum,
                         const CtStoreDayTotals *t)
{
  int64_t *to[CT_STORE_DAY_TOTALS_N], *from[CT_STORE_DAY_TOTALS_N];
  guint n = ct_store_day_totals_fields (sum, to);

  ct_store_day_totals_fields ((CtStoreDayTotals *) t, from);
  for (guint i = 0; i < n; i++)
    *to[i] += *from[i];
}

GPtrArray *
ct_store_day_totals (CtStore    *store,
                     const char *store_name,
                     const char *till,
                     int64_t     from_ms,
                     int64_t     to_ms,
                     gboolean    by_till,
                     GError    **error)
{
  g_return_val_if_fail (by_till || store_name != NULL, NULL);

  return store->backend->day_totals (store, store_name, till, from_ms, to_ms, by_till, error);
}

gboolean
ct_store_ledger_check (CtStore       *store,
                       CtStoreLedgerCheck *out,
                       GError       **error)
{
  return store->backend->ledger_check (store, out, error);
}

gboolean
ct_store_shift_open (CtStore      *store,
                     CtStoreShift *shift,
                     GError      **error)
{
  return store->backend->shift_open (store, shift, error);
}

gboolean
ct_store_shift_close (CtStore            *store,
                      const CtStoreShift *shift,
                      GError            **error)
{
  return store->backend->shift_close (store, shift, error);
}

gboolean
ct_store_shift_get (CtStore      *store,
                    int64_t       id,
                    CtStoreShift *out,
                    GError      **error)
{
  return store->backend->shift_get (store, id, out, error);
}

int64_t
ct_store_shift_at (CtStore    *store,
                   const char *store_name,
                   const char *till,
                   int64_t     at_ms,
                   GError    **error)
{
  return store->backend->shift_at (store, store_name, till, at_ms, error);
}

GPtrArray *
ct_store_shift_list (CtStore    *store,
                     const char *store_name,
                     const char *till,
                     int64_t     from_ms,
                     int64_t     to_ms,
                     GError    **error)
{
  return store->backend->shift_list (store, store_name, till, from_ms, to_ms, error);
}

gboolean
ct_store_shift_totals (CtStore          *store,
                       int64_t           shift_id,
                       CtStoreDayTotals *out,
                       GError          **error)
{
  memset (out, 0, sizeof *out);
  return store->backend->shift_totals (store, shift_id, out, error);
}

gboolean
ct_store_shift_outcome_cash (CtStore  *store,
                             int64_t   shift_id,
                             int64_t   amount,
                             int64_t   audit_id,
                             int64_t   at_ms,
                             GError  **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (shift_id > 0 && amount > 0, FALSE);

  return store->backend->shift_outcome_cash (store, shift_id, amount, audit_id, at_ms, error);
}

gboolean
ct_store_import_row (CtStore                *store,
                     const CtStoreTx        *origin,
                     const CtStoreImportRow *row,
                     CtStoreImportOutcome   *out_outcome,
                     char                  **out_other_batch,
                     GError                **error)
{
  return store->backend->import_row (store, origin, row, out_outcome, out_other_batch, error);
}

/**
 * ct_store_import_rows:
 * @outcomes: (out caller-allocates): one per row
 * @other_batches: (out caller-allocates): one per row, set (to free) for a
 *   card that exists and that another batch imported
 *
 * ct_store_import_row() for each of @n rows, in one call: the card of
 * every row first, then the transactions of those inserted.
 */
gboolean
ct_store_import_rows (CtStore                *store,
                      const CtStoreTx        *origin,
                      const CtStoreImportRow *rows,
                      guint                   n,
                      CtStoreImportOutcome   *outcomes,
                      char                  **other_batches,
                      GError                **error)
{
  if (store->backend->import_rows != NULL)
    return store->backend->import_rows (store, origin, rows, n, outcomes, other_batches, error);
  for (guint i = 0; i < n; i++)
    if (!store->backend->import_row (store, origin, &rows[i], &outcomes[i], &other_batches[i], error))
      return FALSE;
  return TRUE;
}

gboolean
ct_store_import_finish (CtStore                  *store,
                        const char               *batch_id,
                        const CtStoreImportBatch *counts,
                        GError                  **error)
{
  return store->backend->import_finish (store, batch_id, counts, error);
}

gboolean
ct_store_import_batch_get (CtStore            *store,
                           const char         *batch_id,
                           CtStoreImportBatch *out,
                           GError            **error)
{
  return store->backend->import_batch_get (store, batch_id, out, error);
}

/* Wallet connectors and their outbox. */

static void
wallet_refusal_free (gpointer data)
{
  CtStoreWalletRefusal *r = data;

  g_free (r->card_no);
  g_free (r->method);
  g_free (r->request_no);
  g_free (r->reason);
  g_free (r);
}

void
ct_store_wallet_status_clear (CtStoreWalletStatus *status)
{
  g_clear_pointer (&status->last_error, g_free);
  g_clear_pointer (&status->refusals, g_ptr_array_unref);
  memset (status, 0, sizeof *status);
}

/* A backend that has not got the wallet tables yet says so in a sentence
 * instead of crashing. */
static gboolean
wallet_missing (CtStore  *store,
                GError  **error)
{
  g_set_error (error, CT_STORE_ERROR, CT_STORE_ERROR_FAILED,
               "the %s store has no wallet outbox", store->backend->name);
  return FALSE;
}

gboolean
ct_store_wallet_connector_put (CtStore            *store,
                               CtWalletConnector  *connector,
                               GError            **error)
{
  if (store->backend->wallet_connector_put == NULL)
    return wallet_missing (store, error);
  return store->backend->wallet_connector_put (store, connector, error);
}

gboolean
ct_store_wallet_connector_remove (CtStore       *store,
                                  const char    *merchant,
                                  CtWalletKind   kind,
                                  GError       **error)
{
  if (store->backend->wallet_connector_remove == NULL)
    return wallet_missing (store, error);
  return store->backend->wallet_connector_remove (store, merchant, kind, error);
}

GPtrArray *
ct_store_wallet_connectors (CtStore  *store,
                            GError  **error)
{
  /* No wallet tables: no connectors, so the ledger writes no messages. */
  if (store->backend->wallet_connectors == NULL)
    return g_ptr_array_new_with_free_func ((GDestroyNotify) ct_wallet_connector_free);
  return store->backend->wallet_connectors (store, error);
}

gboolean
ct_store_wallet_enqueue (CtStore          *store,
                         CtWalletMessage  *msg,
                         int64_t           now_ms,
                         GError          **error)
{
  if (store->backend->wallet_enqueue == NULL)
    return wallet_missing (store, error);
  return store->backend->wallet_enqueue (store, msg, now_ms, error);
}

GPtrArray *
ct_store_wallet_due (CtStore  *store,
                     int64_t   now_ms,
                     guint     limit,
                     int64_t   lease_until_ms,
                     GError  **error)
{
  if (store->backend->wallet_due == NULL)
    return g_ptr_array_new_with_free_func ((GDestroyNotify) ct_wallet_message_free);
  return store->backend->wallet_due (store, now_ms, limit, lease_until_ms, error);
}

gboolean
ct_store_wallet_link_get (CtStore     *store,
                          int64_t      connector_id,
                          const char  *card_no,
                          char       **out_biz_card_no,
                          GError     **error)
{
  if (store->backend->wallet_link_get == NULL)
    return wallet_missing (store, error);
  return store->backend->wallet_link_get (store, connector_id, card_no, out_biz_card_no, error);
}

gboolean
ct_store_wallet_link_put (CtStore     *store,
                          int64_t      connector_id,
                          const char  *card_no,
                          const char  *biz_card_no,
                          GError     **error)
{
  if (store->backend->wallet_link_put == NULL)
    return wallet_missing (store, error);
  return store->backend->wallet_link_put (store, connector_id, card_no, biz_card_no, error);
}

gboolean
ct_store_wallet_settle (CtStore          *store,
                        int64_t           id,
                        CtWalletOutcome   outcome,
                        int64_t           next_at_ms,
                        const char       *reason,
                        int64_t           now_ms,
                        GError          **error)
{
  if (store->backend->wallet_settle == NULL)
    return wallet_missing (store, error);
  return store->backend->wallet_settle (store, id, outcome, next_at_ms, reason, now_ms, error);
}

gboolean
ct_store_wallet_status (CtStore              *store,
                        int64_t               connector_id,
                        int64_t               since_ms,
                        CtStoreWalletStatus  *out,
                        GError              **error)
{
  memset (out, 0, sizeof *out);
  if (store->backend->wallet_status == NULL)
    return wallet_missing (store, error);
  out->refusals = g_ptr_array_new_with_free_func (wallet_refusal_free);
  return store->backend->wallet_status (store, connector_id, since_ms, out, error);
}

gboolean
ct_store_member_link_put (CtStore       *store,
                          const char    *card_no,
                          const guint8   token_hash[32],
                          const guint8  *secret,
                          gsize          secret_len,
                          int64_t        now_ms,
                          GError       **error)
{
  return store->backend->member_link_put (store, card_no, token_hash, secret, secret_len, now_ms, error);
}

gboolean
ct_store_member_link_get (CtStore       *store,
                          const guint8   token_hash[32],
                          int64_t       *out_merchant,
                          char         **out_card_no,
                          GBytes       **out_secret,
                          GError       **error)
{
  return store->backend->member_link_get (store, token_hash, out_merchant, out_card_no, out_secret, error);
}

gboolean
ct_store_member_secret_get (CtStore     *store,
                            const char  *card_no,
                            GBytes     **out_secret,
                            GError     **error)
{
  return store->backend->member_secret_get (store, card_no, out_secret, error);
}

gboolean
ct_store_member_code_take (CtStore     *store,
                           const char  *card_no,
                           int64_t      step,
                           GError     **error)
{
  return store->backend->member_code_take (store, card_no, step, error);
}

gboolean
ct_store_member_pin_get (CtStore          *store,
                         const char       *card_no,
                         char            **out_hash,
                         CtStorePinGuard  *out_guard,
                         GError          **error)
{
  return store->backend->member_pin_get (store, card_no, out_hash, out_guard, error);
}

gboolean
ct_store_member_pin_put (CtStore     *store,
                         const char  *card_no,
                         const char  *pin_hash,
                         int64_t      now_ms,
                         GError     **error)
{
  return store->backend->member_pin_put (store, card_no, pin_hash, now_ms, error);
}

gboolean
ct_store_member_pin_guard_put (CtStore               *store,
                               const char            *card_no,
                               const CtStorePinGuard *guard,
                               GError               **error)
{
  return store->backend->member_pin_guard_put (store, card_no, guard, error);
}

gboolean
ct_store_redemption_put (CtStore  *store,
                         int64_t   tx_id,
                         int64_t   points,
                         int64_t   value,
                         GError  **error)
{
  return store->backend->redemption_put (store, tx_id, points, value, error);
}

gboolean
ct_store_redemption_get (CtStore  *store,
                         int64_t   tx_id,
                         int64_t  *out_points,
                         int64_t  *out_value,
                         GError  **error)
{
  return store->backend->redemption_get (store, tx_id, out_points, out_value, error);
}

void
ct_store_level_clear (CtStoreLevel *level)
{
  g_clear_pointer (&level->id, g_free);
  g_clear_pointer (&level->name, g_free);
}

void
ct_store_level_free (CtStoreLevel *level)
{
  ct_store_level_clear (level);
  g_free (level);
}

GPtrArray *
ct_store_level_list (CtStore  *store,
                     GError  **error)
{
  return store->backend->level_list (store, error);
}

gboolean
ct_store_level_put (CtStore             *store,
                    const CtStoreLevel  *level,
                    GError             **error)
{
  return store->backend->level_put (store, level, error);
}

gboolean
ct_store_level_remove (CtStore     *store,
                       const char  *id,
                       GError     **error)
{
  return store->backend->level_remove (store, id, error);
}

gboolean
ct_store_card_add_spend (CtStore     *store,
                         const char  *card_no,
                         int64_t      delta,
                         int64_t     *out_spend,
                         GError     **error)
{
  return store->backend->card_add_spend (store, card_no, delta, out_spend, error);
}

gboolean
ct_store_benefit_put (CtStore               *store,
                      int64_t                tx_id,
                      const CtStoreBenefit  *benefit,
                      GError               **error)
{
  return store->backend->benefit_put (store, tx_id, benefit, error);
}
