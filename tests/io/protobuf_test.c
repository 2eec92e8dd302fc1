/* The protobuf encoder against bytes worked out by hand from the encoding
 * rules (key = field << 3 | wire type; varints 7 bits at a time, low first). */
#include <string.h>

#include "io/protobuf.h"
#include "support/check.h"

static void expect(const pb_buf *b, const uint8_t *want, size_t n, const char *what)
{
    int same = !b->failed && b->len == n && memcmp(b->data, want, n) == 0;
    CHECK_MSG(same, "%s: %zu bytes, want %zu", what, b->len, n);
    if (!same)
        for (size_t i = 0; i < b->len; i++)
            fprintf(stderr, "%02x%s", b->data[i], i + 1 == b->len ? "\n" : " ");
}

int main(void)
{
    pb_buf b;
    pb_init(&b);
    pb_varint(&b, 0);
    pb_varint(&b, 1);
    pb_varint(&b, 127);
    pb_varint(&b, 128); /* 1 0000000b: 0x80 0x01 */
    pb_varint(&b, 300); /* 10 0101100b: 0xac 0x02 (the protobuf documentation's example) */
    pb_varint(&b, UINT64_MAX);
    static const uint8_t varints[] = {0x00, 0x01, 0x7f, 0x80, 0x01, 0xac, 0x02, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    expect(&b, varints, sizeof varints, "varints");
    pb_free(&b);

    pb_int(&b, 1, 150); /* the documentation's "08 96 01" */
    pb_int(&b, 2, -1);  /* ten bytes: 0xff x 9, 0x01 */
    pb_int(&b, 16, 3);  /* key 16 << 3 = 128: 0x80 0x01 */
    static const uint8_t ints[] = {0x08, 0x96, 0x01, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0x01, 0x80, 0x01, 0x03};
    expect(&b, ints, sizeof ints, "int fields");
    pb_free(&b);

    pb_string(&b, 2, "testing"); /* "12 07 74 65 73 74 69 6e 67" */
    pb_float(&b, 2, 1.0f);       /* key 0x15, then 00 00 80 3f */
    pb_float(&b, 1, -2.5f);      /* key 0x0d, -2.5f = 0xc0200000 */
    static const uint8_t mixed[] = {0x12, 0x07, 't',  'e',  's',  't',  'i',  'n', 'g',
                                    0x15, 0x00, 0x00, 0x80, 0x3f, 0x0d, 0x00, 0x00, 0x20, 0xc0};
    expect(&b, mixed, sizeof mixed, "string and floats");
    pb_free(&b);

    pb_buf inner;
    pb_init(&inner);
    pb_int(&inner, 1, 150);
    pb_message(&b, 3, &inner); /* the documentation's "1a 03 08 96 01" */
    static const uint8_t nested[] = {0x1a, 0x03, 0x08, 0x96, 0x01};
    expect(&b, nested, sizeof nested, "embedded message");
    pb_free(&b);

    uint8_t big[200];
    memset(big, 0xab, sizeof big);
    pb_bytes(&b, 9, big, sizeof big); /* key 0x4a, length 200 = 0xc8 0x01 */
    CHECK(b.len == 3 + sizeof big && b.data[0] == 0x4a && b.data[1] == 0xc8 && b.data[2] == 0x01);
    CHECK(memcmp(b.data + 3, big, sizeof big) == 0);
    pb_free(&b);
    pb_free(&inner);
    return check_finish("protobuf");
}
