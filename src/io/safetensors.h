/*
 * The safetensors layout (github.com/huggingface/safetensors), used for
 * checkpoints:
 *
 *   8 bytes   N, the header length, unsigned little-endian
 *   N bytes   a JSON object: "NAME": {"dtype": "F32", "shape": [..],
 *             "data_offsets": [begin, end]} per tensor, plus an optional
 *             "__metadata__": {"key": "value", ...} of strings; padded with
 *             spaces so that the data starts 8-byte aligned
 *   the rest  the tensors' bytes, little-endian, row-major; offsets are
 *             relative to the start of this section
 *
 * The reader treats a file as hostile: every number is checked before it is
 * used and the tensors must tile the data section exactly (in any order).
 *
 * soma's writer seals every file with a CRC32 of the whole file: the header
 * starts with {"__metadata__":{"soma.crc32":"XXXXXXXX", and XXXXXXXX is the
 * CRC32 of all the file's bytes (length, header, data) with those 8 digits
 * taken as '0'. The reader checks it when the header starts so, and refuses
 * "soma.crc32" anywhere else. Files of soma-checkpoint-1 carry instead
 * "soma.checksum", the CRC32 of the data section alone, which is checked
 * too. See docs/checkpoint-format.md.
 */
#ifndef SOMA_IO_SAFETENSORS_H
#define SOMA_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "soma.h"

/* Tensor bytes are copied between memory and file as they are. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian: big-endian hosts need a byte swap in safetensors*.c"
#endif

#define ST_MAX_DIMS 16
#define ST_MAX_HEADER ((size_t)100 << 20)
/* soma-checkpoint-1: the CRC32 of the data section only (read, not written) */
#define ST_CHECKSUM_KEY "soma.checksum"
/* The whole-file CRC32, in lowercase hex, first in the header: the file's
 * bytes start with ST_CRC_PREFIX and the digits sit at offset ST_CRC_AT. */
#define ST_CRC_KEY "soma.crc32"
#define ST_CRC_PREFIX "{\"__metadata__\":{\"" ST_CRC_KEY "\":\""
#define ST_CRC_AT (8 + sizeof ST_CRC_PREFIX - 1)

/* What a file's checksum covers: nothing, the data section, or every byte. */
typedef enum st_checksum { ST_CHECKSUM_NONE, ST_CHECKSUM_DATA, ST_CHECKSUM_FILE } st_checksum;

typedef enum st_dtype {
    ST_BOOL,
    ST_U8,
    ST_I8,
    ST_F8_E5M2,
    ST_F8_E4M3,
    ST_I16,
    ST_U16,
    ST_F16,
    ST_BF16,
    ST_I32,
    ST_U32,
    ST_F32,
    ST_F64,
    ST_I64,
    ST_U64,
    ST_DTYPE_COUNT
} st_dtype;

/* "F32" etc.; NULL for an invalid value. */
const char *st_dtype_name(st_dtype dtype);
/* Bytes per element. */
size_t st_dtype_size(st_dtype dtype);

/* ---------------------------------------------------------------- writer */

typedef struct st_writer st_writer;

/* NULL if out of memory. */
st_writer *st_writer_create(void);
void st_writer_free(st_writer *w);
/* Adds a tensor (the bytes are copied). Names must be unique, valid UTF-8
 * and not "__metadata__"; "" is a name like any other (the reader accepts it,
 * and PyTorch names a root module so). Tensors are written in the order added. */
soma_status st_writer_add(st_writer *w, const char *name, st_dtype dtype, int ndim,
                          const int64_t *dims, const void *data);
soma_status st_writer_add_f32(st_writer *w, const char *name, int ndim, const int64_t *dims,
                              const float *data);
soma_status st_writer_add_i64(st_writer *w, const char *name, int ndim, const int64_t *dims,
                              const int64_t *data);
/* Sets (or replaces) a metadata string. ST_CRC_KEY and ST_CHECKSUM_KEY are
 * reserved. */
soma_status st_writer_set_meta(st_writer *w, const char *key, const char *value);
/* Writes the file atomically, sealed with ST_CRC_KEY (the whole-file CRC32)
 * as the first metadata entry. */
