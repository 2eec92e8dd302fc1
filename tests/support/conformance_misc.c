/*
 * Conformance of the memory operations, inverted dropout and the fused
 * softmax cross-entropy.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "support/conformance.h"

static const char *plural(int n) { return n == 1 ? "" : "s"; }

/* ---- memory ---- */

/* n floats of every kind: NaNs with payloads and signs, infinities, -0,
 * subnormals, extremes, and random bit patterns */
static float *special_floats(size_t n, uint64_t stream)
{
    static const uint32_t specials[] = {0x7fc00000u, 0xffc00001u, 0x7f800001u, 0x7f800000u,
                                        0xff800000u, 0x80000000u, 0x00000001u, 0x807fffffu,
                                        0x7f7fffffu, 0x3f800000u};
    rng r;
    rng_init(&r, 7, RNG_TEST, stream, 3);
    float *p = host_floats(n);
    for (size_t i = 0; i < n; i++) {
        uint32_t bits = i < sizeof specials / sizeof specials[0] ? specials[i] : rng_u32(&r);
        memcpy(&p[i], &bits, sizeof bits);
    }
    return p;
}

static void check_alloc_and_transfer(const conf_target *t)
{
    const soma_backend *be = t->be;
    static const size_t sizes[] = {1, 7, 64, 4100, 1000003};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t bytes = sizes[s], n = bytes / sizeof(float);
        conf_case k;
        case_begin(&k, t, "alloc", "%zu bytes, zero-filled", bytes);
        unsigned char *p = run_alloc(be, bytes);
        case_require(&k, p != NULL, "alloc returned NULL");
        if (p) {
            unsigned char *host = calloc(bytes, 1), *zeros = calloc(bytes, 1);
            memset(host, 0xa5, bytes);
            case_status(&k, run_download(be, host, p, bytes), "download");
            case_same_bits(&k, "contents", host, zeros, bytes);
            free(host), free(zeros);
        }
        case_end(&k);
        if (!p)
            continue;

        /* every bit pattern survives the round trip, whole and at an offset */
        case_begin(&k, t, "upload/download", "%zu bytes, every kind of float", bytes);
        float *src = special_floats(n + 1, s), *back = host_floats(n + 1);
        case_status(&k, run_upload(be, p, src, n * sizeof(float)), "upload");
        case_status(&k, run_download(be, back, p, n * sizeof(float)), "download");
        case_same_bits(&k, "round trip", back, src, n * sizeof(float));
        if (n > 3) {
            memset(back, 0, sizeof(float) * n);
            case_status(&k, run_upload(be, (float *)p + 3, src, (n - 3) * sizeof(float)),
                        "upload");
            case_status(&k, run_download(be, back, (float *)p + 3, (n - 3) * sizeof(float)),
                        "download");
            case_same_bits(&k, "round trip at an offset", back, src, (n - 3) * sizeof(float));
        }
        /* a byte count that is not whole floats */
        unsigned char *odd = calloc(bytes, 1);
        case_status(&k, run_upload(be, p, src, bytes), "upload");
        case_status(&k, run_download(be, odd, p, bytes), "download");
        case_same_bits(&k, "round trip of all bytes", odd, src, bytes);
        case_end(&k);
        free(src), free(back), free(odd);
        run_free(be, p);
    }
}

/* fill and copy write exactly their n elements: guards either side stay */
static void check_fill_copy(const conf_target *t)
{
    const soma_backend *be = t->be;
    static const size_t sizes[] = {0, 1, 31, 70001};
    static const uint32_t values[] = {0x00000000u, 0x80000000u, 0x3fc00000u, 0x7fc00000u,
                                      0x00000005u, 0xff7fffffu}; /* 0, -0, 1.5, NaN, ... */
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s], total = n + 8;
        float *pattern = special_floats(total, 40 + s);
        CONF_FOR_THREADS(t, ti) {
            for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
                float value;
                memcpy(&value, &values[v], sizeof value);
                conf_case k;
                case_begin(&k, t, "fill", "n%zu value 0x%08x, %d thread%s", n, values[v],
                           t->threads[ti], plural(t->threads[ti]));
                float *d = dev_from_host(be, pattern, total);
                case_status(&k, run_fill(be, d + 3, n, value), "fill");
                float *got = host_from_dev(be, d, total), *want = host_floats(total);
                memcpy(want, pattern, sizeof(float) * total);
                for (size_t i = 0; i < n; i++)
                    want[3 + i] = value;
                case_same_bits(&k, "buffer", got, want, sizeof(float) * total);
                case_end(&k);
                free(got), free(want);
                dev_release(be, d);
            }
            conf_case k;
            case_begin(&k, t, "copy", "n%zu, %d thread%s", n, t->threads[ti],
                       plural(t->threads[ti]));
            float *src = special_floats(total, 60 + s);
            float *d_src = dev_from_host(be, src, total);
            float *d_dst = dev_from_host(be, pattern, total);
            case_status(&k, run_copy(be, d_dst + 2, d_src + 5, n), "copy");
            float *got = host_from_dev(be, d_dst, total), *want = host_floats(total);
            memcpy(want, pattern, sizeof(float) * total);
            memcpy(want + 2, src + 5, sizeof(float) * n);
            case_same_bits(&k, "destination", got, want, sizeof(float) * total);
            float *src_after = host_from_dev(be, d_src, total);
            case_same_bits(&k, "source", src_after, src, sizeof(float) * total);
            case_end(&k);
            free(src), free(got), free(want), free(src_after);
            dev_release(be, d_src), dev_release(be, d_dst);
        }
        free(pattern);
    }
}

