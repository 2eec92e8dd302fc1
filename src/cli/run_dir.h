/*
 * Claiming a run directory. A run holds an exclusive lock on DIR/.soma.lock
 * for as long as it writes there, so two runs can never write one directory;
 * the lock is the kernel's (flock), so a killed run leaves none behind.
 */
#ifndef SOMA_CLI_RUN_DIR_H
#define SOMA_CLI_RUN_DIR_H

#include "soma.h"

#define RUN_DIR_LOCK ".soma.lock"

/* Takes DIR's lock (*fd stays open while it is held; -1 on failure). The
 * error names the process that holds it. */
soma_status run_dir_lock(const char *dir, int *fd);
/* Releases the lock taken by run_dir_lock (fd < 0 is a no-op). When DIR
 * holds nothing else, the lock file goes too, and DIR itself if `created`
 * (this run made it): a run refused before it wrote anything leaves no trace. */
void run_dir_unlock(const char *dir, int fd, int created);

/*
 * A fresh run may only start in an empty directory (the lock file aside).
 * With `overwrite`, the files a run writes (checkpoints, metrics.csv,
 * summary.json and leftover temporary files) are removed first and any
 * other file is left alone.
 */
soma_status run_dir_require_empty(const char *dir, int overwrite);

/* Whether two paths name the same directory. */
int run_dir_same(const char *a, const char *b);

/* Copies SRC to DST atomically (for a run resumed into a new directory). */
soma_status run_dir_copy_file(const char *src, const char *dst);

#endif
