/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The keyboard-wedge rule (docs/scanner.md): a scanner left in OS keyboard mode
 * types a code much faster than a person. Printable keys are held back while
 * the gaps between them stay within the threshold; at least
 * CT_WEDGE_MIN_SCAN characters ended by Enter, KP-Enter or Tab is a scan and
 * never reaches the focused widget. A longer gap or another key ends the
 * burst and the held characters are released to the focused widget. */

#define CT_WEDGE_DEFAULT_THRESHOLD_MS 30
#define CT_WEDGE_MIN_SCAN 4
#define CT_WEDGE_MAX_BURST 256

/* X11/GDK key symbols the rule needs; the core has no GDK. */
#define CT_WEDGE_KEY_TAB          0xff09
#define CT_WEDGE_KEY_ISO_LEFT_TAB 0xfe20
#define CT_WEDGE_KEY_RETURN       0xff0d
#define CT_WEDGE_KEY_KP_ENTER     0xff8d

typedef enum
{
  CT_WEDGE_PASS,  /* let this event through (after inserting any released text) */
  CT_WEDGE_HOLD,  /* swallow this event: its character is held in the burst */
  CT_WEDGE_SCAN,  /* swallow this event: it ended a scan */
} CtWedgeVerdict;

typedef struct
{
  CtWedgeVerdict  verdict;
  char           *scan;     /* the scanned text when verdict is CT_WEDGE_SCAN */
  char           *release;  /* held text for the focused widget, to insert before
                             * the event is let through; NULL when none */
} CtWedgeResult;

typedef struct _CtWedge CtWedge;

CtWedge  *ct_wedge_new            (guint          threshold_ms);
void      ct_wedge_free           (CtWedge       *self);
void      ct_wedge_set_threshold  (CtWedge       *self,
                                   guint          threshold_ms);
guint     ct_wedge_get_threshold  (CtWedge       *self);
gboolean  ct_wedge_is_holding     (CtWedge       *self);

void      ct_wedge_feed           (CtWedge       *self,
                                   guint          keyval,
                                   gunichar       ch,
                                   guint32        time_ms,
                                   gboolean       is_key_down,
                                   gboolean       is_repeat,
                                   gboolean       is_modifier,
                                   CtWedgeResult *result);
char     *ct_wedge_flush_due      (CtWedge       *self,
                                   guint32        now_ms);
char     *ct_wedge_flush          (CtWedge       *self);

void      ct_wedge_result_clear   (CtWedgeResult *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtWedge, ct_wedge_free)

G_END_DECLS
