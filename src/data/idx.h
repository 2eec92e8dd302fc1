/*
 * IDX files (LeCun's MNIST format): a 4-byte magic (0, 0, type, ndim), ndim
 * big-endian uint32 dimensions, then the items in row-major order. Only the
 * uint8 element type (0x08) is supported. Files may be gzip-compressed or raw.
 *
 * Every header field is validated before anything is allocated, and the data
 * size is capped (IDX_MAX_BYTES, IDX_MAX_ITEMS) so that a corrupt or hostile
 * header cannot make us allocate gigabytes.
 */
#ifndef SOMA_DATA_IDX_H
#define SOMA_DATA_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "soma.h"

#define IDX_MAX_DIMS 4
#define IDX_MAX_BYTES (1u << 30)      /* 1 GiB of element data */
#define IDX_MAX_ITEMS 100000000u      /* entries along the first dimension */

typedef struct idx_array {
    int ndim;
    uint32_t dims[IDX_MAX_DIMS];
    uint8_t *data;   /* dims[0] * ... * dims[ndim-1] bytes, row-major */
    size_t size;     /* bytes in data */
} idx_array;

/* Reads an IDX file, gzip or raw. On failure `out` is left empty and the
 * error (one line, starting with the path) is set. */
soma_status idx_read(const char *path, idx_array *out);

/* Parses IDX bytes held in memory (gzip or raw); `name` stands in for the
 * path in error messages. */
soma_status idx_parse_memory(const uint8_t *bytes, size_t len, const char *name, idx_array *out);

/* Releases the data and empties the array (accepts an empty array). */
void idx_free(idx_array *a);

#endif
