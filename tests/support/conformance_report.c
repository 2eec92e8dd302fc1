/*
 * The conformance suite's bookkeeping: the tolerance table, cases and their
 * PASS/FAIL/SKIP lines, comparisons against the double references, and host
 * data and device buffers (moved only through the wrappers).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "support/conformance.h"

/* ---- the tolerance table ----
 * tolerance = u * (fixed + per_term * K), errors divided by the terms' size
 * (conformance.h). u = 2^-24, the unit roundoff of float. */
static const struct {
    conf_tol kind;
    const char *name;
    double fixed, per_term;
    const char *why;
} tolerances[TOL_KINDS] = {
    {TOL_EXACT, "exact", 0, 0,
     "moving, selecting (max, ReLU, masks) and a single IEEE product are exact or "
     "correctly rounded: every backend gets the same bits"},
    {TOL_ROUNDED, "rounded", 4, 0,
     "at most 3 correctly rounded operations per element (dy * (1 - y*y)), u each"},
    {TOL_LIBM, "libm", 8, 0,
     "tanhf/expf are within 2 ulp (4u) in glibc and CUDA; then 1 + e and a division"},
    {TOL_SUM, "sum", 2, 1,
     "a sum of K terms errs by at most (K-1)u times the sum of |terms| in any order of "
     "summation (Higham, Accuracy and Stability, (3.4)); each product rounds once more and "
     "the result once: blocked, pairwise, FMA and multi-threaded sums all stay within"},
    {TOL_BATCHNORM, "batchnorm", 16, 0,
     "the statistics are sums of m = n*spatial values, whose m*u bound (as for sums) the "
     "magnitudes of mean, variance and the gradient sums carry, and pass on to what is "
     "computed from them; then ~12 roundings (variance, sqrt, 1/x, scale, shift, the "
     "affine map, the float mean and invstd saved for backward)"},
    {TOL_SOFTMAX, "softmax", 8, 1,
     "expf (2 ulp) of a rounded difference, a sum over K classes (and rows for the loss), "
     "a division, a log; magnitudes carry exp's and log's condition"},
    {TOL_OPTIMIZER, "optimizer", 24, 0,
     "one step is <= 20 float operations per element (Adam: the moments, sqrt, two "
     "divisions, the float step size and bias correction), u each"},
};

#define UNIT_ROUNDOFF (1.0 / 16777216.0)
/* Below FLT_MIN float's error is absolute, not relative: an operation whose
 * result underflows errs by up to half the subnormal spacing 2^-149 (Higham
 * (2.8)). A few of those are allowed wherever the tolerance is not exact. */
#define UNDERFLOW_SLACK (4.0 * 0x1p-149)

double conf_tolerance(conf_tol kind, double terms)
{
    return UNIT_ROUNDOFF * (tolerances[kind].fixed + tolerances[kind].per_term * terms);
}

const char *conf_tolerance_name(conf_tol kind) { return tolerances[kind].name; }

void conf_print_tolerances(void)
{
    printf("tolerances: |got - want| <= u * (fixed + per_term * K) * mag, u = 2^-24,\n"
           "  mag = the reference formula with every term in absolute value,\n"
           "  + 4 * 2^-149 where not exact (underflow's error is absolute)\n");
    for (int i = 0; i < TOL_KINDS; i++)
        printf("  %-10s fixed %2.0f, per term %.0f: %s\n", tolerances[i].name,
               tolerances[i].fixed, tolerances[i].per_term, tolerances[i].why);
}

/* ---- cases ---- */

static int passed, failed, skipped;

void case_begin(conf_case *k, const conf_target *t, const char *op, const char *fmt, ...)
{
    memset(k, 0, sizeof *k);
    k->t = t;
    snprintf(k->op, sizeof k->op, "%s", op);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->name, sizeof k->name, fmt, ap);
    va_end(ap);
}

static void vfail(conf_case *k, const char *fmt, va_list ap)
{
    if (!k->failed++)
        vsnprintf(k->first_failure, sizeof k->first_failure, fmt, ap);
}

void case_fail(conf_case *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(k, fmt, ap);
    va_end(ap);
}

void case_require(conf_case *k, int cond, const char *fmt, ...)
{
    if (cond)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfail(k, fmt, ap);
    va_end(ap);
}

void case_status(conf_case *k, soma_status s, const char *call)
{
    if (s != SOMA_OK)
        case_fail(k, "%s returned %s", call, soma_status_name(s));
}

void case_close(conf_case *k, const char *what, const float *got, const double *want,
                const double *mag, size_t n, double tol)
{
    size_t bad = 0, first = 0;
    double first_err = 0.0, first_bound = 0.0;
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]);
        double bound = tol * (mag ? mag[i] : fabs(want[i]));
        if (tol > 0.0)
            bound += UNDERFLOW_SLACK;
        /* false for NaN, except where the reference is NaN too */
        int ok = isnan(want[i]) ? isnan(got[i]) : err <= bound;
        double ratio = !ok ? INFINITY : bound > 0.0 && err > 0.0 ? err / bound : 0.0;
        if (ok && ratio > k->worst) {
            k->worst = ratio;
            snprintf(k->worst_what, sizeof k->worst_what, "%s", what);
        }
        if (!ok && !bad++) {
            first = i;
            first_err = err;
            first_bound = bound;
        }
    }
    if (bad)
        case_fail(k, "%s[%zu] = %.9g, reference %.9g (error %.3g, allowed %.3g); %zu of %zu "
                     "values out of tolerance",
                  what, first, (double)got[first], want[first], first_err, first_bound, bad, n);
}

