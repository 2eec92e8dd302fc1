/*
 * IDX reader. One parser pulls bytes from a small "source" abstraction, so
 * files (through zlib's gzread, which reads gzip and raw alike) and memory
 * (used by the fuzzer; gzip through inflate) share every validation step.
 */
#define _POSIX_C_SOURCE 200809L

#include "data/idx.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/error.h"

/* Gzip data is read into a buffer that grows as bytes actually arrive, from
 * this size up, so a short file that claims a lot fails before a big malloc. */
#define IDX_FIRST_CHUNK (256u * 1024u)

typedef struct idx_source idx_source;
struct idx_source {
    const char *name;
    long long size; /* total bytes of the stream when known (raw data), else -1 */
    /* Reads up to n bytes; returns the count (0 at the end) or -1 with the
     * error message set and its status in `failed`. */
    long long (*read)(idx_source *src, uint8_t *buf, size_t n);
    void *state;
    soma_status failed;
};

/* Reads until n bytes or the end of the stream; *got says how many arrived. */
static soma_status read_full(idx_source *src, uint8_t *buf, size_t n, size_t *got)
{
    *got = 0;
    while (*got < n) {
        long long r = src->read(src, buf + *got, n - *got);
        if (r < 0)
            return src->failed;
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return SOMA_OK;
}

static uint32_t read_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static const char *element_type_name(uint8_t type)
{
    switch (type) {
    case 0x09: return "int8";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return NULL;
    }
}

static void format_dims(const idx_array *a, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < a->ndim && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, i ? " x %u" : "%u", (unsigned)a->dims[i]);
}

static const char *data_noun(const idx_array *a)
{
    return a->ndim == 1 ? "label" : "pixel";
}

static soma_status parse_header(idx_source *src, idx_array *a)
{
    const char *name = src->name;
    uint8_t head[4 + 4 * IDX_MAX_DIMS];
    size_t got;
    SOMA_TRY(read_full(src, head, 4, &got));
    if (got == 0)
        return soma_error(SOMA_ERR_FORMAT, "%s: empty file (expected an IDX header)", name);
    if (got < 4)
        return soma_error(SOMA_ERR_FORMAT, "%s: truncated header: expected 4 bytes, got %zu",
                          name, got);
    uint32_t magic = read_be32(head);
    if (head[0] != 0 || head[1] != 0)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: bad magic 0x%08x (expected 0x00000801 to 0x00000804 for uint8 IDX)",
                          name, (unsigned)magic);
    if (head[2] != 0x08) {
        const char *type = element_type_name(head[2]);
        if (type)
            return soma_error(SOMA_ERR_UNSUPPORTED,
                              "%s: IDX element type 0x%02x (%s) is not supported; only uint8 "
                              "(0x08) is", name, (unsigned)head[2], type);
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: bad magic 0x%08x (expected 0x00000801 to 0x00000804 for uint8 IDX)",
                          name, (unsigned)magic);
    }
    int ndim = head[3];
    if (ndim < 1 || ndim > IDX_MAX_DIMS)
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: bad magic 0x%08x: %d dimensions (expected 1 to %d)", name,
                          (unsigned)magic, ndim, IDX_MAX_DIMS);
    SOMA_TRY(read_full(src, head + 4, 4 * (size_t)ndim, &got));
    if (got < 4 * (size_t)ndim)
        return soma_error(SOMA_ERR_FORMAT, "%s: truncated header: expected %d bytes, got %zu",
                          name, 4 + 4 * ndim, 4 + got);
    a->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        a->dims[i] = read_be32(head + 4 + 4 * i);
        if (a->dims[i] == 0)
            return soma_error(SOMA_ERR_FORMAT, "%s: dimension %d of %d is 0", name, i + 1, ndim);
    }
    return SOMA_OK;
}

/* The data size the header claims, checked against the limits. */
static soma_status claimed_size(const char *name, const idx_array *a, size_t *out)
{
    if (a->dims[0] > IDX_MAX_ITEMS)
        return soma_error(SOMA_ERR_MEMORY, "%s: file claims %u %ss; the limit is %u", name,
                          (unsigned)a->dims[0], a->ndim == 1 ? "label" : "image", IDX_MAX_ITEMS);
    char dims[128];
    format_dims(a, dims, sizeof dims);
    uint64_t bytes = 1;
    for (int i = 0; i < a->ndim; i++) {
        if (__builtin_mul_overflow(bytes, (uint64_t)a->dims[i], &bytes))
            return soma_error(SOMA_ERR_MEMORY,
                              "%s: dimensions %s overflow a 64-bit size; the limit is %u bytes",
                              name, dims, IDX_MAX_BYTES);
    }
    if (bytes > IDX_MAX_BYTES)
        return soma_error(SOMA_ERR_MEMORY,
                          "%s: file claims %s = %llu bytes of data; the limit is %u bytes (1 GiB)",
                          name, dims, (unsigned long long)bytes, IDX_MAX_BYTES);
    *out = (size_t)bytes;
    return SOMA_OK;
}

