/* float_convert against values worked out by hand from the bit layouts
 * (binary16: 1+5+10 bits, bias 15; bfloat16: the top half of a float32):
 * normals, the largest half, subnormals, signed zero, infinities and NaN. */
#include <math.h>
#include <string.h>

#include "io/float_convert.h"
#include "support/check.h"

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static void expect_f16(uint16_t half, double want)
{
    float got = float_from_f16(half);
    CHECK_MSG((double)got == want && !signbit(got) == !signbit(want), "f16 0x%04x: got %.17g, want %.17g",
              half, (double)got, want);
}

int main(void)
{
    expect_f16(0x3c00, 1.0);
    expect_f16(0xc000, -2.0);
    expect_f16(0x3555, 0.333251953125);    /* 1.0101010101b x 2^-2 */
    expect_f16(0x7bff, 65504.0);           /* the largest half */
    expect_f16(0x0400, ldexp(1.0, -14));   /* the smallest normal */
    expect_f16(0x0001, ldexp(1.0, -24));   /* the smallest subnormal */
    expect_f16(0x03ff, 1023 * ldexp(1.0, -24)); /* the largest subnormal */
    expect_f16(0x8001, -ldexp(1.0, -24));
    expect_f16(0x0200, ldexp(1.0, -15));   /* a subnormal with one bit */
    expect_f16(0x0000, 0.0);
    expect_f16(0x8000, -0.0);
    expect_f16(0x7c00, INFINITY);
    expect_f16(0xfc00, -INFINITY);
    CHECK(isnan(float_from_f16(0x7e00)));
    CHECK(isnan(float_from_f16(0x7c01))); /* a signalling NaN stays a NaN */
    CHECK(bits_of(float_from_f16(0x7e00)) == 0x7fc00000u);

    CHECK(float_from_bf16(0x3f80) == 1.0f);
    CHECK(float_from_bf16(0xc040) == -3.0f);
    CHECK(float_from_bf16(0x4049) == 3.140625f);
    CHECK((double)float_from_bf16(0x0001) == ldexp(1.0, -133)); /* a float subnormal */
    CHECK(float_from_bf16(0x7f80) == INFINITY);
    CHECK(float_from_bf16(0xff80) == -INFINITY);
    CHECK(isnan(float_from_bf16(0x7fc0)));

    CHECK(bits_of(float_from_f64(0.1)) == 0x3dcccccdu);   /* rounded to nearest */
    CHECK(bits_of(float_from_f64(1.0 / 3)) == 0x3eaaaaabu);
    CHECK(float_from_f64(1e300) == INFINITY);
    CHECK(float_from_f64(-1e300) == -INFINITY);
    CHECK(float_from_f64(1e-46) == 0.0f);                 /* below half the least subnormal */
    CHECK(bits_of(float_from_f64(ldexp(1.0, -149))) == 1u); /* the least subnormal float */
    CHECK(isnan(float_from_f64(NAN)));

    /* arrays from little-endian bytes at an odd address */
    uint8_t bytes[1 + 3 * 8];
    const uint8_t halves[] = {0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00};
    memcpy(bytes + 1, halves, sizeof halves);
    float out[3];
    CHECK(float_convert_array(ST_F16, bytes + 1, 3, out) == SOMA_OK);
    CHECK(out[0] == 1.0f && out[1] == -2.0f && (double)out[2] == ldexp(1.0, -24));
    const uint8_t bf[] = {0x80, 0x3f, 0x40, 0xc0};
    memcpy(bytes + 1, bf, sizeof bf);
    CHECK(float_convert_array(ST_BF16, bytes + 1, 2, out) == SOMA_OK);
    CHECK(out[0] == 1.0f && out[1] == -3.0f);
    double d[3] = {0.5, -4.25, 1e300};
    memcpy(bytes + 1, d, sizeof d);
    CHECK(float_convert_array(ST_F64, bytes + 1, 3, out) == SOMA_OK);
    CHECK(out[0] == 0.5f && out[1] == -4.25f && out[2] == INFINITY);
    float f[2] = {1.5f, -0.25f};
    memcpy(bytes + 1, f, sizeof f);
    CHECK(float_convert_array(ST_F32, bytes + 1, 2, out) == SOMA_OK);
    CHECK(out[0] == 1.5f && out[1] == -0.25f);
    CHECK(float_convert_array(ST_I64, bytes, 1, out) == SOMA_ERR_UNSUPPORTED);
    CHECK(float_dtype_supported(ST_BF16) && !float_dtype_supported(ST_F8_E4M3));
    return check_finish("float_convert");
}