soma_status st_writer_save(st_writer *w, const char *path);
/* The bytes st_writer_save would write (the checksum included), malloc'd. */
soma_status st_writer_serialize(st_writer *w, uint8_t **bytes, size_t *len);

/* ---------------------------------------------------------------- reader */

typedef struct st_file st_file;

typedef struct st_tensor_info {
    const char *name;
    st_dtype dtype;
    int ndim;
    int64_t dims[ST_MAX_DIMS];
    size_t nbytes;
    const uint8_t *data; /* into the file's bytes: may be unaligned, use memcpy */
} st_tensor_info;

/* Reads and validates a file (up to 16 GiB). */
soma_status st_read(const char *path, st_file **out);
/* Reads a file's bytes (as read_whole_file, NUL-terminated, at most
 * max_bytes); a pipe or device only as far as its header's offsets reach,
 * so an endless stream is not read to the limit (safetensors_read.c). */
soma_status st_read_file(const char *path, size_t max_bytes, uint8_t **bytes, size_t *len);
/* Validates bytes[0..len) in place: they must outlive the st_file. `name`
 * starts error messages. */
soma_status st_parse_memory(const uint8_t *bytes, size_t len, const char *name, st_file **out);
void st_free(st_file *f);

/* Tensors in header order. */
int st_count(const st_file *f);
const char *st_name(const st_file *f, int i);
const st_tensor_info *st_tensor_at(const st_file *f, int i);
/* NULL if there is no such tensor. */
const st_tensor_info *st_find(const st_file *f, const char *name);
/* Which checksum the file carried (and the reader verified). */
st_checksum st_checksum_of(const st_file *f);
/* A metadata value, NULL if absent. */
const char *st_meta(const st_file *f, const char *key);
int st_meta_count(const st_file *f);
const char *st_meta_key_at(const st_file *f, int i);
/* A metadata value read strictly as a number (safetensors_meta.c); a
 * missing key or trailing text is an error naming `path` and the key. */
soma_status st_meta_number(const st_file *f, const char *path, const char *key, double *out);
/* The same, an integer in [min, max]. */
soma_status st_meta_int(const st_file *f, const char *path, const char *key, double min,
                        double max, long long *out);
/* An unsigned 64-bit integer, parsed from the text (a double would round it). */
soma_status st_meta_u64(const st_file *f, const char *path, const char *key, uint64_t *out);

/* Copies tensor `name` into out after checking that it exists, has dtype
 * F32 (I64 for st_get_i64) and exactly the shape dims[0..ndim). */
soma_status st_get_f32(const st_file *f, const char *name, int ndim, const int64_t *dims,
                       float *out);
soma_status st_get_i64(const st_file *f, const char *name, int ndim, const int64_t *dims,
                       int64_t *out);

/* ------------------------------------------- shared by reader and writer */

/* Bytes of a tensor: SOMA_ERR_SHAPE for a negative dimension,
 * SOMA_ERR_MEMORY if the size overflows size_t. Sets no message. */
soma_status st_tensor_bytes(st_dtype dtype, int ndim, const int64_t *dims, size_t *out);
/* "[16,6,5,5]" */
void st_format_shape(char *buf, size_t size, int ndim, const int64_t *dims);
/* zlib's CRC32, continued from `crc` (0 to start), for any length. */
uint32_t st_crc32(uint32_t crc, const void *data, size_t len);
/* The CRC32 of bytes[0..len) with the 8 bytes at ST_CRC_AT taken as '0'
 * (len must exceed ST_CRC_AT + 8): what ST_CRC_KEY holds. */
uint32_t st_sealed_crc(const uint8_t *bytes, size_t len);
/* The 8 lowercase hex digits of a CRC32 (no NUL). */
void st_crc_digits(uint32_t crc, char digits[8]);
/* Writes the whole-file CRC32 into bytes that start with ST_CRC_PREFIX (a
 * file edited in memory, e.g. by a test); SOMA_ERR_FORMAT if they do not. */
soma_status st_seal(uint8_t *bytes, size_t len);

#endif
