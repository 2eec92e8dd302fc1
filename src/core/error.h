/* Errors are values: functions return a soma_status and leave one line here. */
#ifndef SOMA_CORE_ERROR_H
#define SOMA_CORE_ERROR_H

#include "soma.h"

#if defined(__GNUC__)
#define SOMA_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SOMA_PRINTF(a, b)
#endif

/* Records a message for soma_last_error() and returns `status`, so that
 * `return soma_error(SOMA_ERR_IO, "%s: cannot open", path);` reads naturally. */
soma_status soma_error(soma_status status, const char *fmt, ...) SOMA_PRINTF(2, 3);

/* Prefixes the current message with "prefix: " (adds context on the way up). */
soma_status soma_error_context(soma_status status, const char *fmt, ...) SOMA_PRINTF(2, 3);

/* Clears the message. */
void soma_error_clear(void);

#define SOMA_TRY(expr)                     \
    do {                                   \
        soma_status soma_try_ = (expr);    \
        if (soma_try_ != SOMA_OK)          \
            return soma_try_;              \
    } while (0)

#endif
