/*
 * A growable string builder, and the UTF-8 check that JSON reading and
 * writing share.
 *
 * An allocation failure sets `failed` and turns every later append into a
 * no-op, so a caller can build a whole string and check once at the end
 * (strbuf_take returns NULL). `data` is always NUL-terminated once anything
 * has been appended.
 */
#ifndef SOMA_CORE_STRBUF_H
#define SOMA_CORE_STRBUF_H

#include <stddef.h>

#include "core/error.h"

typedef struct strbuf {
    char *data;
    size_t len, cap;
    int failed;
} strbuf;

void strbuf_init(strbuf *sb);
void strbuf_free(strbuf *sb);
void strbuf_append(strbuf *sb, const char *s);
void strbuf_append_n(strbuf *sb, const char *s, size_t n);
void strbuf_appendf(strbuf *sb, const char *fmt, ...) SOMA_PRINTF(2, 3);
/* Appends `s` as a quoted JSON string (RFC 8259): '"' and '\' escaped, control
 * characters as \n, \t, ... or \u00XX. Bytes that are not valid UTF-8 become
 * U+FFFD, so the output is always valid JSON. */
void strbuf_append_json_string(strbuf *sb, const char *s);
/* `s` (NULL: nothing) as XML/HTML text: & < > " escaped. */
void strbuf_append_xml_text(strbuf *sb, const char *s);
/* Hands over the string (malloc'd, "" if empty) and resets `sb`; NULL if an
 * allocation failed along the way (the buffer is freed either way). */
char *strbuf_take(strbuf *sb);

/* The length (1 to 4) of the well-formed UTF-8 character at s[0..n), or 0 if
 * it is not one: truncated, overlong, a surrogate, or above U+10FFFF. */
size_t utf8_char_length(const char *s, size_t n);

/* A copy of `s` in which each byte that is not part of well-formed UTF-8 is
 * written as the four characters \xNN, so that a file name of any bytes can
 * be stored where only UTF-8 is allowed (checkpoint metadata); malloc'd, NULL
 * when out of memory. */
char *utf8_escaped(const char *s);

/* Copies `s` into dst[0..size) fit for a one-line error message: control
 * characters and bytes that are not UTF-8 become '?', and a string too long
 * is cut at a character boundary and ends in "...". */
void str_sanitize(char *dst, size_t size, const char *s);

#endif