static void check_count_nonfinite(const conf_target *t)
{
    const soma_backend *be = t->be;
    static const struct {
        size_t n, first, len; /* the buffer, and the range counted */
        size_t bad[4];        /* positions of NaN, +Inf, -Inf, -NaN (>= n: none) */
        size_t want;
    } cases[] = {
        {1, 0, 1, {0, 9, 9, 9}, 1},
        {1, 0, 1, {9, 9, 9, 9}, 0},
        {1000, 0, 1000, {0, 999, 500, 123}, 4},
        {1000, 1, 998, {0, 999, 500, 123}, 2}, /* the ends left out */
        {1000, 0, 0, {0, 999, 500, 123}, 0},
        {70001, 0, 70001, {70001, 70001, 70001, 70001}, 0},
        {70001, 0, 70001, {65536, 70000, 1, 32768}, 4},
    };
    static const uint32_t bits[4] = {0x7fc00000u, 0x7f800000u, 0xff800000u, 0xffc00123u};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t n = cases[c].n;
        float *x = host_normal(n, 70 + c, 1e30f); /* finite, some huge */
        if (n > 3) { /* finite extremes: the largest, a subnormal, -0 */
            x[2] = FLT_MAX, x[3] = 1e-45f;
            x[n - 2] = -0.0f;
        }
        for (int b = 0; b < 4; b++)
            if (cases[c].bad[b] < n)
                memcpy(&x[cases[c].bad[b]], &bits[b], sizeof bits[b]);
        float *d = dev_from_host(be, x, n);
        CONF_FOR_THREADS(t, ti) {
            conf_case k;
            case_begin(&k, t, "count_nonfinite", "n%zu range [%zu, %zu), %d thread%s", n,
                       cases[c].first, cases[c].first + cases[c].len, t->threads[ti],
                       plural(t->threads[ti]));
            size_t got = 0;
            case_status(&k, run_count_nonfinite(be, d + cases[c].first, cases[c].len, &got),
                        "count_nonfinite");
            case_require(&k, got == cases[c].want, "counted %zu, want %zu", got, cases[c].want);
            case_end(&k);
        }
        dev_release(be, d);
        free(x);
    }
}

/* The sum of squares against a double reference of the same floats: a sum
 * of n non-negative terms, so relative error within TOL_SUM of n terms; and
 * the same bits on a second call and at every thread count. */
static void check_sum_squares(const conf_target *t)
{
    const soma_backend *be = t->be;
    static const struct {
        size_t n, first, len;
        float scale;
    } cases[] = {
        {1, 0, 1, 1.0f},       {7, 0, 7, 3.0f},          {1000, 1, 998, 1e-3f},
        {1000, 0, 0, 1.0f},    {70001, 0, 70001, 1.0f},  {61706, 3, 61700, 1e-19f},
        {4099, 0, 4099, 1e18f},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t n = cases[c].n;
        float *x = host_normal(n, 90 + c, cases[c].scale);
        float *d = dev_from_host(be, x, n);
        double want = 0.0;
        for (size_t i = cases[c].first; i < cases[c].first + cases[c].len; i++)
            want += (double)x[i] * (double)x[i];
        double first = NAN;
        CONF_FOR_THREADS(t, ti) {
            conf_case k;
            case_begin(&k, t, "sum_squares", "n%zu range [%zu, %zu) scale %g, %d thread%s", n,
                       cases[c].first, cases[c].first + cases[c].len, (double)cases[c].scale,
                       t->threads[ti], plural(t->threads[ti]));
            double got = -1.0;
            case_status(&k, run_sum_squares(be, d + cases[c].first, cases[c].len, &got),
                        "sum_squares");
            double tol = conf_tolerance(TOL_SUM, (double)cases[c].len) * want;
            case_require(&k, fabs(got - want) <= tol || got == want,
                         "sum %.17g, reference %.17g (tolerance %.3g)", got, want, tol);
            if (ti == 0)
                first = got;
            case_require(&k, memcmp(&got, &first, sizeof got) == 0,
                         "%.17g differs from the first call's %.17g", got, first);
            case_end(&k);
        }
        dev_release(be, d);
        free(x);
    }
}

