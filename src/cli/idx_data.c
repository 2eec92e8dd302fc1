/* IDX files of unsigned bytes (images or labels) for `soma predict`, gzip or raw. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cli/image_read.h"
#include "core/error.h"

#define IDX_DATA_MAX_BYTES (1LL << 31)

int looks_like_idx(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return 0;
    unsigned char m[4] = {0};
    size_t got = fread(m, 1, 4, fp);
    fclose(fp);
    if (got >= 2 && m[0] == 0x1f && m[1] == 0x8b) /* gzip */
        return 1;
    return got == 4 && m[0] == 0 && m[1] == 0 && m[2] == 0x08 && m[3] >= 1 && m[3] <= 4;
}

void idx_data_free(idx_data *d)
{
    free(d->bytes);
    memset(d, 0, sizeof *d);
}

static int read_exact(gzFile gz, void *buf, size_t n)
{
    return gzread(gz, buf, (unsigned)n) == (int)n;
}

soma_status idx_data_read(const char *path, idx_data *out)
{
    memset(out, 0, sizeof *out);
    gzFile gz = gzopen(path, "rb"); /* reads raw files transparently too */
    if (!gz)
        return soma_error(SOMA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char head[4];
    soma_status st = SOMA_OK;
    if (!read_exact(gz, head, 4) || head[0] != 0 || head[1] != 0) {
        st = soma_error(SOMA_ERR_FORMAT, "%s: not an IDX file (bad magic)", path);
        goto done;
    }
    if (head[2] != 0x08) {
        st = soma_error(SOMA_ERR_UNSUPPORTED, "%s: IDX element type 0x%02x is not unsigned bytes",
                        path, head[2]);
        goto done;
    }
    if (head[3] < 1 || head[3] > 4) {
        st = soma_error(SOMA_ERR_FORMAT, "%s: IDX has %d dimensions (1 to 4 expected)", path,
                        head[3]);
        goto done;
    }
    out->ndim = head[3];
    out->item_size = 1;
    for (int i = 0; i < out->ndim; i++) {
        unsigned char b[4];
        if (!read_exact(gz, b, 4)) {
            st = soma_error(SOMA_ERR_FORMAT, "%s: IDX header is truncated", path);
            goto done;
        }
        long long d = ((long long)b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
        if (d < 1 || d > 100000000) {
            st = soma_error(SOMA_ERR_FORMAT, "%s: IDX dimension %d is %lld", path, i + 1, d);
            goto done;
        }
        out->dims[i] = (int)d;
        if (i > 0)
            out->item_size *= d;
        if (out->item_size * out->dims[0] > IDX_DATA_MAX_BYTES) {
            st = soma_error(SOMA_ERR_MEMORY, "%s: IDX data is larger than 2 GiB", path);
            goto done;
        }
    }
    out->count = out->dims[0];
    size_t size = (size_t)(out->count * out->item_size);
    out->bytes = malloc(size);
    if (!out->bytes) {
        st = soma_error(SOMA_ERR_MEMORY, "%s: out of memory", path);
        goto done;
    }
    /* gzread takes an unsigned count: read in chunks */
    for (size_t pos = 0; pos < size;) {
        size_t chunk = size - pos > (1u << 30) ? (1u << 30) : size - pos;
        if (!read_exact(gz, out->bytes + pos, chunk)) {
            st = soma_error(SOMA_ERR_FORMAT, "%s: IDX data is truncated", path);
            goto done;
        }
        pos += chunk;
    }
done:
    gzclose(gz);
    if (st != SOMA_OK)
        idx_data_free(out);
    return st;
}
