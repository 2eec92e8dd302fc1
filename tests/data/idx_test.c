/* IDX reader: exact round trips (raw, gzip, memory) and every kind of bad file. */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/error.h"
#include "data/idx.h"
#include "support/check.h"

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
    static char buf[4][256];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    return p;
}

/* An IDX image in memory: magic (0, 0, type, ndim), big-endian dims, data. */
typedef struct blob {
    uint8_t *bytes;
    size_t len;
} blob;

static blob make_idx(uint8_t type, int ndim, const uint32_t *dims, const uint8_t *data,
                     size_t data_len)
{
    blob b;
    b.len = 4 + 4 * (size_t)ndim + data_len;
    b.bytes = malloc(b.len);
    uint8_t *p = b.bytes;
    *p++ = 0;
    *p++ = 0;
    *p++ = type;
    *p++ = (uint8_t)ndim;
    for (int i = 0; i < ndim; i++) {
        *p++ = (uint8_t)(dims[i] >> 24);
        *p++ = (uint8_t)(dims[i] >> 16);
        *p++ = (uint8_t)(dims[i] >> 8);
        *p++ = (uint8_t)dims[i];
    }
    if (data_len)
        memcpy(p, data, data_len);
    return b;
}

static void write_raw(const char *path, const uint8_t *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (len)
        fwrite(bytes, 1, len, f);
    fclose(f);
}

/* mode "wb" starts a file, "ab" appends another gzip member. */
static void write_gz(const char *path, const uint8_t *bytes, size_t len, const char *mode)
{
    gzFile gz = gzopen(path, mode);
    if (len)
        gzwrite(gz, bytes, (unsigned)len);
    gzclose(gz);
}

static uint8_t *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(*len ? *len : 1);
    *len = fread(buf, 1, *len, f);
    fclose(f);
    return buf;
}

static uint8_t *pattern(size_t n, uint32_t seed)
{
    uint8_t *d = malloc(n);
    uint32_t x = seed;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        d[i] = (uint8_t)(x >> 24);
    }
    return d;
}

static void check_array(const idx_array *a, int ndim, const uint32_t *dims, const uint8_t *data,
                        size_t len, const char *what)
{
    CHECK_MSG(a->ndim == ndim, "%s: ndim %d", what, a->ndim);
    for (int i = 0; i < ndim && i < a->ndim; i++)
        CHECK_MSG(a->dims[i] == dims[i], "%s: dim %d is %u", what, i, (unsigned)a->dims[i]);
    CHECK_MSG(a->size == len, "%s: size %zu, expected %zu", what, a->size, len);
    CHECK_MSG(a->data && a->size == len && memcmp(a->data, data, len) == 0, "%s: bytes differ",
              what);
}

/* Writes the blob raw and gzipped, reads both and from memory, compares. */
static void round_trip(const char *name, int ndim, const uint32_t *dims, size_t len,
                       uint32_t seed)
{
    uint8_t *data = pattern(len, seed);
    blob b = make_idx(0x08, ndim, dims, data, len);
    char raw_name[64], gz_name[64];
    snprintf(raw_name, sizeof raw_name, "%s-ubyte", name);
    snprintf(gz_name, sizeof gz_name, "%s-ubyte.gz", name);
    const char *raw = tmp_path(raw_name), *gz = tmp_path(gz_name);
    write_raw(raw, b.bytes, b.len);
    write_gz(gz, b.bytes, b.len, "wb");

    idx_array a;
    CHECK_MSG(idx_read(raw, &a) == SOMA_OK, "%s", soma_last_error());
    check_array(&a, ndim, dims, data, len, raw);
    idx_free(&a);
    CHECK(a.data == NULL && a.size == 0);

    CHECK_MSG(idx_read(gz, &a) == SOMA_OK, "%s", soma_last_error());
    check_array(&a, ndim, dims, data, len, gz);
    idx_free(&a);

    CHECK_MSG(idx_parse_memory(b.bytes, b.len, "mem", &a) == SOMA_OK, "%s", soma_last_error());
    check_array(&a, ndim, dims, data, len, "memory raw");
    idx_free(&a);

    size_t gz_len;
    uint8_t *gz_bytes = read_whole(gz, &gz_len);
    CHECK_MSG(idx_parse_memory(gz_bytes, gz_len, "mem.gz", &a) == SOMA_OK, "%s",
              soma_last_error());
    check_array(&a, ndim, dims, data, len, "memory gzip");
    idx_free(&a);
    free(gz_bytes);
    free(b.bytes);
    free(data);
}

static void test_round_trips(void)
{
    uint32_t labels[1] = {37};
    round_trip("labels-idx1", 1, labels, 37, 1);
    uint32_t images[3] = {3, 4, 5};
    round_trip("images-idx3", 3, images, 60, 2);
    uint32_t nchw[4] = {2, 3, 4, 5};
    round_trip("images-idx4", 4, nchw, 120, 3);
    /* Large enough that the gzip path grows its buffer several times. */
    uint32_t big[3] = {1500, 28, 28};
    round_trip("big-idx3", 3, big, 1500 * 28 * 28, 4);
}