void conf_memory(const conf_target *t)
{
    check_alloc_and_transfer(t);
    check_fill_copy(t);
    check_count_nonfinite(t);
    check_sum_squares(t);
}

/* ---- dropout ---- */

typedef struct dropout_key {
    uint64_t seed, step;
    int layer;
} dropout_key;

static float *dropout_mask(const conf_target *t, const float *d_x, size_t n, float p,
                           dropout_key key, size_t offset, float **y_out, conf_case *k)
{
    float *d_y = dev_filled(t->be, n, NAN), *d_mask = dev_filled(t->be, n, NAN);
    case_status(k,
                run_dropout_forward(t->be, d_x, d_y, d_mask, n, p, key.seed, key.step, key.layer,
                                    offset),
                "dropout_forward");
    float *mask = host_from_dev(t->be, d_mask, n);
    if (y_out)
        *y_out = host_from_dev(t->be, d_y, n);
    dev_release(t->be, d_y), dev_release(t->be, d_mask);
    return mask;
}

static size_t differing(const float *a, const float *b, size_t n)
{
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += memcmp(&a[i], &b[i], sizeof *a) != 0;
    return d;
}

static void check_dropout(const conf_target *t, size_t n, float p, int index)
{
    const soma_backend *be = t->be;
    float *x = host_normal(n, 1100 + (uint64_t)index, 1.0f), *dy = host_normal(n, 1200, 1.0f);
    dropout_key key = {42 + (uint64_t)index, 7, 3};
    double scale = 1.0 / (1.0 - (double)p);
    CONF_FOR_THREADS(t, ti) {
        char name[64];
        snprintf(name, sizeof name, "n%zu p%g, %d thread%s", n, (double)p, t->threads[ti],
                 plural(t->threads[ti]));
        float *d_x = dev_from_host(be, x, n), *y;
        conf_case k;
        case_begin(&k, t, "dropout_forward", "%s", name);
        float *mask = dropout_mask(t, d_x, n, p, key, 0, &y, &k);
        size_t kept = 0, bad_mask = 0, bad_y = 0;
        float kept_value = 0.0f;
        for (size_t i = 0; i < n; i++) {
            if (mask[i] != 0.0f) {
                /* 1/(1-p) rounded to float, the same value for every kept element */
                if (!kept++)
                    kept_value = mask[i];
                bad_mask += mask[i] != kept_value ||
                            !(fabs(mask[i] - scale) <= scale * FLT_EPSILON);
            }
            bad_y += !(y[i] == x[i] * mask[i]); /* one IEEE product */
        }
        case_require(&k, bad_mask == 0, "%zu mask values neither 0 nor 1/(1-p) = %.9g", bad_mask,
                     scale);
        case_require(&k, bad_y == 0, "%zu outputs are not x * mask", bad_y);
        double mean = n * (1.0 - p), sd = sqrt(n * p * (1.0 - p));
        case_require(&k, fabs(kept - mean) <= 5.0 * sd + 1.0,
                     "kept %zu of %zu, expected %.0f +- %.0f (5 sd)", kept, n, mean, 5.0 * sd);
        case_end(&k);

        /* the mask is the stream's: element i keeps when its draw, word i % 4 of
         * block i / 4 of (seed, RNG_DROPOUT, step, layer), is >= p * 2^32 */
        case_begin(&k, t, "dropout_forward stream", "%s", name);
        size_t off_stream = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t r[4];
            rng_block(key.seed, RNG_DROPOUT, key.step, (uint64_t)key.layer, i / 4, r);
            int keep = (double)r[i % 4] >= (double)p * 4294967296.0;
            off_stream += keep != (mask[i] != 0.0f);
        }
        case_require(&k, off_stream == 0, "%zu of %zu elements disagree with the stream",
                     off_stream, n);
        case_end(&k);

        /* the same key: the same mask; another step, layer or seed: another */
        case_begin(&k, t, "dropout_forward keys", "%s", name);
        float *again = dropout_mask(t, d_x, n, p, key, 0, NULL, &k);
        case_same_bits(&k, "mask for the same key", again, mask, sizeof *mask * n);
        dropout_key others[3] = {{key.seed, key.step + 1, key.layer},
                                 {key.seed, key.step, key.layer + 1},
                                 {key.seed + 1, key.step, key.layer}};
        static const char *const other_names[3] = {"step", "layer", "seed"};
        for (int o = 0; o < 3 && p > 0.0f; o++) {
            float *other = dropout_mask(t, d_x, n, p, others[o], 0, NULL, &k);
            /* independent masks differ at about 2p(1-p) of the elements */
            double expect = 2.0 * p * (1.0 - p) * n;
            size_t diff = differing(other, mask, n);
            case_require(&k, diff >= expect - 5.0 * sqrt(expect) - 1.0,
                         "another %s changes %zu of %zu elements, expected about %.0f",
                         other_names[o], diff, n, expect);
            free(other);
        }
        free(again);
        case_end(&k);

        /* a slice of the batch starting at an offset draws the whole call's
         * elements: two calls at offsets, and one from the middle */
        case_begin(&k, t, "dropout_forward slices", "%s", name);
        size_t cuts[2] = {5 < n ? 5 : n / 2, n / 2 + 3 < n ? n / 2 + 3 : n / 2};
        for (int c = 0; c < 2; c++) {
            size_t a = cuts[c];
            float *head = dropout_mask(t, d_x, a, p, key, 0, NULL, &k);
            float *tail = dropout_mask(t, d_x + a, n - a, p, key, a, NULL, &k);
            case_same_bits(&k, "mask of the first slice", head, mask, sizeof *mask * a);
            case_same_bits(&k, "mask of the second slice", tail, mask + a,
                           sizeof *mask * (n - a));
            free(head), free(tail);
        }
        if (n > 20) {
            size_t first = 13, len = n - 20;
            float *mid = dropout_mask(t, d_x + first, len, p, key, first, NULL, &k);
            case_same_bits(&k, "mask of a middle slice", mid, mask + first, sizeof *mask * len);
            free(mid);
        }
        case_end(&k);

        case_begin(&k, t, "dropout_backward", "%s", name);
        float *d_dy = dev_from_host(be, dy, n), *d_mask = dev_from_host(be, mask, n);
        float *d_dx = dev_filled(be, n, NAN);
        case_status(&k, run_dropout_backward(be, d_dy, d_mask, d_dx, n), "dropout_backward");
        float *dx = host_from_dev(be, d_dx, n);
        size_t bad_dx = 0;
        for (size_t i = 0; i < n; i++)
            bad_dx += !(dx[i] == dy[i] * mask[i]);
        case_require(&k, bad_dx == 0, "%zu of %zu dx are not dy * mask", bad_dx, n);
        case_end(&k);

        free(mask), free(y), free(dx);
        dev_release(be, d_x), dev_release(be, d_dy), dev_release(be, d_mask);
        dev_release(be, d_dx);
    }
    free(x), free(dy);
}

