/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "fuzz-wallet-answer"
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "ct-wallet-alipay.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* An Alipay gateway answer is untrusted bytes from the network: finding
 * its response member and signature must never read outside them, and a
 * member it finds is an object lying inside the answer, for the signature
 * check to cover exactly those bytes. */
int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *raw = (const char *) data;
  const char *methods[] = { CT_WALLET_METHOD_OPEN, CT_WALLET_METHOD_SYNC };

  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      g_autofree char *sign = NULL;
      const char *member = NULL;
      gsize member_len = 0;

      if (!ct_alipay_answer_split (raw, size, methods[i], &member, &member_len, &sign, NULL))
        continue;
      g_assert (member >= raw && member + member_len <= raw + size);
      g_assert (member_len >= 2 && member[0] == '{' && member[member_len - 1] == '}');
    }
  return 0;
}
