#include "io/float_convert.h"

#include <string.h>

float float_from_f16(uint16_t bits)
{
    uint32_t sign = (uint32_t)(bits >> 15) << 31;
    uint32_t exponent = (bits >> 10) & 0x1f;
    uint32_t fraction = bits & 0x3ff;
    uint32_t out;
    if (exponent == 0x1f) { /* inf or NaN: the payload kept, quiet bit as it was */
        out = sign | 0x7f800000u | (fraction << 13);
    } else if (exponent != 0) { /* normal: rebias 15 -> 127 */
        out = sign | ((exponent + 112) << 23) | (fraction << 13);
    } else if (fraction == 0) {
        out = sign;
    } else { /* subnormal half: a normal float; shift the leading 1 into place */
        int shift = 0;
        while (!(fraction & 0x400)) {
            fraction <<= 1;
            shift++;
        }
        out = sign | ((uint32_t)(113 - shift) << 23) | ((fraction & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &out, sizeof f);
    return f;
}

float float_from_bf16(uint16_t bits)
{
    uint32_t out = (uint32_t)bits << 16;
    float f;
    memcpy(&f, &out, sizeof f);
    return f;
}

float float_from_f64(double value)
{
    return (float)value; /* C rounds to nearest under the default rounding mode */
}

int float_dtype_supported(st_dtype dtype)
{
    return dtype == ST_F32 || dtype == ST_F16 || dtype == ST_BF16 || dtype == ST_F64;
}

soma_status float_convert_array(st_dtype dtype, const uint8_t *src, size_t n, float *dst)
{
    switch (dtype) {
    case ST_F32:
        memcpy(dst, src, n * sizeof *dst);
        return SOMA_OK;
    case ST_F16:
    case ST_BF16:
        for (size_t i = 0; i < n; i++) {
            uint16_t bits = (uint16_t)(src[2 * i] | src[2 * i + 1] << 8);
            dst[i] = dtype == ST_F16 ? float_from_f16(bits) : float_from_bf16(bits);
        }
        return SOMA_OK;
    case ST_F64:
        for (size_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, src + 8 * i, sizeof d);
            dst[i] = float_from_f64(d);
        }
        return SOMA_OK;
    default:
        return SOMA_ERR_UNSUPPORTED;
    }
}
