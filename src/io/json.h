/*
 * A strict RFC 8259 JSON parser into a small DOM, for checkpoint headers and
 * other small documents that may come from anywhere.
 *
 * Hostile input cannot crash it, hang it or make it allocate without bound:
 * input is at most JSON_MAX_INPUT bytes, nesting at most JSON_MAX_DEPTH, the
 * document at most JSON_MAX_VALUES values; duplicate keys are found by
 * sorting, not by pairwise comparison. Everything RFC 8259 forbids is an
 * error: trailing commas, leading zeros, NaN/Infinity, raw control
 * characters, invalid UTF-8, lone surrogates, trailing garbage. On top of
 * the RFC it also rejects duplicate object keys, "\u0000" (so every string
 * is a plain C string) and numbers that overflow a double.
 *
 * Objects keep their keys in document order. Errors read
 * "NAME: JSON error at byte N: expected ':'" with N counted from 0.
 */
#ifndef SOMA_IO_JSON_H
#define SOMA_IO_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "soma.h"

#define JSON_MAX_INPUT ((size_t)100 << 20)
#define JSON_MAX_DEPTH 64
#define JSON_MAX_VALUES ((size_t)1 << 20)

typedef enum json_type {
    JSON_NULL,
    JSON_BOOL,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT
} json_type;

typedef struct json_value json_value;
struct json_value {
    json_type type;
    int boolean;        /* JSON_BOOL */
    int integer;        /* JSON_NUMBER written without fraction or exponent */
    double number;      /* JSON_NUMBER */
    char *string;       /* JSON_STRING: NUL-terminated UTF-8 */
    size_t length;      /* JSON_STRING: bytes, without the NUL */
    size_t count;       /* JSON_ARRAY, JSON_OBJECT: number of items */
    json_value *items;  /* JSON_ARRAY, JSON_OBJECT: `count` values */
    char **keys;        /* JSON_OBJECT: `count` keys, in document order */
};

/* Parses text[0..len) (need not be NUL-terminated); `name` (e.g. a file
 * name) starts the error message. On success *out is the root value. */
soma_status json_parse(const char *text, size_t len, const char *name, json_value **out);
void json_free(json_value *v);

/* Accessors: all accept NULL and the wrong type, answering NULL / 0 / NaN. */
json_type json_typeof(const json_value *v);               /* JSON_NULL for NULL */
size_t json_count(const json_value *v);                   /* items of an array or object */
const json_value *json_at(const json_value *arr, size_t i); /* item i of an array or object */
const char *json_key_at(const json_value *obj, size_t i);
const json_value *json_object_get(const json_value *obj, const char *key);
double json_number(const json_value *v);                   /* NaN if not a number */
const char *json_string(const json_value *v);              /* NULL if not a string */
int json_bool(const json_value *v);                        /* 1 only for true */
/* 1 and *out set if v is a number written as an integer ("12", "-3", not
 * "12.0" or "1e3") whose magnitude is below 2^53, so exact in a double. */
int json_get_int64(const json_value *v, int64_t *out);

#endif
