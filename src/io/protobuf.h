/*
 * A minimal Protocol Buffers encoder (developers.google.com/protocol-buffers/
 * docs/encoding), enough to write ONNX files: varints, 32-bit floats and
 * length-delimited fields (strings, bytes, embedded messages). A message is
 * built in a pb_buf; an embedded one is built in its own and then added.
 * Allocation failures stick (`failed`) and are reported once at the end.
 */
#ifndef SOMA_IO_PROTOBUF_H
#define SOMA_IO_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

enum { PB_VARINT = 0, PB_FIXED64 = 1, PB_LEN = 2, PB_FIXED32 = 5 };

typedef struct pb_buf {
    uint8_t *data;
    size_t len, cap;
    int failed; /* an allocation failed: the bytes are incomplete */
} pb_buf;

void pb_init(pb_buf *b);
void pb_free(pb_buf *b);
/* The raw bytes, appended as they are. */
void pb_raw(pb_buf *b, const void *bytes, size_t n);
/* An unsigned base-128 varint, least significant group first. */
void pb_varint(pb_buf *b, uint64_t value);
/* A field's key: (field << 3) | wire type. */
void pb_key(pb_buf *b, int field, int wire_type);
/* int32/int64/uint64/enum/bool fields; negative values take ten bytes, as protobuf's. */
void pb_int(pb_buf *b, int field, int64_t value);
/* A float field (wire type 5, little-endian IEEE 754). */
void pb_float(pb_buf *b, int field, float value);
/* bytes and string fields. */
void pb_bytes(pb_buf *b, int field, const void *bytes, size_t n);
void pb_string(pb_buf *b, int field, const char *s);
/* An embedded message: `message`'s bytes as a length-delimited field. */
void pb_message(pb_buf *b, int field, const pb_buf *message);

#endif
