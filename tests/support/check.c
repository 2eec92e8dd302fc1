#include "support/check.h"

#include <stdlib.h>

int check_failures, check_count;

int check_finish(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_count - check_failures, check_failures);
    return check_failures ? 1 : 0;
}

const char *source_path(const char *rel)
{
    static char buf[4096];
    const char *root = getenv("SOMA_SOURCE_DIR");
    snprintf(buf, sizeof buf, "%s/%s", root ? root : ".", rel);
    return buf;
}
