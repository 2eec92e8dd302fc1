/* IDX files of unsigned bytes (images or labels) for `soma predict`, gzip or raw. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/image_read.h"
#include "core/error.h"
#include "data/idx.h"

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

/* The library's reader: it checks every header field and the data's length
 * against the file before allocating, so a small file that claims millions
 * of images fails fast. */
soma_status idx_data_read(const char *path, idx_data *out)
{
    memset(out, 0, sizeof *out);
    idx_array a;
    SOMA_TRY(idx_read(path, &a));
    /* idx_read's limits (1 GiB of data, 1e8 items) keep every count within int */
    out->ndim = a.ndim;
    out->item_size = 1;
    for (int i = 0; i < a.ndim; i++) {
        out->dims[i] = (int)a.dims[i];
        if (i > 0)
            out->item_size *= a.dims[i];
    }
    out->count = a.dims[0];
    out->bytes = a.data;
    return SOMA_OK;
}
