/*
 * Fully connected layer on the CPU: BLAS, split over threads so that each
 * thread's GEMM keeps the long dimensions and packs as little as possible:
 * the forward pass splits the output units (each thread packs only its
 * slice of the weights), the input gradient splits the input units, the
 * weight gradient splits the output units. Each output element is computed
 * by one call for its part, so results do not depend on how many threads
 * run the parts. Mid-sized batches compute the forward pass transposed
 * (linear_transpose.h).
 */
#include <cblas.h>

#include "ops/cpu/cpu.h"
#include "core/partition.h"
#include "ops/cpu/linear_transpose.h"
#include "ops/cpu/relu_fused.h"
#include "ops/cpu/team.h"

/* Below this many multiply-adds (~15 us) a second thread costs more than it saves. */
#define LINEAR_PARALLEL_MIN (1 << 20)

/* Parts of the output (or input) units: the run's thread count for enough
 * work. OpenBLAS may round an element differently in a narrower call, so the
 * parts, not the threads running them now, fix the split. */
static int parts_for(long long work)
{
    return work < LINEAR_PARALLEL_MIN ? 1 : cpu_parts();
}

static int threads_for(int parts)
{
    int live = cpu_threads();
    return live < parts ? live : parts;
}

typedef struct linear_job {
    const float *x, *w, *b, *dy;
    float *out_y, *dx, *dw, *db;
    int n, in, out, relu, parts;
} linear_job;

/* Batches, and units per part, whose units-by-samples product
 * (linear_transpose.h) is faster (bench/kernels/linear_bench) */
#define TRANSPOSED_MIN_BATCH 16
#define TRANSPOSED_MAX_BATCH 64
#define TRANSPOSED_MIN_UNITS 32
/* Floats of that product at a time, on the stack (units in blocks of 16) */
#define TRANSPOSED_FLOATS 8192

/* Units [o0, o1) as W x^T, TRANSPOSED_FLOATS at a time, then transposed into y. */
static void forward_transposed(const linear_job *j, int o0, int o1)
{
    float yt[TRANSPOSED_FLOATS];
    int n = j->n, in = j->in, block = TRANSPOSED_FLOATS / n / 16 * 16;
    for (int u0 = o0; u0 < o1; u0 += block) {
        int units = o1 - u0 < block ? o1 - u0 : block;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, units, n, in, 1.0f,
                    j->w + (size_t)u0 * in, in, j->x, in, 0.0f, yt, n);
        linear_store_transposed(yt, units, n, j->b ? j->b + u0 : NULL, j->relu, j->out_y + u0,
                                (size_t)j->out);
    }
}

/* Units [o0, o1) as x W^T, into outputs preset to the bias. */
static void forward_plain(const linear_job *j, int o0, int o1)
{
    int n = j->n, in = j->in, out = j->out;
    float *y = j->out_y;
    for (int r = 0; r < n; r++)
        for (int o = o0; o < o1; o++)
            y[(size_t)r * out + o] = j->b ? j->b[o] : 0.0f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, o1 - o0, in, 1.0f, j->x, in,
                j->w + (size_t)o0 * in, in, 1.0f, y + o0, out);
    if (j->relu)
        for (int r = 0; r < n; r++)
            relu_in_place(y + (size_t)r * out + o0, (size_t)(o1 - o0));
}

static void forward_parts(void *arg, int t, int team)
{
    const linear_job *j = arg;
    int transposed = j->n >= TRANSPOSED_MIN_BATCH && j->n <= TRANSPOSED_MAX_BATCH;
    for (int part = t; part < j->parts; part += team) {
        int o0, o1;
        partition(j->out, j->parts, part, &o0, &o1);
        if (transposed && o1 - o0 >= TRANSPOSED_MIN_UNITS)
            forward_transposed(j, o0, o1);
        else if (o1 > o0)
            forward_plain(j, o0, o1);
    }
}

soma_status cpu_linear_forward(const float *x, const float *w, const float *b, float *y, int n,
                               int in, int out, int relu)
{
    int parts = parts_for((long long)n * in * out);
    linear_job job = {.x = x, .w = w, .b = b, .out_y = y, .n = n, .in = in, .out = out,
                      .relu = relu, .parts = parts};
    cpu_team(threads_for(parts), forward_parts, &job);
    return SOMA_OK;
}

static void backward_parts(void *arg, int t, int team)
{
    const linear_job *j = arg;
    const float *x = j->x, *w = j->w, *dy = j->dy;
    float *dx = j->dx, *dw = j->dw, *db = j->db;
    int n = j->n, in = j->in, out = j->out, parts = j->parts;
    for (int part = t; part < parts; part += team) {
        int i0, i1, o0, o1;
        partition(in, parts, part, &i0, &i1);
        partition(out, parts, part, &o0, &o1);
        /* dx = dy . w, split over input units */
        if (dx && i1 > i0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, i1 - i0, out, 1.0f, dy, out,
                        w + i0, in, 0.0f, dx + i0, in);
        /* dw += dy^T . x, split over output units */
        if (o1 > o0) {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o1 - o0, in, n, 1.0f, dy + o0,
                        out, x, in, 1.0f, dw + (size_t)o0 * in, in);
            if (db)
                for (int o = o0; o < o1; o++) {
                    float s = 0.0f;
                    for (int r = 0; r < n; r++)
                        s += dy[(size_t)r * out + o];
                    db[o] += s;
                }
        }
    }
}

soma_status cpu_linear_backward(const float *x, const float *w, const float *y, const float *dy,
                                float *dx, float *dw, float *db, int n, int in, int out,
                                float *workspace)
{
    int parts = parts_for((long long)n * in * out);
    if (y) { /* fused ReLU: every thread reads all of the masked dy */
        relu_mask(y, dy, workspace, (size_t)n * out);
        dy = workspace;
    }
    linear_job job = {.x = x, .w = w, .dy = dy, .dx = dx, .dw = dw, .db = db, .n = n, .in = in,
                      .out = out, .parts = parts};
    cpu_team(threads_for(parts), backward_parts, &job);
    return SOMA_OK;
}
