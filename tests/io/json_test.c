/* The JSON parser against RFC 8259, hostile input, and strbuf's escaping. */
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/strbuf.h"
#include "io/json.h"
#include "support/check.h"

static json_value *parse_ok(const char *text)
{
    json_value *v = NULL;
    soma_status st = json_parse(text, strlen(text), "doc", &v);
    CHECK_MSG(st == SOMA_OK, "%.80s -> %s", text, soma_last_error());
    return v;
}

/* The message must be one line, start with the name, and contain `want`. */
static void parse_bad_n(const char *text, size_t len, const char *want)
{
    json_value *v = (json_value *)1;
    soma_status st = json_parse(text, len, "doc.json", &v);
    const char *msg = soma_last_error();
    CHECK_MSG(st != SOMA_OK, "accepted: %.60s", text);
    CHECK(v == NULL);
    CHECK_MSG(strncmp(msg, "doc.json: ", 10) == 0 && !strchr(msg, '\n'), "message: %s", msg);
    CHECK_MSG(!want || strstr(msg, want), "%.60s: message '%s' lacks '%s'", text, msg, want);
}

static void parse_bad(const char *text, const char *want) { parse_bad_n(text, strlen(text), want); }

static void test_values(void)
{
    json_value *v = parse_ok(" {\"a\": [1, -2.5, 3e2, 0.125E-1, -0, 1e-400], \"b\": true,"
                             " \"c\": false, \"d\": null, \"e\": \"x\\ty\", \"f\": {}, \"g\": []} ");
    CHECK(json_typeof(v) == JSON_OBJECT && json_count(v) == 7);
    CHECK(strcmp(json_key_at(v, 0), "a") == 0 && strcmp(json_key_at(v, 6), "g") == 0);
    const json_value *a = json_object_get(v, "a");
    CHECK(json_typeof(a) == JSON_ARRAY && json_count(a) == 6);
    CHECK(json_number(json_at(a, 0)) == 1.0);
    CHECK(json_number(json_at(a, 1)) == -2.5);
    CHECK(json_number(json_at(a, 2)) == 300.0);
    CHECK(json_number(json_at(a, 3)) == 0.0125);
    CHECK(json_number(json_at(a, 4)) == 0.0);
    CHECK(json_number(json_at(a, 5)) == 0.0); /* underflow is fine, overflow is not */
    int64_t i;
    CHECK(json_get_int64(json_at(a, 0), &i) && i == 1);
    CHECK(!json_get_int64(json_at(a, 1), &i));
    CHECK(!json_get_int64(json_at(a, 2), &i)); /* 3e2 is not written as an integer */
    CHECK(json_bool(json_object_get(v, "b")) == 1);
    CHECK(json_typeof(json_object_get(v, "c")) == JSON_BOOL && !json_bool(json_object_get(v, "c")));
    CHECK(json_typeof(json_object_get(v, "d")) == JSON_NULL);
    const json_value *e = json_object_get(v, "e");
    CHECK(json_string(e) && strcmp(json_string(e), "x\ty") == 0 && e->length == 3);
    CHECK(json_count(json_object_get(v, "f")) == 0 && json_typeof(json_object_get(v, "f")) == JSON_OBJECT);
    CHECK(json_object_get(v, "zz") == NULL);
    CHECK(json_at(a, 6) == NULL && json_string(a) == NULL && json_number(a) != json_number(a));
    json_free(v);

    /* scalars at the top level are valid JSON text (RFC 8259 section 2) */
    v = parse_ok("42");
    CHECK(json_number(v) == 42.0);
    json_free(v);
    v = parse_ok("\"\"");
    CHECK(json_string(v) && json_string(v)[0] == '\0');
    json_free(v);

    /* 2^53 - 1 is exact; 2^53 and beyond may not be */
    v = parse_ok("[9007199254740991, -9007199254740991, 9007199254740992, 12345678901234567890]");
    CHECK(json_get_int64(json_at(v, 0), &i) && i == 9007199254740991LL);
    CHECK(json_get_int64(json_at(v, 1), &i) && i == -9007199254740991LL);
    CHECK(!json_get_int64(json_at(v, 2), &i));
    CHECK(!json_get_int64(json_at(v, 3), &i));
    json_free(v);
}

