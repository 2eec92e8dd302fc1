#include "core/strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_init(strbuf *sb) { memset(sb, 0, sizeof *sb); }

void strbuf_free(strbuf *sb)
{
    free(sb->data);
    strbuf_init(sb);
}

/* Makes room for `extra` more bytes plus the terminating NUL. */
static int strbuf_reserve(strbuf *sb, size_t extra)
{
    if (sb->failed)
        return 0;
    if (extra >= SIZE_MAX / 2 - sb->len) {
        sb->failed = 1;
        return 0;
    }
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return 1;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < need)
        cap *= 2;
    char *data = realloc(sb->data, cap);
    if (!data) {
        sb->failed = 1;
        return 0;
    }
    sb->data = data;
    sb->cap = cap;
    return 1;
}

void strbuf_append_n(strbuf *sb, const char *s, size_t n)
{
    if (!strbuf_reserve(sb, n))
        return;
    if (n)
        memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void strbuf_append(strbuf *sb, const char *s) { strbuf_append_n(sb, s, strlen(s)); }

void strbuf_appendf(strbuf *sb, const char *fmt, ...)
{
    if (!strbuf_reserve(sb, 0))
        return;
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    size_t room = sb->cap - sb->len;
    int n = vsnprintf(sb->data + sb->len, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        sb->failed = 1;
    } else if ((size_t)n < room) {
        sb->len += (size_t)n;
    } else if (strbuf_reserve(sb, (size_t)n)) {
        vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, again);
        sb->len += (size_t)n;
    }
    va_end(again);
    if (sb->data && !sb->failed)
        sb->data[sb->len] = '\0';
}

size_t utf8_char_length(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n == 0)
        return 0;
    if (u[0] < 0x80)
        return 1;
    size_t len;
    uint32_t cp, min;
    if ((u[0] & 0xE0) == 0xC0) {
        len = 2, cp = u[0] & 0x1Fu, min = 0x80;
    } else if ((u[0] & 0xF0) == 0xE0) {
        len = 3, cp = u[0] & 0x0Fu, min = 0x800;
    } else if ((u[0] & 0xF8) == 0xF0) {
        len = 4, cp = u[0] & 0x07u, min = 0x10000;
    } else {
        return 0; /* a continuation byte or 0xF8..0xFF */
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((u[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (u[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

void strbuf_append_json_string(strbuf *sb, const char *s)
{
    size_t n = strlen(s);
    strbuf_append_n(sb, "\"", 1);
    size_t i = 0;
    while (i < n && !sb->failed) {
        /* copy the longest run that needs no escaping in one go */
        size_t run = i;
        while (run < n) {
            unsigned char c = (unsigned char)s[run];
            if (c < 0x20 || c == '"' || c == '\\')
                break;
            size_t len = utf8_char_length(s + run, n - run);
            if (len == 0)
                break;
            run += len;
        }
        strbuf_append_n(sb, s + i, run - i);
        i = run;
        if (i == n)
            break;
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': strbuf_append(sb, "\\\""); break;
        case '\\': strbuf_append(sb, "\\\\"); break;
        case '\b': strbuf_append(sb, "\\b"); break;
        case '\f': strbuf_append(sb, "\\f"); break;
        case '\n': strbuf_append(sb, "\\n"); break;
        case '\r': strbuf_append(sb, "\\r"); break;
        case '\t': strbuf_append(sb, "\\t"); break;
        default:
            if (c < 0x20)
                strbuf_appendf(sb, "\\u%04x", c);
            else
                strbuf_append(sb, "\\ufffd"); /* a byte that is not UTF-8 */
        }
        i++;
    }
    strbuf_append_n(sb, "\"", 1);
}

char *strbuf_take(strbuf *sb)
{
    if (sb->failed) {
        strbuf_free(sb);
        return NULL;
    }
    char *s = sb->data;
    if (!s)
        s = calloc(1, 1);
    strbuf_init(sb);
    return s;
}

void str_sanitize(char *dst, size_t size, const char *s)
{
    if (size == 0)
        return;
    size_t n = strlen(s), out = 0, i = 0;
    while (i < n) {
        size_t len = utf8_char_length(s + i, n - i);
        size_t emit = len ? len : 1;
        /* leave room for "..." and the NUL unless all of `s` fits (each byte
         * gives one: a copy, or '?') or this is the end */
        size_t reserve = (n >= size && i + emit < n) ? 4 : 1;
        if (out + emit + reserve > size) {
            if (size >= 4) {
                while (out + 4 > size)
                    out--;
                memcpy(dst + out, "...", 3);
                out += 3;
            }
            break;
        }
        if (len == 0 || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            dst[out++] = '?';
        else {
            memcpy(dst + out, s + i, len);
            out += len;
        }
        i += emit;
    }
    dst[out] = '\0';
}

char *utf8_escaped(const char *s)
{
    strbuf sb;
    strbuf_init(&sb);
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t len = utf8_char_length(s + i, n - i);
        if (len) {
            strbuf_append_n(&sb, s + i, len);
            i += len;
        } else {
            strbuf_appendf(&sb, "\\x%02x", (unsigned char)s[i]);
            i++;
        }
    }
    return strbuf_take(&sb);
}

void strbuf_append_xml_text(strbuf *sb, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': strbuf_append(sb, "&amp;"); break;
        case '<': strbuf_append(sb, "&lt;"); break;
        case '>': strbuf_append(sb, "&gt;"); break;
        case '"': strbuf_append(sb, "&quot;"); break;
        default: strbuf_append_n(sb, s, 1);
        }
    }
}
