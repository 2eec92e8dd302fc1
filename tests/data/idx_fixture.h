/* Helpers for the dataset tests: a temporary directory and small IDX files. */
#ifndef SOMA_TESTS_DATA_IDX_FIXTURE_H
#define SOMA_TESTS_DATA_IDX_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "soma.h"
#include "support/check.h"

static char tmpdir[64]; /* made by main with mkdtemp */

static inline const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

/* Writes a uint8 IDX file (gzip when the name ends in .gz). */
static inline void write_idx(const char *path, int ndim, const uint32_t *dims, const uint8_t *data)
{
    uint8_t head[4 + 16] = {0, 0, 0x08, (uint8_t)ndim};
    size_t len = 1;
    for (int i = 0; i < ndim; i++) {
        head[4 + 4 * i] = (uint8_t)(dims[i] >> 24);
        head[5 + 4 * i] = (uint8_t)(dims[i] >> 16);
        head[6 + 4 * i] = (uint8_t)(dims[i] >> 8);
        head[7 + 4 * i] = (uint8_t)dims[i];
        len *= dims[i];
    }
    size_t plen = strlen(path);
    if (plen > 3 && strcmp(path + plen - 3, ".gz") == 0) {
        gzFile gz = gzopen(path, "wb");
        gzwrite(gz, head, 4 + 4 * (unsigned)ndim);
        gzwrite(gz, data, (unsigned)len);
        gzclose(gz);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(head, 1, 4 + 4 * (size_t)ndim, f);
        fwrite(data, 1, len, f);
        fclose(f);
    }
}

/* Writes images (n x h x w, byte k = (k * 7 + seed) % 256) and labels (i % classes). */
static inline void write_pair(const char *images, const char *labels, uint32_t n, uint32_t h,
                       uint32_t w, int classes, int seed)
{
    size_t len = (size_t)n * h * w;
    uint8_t *pix = malloc(len), *lab = malloc(n);
    for (size_t k = 0; k < len; k++)
        pix[k] = (uint8_t)((k * 7 + (size_t)seed) % 256);
    for (uint32_t i = 0; i < n; i++)
        lab[i] = (uint8_t)(i % (uint32_t)classes);
    uint32_t idims[3] = {n, h, w}, ldims[1] = {n};
    write_idx(images, 3, idims, pix);
    write_idx(labels, 1, ldims, lab);
    free(pix);
    free(lab);
}

static inline void check_one_line_error(soma_status st, const char *needle, const char *what)
{
    const char *msg = soma_last_error();
    CHECK_MSG(st != SOMA_OK, "%s: accepted", what);
    CHECK_MSG(strchr(msg, '\n') == NULL, "%s: message has a newline: %s", what, msg);
    CHECK_MSG(strstr(msg, needle) != NULL, "%s: message lacks '%s': %s", what, needle, msg);
}

static inline void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
}

#endif
