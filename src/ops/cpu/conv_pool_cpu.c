/*
 * The CPU's convolution and the 2x2 stride-2 max-pool after it (with the
 * ReLU between them) in one call: backend.h's conv_pool_*. The forward pass
 * runs the convolution's own forward kernel with the pool done in its
 * registers, so that the convolution's output is never stored: CONV_ROWVEC's
 * (conv_rowvec_pool.c: LeNet-5's first layer) or CONV_CHANVEC's
 * (conv_chanvec_pool.c: its second). The backward pass, where no input
 * gradient is asked and the filter gradient is rowvec's too (a first
 * layer), builds that kernel's flat dy straight from the pooled gradient;
 * otherwise it writes the pool's input gradient into the workspace and runs
 * the convolution's backward on it. Either way the bits are those of the
 * unfused passes (conv_pool_test).
 */
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "core/partition.h"
#include "ops/cpu/conv_algos.h"
#include "ops/cpu/conv_chanvec.h"
#include "ops/cpu/conv_common.h"
#include "ops/cpu/conv_rowvec.h"
#include "ops/cpu/cpu.h"
#include "ops/cpu/simd.h"
#include "ops/cpu/team.h"

typedef enum { FUSED_NONE, FUSED_ROWVEC, FUSED_CHANVEC } fused_kernel;

/* Which pooled kernel a layer runs, and whether its backward can take
 * rowvec's pooled filter gradient (a first layer: no input gradient asked),
 * from one look at the convolution's plan. */
typedef struct fused_plan {
    fused_kernel kernel;
    int pooled_dw;
} fused_plan;

static fused_plan plan_of(const conv_geom *g, int with_dx)
{
    conv_plan plan = conv_plan_auto(g);
    fused_plan f = {FUSED_NONE, 0};
    if (plan.forward == CONV_ROWVEC && rowvec_pool_supported(g))
        f.kernel = FUSED_ROWVEC;
    else if (plan.forward == CONV_CHANVEC && chanvec_pool_supported(g))
        f.kernel = FUSED_CHANVEC;
    f.pooled_dw = !with_dx && f.kernel == FUSED_ROWVEC && plan.dw == CONV_ROWVEC;
    return f;
}

int cpu_conv_pool_supported(const conv_geom *g, const pool_geom *p)
{
    if (!(cpu_has_avx512() && SIMD_AVX512))
        return 0;
    if (conv_groups(g) != 1 || g->relu || g->stride != 1 || g->oh % 2 || g->ow % 2)
        return 0;
    if (!(p->size == 2 && p->stride == 2 && p->pad == 0 && p->n == g->n && p->c == g->k &&
          p->h == g->oh && p->w == g->ow && p->oh == g->oh / 2 && p->ow == g->ow / 2))
        return 0;
    return plan_of(g, 0).kernel != FUSED_NONE;
}

/* The packed filters, then per thread the larger of the forward pass's
 * scratch and rowvec's pooled backward's partial sums and scratch. */
typedef struct pool_layout {
    size_t shared, part, per_thread;
} pool_layout;

static pool_layout layout(const conv_geom *g, fused_kernel kernel)
{
    pool_layout l = {0, 0, 0};
    if (kernel == FUSED_CHANVEC) {
        l.shared = round16z(chanvec_shared(g));
        l.per_thread = round16z(chanvec_scratch(g, CONV_FORWARD));
        return l;
    }
    l.shared = round16z(rowvec_shared(g));
    l.part = round16z(rowvec_dw_part(g));
    size_t fwd = round16z(rowvec_scratch(g, CONV_FORWARD));
    size_t bwd = l.part + round16z(rowvec_scratch(g, CONV_DW));
    l.per_thread = fwd > bwd ? fwd : bwd;
    return l;
}

/* the unfused backward's: the pool's input gradient, then the convolution's workspace */
static size_t full_dy_floats(const pool_geom *p)
{
    return round16z((size_t)p->n * p->c * p->h * p->w);
}

size_t cpu_conv_pool_workspace(const conv_geom *g, const pool_geom *p, int with_dx)
{
    fused_plan f = plan_of(g, with_dx);
    pool_layout l = layout(g, f.kernel);
    size_t fused = l.shared + (size_t)cpu_parts() * l.per_thread;
    size_t unfused = f.pooled_dw ? 0 : full_dy_floats(p) + cpu_conv2d_workspace(g);
    return (fused > unfused ? fused : unfused) + 16; /* + 16: room to align */
}

