#define _POSIX_C_SOURCE 200809L

#include "io/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "core/error.h"

#define IO_CHUNK ((size_t)1 << 30) /* largest single read/write request */

static soma_status write_all(int fd, const char *path, const void *data, size_t size)
{
    const char *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size < IO_CHUNK ? size : IO_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return soma_error(SOMA_ERR_IO, "%s: write failed: %s", path,
                              n < 0 ? strerror(errno) : "no progress");
        p += n;
        size -= (size_t)n;
    }
    return SOMA_OK;
}

/* The directory holding `path`, malloc'd ("." for a bare file name). */
static char *directory_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t n = (slash == path) ? 1 : (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (dir) {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    return dir;
}

/* Makes the rename durable. Some file systems refuse fsync on a directory
 * (EINVAL), and a directory may be writable but not readable (EACCES):
 * neither undoes the write, so both are let pass. */
static soma_status sync_directory(const char *path)
{
    char *dir = directory_of(path);
    if (!dir)
        return soma_error(SOMA_ERR_MEMORY, "%s: out of memory", path);
    soma_status st = SOMA_OK;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != EACCES)
            st = soma_error(SOMA_ERR_IO, "%s: written, but cannot open its directory %s: %s",
                            path, dir, strerror(errno));
    } else {
        if (fsync(fd) != 0 && errno != EINVAL)
            st = soma_error(SOMA_ERR_IO, "%s: written, but syncing its directory %s failed: %s",
                            path, dir, strerror(errno));
        close(fd);
    }
    free(dir);
    return st;
}

/* Writes, syncs and closes the temporary file; closes fd in every case. */
static soma_status fill_temp(int fd, const char *path, const void *const *parts,
                             const size_t *sizes, int nparts)
{
    soma_status st = SOMA_OK;
    for (int i = 0; i < nparts && st == SOMA_OK; i++)
        if (sizes[i] > 0)
            st = write_all(fd, path, parts[i], sizes[i]);
    if (st == SOMA_OK && fsync(fd) != 0)
        st = soma_error(SOMA_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
    if (close(fd) != 0 && st == SOMA_OK)
        st = soma_error(SOMA_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    return st;
}

soma_status atomic_write(const char *path, const void *const *parts, const size_t *sizes,
                         int nparts)
{
    if (!path || !*path || nparts < 0 || (nparts > 0 && (!parts || !sizes)))
        return soma_error(SOMA_ERR_ARGUMENT, "atomic_write: invalid arguments");
    for (int i = 0; i < nparts; i++)
        if (sizes[i] > 0 && !parts[i])
            return soma_error(SOMA_ERR_ARGUMENT, "%s: part %d is NULL", path, i);

    size_t tmp_size = strlen(path) + 32;
    char *tmp = malloc(tmp_size);
    if (!tmp)
        return soma_error(SOMA_ERR_MEMORY, "%s: out of memory", path);
    snprintf(tmp, tmp_size, "%s.tmp.%ld", path, (long)getpid());

    /* a stale temporary file of an earlier process with our PID is ours to replace */
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        soma_status st = soma_error(SOMA_ERR_IO, "%s: cannot create temporary file %s: %s", path,
                                    tmp, strerror(errno));
        free(tmp);
        return st;
    }
    soma_status st = fill_temp(fd, path, parts, sizes, nparts);
    if (st == SOMA_OK && rename(tmp, path) != 0)
        st = soma_error(SOMA_ERR_IO, "%s: cannot rename %s over it: %s", path, tmp,
                        strerror(errno));
    if (st != SOMA_OK) {
        unlink(tmp);
        free(tmp);
        return st;
    }
    free(tmp);
    return sync_directory(path);
}

soma_status read_whole_file(const char *path, size_t max_bytes, uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (max_bytes >= SIZE_MAX - 1)
        max_bytes = SIZE_MAX - 2;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return soma_error(SOMA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        soma_status st = soma_error(SOMA_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return st;
    }
    if (S_ISDIR(sb.st_mode)) {
        close(fd);
        return soma_error(SOMA_ERR_IO, "%s: is a directory", path);
    }
    if (S_ISREG(sb.st_mode) && (uintmax_t)sb.st_size > max_bytes) {
        close(fd);
        return soma_error(SOMA_ERR_MEMORY, "%s: file is %jd bytes, more than the limit of %zu",
                          path, (intmax_t)sb.st_size, max_bytes);
    }
    /* Regular files: size + 1 so that EOF is seen without growing. Pipes and
     * devices: grow by doubling, still never beyond max_bytes + 1. */
    size_t cap = S_ISREG(sb.st_mode) ? (size_t)sb.st_size + 1 : 65536;
    if (cap > max_bytes + 1)
        cap = max_bytes + 1;
    uint8_t *buf = malloc(cap + 1);
    size_t n = 0;
    soma_status st = SOMA_OK;
    if (!buf)
        st = soma_error(SOMA_ERR_MEMORY, "%s: out of memory for %zu bytes", path, cap);
    while (st == SOMA_OK) {
        if (n == cap) {
            if (n > max_bytes) {
                st = soma_error(SOMA_ERR_MEMORY, "%s: file is more than the limit of %zu bytes",
                                path, max_bytes);
                break;
            }
            size_t cap2 = (cap > (max_bytes + 1) / 2) ? max_bytes + 1 : cap * 2;
            uint8_t *bigger = realloc(buf, cap2 + 1);
            if (!bigger) {
                st = soma_error(SOMA_ERR_MEMORY, "%s: out of memory for %zu bytes", path, cap2);
                break;
            }
            buf = bigger;
            cap = cap2;
        }
        size_t want = cap - n < IO_CHUNK ? cap - n : IO_CHUNK;
        ssize_t got = read(fd, buf + n, want);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            st = soma_error(SOMA_ERR_IO, "%s: read failed: %s", path, strerror(errno));
        else if (got == 0)
            break;
        else
            n += (size_t)got;
    }
    close(fd);
    if (st != SOMA_OK) {
        free(buf);
        return st;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return SOMA_OK;
}
