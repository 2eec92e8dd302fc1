/*
 * Conversions of the floating-point dtypes a safetensors file may hold (F16,
 * BF16, F64, F32) to float32, for weights written by other programs
 * (PyTorch's half and bfloat16 state_dicts). Bit-exact, with no help from
 * the compiler's _Float16: subnormals, infinities and NaN come through.
 */
#ifndef SOMA_IO_FLOAT_CONVERT_H
#define SOMA_IO_FLOAT_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "io/safetensors.h"

/* IEEE 754 binary16 (1 sign, 5 exponent, 10 fraction bits) to float: exact. */
float float_from_f16(uint16_t bits);
/* bfloat16 (the upper half of a float32) to float: exact. */
float float_from_bf16(uint16_t bits);
/* double to float, rounded to nearest even; beyond the float range: +-inf. */
float float_from_f64(double value);

/* 1 when `dtype` is one float_convert_array reads. */
int float_dtype_supported(st_dtype dtype);
/* Converts n elements of `dtype` from little-endian bytes (any alignment) to
 * floats. SOMA_ERR_UNSUPPORTED (no message) for another dtype. */
soma_status float_convert_array(st_dtype dtype, const uint8_t *src, size_t n, float *dst);

#endif