static void test_strings(void)
{
    json_value *v = parse_ok("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\\u00e9\\u20AC\", \"\\ud83d\\ude00\","
                             " \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"]");
    CHECK(strcmp(json_string(json_at(v, 0)), "\"\\/\b\f\n\r\t") == 0);
    /* U+00E9 = C3 A9, U+20AC = E2 82 AC, U+1F600 = F0 9F 98 80 */
    CHECK(strcmp(json_string(json_at(v, 1)), "\xc3\xa9\xe2\x82\xac") == 0);
    CHECK(strcmp(json_string(json_at(v, 2)), "\xf0\x9f\x98\x80") == 0);
    CHECK(strcmp(json_string(json_at(v, 3)), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == 0);
    json_free(v);
}

static void test_invalid(void)
{
    parse_bad("", "byte 0: expected a value");
    parse_bad("   ", "byte 3");
    parse_bad("{", "expected a string key");
    parse_bad("{\"a\"", "expected ':'");
    parse_bad("{\"a\" 1}", "byte 5: expected ':'");
    parse_bad("{\"a\":1", "expected ',' or '}'");
    parse_bad("[1 2]", "byte 3: expected ',' or ']'");
    parse_bad("[1,]", "trailing comma");
    parse_bad("{\"a\":1,}", "trailing comma");
    parse_bad("{,}", "expected a string key");
    parse_bad("{1:2}", "expected a string key");
    parse_bad("[1", NULL);
    parse_bad("\"abc", "unterminated string");
    parse_bad("\"abc\\", "unterminated string");
    parse_bad("\"a\\qb\"", "invalid escape");
    parse_bad("\"\\u12\"", "4 hex digits");
    parse_bad("\"\\u12G4\"", "4 hex digits");
    parse_bad("\"\\ud800\"", "lone high surrogate");
    parse_bad("\"\\ud800\\u0041\"", "lone high surrogate");
    parse_bad("\"\\ud800x\"", "lone high surrogate");
    parse_bad("\"\\udc00\"", "lone low surrogate");
    parse_bad("\"a\\u0000b\"", "\\u0000");
    parse_bad("\"a\nb\"", "byte 2: control character 0x0a");
    parse_bad("\"a\tb\"", "control character 0x09");
    parse_bad_n("\"a\0b\"", 5, "control character 0x00");
    parse_bad_n("[1]\0", 4, "after the value");
    parse_bad("\"\xc3\"", "invalid UTF-8");            /* truncated sequence */
    parse_bad("\"\xc0\xaf\"", "invalid UTF-8");        /* overlong '/' */
    parse_bad("\"\xed\xa0\x80\"", "invalid UTF-8");    /* an encoded surrogate */
    parse_bad("\"\xf4\x90\x80\x80\"", "invalid UTF-8"); /* above U+10FFFF */
    parse_bad("\"\xff\"", "invalid UTF-8");
    parse_bad("01", "leading zero");
    parse_bad("-01", "leading zero");
    parse_bad("1.", "digit after '.'");
    parse_bad(".5", "expected a value");
    parse_bad("-", "digit after '-'");
    parse_bad("+1", "expected a value");
    parse_bad("1e", "exponent");
    parse_bad("1e+", "exponent");
    parse_bad("0x10", "after the value");
    parse_bad("1e400", "out of range");
    parse_bad("-1e400", "out of range");
    parse_bad("NaN", "expected a value, found 'N'");
    parse_bad("Infinity", "expected a value");
    parse_bad("-Infinity", "digit after '-'");
    parse_bad("tru", "expected a value");
    parse_bad("nul", NULL);
    parse_bad("True", NULL);
    parse_bad("[1] [2]", "byte 4: unexpected '['");
    parse_bad("{} x", "after the value");
    parse_bad("\xef\xbb\xbf{}", "byte 0"); /* a byte-order mark is not JSON */
    parse_bad("{\"a\":1,\"b\":2,\"a\":3}", "byte 13: duplicate key \"a\"");
    parse_bad("[{\"k\":{\"x\":1,\"x\":1}}]", "duplicate key \"x\"");
    parse_bad("['a']", NULL);
    parse_bad("[1,\f2]", NULL); /* form feed is not JSON whitespace */
    parse_bad("/* c */ 1", NULL);

    /* a long number, and a name NULL */
    char digits[700];
    memset(digits, '1', sizeof digits - 1);
    digits[sizeof digits - 1] = '\0';
    parse_bad(digits, "longer than");
    json_value *v = NULL;
    CHECK(json_parse("[", 1, NULL, &v) != SOMA_OK && strncmp(soma_last_error(), "JSON: ", 6) == 0);
}

static char *repeat(const char *open, int times, const char *middle, const char *close)
{
    strbuf sb;
    strbuf_init(&sb);
    for (int i = 0; i < times; i++)
        strbuf_append(&sb, open);
    strbuf_append(&sb, middle);
    for (int i = 0; i < times; i++)
        strbuf_append(&sb, close);
    return strbuf_take(&sb);
}

static void test_limits(void)
{
    char *s = repeat("[", JSON_MAX_DEPTH, "1", "]");
    json_value *v = parse_ok(s);
    const json_value *inner = v;
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        inner = json_at(inner, 0);
    CHECK(json_number(inner) == 1.0);
    json_free(v);
    free(s);
    s = repeat("[", JSON_MAX_DEPTH + 1, "1", "]");
    parse_bad(s, "byte 64: nested deeper than 64");
    free(s);
    s = repeat("{\"a\":", JSON_MAX_DEPTH + 1, "1", "}");
    parse_bad(s, "nested deeper");
    free(s);
    /* a hostile stack of openers only: no recursion past the limit */
    s = repeat("[", 100000, "", "");
    parse_bad(s, "nested deeper");
    free(s);

    /* more values than allowed */
    strbuf sb;
    strbuf_init(&sb);
    strbuf_append(&sb, "[0");
    for (size_t i = 1; i < JSON_MAX_VALUES; i++)
        strbuf_append(&sb, ",0");
    strbuf_append(&sb, "]");
    parse_bad(sb.data, "more than 1048576 values");
    strbuf_free(&sb);

    /* the input size limit is checked before anything is read */
    v = (json_value *)1;
    CHECK(json_parse("{}", JSON_MAX_INPUT + 1, "big", &v) == SOMA_ERR_FORMAT && v == NULL);
    CHECK(strstr(soma_last_error(), "more than the limit") != NULL);

    /* many keys: the duplicate check must stay fast, and find the late duplicate */
    strbuf_init(&sb);
    strbuf_append(&sb, "{");
    int nkeys = 100000;
    for (int i = 0; i < nkeys; i++)
        strbuf_appendf(&sb, "%s\"key%d\":%d", i ? "," : "", i, i);
    strbuf_append(&sb, "}");
    v = parse_ok(sb.data);
    CHECK(json_count(v) == (size_t)nkeys);
    CHECK(json_number(json_object_get(v, "key77777")) == 77777.0);
    json_free(v);
    sb.data[--sb.len] = '\0'; /* reopen the object */
    strbuf_append(&sb, ",");
    size_t dup_at = sb.len;
    strbuf_append(&sb, "\"key123\":0}");
    char want[64];
    snprintf(want, sizeof want, "at byte %zu: duplicate key \"key123\"", dup_at);
    parse_bad(sb.data, want);
    strbuf_free(&sb);
}

/* Escaping with strbuf and parsing back gives the original string. */
static void test_round_trip(void)
{
    rng r;
    rng_init(&r, 7, RNG_TEST, 0, 0);
    for (int trial = 0; trial < 2000; trial++) {
        /* random code points from all planes, control characters included */
        strbuf raw;
        strbuf_init(&raw);
        int n = (int)rng_below(&r, 20);
        for (int k = 0; k < n; k++) {
            static const uint32_t ranges[][2] = {
                {1, 0x1f}, {0x20, 0x7f}, {0x80, 0x7ff}, {0x800, 0xd7ff}, {0xe000, 0xffff},
                {0x10000, 0x10ffff}};
            int which = (int)rng_below(&r, 6);
            uint32_t cp = ranges[which][0] + rng_below(&r, ranges[which][1] - ranges[which][0] + 1);
            char buf[4];
            size_t len;
            if (cp < 0x80) {
                buf[0] = (char)cp, len = 1;
            } else if (cp < 0x800) {
                buf[0] = (char)(0xC0 | (cp >> 6)), buf[1] = (char)(0x80 | (cp & 0x3F)), len = 2;
            } else if (cp < 0x10000) {
                buf[0] = (char)(0xE0 | (cp >> 12)), buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                buf[2] = (char)(0x80 | (cp & 0x3F)), len = 3;
            } else {
                buf[0] = (char)(0xF0 | (cp >> 18)), buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
                buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), buf[3] = (char)(0x80 | (cp & 0x3F));
                len = 4;
            }
            strbuf_append_n(&raw, buf, len);
        }
        char *original = strbuf_take(&raw);
        strbuf quoted;
        strbuf_init(&quoted);
        strbuf_append_json_string(&quoted, original);
        CHECK(!quoted.failed);
        json_value *v = NULL;
        if (json_parse(quoted.data, quoted.len, "round trip", &v) == SOMA_OK) {
            CHECK_MSG(strcmp(json_string(v), original) == 0, "trial %d", trial);
            CHECK(v->length == strlen(original));
        } else {
            CHECK_MSG(0, "trial %d: %s", trial, soma_last_error());
        }
        json_free(v);
        strbuf_free(&quoted);
        free(original);
    }

    /* specific escapes, spelled out by hand */
    strbuf sb;
    strbuf_init(&sb);
    strbuf_append_json_string(&sb, "a\"b\\c\n\x01\x1f\x7f/");
    CHECK_MSG(strcmp(sb.data, "\"a\\\"b\\\\c\\n\\u0001\\u001f\x7f/\"") == 0, "%s", sb.data);
    strbuf_free(&sb);
    /* bytes that are not UTF-8 become U+FFFD, so the output still parses */
    strbuf_append_json_string(&sb, "x\xff\xc3y");
    CHECK_MSG(strcmp(sb.data, "\"x\\ufffd\\ufffdy\"") == 0, "%s", sb.data);
    json_value *v = parse_ok(sb.data);
    CHECK(strcmp(json_string(v), "x\xef\xbf\xbd\xef\xbf\xbdy") == 0);
    json_free(v);
    strbuf_free(&sb);
}

