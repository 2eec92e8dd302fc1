/* A tiny test harness: CHECK macros count failures; main returns check_finish(). */
#ifndef SOMA_TESTS_CHECK_H
#define SOMA_TESTS_CHECK_H

#include <math.h>
#include <stdio.h>

extern int check_failures, check_count;

#define CHECK(cond)                                                              \
    do {                                                                         \
        check_count++;                                                           \
        if (!(cond)) {                                                           \
            check_failures++;                                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)

#define CHECK_MSG(cond, ...)                                                     \
    do {                                                                         \
        check_count++;                                                           \
        if (!(cond)) {                                                           \
            check_failures++;                                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
        }                                                                        \
    } while (0)

/* |a - b| <= tol * max(1, |b|) */
#define CHECK_CLOSE(a, b, tol)                                                   \
    do {                                                                         \
        double check_a_ = (a), check_b_ = (b);                                   \
        double check_s_ = fabs(check_b_) > 1.0 ? fabs(check_b_) : 1.0;           \
        check_count++;                                                           \
        if (!(fabs(check_a_ - check_b_) <= (tol) * check_s_)) {                  \
            check_failures++;                                                    \
            fprintf(stderr, "%s:%d: %s = %.9g, expected %s = %.9g (tol %g)\n",   \
                    __FILE__, __LINE__, #a, check_a_, #b, check_b_, (double)(tol)); \
        }                                                                        \
    } while (0)

/* Prints "name: N passed, M failed" and returns the exit code. */
int check_finish(const char *name);

/* Path of a file in the source tree ($SOMA_SOURCE_DIR/rel); static buffer. */
const char *source_path(const char *rel);

#endif
