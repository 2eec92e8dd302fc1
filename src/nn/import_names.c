#include "nn/import_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"

/* The length of FROM when it names `name` or a module above it, else 0. */
static size_t match_length(const char *name, const char *from)
{
    size_t n = strlen(from);
    if (n == 0 || strncmp(name, from, n) != 0)
        return 0;
    return name[n] == '\0' || name[n] == '.' || from[n - 1] == '.' ? n : 0;
}

/* `to` + what follows the matched part (its '.' dropped when `to` is empty). */
static char *rename_one(const char *name, size_t matched, const char *to)
{
    const char *rest = name + matched;
    if (!*to && *rest == '.')
        rest++;
    size_t len = strlen(to) + strlen(rest) + 1;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%s%s", to, rest);
    return out;
}

/* The first segment ("module" of "module.0.weight") shared by every name not
 * renamed, when it is not a layer index: its length with the dot, else 0. */
static size_t shared_prefix(char **names, const char *touched, int n)
{
    size_t len = 0;
    const char *first = NULL;
    for (int i = 0; i < n; i++) {
        if (touched[i])
            continue;
        const char *dot = strchr(names[i], '.');
        if (!dot)
            return 0;
        size_t l = (size_t)(dot - names[i]) + 1;
        if (!first) {
            first = names[i];
            len = l;
        } else if (l != len || strncmp(first, names[i], len) != 0) {
            return 0;
        }
    }
    if (!first || strspn(first, "0123456789") == len - 1)
        return 0;
    return len;
}

static soma_status strip_shared_prefixes(import_names *out, const char *touched)
{
    size_t len;
    while ((len = shared_prefix(out->renamed, touched, out->n)) > 0)
        for (int i = 0; i < out->n; i++)
            if (!touched[i])
                memmove(out->renamed[i], out->renamed[i] + len, strlen(out->renamed[i]) - len + 1);
    return SOMA_OK;
}

typedef struct named_index {
    const char *name;
    int index;
} named_index;

static int by_name(const void *a, const void *b)
{
    const named_index *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* The tensors sorted by their new names (for lookups), each name once. */
static soma_status sort_and_check(import_names *out, const st_file *f, const char *path)
{
    out->sorted = malloc(((size_t)out->n + 1) * sizeof *out->sorted);
    named_index *pairs = malloc(((size_t)out->n + 1) * sizeof *pairs);
    if (!out->sorted || !pairs) {
        free(pairs);
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    }
    for (int i = 0; i < out->n; i++)
        pairs[i] = (named_index){out->renamed[i], i};
    qsort(pairs, (size_t)out->n, sizeof *pairs, by_name);
    for (int i = 0; i < out->n; i++)
        out->sorted[i] = pairs[i].index;
    free(pairs);
    for (int k = 1; k < out->n; k++) {
        int i = out->sorted[k - 1], j = out->sorted[k];
        if (strcmp(out->renamed[i], out->renamed[j]) == 0) {
            char a[96], b[96], to[96];
            str_sanitize(a, sizeof a, st_name(f, i));
            str_sanitize(b, sizeof b, st_name(f, j));
            str_sanitize(to, sizeof to, out->renamed[i]);
            return soma_error(SOMA_ERR_FORMAT,
                              "%s: tensors '%s' and '%s' both read as '%s': check the renamings",
                              path, a, b, to);
        }
    }
    return SOMA_OK;
}

int import_names_find(const import_names *names, const char *name)
{
    int lo = 0, hi = names->n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(names->renamed[names->sorted[mid]], name);
        if (c == 0)
            return names->sorted[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

soma_status import_names_resolve(const st_file *f, const char *path, const soma_name_map *map,
                                 int nmap, import_names *out)
{
    out->n = st_count(f);
    out->sorted = NULL;
    out->renamed = calloc((size_t)out->n + 1, sizeof *out->renamed);
    char *touched = calloc((size_t)out->n + 1, 1);
    char *map_used = calloc((size_t)nmap + 1, 1);
    soma_status st = out->renamed && touched && map_used
                         ? SOMA_OK
                         : soma_error(SOMA_ERR_MEMORY, "out of memory");
    for (int i = 0; i < out->n && st == SOMA_OK; i++) {
        const char *name = st_name(f, i);
        for (int k = 0; k < nmap && !touched[i]; k++) {
            size_t matched = map[k].from && map[k].to ? match_length(name, map[k].from) : 0;
            if (matched) {
                out->renamed[i] = rename_one(name, matched, map[k].to);
                touched[i] = map_used[k] = 1;
            }
        }
        if (!touched[i])
            out->renamed[i] = strdup(name);
        if (!out->renamed[i])
            st = soma_error(SOMA_ERR_MEMORY, "out of memory");
    }
    for (int k = 0; k < nmap && st == SOMA_OK; k++)
        if (!map_used[k]) {
            char from[96];
            str_sanitize(from, sizeof from, map[k].from ? map[k].from : "(null)");
            st = soma_error(SOMA_ERR_ARGUMENT, "%s: the renaming '%s=...' matches no tensor",
                            path, from);
        }
    if (st == SOMA_OK)
        st = strip_shared_prefixes(out, touched);
    if (st == SOMA_OK)
        st = sort_and_check(out, f, path);
    free(touched);
    free(map_used);
    if (st != SOMA_OK)
        import_names_free(out);
    return st;
}

void import_names_shown(const import_names *names, const st_file *f, int i, char *buf,
                        size_t size)
{
    char given[96], as[96];
    str_sanitize(given, sizeof given, st_name(f, i));
    str_sanitize(as, sizeof as, names->renamed[i]);
    if (strcmp(st_name(f, i), names->renamed[i]) == 0)
        snprintf(buf, size, "%s", given);
    else
        snprintf(buf, size, "%s (read as %s)", given, as);
}

void import_names_free(import_names *names)
{
    for (int i = 0; names->renamed && i < names->n; i++)
        free(names->renamed[i]);
    free(names->renamed);
    free(names->sorted);
    names->renamed = NULL;
    names->sorted = NULL;
    names->n = 0;
}
