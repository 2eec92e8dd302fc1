/* The string builder and the UTF-8 helpers (src/core/strbuf.c). */
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "support/check.h"

/* Takes the built string, compares it with `want` and frees it. */
static void check_take(strbuf *sb, const char *want)
{
    char *s = strbuf_take(sb);
    CHECK_MSG(s && strcmp(s, want) == 0, "got '%s', expected '%s'", s ? s : "(null)", want);
    free(s);
}

static void check_building(void)
{
    strbuf sb;
    strbuf_init(&sb);
    check_take(&sb, ""); /* nothing appended: "" not NULL */
    strbuf_append(&sb, "conv2d");
    strbuf_append_n(&sb, " filters=6xyz", 10);
    strbuf_appendf(&sb, " size=%d%s", 5, "");
    check_take(&sb, "conv2d filters=6 size=5");
    CHECK(sb.data == NULL && sb.len == 0); /* take resets */

    /* growing well past any initial capacity */
    for (int i = 0; i < 1000; i++)
        strbuf_appendf(&sb, "%03d,", i);
    CHECK(sb.len == 4000 && strlen(sb.data) == 4000);
    CHECK(strncmp(sb.data + 3996, "999,", 4) == 0);
    strbuf_free(&sb);

    /* a failed allocation makes later appends no-ops and take NULL */
    strbuf_init(&sb);
    strbuf_append(&sb, "x");
    sb.failed = 1;
    strbuf_append(&sb, "y");
    CHECK(sb.len == 1);
    CHECK(strbuf_take(&sb) == NULL);
}

static void check_json_string(void)
{
    strbuf sb;
    strbuf_init(&sb);
    strbuf_append_json_string(&sb, "a\"b\\c\n\t\x01 \xc3\xa9 \xff");
    check_take(&sb, "\"a\\\"b\\\\c\\n\\t\\u0001 \xc3\xa9 \\ufffd\"");
}

static void check_xml_text(void)
{
    strbuf sb;
    strbuf_init(&sb);
    strbuf_append_xml_text(&sb, "a<b>&\"c'");
    strbuf_append_xml_text(&sb, NULL);
    check_take(&sb, "a&lt;b&gt;&amp;&quot;c'");
}

static void check_utf8(void)
{
    CHECK(utf8_char_length("a", 1) == 1);
    CHECK(utf8_char_length("\xc3\xa9", 2) == 2);           /* é */
    CHECK(utf8_char_length("\xe6\x97\xa5", 3) == 3);       /* 日 */
    CHECK(utf8_char_length("\xf0\x9f\x98\x80", 4) == 4);   /* U+1F600 */
    CHECK(utf8_char_length("\xe6\x97", 2) == 0);           /* truncated */
    CHECK(utf8_char_length("\xc0\xaf", 2) == 0);           /* overlong '/' */
    CHECK(utf8_char_length("\xed\xa0\x80", 3) == 0);       /* a surrogate */
    CHECK(utf8_char_length("\xf4\x90\x80\x80", 4) == 0);   /* above U+10FFFF */
    CHECK(utf8_char_length("\x80", 1) == 0);               /* a continuation byte */

    char *e = utf8_escaped("run-\xc3\xa9-\xff.safetensors");
    CHECK(e && strcmp(e, "run-\xc3\xa9-\\xff.safetensors") == 0);
    free(e);
}

static void check_sanitize(void)
{
    char out[16];
    str_sanitize(out, sizeof out, "ok\tname\xff");
    CHECK_MSG(strcmp(out, "ok?name?") == 0, "%s", out);
    str_sanitize(out, sizeof out, "a name far too long for it");
    CHECK_MSG(strcmp(out, "a name far t...") == 0, "%s", out);
    CHECK(strlen(out) == sizeof out - 1);
    /* cut at a character boundary: no half of an é */
    str_sanitize(out, 8, "abc\xc3\xa9\xc3\xa9\xc3\xa9");
    CHECK_MSG(strcmp(out, "abc...") == 0, "%s", out);
    str_sanitize(out, sizeof out, "exactly fifteen");
    CHECK_MSG(strcmp(out, "exactly fifteen") == 0, "%s", out);
}

int main(void)
{
    check_building();
    check_json_string();
    check_xml_text();
    check_utf8();
    check_sanitize();
    return check_finish("strbuf");
}