typedef void (*pool_forward_fn)(const conv_geom *, const pool_geom *, const float *, int,
                                const float *, float *, int32_t *, float *);

/* One call's tensors and workspace, for the team. */
typedef struct pool_job {
    const conv_geom *g;
    const pool_geom *p;
    const pool_layout *l;
    pool_forward_fn forward_image;
    const float *x, *dy;
    const int32_t *argmax_in;
    float *y, *dw, *db, *shared;
    int32_t *argmax;
    int has_bias, parts;
} pool_job;

static void forward_part(void *arg, int t, int team)
{
    const pool_job *j = arg;
    const conv_geom *g = j->g;
    size_t in = (size_t)g->c * g->h * g->w, out = (size_t)j->p->c * j->p->oh * j->p->ow;
    float *scratch = j->shared + j->l->shared + j->l->per_thread * t;
    int n0, n1;
    partition(g->n, team, t, &n0, &n1);
    for (int n = n0; n < n1; n++)
        j->forward_image(g, j->p, j->shared, j->has_bias, j->x + in * n, j->y + out * n,
                         j->argmax + out * n, scratch);
}

soma_status cpu_conv_pool_forward(const conv_geom *g, const pool_geom *p, const float *x,
                                  const float *w, const float *b, float *y, int32_t *argmax,
                                  float *workspace)
{
    fused_kernel kernel = plan_of(g, 0).kernel;
    pool_layout l = layout(g, kernel);
    pool_job job = {.g = g, .p = p, .l = &l, .x = x, .y = y, .argmax = argmax,
                    .shared = aligned64(workspace), .has_bias = b != NULL};
    if (kernel == FUSED_CHANVEC) {
        chanvec_pack(g, w, b, 0, job.shared);
        job.forward_image = chanvec_pool_forward_image;
    } else {
        rowvec_pack(g, w, b, 0, job.shared);
        job.forward_image = rowvec_pool_forward_image;
    }
    cpu_team(cpu_live_threads(cpu_parts()), forward_part, &job);
    return SOMA_OK;
}

/* As conv_cpu.c's backward: `parts` parts of the batch, each summing its own
 * filter gradients, however many threads take them; then added up in part
 * order, the filters shared out. */
static void backward_parts(void *arg, int t, int team)
{
    const pool_job *j = arg;
    const conv_geom *g = j->g;
    const pool_layout *l = j->l;
    size_t in = (size_t)g->c * g->h * g->w, out = (size_t)j->p->c * j->p->oh * j->p->ow;
    for (int q = t; q < j->parts; q += team) {
        float *part = j->shared + l->shared + l->per_thread * q;
        memset(part, 0, sizeof *part * l->part);
        int n0, n1;
        partition(g->n, j->parts, q, &n0, &n1);
        for (int n = n0; n < n1; n++)
            rowvec_pool_dw_image(g, j->p, j->x + in * n, j->dy + out * n,
                                 j->argmax_in + out * n, part, part + l->part);
    }
    cpu_team_barrier(team);
    int f0, f1;
    partition(g->k, team, t, &f0, &f1);
    rowvec_dw_reduce(g, j->shared + l->shared, l->per_thread, j->parts, f0, f1, j->dw, j->db);
}

soma_status cpu_conv_pool_backward(const conv_geom *g, const pool_geom *p, const float *x,
                                   const float *w, const float *dy, const int32_t *argmax,
                                   float *dx, float *dw, float *db, float *workspace)
{
    fused_plan f = plan_of(g, dx != NULL);
    if (!f.pooled_dw) {
        float *full = aligned64(workspace);
        SOMA_TRY(cpu_maxpool_backward(p, dy, argmax, full));
        return cpu_conv2d_backward(g, x, w, NULL, full, dx, dw, db, full + full_dy_floats(p));
    }
    pool_layout l = layout(g, f.kernel);
    pool_job job = {.g = g, .p = p, .l = &l, .x = x, .dy = dy, .argmax_in = argmax, .dw = dw,
                    .db = db, .shared = aligned64(workspace), .parts = cpu_parts()};
    cpu_team(cpu_live_threads(job.parts), backward_parts, &job);
    return SOMA_OK;
}
