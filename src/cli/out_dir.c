/* Output directories for training runs. */
#define _POSIX_C_SOURCE 200809L
#include "cli/out_dir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/error.h"

static int is_zoo_name(const char *name)
{
    for (const char *const *z = soma_zoo_names(); z && *z; z++)
        if (strcmp(*z, name) == 0)
            return 1;
    return 0;
}

char *model_short_name(const char *model_arg)
{
    if (is_zoo_name(model_arg))
        return strdup(model_arg);
    const char *base = strrchr(model_arg, '/');
    base = base ? base + 1 : model_arg;
    char *name = strdup(*base ? base : "model");
    if (!name)
        return NULL;
    char *dot = strrchr(name, '.');
    if (dot && dot != name)
        *dot = '\0';
    return name;
}

soma_status make_dirs(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return soma_error(SOMA_ERR_MEMORY, "%s: out of memory", path);
    /* create each parent in turn: "a", "a/b", "a/b/c" */
    for (char *p = copy + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, 0777) != 0 && errno != EEXIST) {
            soma_status st = soma_error(SOMA_ERR_IO, "%s: cannot create directory: %s", copy,
                                        strerror(errno));
            free(copy);
            return st;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    struct stat sb;
    int is_dir = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
    free(copy);
    if (!is_dir)
        return soma_error(SOMA_ERR_IO, "%s: exists and is not a directory", path);
    return SOMA_OK;
}

soma_status create_default_out_dir(const char *name, char **out)
{
    *out = NULL;
    SOMA_TRY(make_dirs("runs"));
    char stamp[32];
    time_t now = time(NULL);
    struct tm local;
    localtime_r(&now, &local);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
    size_t size = strlen(name) + 64;
    char *dir = malloc(size);
    if (!dir)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    for (int attempt = 1; attempt < 1000; attempt++) {
        if (attempt == 1)
            snprintf(dir, size, "runs/%s-%s", name, stamp);
        else
            snprintf(dir, size, "runs/%s-%s-%d", name, stamp, attempt);
        if (mkdir(dir, 0777) == 0) {
            *out = dir;
            return SOMA_OK;
        }
        if (errno != EEXIST) {
            soma_status st = soma_error(SOMA_ERR_IO, "%s: cannot create directory: %s", dir,
                                        strerror(errno));
            free(dir);
            return st;
        }
    }
    free(dir);
    return soma_error(SOMA_ERR_IO, "runs/%s-%s: too many runs with this name", name, stamp);
}

char *dir_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    size_t n = (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (!dir)
        return NULL;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return dir;
}