void conf_dropout(const conf_target *t)
{
    static const float ps[] = {0.0f, 0.1f, 0.5f, 0.9f};
    static const size_t sizes[] = {37, 1000, 70001}; /* the last one split over threads */
    int index = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
            check_dropout(t, sizes[s], ps[i], index++);
}

/* ---- softmax cross-entropy ---- */

typedef struct softmax_case {
    int n, classes;
    float logit_scale;
    int with_labels;
} softmax_case;

static const softmax_case softmax_cases[] = {
    {1, 2, 1.0f, 1},   {5, 10, 2.0f, 1},  {64, 10, 3.0f, 1},
    {7, 1000, 2.0f, 1}, /* ImageNet's classes */
    {3, 17, 30.0f, 1},  /* far apart: exp underflows for most classes */
    {9, 10, 3.0f, 0},   /* no labels: probabilities only (prediction) */
};

static void check_softmax(const conf_target *t, const softmax_case *c, int index)
{
    const soma_backend *be = t->be;
    size_t nz = (size_t)c->n * c->classes;
    float *z = host_normal(nz, 1300 + (uint64_t)index, c->logit_scale);
    int32_t *labels = malloc(sizeof *labels * (size_t)c->n);
    double *p = host_doubles(nz), *p_mag = host_doubles(nz);
    dm loss = dm_of(0.0);
    int correct = 0;
    rng r;
    rng_init(&r, 5, RNG_TEST, 1400 + (uint64_t)index, 0);
    for (int row = 0; row < c->n; row++) {
        const float *zr = z + (size_t)row * c->classes;
        int best = 0;
        for (int j = 1; j < c->classes; j++)
            if (zr[j] > zr[best])
                best = j;
        /* a third of the rows predicted right */
        labels[row] = row % 3 == 0 ? best : (int32_t)rng_below(&r, (uint32_t)c->classes);
        dm sum = dm_of(0.0);
        for (int j = 0; j < c->classes; j++)
            sum = dm_add(sum, dm_exp(dm_sub(dm_of(zr[j]), dm_of(zr[best]))));
        for (int j = 0; j < c->classes; j++) {
            dm pj = dm_div(dm_exp(dm_sub(dm_of(zr[j]), dm_of(zr[best]))), sum);
            p[(size_t)row * c->classes + j] = pj.v;
            p_mag[(size_t)row * c->classes + j] = pj.m;
        }
        loss = dm_add(loss, dm_sub(dm_log(sum), dm_sub(dm_of(zr[labels[row]]), dm_of(zr[best]))));
        correct += best == labels[row];
    }
    double tol = conf_tolerance(TOL_SOFTMAX, (double)c->classes + c->n);
    float scale = 1.0f / (float)c->n;

    CONF_FOR_THREADS(t, ti) {
        char name[80];
        snprintf(name, sizeof name, "n%d classes %d logits sd %g%s, %d thread%s", c->n,
                 c->classes, (double)c->logit_scale, c->with_labels ? "" : " labels=NULL",
                 t->threads[ti], plural(t->threads[ti]));
        float *d_z = dev_from_host(be, z, nz), *d_p = dev_filled(be, nz, NAN);
        int32_t *d_labels = dev_bytes(be, labels, sizeof *labels * (size_t)c->n);
        conf_case k;
        case_begin(&k, t, "softmax_xent_forward", "%s", name);
        double got_loss = NAN;
        int got_correct = -1;
        case_status(&k,
                    run_softmax_xent_forward(be, d_z, c->with_labels ? d_labels : NULL, c->n,
                                             c->classes, d_p, c->with_labels ? &got_loss : NULL,
                                             c->with_labels ? &got_correct : NULL),
                    "softmax_xent_forward");
        float *got_p = host_from_dev(be, d_p, nz);
        case_close(&k, "probs", got_p, p, p_mag, nz, tol);
        if (c->with_labels) {
            case_require(&k, fabs(got_loss - loss.v) <= tol * loss.m,
                         "loss sum %.12g, reference %.12g (error %.3g, allowed %.3g)", got_loss,
                         loss.v, fabs(got_loss - loss.v), tol * loss.m);
            case_require(&k, got_correct == correct, "correct %d, reference %d", got_correct,
                         correct);
        }
        case_end(&k);

        if (c->with_labels) {
            /* dlogits = (probs - onehot) * scale, from the probabilities given */
            double *dz = host_doubles(nz), *dz_mag = host_doubles(nz);
            for (int row = 0; row < c->n; row++)
                for (int j = 0; j < c->classes; j++) {
                    size_t i = (size_t)row * c->classes + j;
                    double onehot = j == labels[row] ? 1.0 : 0.0;
                    dz[i] = ((double)got_p[i] - onehot) * scale;
                    dz_mag[i] = (fabs(got_p[i]) + onehot) * scale;
                }
            float *d_dz = dev_filled(be, nz, NAN);
            case_begin(&k, t, "softmax_xent_backward", "%s", name);
            case_status(&k,
                        run_softmax_xent_backward(be, d_p, d_labels, c->n, c->classes, scale,
                                                  d_dz),
                        "softmax_xent_backward");
            float *got_dz = host_from_dev(be, d_dz, nz);
            case_close(&k, "dlogits", got_dz, dz, dz_mag, nz, conf_tolerance(TOL_ROUNDED, 0));
            case_end(&k);
            free(dz), free(dz_mag), free(got_dz);
            dev_release(be, d_dz);
        }
        free(got_p);
        dev_release(be, d_z), dev_release(be, d_p), dev_release(be, d_labels);
    }
    free(z), free(labels), free(p), free(p_mag);
}

void conf_softmax_xent(const conf_target *t)
{
    for (size_t i = 0; i < sizeof softmax_cases / sizeof softmax_cases[0]; i++)
        check_softmax(t, &softmax_cases[i], (int)i);
}