static soma_status truncated(const idx_array *a, const char *name, size_t need, size_t got)
{
    return soma_error(SOMA_ERR_FORMAT, "%s: truncated: expected %zu bytes of %s data, got %zu",
                      name, need, data_noun(a), got);
}

/* Reads `need` bytes. When the stream's length is unknown (gzip) the buffer
 * starts small and doubles as data arrives. */
static soma_status read_data(idx_source *src, const idx_array *a, size_t need, uint8_t **out)
{
    size_t cap = need < IDX_FIRST_CHUNK || src->size >= 0 ? need : IDX_FIRST_CHUNK, filled = 0;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return soma_error(SOMA_ERR_MEMORY, "%s: cannot allocate %zu bytes", src->name, cap);
    for (;;) {
        if (filled == cap) {
            if (cap == need)
                break;
            size_t grown = cap > need / 2 ? need : cap * 2;
            uint8_t *bigger = realloc(buf, grown);
            if (!bigger) {
                free(buf);
                return soma_error(SOMA_ERR_MEMORY, "%s: cannot allocate %zu bytes", src->name,
                                  grown);
            }
            buf = bigger;
            cap = grown;
        }
        long long r = src->read(src, buf + filled, cap - filled);
        if (r < 0) {
            free(buf);
            return src->failed;
        }
        if (r == 0)
            break;
        filled += (size_t)r;
    }
    if (filled < need) {
        free(buf);
        return truncated(a, src->name, need, filled);
    }
    *out = buf;
    return SOMA_OK;
}

static soma_status parse_source(idx_source *src, idx_array *out)
{
    idx_array a = {0};
    size_t need = 0;
    memset(out, 0, sizeof *out);
    SOMA_TRY(parse_header(src, &a));
    SOMA_TRY(claimed_size(src->name, &a, &need));

    if (src->size >= 0) { /* raw data of known length: compare before allocating */
        long long have = src->size - (4 + 4LL * a.ndim);
        if (have < 0) /* the file shrank while we read it */
            have = 0;
        if (have < (long long)need)
            return truncated(&a, src->name, need, (size_t)have);
        if (have > (long long)need)
            return soma_error(SOMA_ERR_FORMAT,
                              "%s: trailing data: %lld bytes after the %zu bytes of %s data "
                              "the header claims", src->name, have - (long long)need, need,
                              data_noun(&a));
    }
    SOMA_TRY(read_data(src, &a, need, &a.data));
    a.size = need;

    uint8_t extra;
    long long r = src->read(src, &extra, 1);
    if (r != 0) {
        free(a.data);
        if (r < 0)
            return src->failed;
        return soma_error(SOMA_ERR_FORMAT,
                          "%s: trailing data after the %zu bytes of %s data the header claims",
                          src->name, need, data_noun(&a));
    }
    *out = a;
    return SOMA_OK;
}

/* ------------------------------------------------------------ file source */

typedef struct file_state {
    gzFile gz;
    struct stat st;
    int reads;
} file_state;

