/*
 * Whole-file reads and crash-safe writes.
 *
 * atomic_write never leaves a half-written file under the final name: the
 * bytes go to "PATH.tmp.PID" in the same directory, are fsync'd, and the
 * temporary file is renamed over PATH (atomic on POSIX file systems), then
 * the directory is fsync'd so the rename itself survives a power cut. On any
 * failure the temporary file is removed and an existing PATH is untouched.
 */
#ifndef SOMA_IO_ATOMIC_FILE_H
#define SOMA_IO_ATOMIC_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "soma.h"

/* Writes the concatenation of parts[0..nparts) (sizes[i] bytes each) to path.
 * A part may be NULL when its size is 0. */
soma_status atomic_write(const char *path, const void *const *parts, const size_t *sizes,
                         int nparts);

/* Reads a whole file into a malloc'd buffer with a NUL after the last byte
 * (so text can be used as a C string); *len excludes the NUL. Files larger
 * than max_bytes are refused before anything is allocated. */
soma_status read_whole_file(const char *path, size_t max_bytes, uint8_t **data, size_t *len);

#endif
