/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CT_CARD_NUMBER_ERROR (ct_card_number_error_quark ())

typedef enum
{
  CT_CARD_NUMBER_ERROR_SYNTAX,
  CT_CARD_NUMBER_ERROR_CHECK_DIGIT,
  CT_CARD_NUMBER_ERROR_IN_ISSUER_RANGE,
  CT_CARD_NUMBER_ERROR_PAYLOAD,
} CtCardNumberError;

typedef enum
{
  CT_CARD_NUMBER_INVALID,
  CT_CARD_NUMBER_ISSUED,  /* 16 digits under the issuer prefix, Luhn valid */
  CT_CARD_NUMBER_LEGACY,  /* 4-32 of [0-9A-Z-], not 16 digits under the prefix */
} CtCardNumberKind;

#define CT_CARD_NUMBER_ISSUED_LENGTH 16
#define CT_CARD_NUMBER_DEFAULT_PREFIX "8888"

GQuark           ct_card_number_error_quark (void);

gboolean         ct_luhn_valid              (const char  *digits);
char             ct_luhn_check_digit        (const char  *digits_without_check);

char            *ct_card_number_normalize   (const char  *text,
                                             const char  *issuer_prefix,
                                             CtCardNumberKind *out_kind,
                                             GError     **error);
char            *ct_card_number_generate    (const char  *issuer_prefix,
                                             GRand       *rand);
gboolean         ct_card_number_in_issuer_range (const char *card_no,
                                                 const char *issuer_prefix);
char            *ct_card_number_from_scan   (const char  *payload,
                                             const char  *issuer_prefix,
                                             GError     **error);

G_END_DECLS
