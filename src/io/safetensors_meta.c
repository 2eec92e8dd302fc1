/*
 * Typed reads of safetensors metadata, which the format keeps as strings:
 * strict, so that an edited value is refused rather than half read.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "io/safetensors.h"

soma_status st_meta_number(const st_file *f, const char *path, const char *key, double *out)
{
    const char *v = st_meta(f, key);
    if (!v)
        return soma_error(SOMA_ERR_FORMAT, "%s: metadata '%s' is missing", path, key);
    char *end;
    errno = 0;
    *out = strtod(v, &end);
    if (end == v || *end || errno == ERANGE)
        return soma_error(SOMA_ERR_FORMAT, "%s: metadata '%s' is not a number: '%.40s'", path,
                          key, v);
    return SOMA_OK;
}

soma_status st_meta_int(const st_file *f, const char *path, const char *key, double min,
                        double max, long long *out)
{
    double v = 0.0;
    SOMA_TRY(st_meta_number(f, path, key, &v));
    if (!(v >= min && v <= max) || v != floor(v))
        return soma_error(SOMA_ERR_FORMAT, "%s: metadata '%s' = %g is out of range", path, key,
                          v);
    *out = (long long)v;
    return SOMA_OK;
}

soma_status st_meta_u64(const st_file *f, const char *path, const char *key, uint64_t *out)
{
    const char *v = st_meta(f, key);
    if (!v)
        return soma_error(SOMA_ERR_FORMAT, "%s: metadata '%s' is missing", path, key);
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (end == v || *end || errno == ERANGE || v[0] == '-')
        return soma_error(SOMA_ERR_FORMAT, "%s: metadata '%s' is not an unsigned integer", path,
                          key);
    *out = (uint64_t)x;
    return SOMA_OK;
}