static void test_strbuf(void)
{
    strbuf sb;
    strbuf_init(&sb);
    char *empty = strbuf_take(&sb);
    CHECK(empty && empty[0] == '\0');
    free(empty);
    /* appendf past the first buffer size: the result must equal a plain loop */
    char expect[4096] = "";
    for (int i = 0; i < 300; i++) {
        strbuf_appendf(&sb, "%d,", i * 7);
        char part[16];
        snprintf(part, sizeof part, "%d,", i * 7);
        strcat(expect, part);
    }
    strbuf_appendf(&sb, "%s", "");
    CHECK(sb.len == strlen(expect) && strcmp(sb.data, expect) == 0);
    char *taken = strbuf_take(&sb);
    CHECK(taken && strcmp(taken, expect) == 0 && sb.data == NULL && sb.len == 0);
    free(taken);
    sb.failed = 1; /* a failed builder yields NULL and stays failed */
    strbuf_append(&sb, "x");
    CHECK(strbuf_take(&sb) == NULL);

    char shown[16];
    str_sanitize(shown, sizeof shown, "a\nb\x01" "c");
    CHECK(strcmp(shown, "a?b?c") == 0);
    str_sanitize(shown, sizeof shown, "abcdefghijklmnopqrstuvwxyz");
    CHECK(strcmp(shown, "abcdefghijkl...") == 0);
    str_sanitize(shown, 8, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
    CHECK(strcmp(shown, "\xc3\xa9\xc3\xa9...") == 0);
}

int main(void)
{
    test_values();
    test_strings();
    test_invalid();
    test_limits();
    test_round_trip();
    test_strbuf();
    return check_finish("json_test");
}