void case_same_bits(conf_case *k, const char *what, const void *got, const void *want,
                    size_t bytes)
{
    const unsigned char *a = got, *b = want;
    for (size_t i = 0; i < bytes; i++)
        if (a[i] != b[i]) {
            case_fail(k, "%s differs from byte %zu on", what, i);
            return;
        }
}

static void line(const char *label, const char *op, const char *name, const char *verdict,
                 const char *detail)
{
    printf("%-13s %-26s %-52s %s%s%s\n", label, op, name, verdict, detail[0] ? "  " : "",
           detail);
}

/* the largest error / tolerance per operation, over every case that passed */
static struct {
    char op[40];
    double worst;
    int cases;
} margins[64];
static int nmargins;

static void note_margin(const conf_case *k)
{
    int i = 0;
    while (i < nmargins && strcmp(margins[i].op, k->op) != 0)
        i++;
    if (i == nmargins) {
        if (nmargins == (int)(sizeof margins / sizeof margins[0]))
            return;
        snprintf(margins[nmargins++].op, sizeof margins[0].op, "%s", k->op);
    }
    margins[i].cases++;
    if (k->worst > margins[i].worst)
        margins[i].worst = k->worst;
}

void conf_print_margins(void)
{
    printf("largest error as a fraction of its tolerance, per operation (cases that passed):\n");
    for (int i = 0; i < nmargins; i++)
        printf("  %-30s %4d cases, %.3g\n", margins[i].op, margins[i].cases, margins[i].worst);
}

void case_end(conf_case *k)
{
    char detail[400] = "";
    if (k->failed) {
        failed++;
        snprintf(detail, sizeof detail, "%s", k->first_failure);
    } else {
        passed++;
        note_margin(k);
        if (k->worst > 0.0)
            snprintf(detail, sizeof detail, "(worst: %s at %.2g of tolerance)", k->worst_what,
                     k->worst);
    }
    line(k->t->label, k->op, k->name, k->failed ? "FAIL" : "PASS", detail);
    fflush(stdout);
}

void conf_skip(const char *label, const char *op, const char *name, const char *why)
{
    skipped++;
    if (op)
        line(label, op, name, "SKIP", why);
    else /* a whole backend or variant */
        printf("%s: SKIP, %s\n", label, why);
    fflush(stdout);
}

void conf_summary(int *pass, int *fail, int *skip)
{
    *pass = passed;
    *fail = failed;
    *skip = skipped;
}

/* ---- host data ---- */

static void *host_alloc(size_t bytes)
{
    void *p = calloc(bytes ? bytes : 1, 1);
    if (!p) {
        fprintf(stderr, "conformance: out of host memory (%zu bytes)\n", bytes);
        exit(2);
    }
    return p;
}

float *host_floats(size_t n) { return host_alloc(n * sizeof(float)); }

double *host_doubles(size_t n) { return host_alloc(n * sizeof(double)); }

float *host_normal(size_t n, uint64_t stream, float scale)
{
    rng r;
    rng_init(&r, 2026, RNG_TEST, stream, 1);
    float *p = host_floats(n);
    for (size_t i = 0; i < n; i++)
        p[i] = scale * rng_normal(&r);
    return p;
}

float *host_uniform(size_t n, uint64_t stream, float lo, float hi)
{
    rng r;
    rng_init(&r, 2026, RNG_TEST, stream, 2);
    float *p = host_floats(n);
    for (size_t i = 0; i < n; i++)
        p[i] = lo + (hi - lo) * rng_uniform(&r);
    return p;
}

/* ---- device buffers ---- */

static void must(soma_status s, const char *what)
{
    if (s != SOMA_OK) {
        fprintf(stderr, "conformance: %s failed: %s\n", what, soma_status_name(s));
        exit(2);
    }
}

void *dev_bytes(const soma_backend *be, const void *host, size_t bytes)
{
    void *p = run_alloc(be, bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "conformance: %s: alloc of %zu bytes failed\n", be->name, bytes);
        exit(2);
    }
    if (host && bytes)
        must(run_upload(be, p, host, bytes), "upload");
    return p;
}

float *dev_from_host(const soma_backend *be, const float *host, size_t n)
{
    return dev_bytes(be, host, n * sizeof(float));
}

float *dev_filled(const soma_backend *be, size_t n, float value)
{
    float *host = host_floats(n);
    for (size_t i = 0; i < n; i++)
        host[i] = value;
    float *p = dev_from_host(be, host, n);
    free(host);
    return p;
}

/* uploads zeros rather than trusting alloc's zero fill, which conf_memory checks */
float *dev_zeros(const soma_backend *be, size_t n) { return dev_filled(be, n, 0.0f); }

float *host_from_dev(const soma_backend *be, const float *dev, size_t n)
{
    float *host = host_floats(n);
    if (n)
        must(run_download(be, host, dev, n * sizeof(float)), "download");
    return host;
}

void dev_release(const soma_backend *be, void *p)
{
    if (p)
        run_free(be, p);
}
