/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ct-sqlite-walbuf"
#include "config.h"

#include <string.h>

#include "ct-sqlite-walbuf.h"

/* SQLite writes each frame of its write-ahead log as two pwrite() calls,
 * the 24-byte frame header and the page: a commit group of the service
 * changes about 50 pages, so about 100 system calls before its one
 * fdatasync(). This VFS wraps the default one and gathers the log's
 * writes that follow one another into one buffer, written with one
 * pwrite() when SQLite syncs, reads, asks the size, truncates or closes
 * the log, writes anywhere else in it, or the buffer is full.
 *
 * Nothing reaches the disk later than before: the commit's sync writes
 * the buffer first. Other connections find a commit's frames through the
 * log's index only after that sync, so this is only sound with
 * synchronous=FULL (every commit syncs the log), which is how the store
 * opens every connection. Only the log is buffered; the database file and
 * everything else go straight through. */

#define BUF_MIN (64 * 1024)
#define BUF_MAX (2 * 1024 * 1024)
/* The default VFS writes at most 128 KiB - 1 bytes a call (it masks the
 * length with 0x1ffff) and takes a write whose rest is a multiple of
 * 128 KiB for a full disk: the buffer goes out in pieces below that. */
#define WRITE_MAX (124 * 1024)

typedef struct
{
  sqlite3_file   base;
  sqlite3_file  *real;   /* the default VFS's file, right after this struct */
  gboolean       wal;
  guint8        *buf;
  gsize          buf_size;
  gsize          buf_len;
  sqlite3_int64  buf_off;
} WalFile;

static sqlite3_vfs walbuf_vfs;
static sqlite3_vfs *real_vfs;

static int
flush (WalFile *f)
{
  int rc = SQLITE_OK;

  for (gsize done = 0; done < f->buf_len && rc == SQLITE_OK; done += WRITE_MAX)
    rc = f->real->pMethods->xWrite (f->real, f->buf + done, (int) MIN (f->buf_len - done, WRITE_MAX),
                                    f->buf_off + (sqlite3_int64) done);
  f->buf_len = 0;
  return rc;
}

static int
wb_close (sqlite3_file *file)
{
  WalFile *f = (WalFile *) file;
  int rc = flush (f);
  int rc2 = f->real->pMethods->xClose (f->real);

  g_clear_pointer (&f->buf, g_free);
  return rc != SQLITE_OK ? rc : rc2;
}

static int
wb_read (sqlite3_file *file,
         void         *out,
         int           amt,
         sqlite3_int64 off)
{
  WalFile *f = (WalFile *) file;
  int rc = flush (f);

  return rc != SQLITE_OK ? rc : f->real->pMethods->xRead (f->real, out, amt, off);
}

static int
wb_write (sqlite3_file *file,
          const void   *data,
          int           amt,
          sqlite3_int64 off)
{
  WalFile *f = (WalFile *) file;
  int rc;

  if (!f->wal)
    return f->real->pMethods->xWrite (f->real, data, amt, off);
  if (f->buf_len > 0 && (off != f->buf_off + (sqlite3_int64) f->buf_len || f->buf_len + amt > BUF_MAX))
    {
      if ((rc = flush (f)) != SQLITE_OK)
        return rc;
    }
  if (amt > WRITE_MAX)
    return f->real->pMethods->xWrite (f->real, data, amt, off);
  if (f->buf_len + amt > f->buf_size)
    {
      gsize size = MAX (f->buf_size, BUF_MIN);

      while (size < f->buf_len + amt)
        size *= 2;
      f->buf = g_realloc (f->buf, size);
      f->buf_size = size;
    }
  if (f->buf_len == 0)
    f->buf_off = off;
  memcpy (f->buf + f->buf_len, data, amt);
  f->buf_len += amt;
  return SQLITE_OK;
}

static int
wb_truncate (sqlite3_file *file,
             sqlite3_int64 size)
{
  WalFile *f = (WalFile *) file;
  int rc = flush (f);

  return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate (f->real, size);
}

static int
wb_sync (sqlite3_file *file,
         int           flags)
{
  WalFile *f = (WalFile *) file;
  int rc = flush (f);

  return rc != SQLITE_OK ? rc : f->real->pMethods->xSync (f->real, flags);
}

