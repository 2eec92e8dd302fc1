#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[1024];

const char *soma_last_error(void) { return last_error; }

void soma_error_clear(void) { last_error[0] = '\0'; }

soma_status soma_error(soma_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

soma_status soma_error_context(soma_status status, const char *fmt, ...)
{
    char prefix[512], old[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    snprintf(last_error, sizeof last_error, "%s: %s", prefix, old);
    return status;
}

const char *soma_status_name(soma_status status)
{
    switch (status) {
    case SOMA_OK: return "ok";
    case SOMA_ERR_ARGUMENT: return "invalid argument";
    case SOMA_ERR_IO: return "i/o error";
    case SOMA_ERR_FORMAT: return "malformed input";
    case SOMA_ERR_SHAPE: return "shape mismatch";
    case SOMA_ERR_MEMORY: return "out of memory";
    case SOMA_ERR_DIVERGED: return "diverged";
    case SOMA_ERR_INTERRUPTED: return "interrupted";
    case SOMA_ERR_UNSUPPORTED: return "unsupported";
    }
    return "unknown status";
}
