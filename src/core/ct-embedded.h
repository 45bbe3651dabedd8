/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The embedded card service (docs/architecture.md): with no service configured,
 * each data directory has one private `cardtill-service` on 127.0.0.1 with
 * an SQLite file and a self-signed certificate the client pins. The first
 * client creates and starts it and records port, pid and pin beside the
 * outbox (under a lock); the others join it; the last one to leave stops
 * it. Clients hold a shared lock on a "users" file while they use it, so a
 * client killed with -9 stops counting by itself. */

typedef struct _CtEmbedded CtEmbedded;

/* TRUE when the embedded service of @data_dir was created already. */
gboolean    ct_embedded_exists            (const char  *data_dir);

/* Joins (starting, or first creating) the embedded service. On first run
 * the first manager ("manager") gets @first_manager_pin, or a generated
 * 6-digit PIN returned in *out_generated_pin (else NULL there). */
CtEmbedded *ct_embedded_join              (const char  *data_dir,
                                           const char  *first_manager_pin,
                                           char       **out_created_pin,
                                           GError     **error);
/* Leaves; stops the service when no other client uses it. Frees. */
void        ct_embedded_leave             (CtEmbedded  *embedded);

const char *ct_embedded_get_url           (CtEmbedded  *embedded);
const char *ct_embedded_get_token         (CtEmbedded  *embedded);
const char *ct_embedded_get_ca_file       (CtEmbedded  *embedded);
const char *ct_embedded_get_pin_pubkey    (CtEmbedded  *embedded);
const char *ct_embedded_get_db_path       (CtEmbedded  *embedded);
int         ct_embedded_get_pid           (CtEmbedded  *embedded);

/* The cardtill-service binary: $CARDTILL_SERVICE_BIN, else next to the
 * running program (or ../service/ in the build tree), else CT_BINDIR. */
char       *ct_embedded_find_service_binary (void);

G_END_DECLS
