/*
 * Reading a safetensors file into memory. A regular file is read whole (its
 * size is known and checked first). A pipe or device has no size: it is read
 * as its header says, the 8-byte length, the header, then as far as the
 * tensors' offsets reach plus one byte (so trailing bytes are still seen).
 * An endless stream such as /dev/zero is refused after a few bytes instead
 * of being read up to the size limit.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/json.h"
#include "io/safetensors.h"

/* Reads until n bytes or the end of the stream; *got says how many came. */
static soma_status read_up_to(int fd, const char *path, uint8_t *buf, size_t n, size_t *got)
{
    *got = 0;
    while (*got < n) {
        size_t want = n - *got < ((size_t)1 << 30) ? n - *got : ((size_t)1 << 30);
        ssize_t r = read(fd, buf + *got, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return soma_error(SOMA_ERR_IO, "%s: read failed: %s", path, strerror(errno));
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return SOMA_OK;
}

/* How far the data section reaches by the header's offsets (0 if the header
 * is not valid JSON: the full parse reports that). */
static size_t data_extent(const uint8_t *header, size_t len)
{
    json_value *h = NULL;
    if (json_parse((const char *)header, len, "header", &h) != SOMA_OK) {
        soma_error_clear();
        return 0;
    }
    int64_t end = 0;
    for (size_t i = 0; i < json_count(h); i++) {
        const json_value *offsets = json_object_get(json_at(h, i), "data_offsets");
        int64_t e;
        if (json_count(offsets) == 2 && json_get_int64(json_at(offsets, 1), &e) && e > end)
            end = e;
    }
    json_free(h);
    return (size_t)end;
}

static soma_status read_stream(int fd, const char *path, size_t max_bytes, uint8_t **bytes,
                               size_t *len)
{
    uint8_t head[8];
    size_t got, total;
    SOMA_TRY(read_up_to(fd, path, head, 8, &got));
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; i--)
        header_len = (header_len << 8) | head[i];
    /* a length over the limit is left for the parser to report */
    if (got < 8 || header_len > ST_MAX_HEADER || header_len > max_bytes - 8)
        header_len = 0;
    uint8_t *buf = malloc(8 + (size_t)header_len + 1);
    if (!buf)
        return soma_error(SOMA_ERR_MEMORY, "%s: out of memory", path);
    memcpy(buf, head, got);
    soma_status st = read_up_to(fd, path, buf + 8, (size_t)header_len, &total);
    total += got;
    size_t data = 0;
    if (st == SOMA_OK && total == 8 + header_len && header_len > 0 && buf[8] == '{') {
        data = data_extent(buf + 8, (size_t)header_len);
        size_t room = max_bytes - 8 - (size_t)header_len;
        data = data < room ? data + 1 : room; /* one more byte: trailing data is an error */
        uint8_t *bigger = realloc(buf, total + data + 1);
        if (!bigger)
            st = soma_error(SOMA_ERR_MEMORY, "%s: out of memory for %zu bytes", path, data);
        else
            buf = bigger;
        if (st == SOMA_OK)
            st = read_up_to(fd, path, buf + total, data, &got);
        total += st == SOMA_OK ? got : 0;
    }
    if (st != SOMA_OK) {
        free(buf);
        return st;
    }
    buf[total] = '\0';
    *bytes = buf;
    *len = total;
    return SOMA_OK;
}

soma_status st_read_file(const char *path, size_t max_bytes, uint8_t **bytes, size_t *len)
{
    *bytes = NULL;
    *len = 0;
    struct stat sb;
    /* regular files, directories and missing files: read_whole_file knows them */
    if (max_bytes < 16 || stat(path, &sb) != 0 || S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode))
        return read_whole_file(path, max_bytes, bytes, len);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return soma_error(SOMA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    soma_status st = read_stream(fd, path, max_bytes, bytes, len);
    close(fd);
    return st;
}
