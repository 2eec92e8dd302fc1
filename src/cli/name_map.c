#include "cli/name_map.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "io/atomic_file.h"

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

soma_status name_map_parse(const char *text, const char *where, char separator, name_map *out)
{
    memset(out, 0, sizeof *out);
    out->text = strdup(text);
    out->pairs = calloc(NAME_MAP_MAX, sizeof *out->pairs);
    if (!out->text || !out->pairs) {
        name_map_free(out);
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    }
    int item = 0;
    char *next = out->text;
    while (next) {
        char *entry = next;
        next = strchr(next, separator);
        if (next)
            *next++ = '\0';
        item++;
        char *hash = separator == '\n' ? strchr(entry, '#') : NULL;
        if (hash)
            *hash = '\0';
        entry = trim(entry);
        if (!*entry)
            continue;
        char *eq = strchr(entry, '=');
        soma_status st = SOMA_OK;
        if (!eq || eq == entry)
            st = soma_error(SOMA_ERR_ARGUMENT, "%s:%d: expected FROM=TO, got '%.60s'", where,
                            item, entry);
        else if (out->count == NAME_MAP_MAX)
            st = soma_error(SOMA_ERR_ARGUMENT, "%s: more than %d renamings", where,
                            NAME_MAP_MAX);
        if (st != SOMA_OK) {
            name_map_free(out);
            return st;
        }
        *eq = '\0';
        out->pairs[out->count].from = trim(entry);
        out->pairs[out->count].to = trim(eq + 1);
        out->count++;
    }
    return SOMA_OK;
}

soma_status name_map_load(const char *value, name_map *out)
{
    struct stat st;
    if (strchr(value, '=') && stat(value, &st) != 0)
        return name_map_parse(value, "--map", ',', out);
    uint8_t *bytes = NULL;
    size_t len = 0;
    SOMA_TRY(read_whole_file(value, (size_t)1 << 20, &bytes, &len));
    char *text = (char *)bytes;
    if (strlen(text) != len) {
        free(text);
        return soma_error(SOMA_ERR_FORMAT, "%s: a name map is text (it holds a NUL byte)", value);
    }
    soma_status r = name_map_parse(text, value, '\n', out);
    free(text);
    return r;
}

void name_map_free(name_map *m)
{
    free(m->pairs);
    free(m->text);
    memset(m, 0, sizeof *m);
}
