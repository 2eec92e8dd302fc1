/* atomic_write replaces files whole or not at all; read_whole_file's limits. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic_file.h"
#include "support/check.h"

static char dir[64], path[128], temp[160];

static void write_plain(const char *p, const char *text)
{
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* The file's content must be exactly `want`. */
static void check_content(const char *p, const char *want)
{
    char buf[256] = "";
    FILE *f = fopen(p, "rb");
    CHECK_MSG(f != NULL, "%s missing", p);
    if (!f)
        return;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    CHECK_MSG(n == strlen(want) && strcmp(buf, want) == 0, "%s holds '%s', want '%s'", p, buf, want);
}

static int exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

static void test_replace(void)
{
    write_plain(path, "old content that is longer than the new one");
    const void *parts[3] = {"new ", NULL, "content"};
    size_t sizes[3] = {4, 0, 7};
    CHECK_MSG(atomic_write(path, parts, sizes, 3) == SOMA_OK, "%s", soma_last_error());
    check_content(path, "new content");
    CHECK(!exists(temp));
    /* an empty file, and a fresh file */
    CHECK(atomic_write(path, NULL, NULL, 0) == SOMA_OK);
    check_content(path, "");
    char fresh[160];
    snprintf(fresh, sizeof fresh, "%s/fresh.bin", dir);
    CHECK(atomic_write(fresh, parts, sizes, 3) == SOMA_OK);
    check_content(fresh, "new content");
    remove(fresh);
}

static void test_failures(void)
{
    write_plain(path, "keep me");
    const void *parts[1] = {"replacement"};
    size_t sizes[1] = {11};

    /* a directory that does not exist */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no-such-dir/file.bin", dir);
    CHECK(atomic_write(missing, parts, sizes, 1) == SOMA_ERR_IO);
    CHECK_MSG(strstr(soma_last_error(), missing) && strstr(soma_last_error(), strerror(ENOENT)),
              "%s", soma_last_error());

    /* the target is a non-empty directory: rename fails after the data was written */
    char target[160], inside[200], target_temp[200];
    snprintf(target, sizeof target, "%s/target", dir);
    snprintf(inside, sizeof inside, "%s/inside", target);
    snprintf(target_temp, sizeof target_temp, "%s.tmp.%ld", target, (long)getpid());
    CHECK(mkdir(target, 0755) == 0);
    write_plain(inside, "x");
    CHECK(atomic_write(target, parts, sizes, 1) == SOMA_ERR_IO);
    CHECK_MSG(strstr(soma_last_error(), "cannot rename"), "%s", soma_last_error());
    CHECK(!exists(target_temp));
    check_content(inside, "x");
    remove(inside);
    rmdir(target);

    /* a write that fails part way (file size limit): the old file stays whole */
    struct rlimit saved, small;
    CHECK(getrlimit(RLIMIT_FSIZE, &saved) == 0);
    small = saved;
    small.rlim_cur = 4096;
    signal(SIGXFSZ, SIG_IGN);
    char *big = malloc(100000);
    memset(big, 'z', 100000);
    const void *big_parts[1] = {big};
    size_t big_sizes[1] = {100000};
    CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
    soma_status st = atomic_write(path, big_parts, big_sizes, 1);
    setrlimit(RLIMIT_FSIZE, &saved);
    CHECK(st == SOMA_ERR_IO);
    CHECK_MSG(strstr(soma_last_error(), "write failed") && strstr(soma_last_error(), path), "%s",
              soma_last_error());
    check_content(path, "keep me");
    CHECK(!exists(temp));
    free(big);

    /* a read-only directory (root ignores permissions, so only as a user) */
    if (geteuid() != 0) {
        CHECK(chmod(dir, 0555) == 0);
        CHECK(atomic_write(path, parts, sizes, 1) == SOMA_ERR_IO);
        CHECK(strstr(soma_last_error(), strerror(EACCES)) != NULL);
        chmod(dir, 0755);
        check_content(path, "keep me");
        CHECK(!exists(temp));
    }

    /* a stale temporary file of ours is replaced, not an obstacle */
    write_plain(temp, "stale");
    CHECK(atomic_write(path, parts, sizes, 1) == SOMA_OK);
    check_content(path, "replacement");
    CHECK(!exists(temp));

    CHECK(atomic_write("", parts, sizes, 1) == SOMA_ERR_ARGUMENT);
    const void *null_part[1] = {NULL};
    CHECK(atomic_write(path, null_part, sizes, 1) == SOMA_ERR_ARGUMENT);
}

static void test_read(void)
{
    write_plain(path, "hello world");
    uint8_t *data = NULL;
    size_t len = 0;
    CHECK(read_whole_file(path, 11, &data, &len) == SOMA_OK);
    CHECK(len == 11 && memcmp(data, "hello world", 11) == 0 && data[11] == '\0');
    free(data);
    CHECK(read_whole_file(path, 10, &data, &len) == SOMA_ERR_MEMORY && data == NULL && len == 0);
    CHECK_MSG(strstr(soma_last_error(), "file is 11 bytes, more than the limit of 10"), "%s",
              soma_last_error());
    write_plain(path, "");
    CHECK(read_whole_file(path, 0, &data, &len) == SOMA_OK && len == 0 && data && data[0] == '\0');
    free(data);

    char missing[160];
    snprintf(missing, sizeof missing, "%s/missing", dir);
    CHECK(read_whole_file(missing, 100, &data, &len) == SOMA_ERR_IO);
    CHECK(strstr(soma_last_error(), missing) && strstr(soma_last_error(), strerror(ENOENT)));
    CHECK(read_whole_file(dir, 100, &data, &len) == SOMA_ERR_IO);
    CHECK(strstr(soma_last_error(), "is a directory") != NULL);

    /* /proc files say they are empty but are not: the read must not trust st_size */
    if (access("/proc/self/status", R_OK) == 0) {
        CHECK(read_whole_file("/proc/self/status", 1 << 20, &data, &len) == SOMA_OK);
        CHECK(len > 5 && memcmp(data, "Name:", 5) == 0 && strlen((char *)data) == len);
        free(data);
        CHECK(read_whole_file("/proc/self/status", 10, &data, &len) == SOMA_ERR_MEMORY);
    }
}

int main(void)
{
    snprintf(dir, sizeof dir, "atomic_test_%ld", (long)getpid());
    snprintf(path, sizeof path, "%s/file.bin", dir);
    snprintf(temp, sizeof temp, "%s.tmp.%ld", path, (long)getpid());
    if (mkdir(dir, 0755) != 0) {
        perror(dir);
        return 1;
    }
    test_replace();
    test_failures();
    test_read();
    remove(path);
    remove(temp);
    rmdir(dir);
    return check_finish("atomic_file_test");
}
