/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* How a till reaches its card service (docs/architecture.md). With no service_url
 * the client uses the embedded service of its data directory. */
typedef struct
{
  char  *service_url;       /* "https://host:port"; NULL = embedded service */
  char  *token;             /* till token */
  char  *token_file;        /* nullable: a file whose first line is the token */
  char  *ca_file;           /* nullable: CA bundle / certificate file */
  char  *pin_pubkey;        /* nullable: "sha256//BASE64" */
  char  *data_dir;          /* outbox, member cache, embedded service */
  char  *operator_name;     /* recorded as "operator" on every request */
  guint  connect_timeout_ms; /* default 3000 */
  guint  request_timeout_ms; /* default 10000 */
  guint  queue_wait_ms;     /* how long a command waits before "queued"; default 30000 */
  /* Start refreshes the merchant's settings (GET /v1/merchant) unless the
   * stored ones are younger than this; 0 (the default): always. */
  guint  merchant_max_age_s;
  /* Embedded mode: the first manager's PIN when this client creates the
   * service; NULL lets the client generate one (the CLI prints it once). */
  char  *first_manager_pin;
} CtClientConfig;

CtClientConfig *ct_client_config_new       (void);
CtClientConfig *ct_client_config_copy      (const CtClientConfig *config);
void            ct_client_config_free      (CtClientConfig       *config);

/* Fills the fields still NULL from the environment (CARDTILL_SERVICE,
 * CARDTILL_TOKEN, CARDTILL_TOKEN_FILE, CARDTILL_CA, CARDTILL_PIN_PUBKEY,
 * CARDTILL_DATA_DIR, CARDTILL_OPERATOR), then from
 * $XDG_CONFIG_HOME/cardtill/till.ini (group [till] or [service], keys
 * service, token, token-file, ca, pin-pubkey, data-dir, operator), then
 * defaults (data dir $XDG_DATA_HOME/cardtill, operator = user name). The
 * token and the token file come from the first source that gives either;
 * a token file is then read into @token. A till.ini that exists but has a
 * line that is not a comment, a group or key=value, an unknown group or
 * key, or a key twice is an error naming the file and the line. A till.ini
 * holding a token, or a token file, that others than its owner may read
 * gets a warning on stderr (once per file and process). */
gboolean        ct_client_config_fill_defaults (CtClientConfig *config,
                                                GError        **error);
/* Same, reading the ini file at @ini_path instead of the default (tests). */
gboolean        ct_client_config_fill_from  (CtClientConfig *config,
                                             const char     *ini_path,
                                             gboolean        use_environment,
                                             GError        **error);

/* Warns once on stderr when @path, holding @what ("the till token"), can be
 * read by others than its owner. */
void            ct_client_config_warn_readable (const char  *path,
                                                const char  *what);

/* Checks the URL: https://, or http:// only to a loopback address. */
gboolean        ct_client_config_check_url (const char      *url,
                                            GError         **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtClientConfig, ct_client_config_free)

G_END_DECLS
