/* libFuzzer harness for json_parse: no crash, no leak, and what parses must
 * survive a round trip through strbuf's writer unchanged. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "io/json.h"

static void write_value(strbuf *sb, const json_value *v)
{
    switch (json_typeof(v)) {
    case JSON_NULL: strbuf_append(sb, "null"); break;
    case JSON_BOOL: strbuf_append(sb, json_bool(v) ? "true" : "false"); break;
    case JSON_NUMBER: strbuf_appendf(sb, "%.17g", json_number(v)); break;
    case JSON_STRING: strbuf_append_json_string(sb, json_string(v)); break;
    case JSON_ARRAY:
    case JSON_OBJECT: {
        int obj = json_typeof(v) == JSON_OBJECT;
        strbuf_append(sb, obj ? "{" : "[");
        for (size_t i = 0; i < json_count(v); i++) {
            if (i)
                strbuf_append(sb, ",");
            if (obj) {
                strbuf_append_json_string(sb, json_key_at(v, i));
                strbuf_append(sb, ":");
            }
            write_value(sb, json_at(v, i));
        }
        strbuf_append(sb, obj ? "}" : "]");
        break;
    }
    }
}

static int same(const json_value *a, const json_value *b)
{
    if (json_typeof(a) != json_typeof(b) || json_count(a) != json_count(b))
        return 0;
    switch (json_typeof(a)) {
    case JSON_BOOL: return json_bool(a) == json_bool(b);
    case JSON_NUMBER: return json_number(a) == json_number(b);
    case JSON_STRING: return a->length == b->length && strcmp(json_string(a), json_string(b)) == 0;
    case JSON_OBJECT:
        for (size_t i = 0; i < json_count(a); i++)
            if (strcmp(json_key_at(a, i), json_key_at(b, i)) != 0)
                return 0;
        /* fall through */
    case JSON_ARRAY:
        for (size_t i = 0; i < json_count(a); i++)
            if (!same(json_at(a, i), json_at(b, i)))
                return 0;
        return 1;
    default: return 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_value *v = NULL;
    if (json_parse((const char *)data, size, "fuzz", &v) != SOMA_OK)
        return 0;
    strbuf sb;
    strbuf_init(&sb);
    write_value(&sb, v);
    json_value *again = NULL;
    if (sb.failed || json_parse(sb.data, sb.len, "again", &again) != SOMA_OK || !same(v, again)) {
        fprintf(stderr, "round trip failed: %s\n", sb.failed ? "out of memory" : sb.data);
        abort();
    }
    json_free(again);
    json_free(v);
    strbuf_free(&sb);
    return 0;
}
