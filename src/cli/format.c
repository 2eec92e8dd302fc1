/* Text helpers: thousands separators, durations, shell quoting. */
#define _POSIX_C_SOURCE 200809L
#include "cli/format.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *format_count(long long n, char *buf, size_t size)
{
    char digits[32];
    unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
    int len = snprintf(digits, sizeof digits, "%llu", u);
    size_t pos = 0;
    if (n < 0 && pos + 1 < size)
        buf[pos++] = '-';
    for (int i = 0; i < len && pos + 1 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0 && pos + 2 < size)
            buf[pos++] = ',';
        buf[pos++] = digits[i];
    }
    buf[pos] = '\0';
    return buf;
}

const char *format_duration(double seconds, char *buf, size_t size)
{
    if (!isfinite(seconds) || seconds < 0 || seconds > 1e8) {
        snprintf(buf, size, "-:--");
        return buf;
    }
    long s = lround(seconds);
    if (s >= 3600)
        snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
    return buf;
}

/* Characters that never need quoting in a POSIX shell word. */
static int shell_safe(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("_-./:=,+@%", c) != NULL;
}

void append_shell_word(strbuf *sb, const char *word)
{
    int safe = *word != '\0';
    for (const char *p = word; *p && safe; p++)
        safe = shell_safe(*p);
    if (safe) {
        strbuf_append(sb, word);
        return;
    }
    strbuf_append(sb, "'");
    for (const char *p = word; *p; p++) {
        if (*p == '\'')
            strbuf_append(sb, "'\\''");
        else
            strbuf_append_n(sb, p, 1);
    }
    strbuf_append(sb, "'");
}

char *join_command(int argc, char **argv)
{
    strbuf sb;
    strbuf_init(&sb);
    for (int i = 0; i < argc; i++) {
        if (i)
            strbuf_append(&sb, " ");
        append_shell_word(&sb, argv[i]);
    }
    return strbuf_take(&sb);
}

/* Reads one shell word starting at *p (after blanks): '...' literal, \c escaped. */
static int next_shell_word(const char **p, strbuf *word)
{
    const char *s = *p;
    while (*s == ' ')
        s++;
    if (!*s)
        return 0;
    while (*s && *s != ' ') {
        if (*s == '\'') {
            const char *end = strchr(s + 1, '\'');
            size_t n = end ? (size_t)(end - s - 1) : strlen(s + 1);
            strbuf_append_n(word, s + 1, n);
            s += n + 1 + (end ? 1 : 0);
        } else if (*s == '\\' && s[1]) {
            strbuf_append_n(word, s + 1, 1);
            s += 2;
        } else {
            strbuf_append_n(word, s++, 1);
        }
    }
    strbuf_append(word, ""); /* an empty word '' is still a word */
    *p = s;
    return 1;
}

char *command_option_value(const char *command, const char *option)
{
    if (!command)
        return NULL;
    size_t option_len = strlen(option);
    char *value = NULL;
    int take_next = 0;
    const char *p = command;
    strbuf word;
    strbuf_init(&word);
    while (next_shell_word(&p, &word)) {
        char *w = strbuf_take(&word);
        strbuf_init(&word);
        if (!w)
            break;
        if (take_next) {
            free(value);
            value = w;
            take_next = 0;
            continue;
        }
        if (strcmp(w, option) == 0) {
            take_next = 1;
        } else if (strncmp(w, option, option_len) == 0 && w[option_len] == '=') {
            free(value);
            value = strdup(w + option_len + 1);
        } else if (strcmp(w, "--") == 0) {
            free(w);
            break;
        }
        free(w);
    }
    strbuf_free(&word);
    return value;
}

double cli_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
