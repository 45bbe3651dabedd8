/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The keyboard-wedge rule (docs/scanner.md): a scanner left in OS keyboard mode
 * types a code much faster than a person. Every key reaches the focused
 * widget (and its input method) as usual; the rule only watches the gaps.
 * A burst of at least CT_WEDGE_MIN_SCAN printable characters with gaps
 * within the threshold, ended by Enter, KP-Enter or Tab within the
 * threshold, is a scan: the terminator is swallowed and the burst's
 * characters are taken back out of the field (ct_wedge_take_back()). */

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
  CT_WEDGE_PASS,  /* let this event through to the focused widget */
  CT_WEDGE_SCAN,  /* swallow this event: it ended a scan */
} CtWedgeVerdict;

typedef struct
{
  CtWedgeVerdict  verdict;
  gboolean        burst_started; /* this key began a burst: note the field as it
                                  * is now, before the key reaches it */
  char           *scan;          /* the scanned text when verdict is CT_WEDGE_SCAN */
} CtWedgeResult;

typedef struct _CtWedge CtWedge;

CtWedge  *ct_wedge_new            (guint          threshold_ms);
void      ct_wedge_free           (CtWedge       *self);
void      ct_wedge_set_threshold  (CtWedge       *self,
                                   guint          threshold_ms);
guint     ct_wedge_get_threshold  (CtWedge       *self);
guint     ct_wedge_get_burst_length (CtWedge     *self);

void      ct_wedge_feed           (CtWedge       *self,
                                   guint          keyval,
                                   gunichar       ch,
                                   guint32        time_ms,
                                   gboolean       is_key_down,
                                   gboolean       is_repeat,
                                   gboolean       is_modifier,
                                   CtWedgeResult *result);
void      ct_wedge_reset          (CtWedge       *self);

void      ct_wedge_result_clear   (CtWedgeResult *result);

gboolean  ct_wedge_take_back      (const char    *before,
                                   int            selection_start,
                                   int            selection_end,
                                   const char    *after,
                                   const char    *scan,
                                   char         **out_text,
                                   int           *out_position,
                                   char         **out_missing);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtWedge, ct_wedge_free)

G_END_DECLS