static int
wb_file_size (sqlite3_file  *file,
              sqlite3_int64 *out)
{
  WalFile *f = (WalFile *) file;
  int rc = flush (f);

  return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize (f->real, out);
}

static int
wb_lock (sqlite3_file *file,
         int           level)
{
  WalFile *f = (WalFile *) file;

  return f->real->pMethods->xLock (f->real, level);
}

static int
wb_unlock (sqlite3_file *file,
           int           level)
{
  WalFile *f = (WalFile *) file;
  int rc = flush (f);

  return rc != SQLITE_OK ? rc : f->real->pMethods->xUnlock (f->real, level);
}

static int
wb_check_reserved (sqlite3_file *file,
                   int          *out)
{
  WalFile *f = (WalFile *) file;

  return f->real->pMethods->xCheckReservedLock (f->real, out);
}

static int
wb_file_control (sqlite3_file *file,
                 int           op,
                 void         *arg)
{
  WalFile *f = (WalFile *) file;
  int rc = flush (f);

  if (rc != SQLITE_OK)
    return rc;
  /* Names this VFS in SQLite's own reports (PRAGMA vfs_list et al.). */
  if (op == SQLITE_FCNTL_VFSNAME)
    {
      rc = f->real->pMethods->xFileControl (f->real, op, arg);
      if (rc == SQLITE_OK && arg != NULL)
        {
          char **name = arg;
          char *outer = sqlite3_mprintf ("%s/%z", walbuf_vfs.zName, *name);

          *name = outer;
        }
      return rc;
    }
  return f->real->pMethods->xFileControl (f->real, op, arg);
}

static int
wb_sector_size (sqlite3_file *file)
{
  WalFile *f = (WalFile *) file;

  return f->real->pMethods->xSectorSize (f->real);
}

static int
wb_device_characteristics (sqlite3_file *file)
{
  WalFile *f = (WalFile *) file;

  return f->real->pMethods->xDeviceCharacteristics (f->real);
}

static int
wb_shm_map (sqlite3_file  *file,
            int            region,
            int            size,
            int            extend,
            void volatile **out)
{
  WalFile *f = (WalFile *) file;

  return f->real->pMethods->xShmMap (f->real, region, size, extend, out);
}

static int
wb_shm_lock (sqlite3_file *file,
             int           offset,
             int           n,
             int           flags)
{
  WalFile *f = (WalFile *) file;

  return f->real->pMethods->xShmLock (f->real, offset, n, flags);
}

static void
wb_shm_barrier (sqlite3_file *file)
{
  WalFile *f = (WalFile *) file;

  f->real->pMethods->xShmBarrier (f->real);
}

static int
wb_shm_unmap (sqlite3_file *file,
              int           delete_flag)
{
  WalFile *f = (WalFile *) file;

  return f->real->pMethods->xShmUnmap (f->real, delete_flag);
}

static int
wb_fetch (sqlite3_file  *file,
          sqlite3_int64  off,
          int            amt,
          void         **out)
{
  WalFile *f = (WalFile *) file;
  int rc = flush (f);

  return rc != SQLITE_OK ? rc : f->real->pMethods->xFetch (f->real, off, amt, out);
}

static int
wb_unfetch (sqlite3_file *file,
            sqlite3_int64 off,
            void         *p)
{
  WalFile *f = (WalFile *) file;

  return f->real->pMethods->xUnfetch (f->real, off, p);
}

static const sqlite3_io_methods walbuf_methods = {
  3,
  wb_close,
  wb_read,
  wb_write,
  wb_truncate,
  wb_sync,
  wb_file_size,
  wb_lock,
  wb_unlock,
  wb_check_reserved,
  wb_file_control,
  wb_sector_size,
  wb_device_characteristics,
  wb_shm_map,
  wb_shm_lock,
  wb_shm_barrier,
  wb_shm_unmap,
  wb_fetch,
  wb_unfetch,
};

