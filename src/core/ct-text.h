/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Text that came from a person (a member's name, an order reference, an
 * operator, a reason) on its way to a terminal or paper: control
 * characters (C0, DEL, C1) and the invisible ones that reorder text (line
 * and paragraph separators, bidi embeddings and isolates) are written as
 * \xNN or \uNNNN, so a name typed with an escape sequence can neither drive
 * a terminal nor hide on paper. Invalid UTF-8 is repaired. NULL gives "". */
char *ct_text_escape_controls (const char *text);

G_END_DECLS
