#include "io/protobuf.h"

#include <stdlib.h>
#include <string.h>

void pb_init(pb_buf *b) { memset(b, 0, sizeof *b); }

void pb_free(pb_buf *b)
{
    free(b->data);
    pb_init(b);
}

void pb_raw(pb_buf *b, const void *bytes, size_t n)
{
    if (b->failed || n == 0)
        return;
    if (b->len + n < b->len) {
        b->failed = 1;
        return;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n && cap <= SIZE_MAX / 2)
            cap *= 2;
        uint8_t *grown = cap >= b->len + n ? realloc(b->data, cap) : NULL;
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
}

void pb_varint(pb_buf *b, uint64_t value)
{
    uint8_t bytes[10];
    size_t n = 0;
    do {
        uint8_t low = value & 0x7f;
        value >>= 7;
        bytes[n++] = (uint8_t)(low | (value ? 0x80 : 0));
    } while (value);
    pb_raw(b, bytes, n);
}

void pb_key(pb_buf *b, int field, int wire_type)
{
    pb_varint(b, ((uint64_t)field << 3) | (uint64_t)wire_type);
}

void pb_int(pb_buf *b, int field, int64_t value)
{
    pb_key(b, field, PB_VARINT);
    pb_varint(b, (uint64_t)value);
}

void pb_float(pb_buf *b, int field, float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    uint8_t le[4] = {(uint8_t)bits, (uint8_t)(bits >> 8), (uint8_t)(bits >> 16),
                     (uint8_t)(bits >> 24)};
    pb_key(b, field, PB_FIXED32);
    pb_raw(b, le, sizeof le);
}

void pb_bytes(pb_buf *b, int field, const void *bytes, size_t n)
{
    pb_key(b, field, PB_LEN);
    pb_varint(b, n);
    pb_raw(b, bytes, n);
}

void pb_string(pb_buf *b, int field, const char *s) { pb_bytes(b, field, s, strlen(s)); }

void pb_message(pb_buf *b, int field, const pb_buf *message)
{
    if (message->failed)
        b->failed = 1;
    pb_bytes(b, field, message->data, message->len);
}
