/*
 * CIFAR-10 and CIFAR-100 in their binary form ("CIFAR-10 binary version",
 * https://www.cs.toronto.edu/~kriz/cifar.html): files of fixed-size records,
 * each a label byte (CIFAR-100: a coarse then a fine label byte) and 3072
 * bytes of a 32x32 RGB image, planar (1024 red, 1024 green, 1024 blue, rows
 * top to bottom) - soma's CHW layout as it is.
 *
 *   CIFAR-10:  data_batch_1.bin .. data_batch_5.bin (train), test_batch.bin
 *   CIFAR-100: train.bin, test.bin (soma uses the fine label, 100 classes)
 */
#ifndef SOMA_DATA_CIFAR_H
#define SOMA_DATA_CIFAR_H

#include <stddef.h>
#include <stdint.h>

#include "soma.h"

typedef enum cifar_kind { CIFAR_10, CIFAR_100 } cifar_kind;

#define CIFAR_IMAGE_BYTES 3072
#define CIFAR_MAX_FILES 16          /* data_batch_1 .. at most data_batch_16 */
#define CIFAR_MAX_RECORDS 10000000  /* per dataset: 30 GB of images */

/* Bytes per record: 3073 (CIFAR-10) or 3074 (CIFAR-100). */
size_t cifar_record_size(cifar_kind kind);
/* "CIFAR-10" or "CIFAR-100". */
const char *cifar_name(cifar_kind kind);

/* Reads the record files paths[0..nfiles), in order, into one dataset whose
 * source is `source`. A file that is empty, not a whole number of records, or
 * holds a label out of range is an error naming it. */
soma_status cifar_read(const char *const *paths, int nfiles, cifar_kind kind, const char *source,
                       soma_dataset **out);

/* The records of one file held in memory; `name` stands in for its path. */
soma_status cifar_parse(const uint8_t *bytes, size_t len, cifar_kind kind, const char *name,
                        soma_dataset **out);

/* When `dir` holds CIFAR files (data_batch_1.bin or test_batch.bin: CIFAR-10;
 * train.bin or test.bin: CIFAR-100), loads the split (train or test) into *out,
 * or sets an error in *status, and returns 1; returns 0 when it holds none. */
int cifar_find(const char *dir, const char *split, soma_status *status, soma_dataset **out);

#endif
