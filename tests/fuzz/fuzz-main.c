/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "fuzz-main"

#include "config.h"

/* A plain driver for LLVMFuzzerTestOneInput targets, for compilers without
 * libFuzzer (gcc). It replays every file of the corpus directories given on
 * the command line, then feeds mutations of them and fixed-seed random input
 * for FUZZ_SECONDS seconds (default 3). The seed is fixed so a failure found
 * here is found again on the next run. */

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
run_one (const uint8_t *data,
         size_t         size)
{
  /* A private copy, exactly sized, so the sanitizers see overreads. */
  uint8_t *copy = g_malloc (size > 0 ? size : 1);

  if (size > 0)
    memcpy (copy, data, size);
  LLVMFuzzerTestOneInput (copy, size);
  g_free (copy);
}

static void
load_corpus (const char *dir,
             GPtrArray  *corpus)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      char *contents = NULL;
      gsize len = 0;

      if (g_file_get_contents (path, &contents, &len, NULL))
        g_ptr_array_add (corpus, g_bytes_new_take (contents, len));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GPtrArray) corpus = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261122);
  const char *secs_env = g_getenv ("FUZZ_SECONDS");
  double seconds = secs_env ? g_ascii_strtod (secs_env, NULL) : 3.0;
  gint64 deadline;
  guint64 runs = 0;
  uint8_t buf[4096];

  for (int i = 1; i < argc; i++)
    load_corpus (argv[i], corpus);

  for (guint i = 0; i < corpus->len; i++)
    {
      gsize len;
      const uint8_t *data = g_bytes_get_data (corpus->pdata[i], &len);

      run_one (data, len);
      runs++;
    }

  deadline = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (g_get_monotonic_time () < deadline)
    {
      for (int batch = 0; batch < 64; batch++)
        {
          size_t len;

          if (corpus->len > 0 && g_rand_boolean (rand))
            {
              gsize clen;
              const uint8_t *seed = g_bytes_get_data (corpus->pdata[g_rand_int_range (rand, 0, corpus->len)], &clen);
              int flips;

              len = MIN (clen, sizeof buf);
              if (len > 0)
                memcpy (buf, seed, len);
              /* Truncate, flip, insert or duplicate a few bytes. */
              if (len > 0 && g_rand_int_range (rand, 0, 4) == 0)
                len = g_rand_int_range (rand, 0, len + 1);
              flips = g_rand_int_range (rand, 1, 8);
              for (int f = 0; f < flips && len > 0; f++)
                {
                  size_t at = g_rand_int_range (rand, 0, len);

                  switch (g_rand_int_range (rand, 0, 4))
                    {
                    case 0:
                      buf[at] ^= (uint8_t) (1u << g_rand_int_range (rand, 0, 8));
                      break;
                    case 1:
                      buf[at] = (uint8_t) g_rand_int_range (rand, 0, 256);
                      break;
                    case 2:
                      buf[at] = "0123456789,.\"{}[]:-\n\r"[g_rand_int_range (rand, 0, 21)];
                      break;
                    default:
                      if (len < sizeof buf)
                        {
                          memmove (buf + at + 1, buf + at, len - at);
                          len++;
                        }
                      break;
                    }
                }
            }
          else
            {
              len = g_rand_int_range (rand, 0, 512);
              for (size_t j = 0; j < len; j++)
                buf[j] = (uint8_t) g_rand_int_range (rand, 0, 256);
            }
          run_one (buf, len);
          runs++;
        }
    }

  printf ("fuzz: %" G_GUINT64_FORMAT " inputs (%u from the corpus), no crash\n", runs, corpus->len);
  return 0;
}