static long long file_read(idx_source *src, uint8_t *buf, size_t n)
{
    file_state *f = src->state;
    unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
    int r = gzread(f->gz, buf, chunk);
    /* After the first read zlib knows whether the file is gzip; a raw
     * regular file's length is then the stream's length. */
    if (f->reads++ == 0 && gzdirect(f->gz) && S_ISREG(f->st.st_mode))
        src->size = (long long)f->st.st_size;
    if (r > 0)
        return r;
    int errnum;
    const char *msg = gzerror(f->gz, &errnum);
    /* zlib's message starts with the path: keep only what follows it */
    size_t plen = strlen(src->name);
    if (msg && strncmp(msg, src->name, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0)
        msg += plen + 2;
    if (r == 0 && errnum != Z_BUF_ERROR)
        return 0;
    if (errnum == Z_ERRNO)
        src->failed = soma_error(SOMA_ERR_IO, "%s: read failed: %s", src->name, strerror(errno));
    else if (errnum == Z_BUF_ERROR) /* the stream stops inside a gzip member */
        src->failed = soma_error(SOMA_ERR_FORMAT, "%s: truncated gzip data (%s)", src->name, msg);
    else
        src->failed = soma_error(SOMA_ERR_FORMAT, "%s: corrupt gzip data: %s", src->name, msg);
    return -1;
}

soma_status idx_read(const char *path, idx_array *out)
{
    file_state f = {0};
    memset(out, 0, sizeof *out);
    if (!path)
        return soma_error(SOMA_ERR_ARGUMENT, "idx_read: no path given");
    if (stat(path, &f.st) != 0)
        return soma_error(SOMA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(f.st.st_mode))
        return soma_error(SOMA_ERR_IO, "%s: is a directory, not an IDX file", path);
    errno = 0;
    f.gz = gzopen(path, "rb");
    if (!f.gz)
        return soma_error(SOMA_ERR_IO, "%s: cannot open: %s", path,
                          errno ? strerror(errno) : "out of memory");
    gzbuffer(f.gz, 128 * 1024); /* fewer system calls than the 8 KiB default */
    idx_source src = {path, -1, file_read, &f, SOMA_ERR_IO};
    soma_status st = parse_source(&src, out);
    gzclose(f.gz);
    return st;
}

/* ---------------------------------------------------------- memory sources */

typedef struct memory_state {
    const uint8_t *bytes;
    size_t len, pos;
    z_stream z;
    int ended; /* the current gzip member is complete */
} memory_state;

static long long memory_read_raw(idx_source *src, uint8_t *buf, size_t n)
{
    memory_state *m = src->state;
    size_t left = m->len - m->pos;
    if (n > left)
        n = left;
    memcpy(buf, m->bytes + m->pos, n);
    m->pos += n;
    return (long long)n;
}

static int starts_gzip(const uint8_t *p, size_t len)
{
    return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/* Like gzread: members are concatenated; bytes after the last member that do
 * not start another gzip member are ignored. A stream cut short reads as its
 * end, and the parser reports the truncation. */
static long long memory_read_gzip(idx_source *src, uint8_t *buf, size_t n)
{
    memory_state *m = src->state;
    z_stream *z = &m->z;
    z->next_out = buf;
    z->avail_out = n > (1u << 30) ? (1u << 30) : (unsigned)n;
    while (z->avail_out > 0) {
        if (m->ended) {
            if (!starts_gzip(z->next_in, z->avail_in) || inflateReset(z) != Z_OK)
                break;
            m->ended = 0;
        }
        int ret = inflate(z, Z_NO_FLUSH);
        if (ret == Z_STREAM_END) {
            m->ended = 1;
        } else if ((ret == Z_OK || ret == Z_BUF_ERROR) && z->avail_in == 0) {
            break; /* input ran out mid-member: the parser sees a truncated file */
        } else if (ret != Z_OK) {
            src->failed = soma_error(SOMA_ERR_FORMAT, "%s: corrupt gzip data: %s", src->name,
                                     z->msg ? z->msg : "inflate failed");
            return -1;
        }
    }
    return (long long)((size_t)(z->next_out - buf));
}

soma_status idx_parse_memory(const uint8_t *bytes, size_t len, const char *name, idx_array *out)
{
    memory_state m = {0};
    memset(out, 0, sizeof *out);
    if (!name)
        name = "(memory)";
    if (!bytes && len)
        return soma_error(SOMA_ERR_ARGUMENT, "%s: no bytes given", name);
    m.bytes = bytes;
    m.len = len;
    if (!starts_gzip(bytes, len)) {
        idx_source src = {name, (long long)len, memory_read_raw, &m, SOMA_ERR_IO};
        return parse_source(&src, out);
    }
    m.z.next_in = (Bytef *)(uintptr_t)bytes; /* zlib's API is not const-correct */
    m.z.avail_in = len > UINT_MAX ? UINT_MAX : (unsigned)len;
    if (inflateInit2(&m.z, 16 + MAX_WBITS) != Z_OK)
        return soma_error(SOMA_ERR_MEMORY, "%s: cannot start gzip decoder", name);
    idx_source src = {name, -1, memory_read_gzip, &m, SOMA_ERR_IO};
    soma_status st = parse_source(&src, out);
    inflateEnd(&m.z);
    return st;
}

void idx_free(idx_array *a)
{
    if (!a)
        return;
    free(a->data);
    memset(a, 0, sizeof *a);
}
