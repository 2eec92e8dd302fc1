/* What this process can still allocate: see sysmem.h. Linux only; elsewhere
 * the files are absent and only the rlimits count. */
#include "core/sysmem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define TEXT_MAX 8192 /* /proc/self/status and memory.stat are smaller */
#define NO_LIMIT ((unsigned long long)1 << 62) /* cgroup v1 says "unlimited" so */

/* The first `size - 1` bytes of a small file, NUL-terminated; 0 if unreadable. */
static int read_text(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0;
}

/* The number after "key" (then ':' or blanks) at the start of a line. */
static int line_value(const char *text, const char *key, unsigned long long *out)
{
    size_t k = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, k) != 0 || (p[k] != ':' && p[k] != ' ' && p[k] != '\t'))
            continue;
        char *end;
        *out = strtoull(p + k + 1, &end, 10);
        return end != p + k + 1;
    }
    return 0;
}

static int file_number(const char *path, unsigned long long *out)
{
    char text[64];
    char *end;
    if (!read_text(path, text, sizeof text))
        return 0;
    *out = strtoull(text, &end, 10);
    return end != text;
}

typedef struct least {
    size_t bytes;
    const char *limit;
} least;

static void consider(least *l, unsigned long long bytes, const char *limit)
{
    if (bytes < l->bytes) {
        l->bytes = bytes > SIZE_MAX ? SIZE_MAX : (size_t)bytes;
        l->limit = limit;
    }
}

static unsigned long long headroom(unsigned long long limit, unsigned long long used)
{
    return limit > used ? limit - used : 0;
}

static void system_memory(least *l)
{
    char text[TEXT_MAX];
    unsigned long long kb;
    if (read_text("/proc/meminfo", text, sizeof text) && line_value(text, "MemAvailable", &kb))
        consider(l, kb << 10, "MemAvailable");
}

static void process_limits(least *l)
{
    char text[TEXT_MAX];
    int have_status = read_text("/proc/self/status", text, sizeof text);
    struct rlimit r;
    unsigned long long kb;
    if (getrlimit(RLIMIT_AS, &r) == 0 && r.rlim_cur != RLIM_INFINITY) {
        unsigned long long used = have_status && line_value(text, "VmSize", &kb) ? kb << 10 : 0;
        consider(l, headroom(r.rlim_cur, used), "ulimit -v");
    }
    if (getrlimit(RLIMIT_DATA, &r) == 0 && r.rlim_cur != RLIM_INFINITY) {
        unsigned long long used = have_status && line_value(text, "VmData", &kb) ? kb << 10 : 0;
        consider(l, headroom(r.rlim_cur, used), "ulimit -d");
    }
}

/* The headroom under a cgroup's limit: page cache in the group is reclaimed
 * before an allocation fails, so it counts as free. */
static void cgroup_dir(least *l, const char *dir, int v2)
{
    char path[4200], text[TEXT_MAX];
    unsigned long long limit, used, cache = 0;
    snprintf(path, sizeof path, "%s/memory.stat", dir);
    int have_stat = read_text(path, text, sizeof text);
    if (v2) {
        snprintf(path, sizeof path, "%s/memory.max", dir);
        if (!file_number(path, &limit)) /* "max", or no file */
            return;
        snprintf(path, sizeof path, "%s/memory.current", dir);
        if (!file_number(path, &used))
            return;
        if (have_stat)
            line_value(text, "file", &cache);
    } else {
        if (!have_stat || !line_value(text, "hierarchical_memory_limit", &limit) ||
            limit >= NO_LIMIT)
            return;
        snprintf(path, sizeof path, "%s/memory.usage_in_bytes", dir);
        if (!file_number(path, &used))
            return;
        line_value(text, "total_cache", &cache);
    }
    consider(l, headroom(limit, used > cache ? used - cache : 0),
             v2 ? "cgroup memory.max" : "cgroup memory.limit_in_bytes");
}

/* The process's cgroup from /proc/self/cgroup ("0::/path" for v2,
 * "N:memory:/path" for v1), and for v2 each group above it, whose limits
 * apply as well. Inside a container the path may not exist in its view of
 * /sys/fs/cgroup: then the root there is the container's own group. */
static void cgroups(least *l)
{
    char text[TEXT_MAX];
    if (!read_text("/proc/self/cgroup", text, sizeof text))
        return;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *controllers = strchr(line, ':'), *path = NULL;
        if (controllers)
            path = strchr(++controllers, ':');
        if (!path)
            continue;
        *path++ = '\0';
        int v2 = *controllers == '\0';
        if (!v2 && !strstr(controllers, "memory"))
            continue;
        const char *root = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
        char dir[4200];
        snprintf(dir, sizeof dir, "%s%s", root, strcmp(path, "/") == 0 ? "" : path);
        for (;;) {
            cgroup_dir(l, dir, v2);
            char *slash = strrchr(dir, '/');
            if (strlen(dir) <= strlen(root) || !slash)
                break;
            *slash = '\0';
        }
    }
}

size_t memory_available(const char **limit)
{
    least l = {SIZE_MAX, NULL};
    system_memory(&l);
    cgroups(&l);
    process_limits(&l);
    *limit = l.limit;
    return l.bytes;
}

const char *memory_text(size_t bytes, char *buf, size_t size)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double x = (double)bytes / 1024.0;
    int u = 0;
    while (x >= 1024.0 && u < 5) {
        x /= 1024.0;
        u++;
    }
    /* tenths from GiB up, where they matter; whole numbers below */
    snprintf(buf, size, u >= 2 ? "%.1f %s" : "%.0f %s", x, units[u]);
    return buf;
}