static int
wb_open (sqlite3_vfs  *vfs,
         const char   *name,
         sqlite3_file *file,
         int           flags,
         int          *out_flags)
{
  WalFile *f = (WalFile *) file;
  int rc;

  memset (f, 0, sizeof *f);
  f->real = (sqlite3_file *) (f + 1);
  rc = real_vfs->xOpen (real_vfs, name, f->real, flags, out_flags);
  /* The default VFS's files are version 3 (shared memory, mmap); a file
   * that failed to open has no methods and is not closed. */
  if (f->real->pMethods == NULL)
    return rc;
  g_assert (f->real->pMethods->iVersion >= 3);
  f->wal = (flags & SQLITE_OPEN_WAL) != 0;
  f->base.pMethods = &walbuf_methods;
  return rc;
}

/* Everything but opening a file is the default VFS's own. */
static int
wb_delete (sqlite3_vfs *vfs, const char *name, int sync_dir)
{
  return real_vfs->xDelete (real_vfs, name, sync_dir);
}

static int
wb_access (sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
  return real_vfs->xAccess (real_vfs, name, flags, out);
}

static int
wb_full_pathname (sqlite3_vfs *vfs, const char *name, int n, char *out)
{
  return real_vfs->xFullPathname (real_vfs, name, n, out);
}

static void *
wb_dl_open (sqlite3_vfs *vfs, const char *name)
{
  return real_vfs->xDlOpen (real_vfs, name);
}

static void
wb_dl_error (sqlite3_vfs *vfs, int n, char *out)
{
  real_vfs->xDlError (real_vfs, n, out);
}

static void (*wb_dl_sym (sqlite3_vfs *vfs, void *lib, const char *sym)) (void)
{
  return real_vfs->xDlSym (real_vfs, lib, sym);
}

static void
wb_dl_close (sqlite3_vfs *vfs, void *lib)
{
  real_vfs->xDlClose (real_vfs, lib);
}

static int
wb_randomness (sqlite3_vfs *vfs, int n, char *out)
{
  return real_vfs->xRandomness (real_vfs, n, out);
}

static int
wb_sleep (sqlite3_vfs *vfs, int us)
{
  return real_vfs->xSleep (real_vfs, us);
}

static int
wb_current_time (sqlite3_vfs *vfs, double *out)
{
  return real_vfs->xCurrentTime (real_vfs, out);
}

static int
wb_get_last_error (sqlite3_vfs *vfs, int n, char *out)
{
  return real_vfs->xGetLastError ? real_vfs->xGetLastError (real_vfs, n, out) : 0;
}

static int
wb_current_time_int64 (sqlite3_vfs *vfs, sqlite3_int64 *out)
{
  return real_vfs->xCurrentTimeInt64 (real_vfs, out);
}

/**
 * ct_sqlite_walbuf_vfs:
 * The name of the VFS to open the store's connections with, registered
 * (not as the default) on first use.
 */
const char *
ct_sqlite_walbuf_vfs (void)
{
  static gsize made;

  if (g_once_init_enter (&made))
    {
      real_vfs = sqlite3_vfs_find (NULL);
      g_assert (real_vfs != NULL && real_vfs->iVersion >= 2);
      walbuf_vfs = (sqlite3_vfs) {
        .iVersion = 2,
        .szOsFile = (int) sizeof (WalFile) + real_vfs->szOsFile,
        .mxPathname = real_vfs->mxPathname,
        .zName = "ct-walbuf",
        .xOpen = wb_open,
        .xDelete = wb_delete,
        .xAccess = wb_access,
        .xFullPathname = wb_full_pathname,
        .xDlOpen = wb_dl_open,
        .xDlError = wb_dl_error,
        .xDlSym = wb_dl_sym,
        .xDlClose = wb_dl_close,
        .xRandomness = wb_randomness,
        .xSleep = wb_sleep,
        .xCurrentTime = wb_current_time,
        .xGetLastError = wb_get_last_error,
        .xCurrentTimeInt64 = wb_current_time_int64,
      };
      if (sqlite3_vfs_register (&walbuf_vfs, 0) != SQLITE_OK)
        g_error ("cannot register the %s SQLite VFS", walbuf_vfs.zName);
      g_once_init_leave (&made, 1);
    }
  return walbuf_vfs.zName;
}
