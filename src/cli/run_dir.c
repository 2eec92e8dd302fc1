/* One run per directory: the lock, the emptiness check, --overwrite. */
#define _DEFAULT_SOURCE
#include "cli/run_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/run_files.h"
#include "core/error.h"
#include "io/atomic_file.h"

/* The files `soma train` writes in a run directory. */
static const char *const run_files[] = {"last.safetensors", "best.safetensors", "metrics.csv",
                                        "steps.csv", "summary.json", "confusion.csv",
                                        "misclassified.csv", "misclassified.png", NULL};

soma_status run_dir_lock(const char *dir, int *fd)
{
    *fd = -1;
    char *path = cli_path_join(dir, RUN_DIR_LOCK);
    if (!path)
        return soma_error(SOMA_ERR_MEMORY, "out of memory");
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (f < 0) {
        soma_status st = soma_error(SOMA_ERR_IO, "%s: cannot create the run's lock file: %s",
                                    path, strerror(errno));
        free(path);
        return st;
    }
    free(path);
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;
        char pid[32] = "";
        ssize_t got = busy ? pread(f, pid, sizeof pid - 1, 0) : -1;
        pid[got > 0 ? got : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        soma_status st =
            busy ? soma_error(SOMA_ERR_IO, "%s: another soma train is writing this run "
                                           "directory (pid %s); wait for it or choose another --out",
                              dir, *pid ? pid : "unknown")
                 : soma_error(SOMA_ERR_IO, "%s: cannot lock the run directory: %s", dir,
                              strerror(errno));
        close(f);
        return st;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(f, 0) != 0 || pwrite(f, pid, (size_t)n, 0) != n) {
        /* the pid is only for messages: the lock holds without it */
    }
    *fd = f;
    return SOMA_OK;
}

/* Whether DIR holds nothing but the lock file. */
static int only_lock_left(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int others = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        others += strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
                  strcmp(e->d_name, RUN_DIR_LOCK);
    closedir(d);
    return others == 0;
}

void run_dir_unlock(const char *dir, int fd, int created)
{
    if (fd < 0)
        return;
    /* a run that wrote nothing leaves nothing: no lock file, and no
     * directory if it made it (still holding the lock, so no other run
     * is between the check and the removal) */
    if (dir && only_lock_left(dir)) {
        char *path = cli_path_join(dir, RUN_DIR_LOCK);
        if (path && unlink(path) == 0 && created)
            rmdir(dir);
        free(path);
    }
    close(fd);
}

static int is_run_file(const char *name)
{
    for (const char *const *f = run_files; *f; f++) {
        size_t n = strlen(*f);
        /* NAME or a temporary NAME.tmp.PID that a killed write left behind */
        if (strncmp(name, *f, n) == 0 && (name[n] == '\0' || strncmp(name + n, ".tmp", 4) == 0))
            return 1;
    }
    return 0;
}

soma_status run_dir_require_empty(const char *dir, int overwrite)
{
    DIR *d = opendir(dir);
    if (!d)
        return soma_error(SOMA_ERR_IO, "%s: cannot read the directory: %s", dir, strerror(errno));
    char found[256] = "";
    int nfound = 0;
    soma_status st = SOMA_OK;
    struct dirent *e;
    while (st == SOMA_OK && (e = readdir(d))) {
        const char *name = e->d_name;
        if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, RUN_DIR_LOCK))
            continue;
        if (overwrite) {
            if (!is_run_file(name))
                continue;
            /* files only: a directory under a run file's name is not one soma made */
            char *path = cli_path_join(dir, name);
            struct stat sb;
            if (path && lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
                free(path);
                continue;
            }
            if (!path || unlink(path) != 0)
                st = soma_error(SOMA_ERR_IO, "%s/%s: cannot remove it to overwrite the run: %s",
                                dir, name, path ? strerror(errno) : "out of memory");
            free(path);
            continue;
        }
        if (nfound++ < 4) {
            size_t at = strlen(found);
            snprintf(found + at, sizeof found - at, "%s%.60s", at ? ", " : "", name);
        }
    }
    closedir(d);
    if (st != SOMA_OK || nfound == 0)
        return st;
    return soma_error(SOMA_ERR_IO,
                      "%s: the directory is not empty (%s%s); continue its run with --resume "
                      "%s/last.safetensors, replace it with --overwrite, or choose another --out",
                      dir, found, nfound > 4 ? ", ..." : "", dir);
}

soma_status run_dir_copy_file(const char *src, const char *dst)
{
    uint8_t *bytes;
    size_t len;
    SOMA_TRY(read_whole_file(src, (size_t)16 << 30, &bytes, &len));
    const void *parts[1] = {bytes};
    soma_status st = atomic_write(dst, parts, &len, 1);
    free(bytes);
    return st;
}

int run_dir_same(const char *a, const char *b)
{
    struct stat x, y;
    return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}