/* A file written as two gzip members (as `cat a.gz b.gz` makes) reads as one. */
static void test_concatenated_gzip(void)
{
    uint32_t dims[3] = {4, 5, 6};
    uint8_t *data = pattern(120, 9);
    blob b = make_idx(0x08, 3, dims, data, 120);
    const char *path = tmp_path("two-members.gz");
    write_gz(path, b.bytes, 50, "wb");
    write_gz(path, b.bytes + 50, b.len - 50, "ab");
    idx_array a;
    CHECK_MSG(idx_read(path, &a) == SOMA_OK, "%s", soma_last_error());
    check_array(&a, 3, dims, data, 120, "two members, file");
    idx_free(&a);
    size_t len;
    uint8_t *bytes = read_whole(path, &len);
    CHECK_MSG(idx_parse_memory(bytes, len, "two.gz", &a) == SOMA_OK, "%s", soma_last_error());
    check_array(&a, 3, dims, data, 120, "two members, memory");
    idx_free(&a);
    free(bytes);
    free(b.bytes);
    free(data);
}

/* The call failed with a one-line message naming `name` and containing `needle`. */
static void check_error(soma_status st, soma_status expected, const char *name,
                        const char *needle, const idx_array *a, const char *what)
{
    const char *msg = soma_last_error();
    CHECK_MSG(st != SOMA_OK, "%s: accepted", what);
    CHECK_MSG(expected == SOMA_OK || st == expected, "%s: status %s, expected %s", what,
              soma_status_name(st), soma_status_name(expected));
    CHECK_MSG(strchr(msg, '\n') == NULL, "%s: message has a newline: %s", what, msg);
    CHECK_MSG(strncmp(msg, name, strlen(name)) == 0, "%s: message does not start with %s: %s",
              what, name, msg);
    CHECK_MSG(strstr(msg, needle) != NULL, "%s: message lacks '%s': %s", what, needle, msg);
    CHECK_MSG(a->data == NULL && a->size == 0 && a->ndim == 0, "%s: output not empty", what);
}

/* Tries the bytes as a raw file, a gzip file, and both from memory. */
static void expect_bad(const char *name, const uint8_t *bytes, size_t len, soma_status expected,
                       const char *needle)
{
    char gz_name[96];
    snprintf(gz_name, sizeof gz_name, "%s.gz", name);
    const char *raw = tmp_path(name), *gz = tmp_path(gz_name);
    write_raw(raw, bytes, len);
    write_gz(gz, bytes, len, "wb");
    idx_array a;
    soma_error_clear();
    check_error(idx_read(raw, &a), expected, raw, needle, &a, raw);
    soma_error_clear();
    check_error(idx_read(gz, &a), expected, gz, needle, &a, gz);
    soma_error_clear();
    check_error(idx_parse_memory(bytes, len, name, &a), expected, name, needle, &a, name);
    size_t gz_len;
    uint8_t *gz_bytes = read_whole(gz, &gz_len);
    soma_error_clear();
    check_error(idx_parse_memory(gz_bytes, gz_len, gz_name, &a), expected, gz_name, needle, &a,
                "gzip in memory");
    free(gz_bytes);
}

static void test_bad_headers(void)
{
    uint8_t data[60] = {0};
    uint32_t dims[3] = {3, 4, 5};

    blob b = make_idx(0x08, 3, dims, data, 60);
    b.bytes[0] = 0x01;
    expect_bad("bad-magic", b.bytes, b.len, SOMA_ERR_FORMAT, "bad magic 0x01000803");
    b.bytes[0] = 0;
    b.bytes[2] = 0x0D; /* float32 */
    expect_bad("float-type", b.bytes, b.len, SOMA_ERR_UNSUPPORTED, "float32");
    b.bytes[2] = 0x42; /* no such type */
    expect_bad("bad-type", b.bytes, b.len, SOMA_ERR_FORMAT, "bad magic 0x00004203");
    free(b.bytes);

    b = make_idx(0x08, 0, dims, data, 60);
    expect_bad("ndim0", b.bytes, b.len, SOMA_ERR_FORMAT, "0 dimensions");
    free(b.bytes);
    uint32_t five[5] = {1, 1, 1, 1, 60};
    b = make_idx(0x08, 5, five, data, 60);
    expect_bad("ndim5", b.bytes, b.len, SOMA_ERR_FORMAT, "5 dimensions");
    free(b.bytes);

    uint32_t zero[3] = {3, 0, 5};
    b = make_idx(0x08, 3, zero, data, 0);
    expect_bad("zero-dim", b.bytes, b.len, SOMA_ERR_FORMAT, "dimension 2 of 3 is 0");
    free(b.bytes);

    b = make_idx(0x08, 3, dims, data, 0);
    expect_bad("short-header", b.bytes, 4 + 6, SOMA_ERR_FORMAT,
               "truncated header: expected 16 bytes, got 10");
    expect_bad("short-magic", b.bytes, 3, SOMA_ERR_FORMAT, "truncated header");
    free(b.bytes);

    expect_bad("empty", data, 0, SOMA_ERR_FORMAT, "empty");
    const char *garbage = "this is not an IDX file at all, nor gzip\n";
    expect_bad("garbage", (const uint8_t *)garbage, strlen(garbage), SOMA_ERR_FORMAT,
               "bad magic 0x74686973");
}

static void test_bad_data(void)
{
    uint8_t *data = pattern(200, 5);
    uint32_t dims[3] = {3, 4, 5};
    blob b = make_idx(0x08, 3, dims, data, 30);
    expect_bad("truncated-data", b.bytes, b.len, SOMA_ERR_FORMAT,
               "truncated: expected 60 bytes of pixel data, got 30");
    free(b.bytes);
    uint32_t n[1] = {10};
    b = make_idx(0x08, 1, n, data, 7);
    expect_bad("truncated-labels", b.bytes, b.len, SOMA_ERR_FORMAT,
               "expected 10 bytes of label data, got 7");
    free(b.bytes);
    b = make_idx(0x08, 3, dims, data, 61);
    expect_bad("trailing", b.bytes, b.len, SOMA_ERR_FORMAT, "trailing data");
    free(b.bytes);

    /* A gzip file cut short mid-stream, and one with damaged compressed bytes. */
    uint8_t *big = pattern(20000, 6);
    uint32_t big_dims[3] = {25, 28, 28};
    b = make_idx(0x08, 3, big_dims, big, 19600);
    const char *whole = tmp_path("whole.gz");
    write_gz(whole, b.bytes, b.len, "wb");
    size_t len;
    uint8_t *gz = read_whole(whole, &len);
    const char *cut = tmp_path("cut.gz");
    write_raw(cut, gz, len / 2);
    idx_array a;
    check_error(idx_read(cut, &a), SOMA_ERR_FORMAT, cut, "truncated", &a, "cut gzip file");
    check_error(idx_parse_memory(gz, len / 2, "cut", &a), SOMA_ERR_FORMAT, "cut", "truncated",
                &a, "cut gzip memory");
    gz[len / 2] ^= 0x55;
    gz[len / 2 + 1] ^= 0xAA;
    const char *damaged = tmp_path("damaged.gz");
    write_raw(damaged, gz, len);
    check_error(idx_read(damaged, &a), SOMA_OK, damaged, ":", &a, "damaged gzip file");
    check_error(idx_parse_memory(gz, len, "damaged", &a), SOMA_OK, "damaged", ":", &a,
                "damaged gzip memory");
    free(gz);
    free(b.bytes);
    free(big);
    free(data);
}

/* Absurd headers fail on the header alone, naming the limit. */
static void test_limits(void)
{
    uint32_t huge_count[3] = {4000000000u, 28, 28};
    blob b = make_idx(0x08, 3, huge_count, NULL, 0);
    expect_bad("huge-count", b.bytes, b.len, SOMA_ERR_MEMORY,
               "file claims 4000000000 images; the limit is 100000000");
    free(b.bytes);
    uint32_t huge_bytes[3] = {50000000u, 28, 28};
    b = make_idx(0x08, 3, huge_bytes, NULL, 0);
    expect_bad("huge-bytes", b.bytes, b.len, SOMA_ERR_MEMORY, "the limit is 1073741824 bytes");
    free(b.bytes);
    uint32_t overflow[4] = {1, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu};
    b = make_idx(0x08, 4, overflow, NULL, 0);
    expect_bad("overflow", b.bytes, b.len, SOMA_ERR_MEMORY, "the limit is 1073741824 bytes");
    free(b.bytes);
    /* Within the limits but far more than the file holds: a raw file is
     * compared with its size, a gzip one fails when its data runs out. */
    uint32_t big_claim[3] = {1000000u, 28, 28};
    uint8_t few[100] = {0};
    b = make_idx(0x08, 3, big_claim, few, sizeof few);
    expect_bad("big-claim", b.bytes, b.len, SOMA_ERR_FORMAT,
               "expected 784000000 bytes of pixel data, got 100");
    free(b.bytes);
}

static void test_paths(void)
{
    idx_array a;
    const char *missing = tmp_path("does-not-exist-idx3-ubyte.gz");
    check_error(idx_read(missing, &a), SOMA_ERR_IO, missing, "cannot open", &a, "missing");
    check_error(idx_read(tmpdir, &a), SOMA_ERR_IO, tmpdir, "directory", &a, "directory");
}

static void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/soma-idx-test-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_round_trips();
    test_concatenated_gzip();
    test_bad_headers();
    test_bad_data();
    test_limits();
    test_paths();
    remove_tmpdir();
    return check_finish("idx_test");
}
