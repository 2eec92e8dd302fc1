/*
 * 2-D convolution on the CPU: picks an algorithm per pass (conv_algos.h),
 * lays out the workspace, and splits the batch over threads. Filters are
 * packed once per call for the direct kernels; filter gradients are summed
 * per part of the batch (one part per thread of the run) and reduced in part
 * order, so results are the same for the same thread count, however many of
 * those threads run now. A grouped convolution runs group by group, each an
 * ungrouped one on its channel blocks, in place (conv_algos.h).
 */
#include <stdint.h>
#include <string.h>

#include "ops/cpu/conv_algos.h"
#include "ops/cpu/conv_common.h"
#include "ops/cpu/team.h"
#include "ops/cpu/cpu.h"
#include "core/partition.h"
#include "ops/cpu/relu_fused.h"
#include "ops/cpu/simd.h"

conv_geom conv_dx_geometry(const conv_geom *g)
{
    conv_geom t = {g->n, g->k, g->oh, g->ow, g->c, g->kh, g->kw, 1, g->kh - 1 - g->pad,
                   g->h, g->w, 0, 1};
    return t;
}

static int dx_is_convolution(const conv_geom *g)
{
    return g->stride == 1 && g->kh == g->kw && g->pad <= g->kh - 1;
}

int conv_algo_usable(const conv_geom *layer, conv_pass pass, conv_algo algo)
{
    conv_geom s = conv_group_geometry(layer);
    const conv_geom *g = &s;
    if (algo == CONV_GEMM)
        return 1;
    if (algo == CONV_WINOGRAD) /* portable: on every CPU */
        return winograd_supported(g) && (pass != CONV_DX || dx_is_convolution(g));
    if (!cpu_has_avx512() || g->kh != g->kw)
        return 0;
    if (pass == CONV_DX && !dx_is_convolution(g))
        return 0;
    if (algo == CONV_CHANVEC)
        return pass != CONV_DW || chanvec_dw_supported(g);
    if (algo == CONV_ROWVEC)
        return g->stride == 1 && (pass != CONV_DW || rowvec_dw_supported(g));
    if (algo == CONV_BATCHLANE) { /* the input gradient only (stride 1, checked above) */
        conv_geom gt = conv_dx_geometry(g);
        return pass == CONV_DX && batchlane_supported(&gt);
    }
    return 0;
}

/* A direct forward kernel for geometry `gk` (the layer's, or its dx geometry). */
static conv_algo pick_direct(const conv_geom *gk, const conv_geom *layer, conv_pass pass)
{
    int taps = gk->c * gk->kh * gk->kw;
    if (gk->kh == 1 && gk->kw == 1)
        return CONV_GEMM;
    /* 16-channel vectors pay for their transposes when there are enough taps */
    if (gk->k >= 16 && taps >= 32 && conv_algo_usable(layer, pass, CONV_CHANVEC))
        return CONV_CHANVEC;
    if (conv_algo_usable(layer, pass, CONV_ROWVEC))
        return CONV_ROWVEC;
    if (conv_algo_usable(layer, pass, CONV_CHANVEC))
        return CONV_CHANVEC;
    return CONV_GEMM;
}

conv_plan conv_plan_fixed(const conv_geom *layer)
{
    conv_geom s = conv_group_geometry(layer); /* groups run one after another */
    const conv_geom *g = &s;
    conv_plan p = {CONV_GEMM, CONV_GEMM, CONV_GEMM};
    p.forward = pick_direct(g, g, CONV_FORWARD);
    if (dx_is_convolution(g)) {
        conv_geom gt = conv_dx_geometry(g);
        p.dx = pick_direct(&gt, g, CONV_DX);
        if (batchlane_pays(g))
            p.dx = CONV_BATCHLANE;
    }
    if (g->kh > 1 && g->k >= 16 && conv_algo_usable(g, CONV_DW, CONV_CHANVEC))
        p.dw = CONV_CHANVEC;
    else if (g->kh > 1 && conv_algo_usable(g, CONV_DW, CONV_ROWVEC))
        p.dw = CONV_ROWVEC;
    else if (g->kh > 1 && conv_algo_usable(g, CONV_DW, CONV_CHANVEC))
        p.dw = CONV_CHANVEC;
    return p;
}

/* Where everything lives in the workspace: the shared packed filters, then
 * one block per thread (partial filter gradients, then scratch). */
typedef struct conv_layout {
    size_t shared, per_thread;
    size_t part, dw_scratch, dx_scratch; /* backward: sizes of a thread's pieces */
} conv_layout;

static size_t shared_floats(const conv_geom *gk, conv_algo a)
{
    return a == CONV_CHANVEC     ? chanvec_shared(gk)
           : a == CONV_ROWVEC    ? rowvec_shared(gk)
           : a == CONV_WINOGRAD  ? winograd_shared(gk)
           : a == CONV_BATCHLANE ? batchlane_shared(gk)
                                 : 0;
}

static size_t scratch_floats(const conv_geom *gk, conv_algo a, conv_pass pass)
{
    size_t n = a == CONV_CHANVEC     ? chanvec_scratch(gk, pass)
               : a == CONV_ROWVEC    ? rowvec_scratch(gk, pass)
               : a == CONV_WINOGRAD  ? winograd_scratch(gk, pass, winograd_chunk(gk, pass))
               : a == CONV_BATCHLANE ? batchlane_scratch(gk)
                                     : gemm_scratch(gk, pass);
    return round16z(n);
}

static size_t part_floats(const conv_geom *g, conv_algo a)
{
    size_t n = a == CONV_CHANVEC    ? chanvec_dw_part(g)
               : a == CONV_ROWVEC   ? rowvec_dw_part(g)
               : a == CONV_WINOGRAD ? winograd_dw_part(g)
                                    : (size_t)g->k * g->c * g->kh * g->kw + g->k;
    return round16z(n);
}

/* A pass that runs sample by sample (all but Winograd's, which run chunks,
 * and batch-lane's, which runs blocks of 16). */
static int per_sample(conv_algo a) { return a != CONV_WINOGRAD && a != CONV_BATCHLANE; }

static conv_layout layout(const conv_geom *g, const conv_plan *p)
{
    conv_layout l;
    conv_geom gt = dx_is_convolution(g) ? conv_dx_geometry(g) : *g;
    size_t fwd_shared = shared_floats(g, p->forward), dx_shared = shared_floats(&gt, p->dx);
    l.shared = round16z(fwd_shared > dx_shared ? fwd_shared : dx_shared);
    size_t fwd = scratch_floats(g, p->forward, CONV_FORWARD);
    l.part = part_floats(g, p->dw);
    l.dw_scratch = scratch_floats(g, p->dw, CONV_DW);
    l.dx_scratch = scratch_floats(p->dx == CONV_GEMM ? g : &gt, p->dx, CONV_DX);
    /* a fused ReLU's masked dy, one sample at a time */
    int masks = g->relu && (per_sample(p->dw) || per_sample(p->dx));
    size_t masked = masks ? round16z((size_t)g->k * g->oh * g->ow) : 0;
    size_t bwd = l.part + l.dw_scratch + l.dx_scratch + masked;
    l.per_thread = fwd > bwd ? fwd : bwd;
    return l;
}

size_t conv_plan_workspace(const conv_geom *g, const conv_plan *p, int threads)
{
    conv_geom s = conv_group_geometry(g); /* the groups take turns with it */
    conv_layout l = layout(&s, p);
    return l.shared + (size_t)threads * l.per_thread + 16; /* + 16: room to align */
}

/* Where one group's tensors sit: its first sample, and the distance from one
 * sample to the next in the whole tensor. */
typedef struct conv_io {
    const float *x, *w, *b, *y, *dy;
    float *out, *dx, *dw, *db;
    size_t x_stride, y_stride;
} conv_io;

/* One group's pass on a team of threads (team.h): its geometry (groups 1),
 * plan, tensors, the run's thread count of parts, and the workspace. */
typedef struct conv_job {
    const conv_geom *g, *gt; /* gt: the input gradient's geometry (backward) */
    const conv_plan *p;
    const conv_layout *l;
    const conv_io *io;
    float *shared;
    int parts;
} conv_job;

/* Winograd's forward pass: chunks of samples fixed by the geometry, so the
 * same bits however many threads take them */
static void forward_winograd(void *arg, int t, int team)
{
    const conv_job *j = arg;
    const conv_geom *g = j->g;
    const conv_io *io = j->io;
    float *shared = j->shared;
    int nb = winograd_chunk(g, CONV_FORWARD), chunks = (g->n + nb - 1) / nb, c0, c1;
    winograd_pack(g, io->w, 0, shared, t, team); /* the filters, shared out */
    cpu_team_barrier(team);
    partition(chunks, team, t, &c0, &c1);
    float *scratch = shared + j->l->shared + j->l->per_thread * t;
    for (int ch = c0; ch < c1; ch++) {
        int n = ch * nb, count = g->n - n < nb ? g->n - n : nb;
        winograd_forward_chunk(g, shared, io->b, io->x + io->x_stride * n, io->x_stride, NULL,
                               io->out + io->y_stride * n, io->y_stride, count, scratch);
    }
}

static void forward_samples(void *arg, int t, int team)
{
    const conv_job *j = arg;
    const conv_geom *g = j->g;
    const conv_io *io = j->io;
    const float *shared = j->shared;
    conv_algo a = j->p->forward;
    size_t out_size = (size_t)g->k * g->oh * g->ow;
    int n0, n1;
    partition(g->n, team, t, &n0, &n1);
    float *scratch = j->shared + j->l->shared + j->l->per_thread * t;
    /* sample by sample; batch-lane: blocks of 16 samples, the last partial */
    int step = a == CONV_BATCHLANE ? 16 : 1;
    for (int n = n0; n < n1; n += step) {
        int count = n1 - n < step ? n1 - n : step;
        const float *xn = io->x + io->x_stride * n;
        float *yn = io->out + io->y_stride * n;
        if (a == CONV_BATCHLANE)
            batchlane_forward_block(g, shared, io->b != NULL, xn, io->x_stride, NULL, yn,
                                    io->y_stride, count, scratch);
        else if (a == CONV_CHANVEC)
            chanvec_forward_image(g, shared, io->b != NULL, xn, yn, scratch);
        else if (a == CONV_ROWVEC)
            rowvec_forward_image(g, shared, io->b != NULL, xn, yn, scratch);
        else
            gemm_forward_image(g, xn, io->w, io->b, yn, scratch);
        for (int i = 0; i < count && g->relu; i++) /* while the samples are in cache */
            relu_in_place(yn + io->y_stride * i, out_size);
    }
}

/* The forward pass of one group, whose geometry `g` has groups 1. */
static void forward_group(const conv_geom *g, const conv_plan *p, int threads, const conv_io *io,
                          float *workspace)
{
    conv_layout l = layout(g, p);
    conv_job job = {g, NULL, p, &l, io, aligned64(workspace), threads};
    conv_algo a = p->forward;
    if (a == CONV_CHANVEC)
        chanvec_pack(g, io->w, io->b, 0, job.shared);
    else if (a == CONV_ROWVEC)
        rowvec_pack(g, io->w, io->b, 0, job.shared);
    else if (a == CONV_BATCHLANE)
        batchlane_pack(g, io->w, io->b, 0, job.shared);
    cpu_team(cpu_live_threads(threads), a == CONV_WINOGRAD ? forward_winograd : forward_samples,
             &job);
}

conv_geom conv_group_geometry(const conv_geom *g)
{
    conv_geom s = *g;
    s.c = g->c / conv_groups(g);
    s.k = g->k / conv_groups(g);
    s.groups = 1;
    return s;
}

/* The tensors of group `gi`: consecutive channel blocks of every sample, a
 * block of filters (PyTorch's layout makes it contiguous). */
static conv_io group_io(const conv_geom *g, const conv_geom *s, int gi, const conv_io *all)
{
    size_t in_block = (size_t)s->c * g->h * g->w, out_block = (size_t)s->k * g->oh * g->ow;
    size_t w_block = (size_t)s->k * s->c * g->kh * g->kw;
    conv_io io = *all;
    io.x_stride = in_block * conv_groups(g);
    io.y_stride = out_block * conv_groups(g);
    io.x = all->x + in_block * gi;
    io.w = all->w + w_block * gi;
    io.b = all->b ? all->b + (size_t)s->k * gi : NULL;
    io.y = all->y ? all->y + out_block * gi : NULL;
    io.dy = all->dy ? all->dy + out_block * gi : NULL;
    io.out = all->out ? all->out + out_block * gi : NULL;
    io.dx = all->dx ? all->dx + in_block * gi : NULL;
    io.dw = all->dw ? all->dw + w_block * gi : NULL;
    io.db = all->db ? all->db + (size_t)s->k * gi : NULL;
    return io;
}

void conv_forward_planned(const conv_geom *g, const conv_plan *p, int threads, const float *x,
                          const float *w, const float *b, float *y, float *workspace)
{
    conv_geom s = conv_group_geometry(g);
    conv_io all = {.x = x, .w = w, .b = b, .out = y};
    for (int gi = 0; gi < conv_groups(g); gi++) {
        conv_io io = group_io(g, &s, gi, &all);
        forward_group(&s, p, threads, &io, workspace);
    }
}

static void gemm_dw_reduce(const conv_geom *g, const float *part0, size_t stride, int nparts,
                           int f0, int f1, float *dw, float *db)
{
    size_t kdim = (size_t)g->c * g->kh * g->kw, wsize = kdim * g->k;
    for (int f = f0; f < f1; f++) {
        for (size_t i = f * kdim; i < (f + 1) * kdim; i++) {
            float s = 0.0f;
            for (int t = 0; t < nparts; t++)
                s += part0[stride * t + i];
            dw[i] += s;
        }
        if (db) {
            float s = 0.0f;
            for (int t = 0; t < nparts; t++)
                s += part0[stride * t + wsize + f];
            db[f] += s;
        }
    }
}

/* Part `q` of `parts` of the batch: its filter gradients into its own block
 * of the workspace, its samples' input gradients into dx. */
static void backward_part(const conv_geom *g, const conv_plan *p, const conv_geom *gt,
                          const conv_io *io, const conv_layout *l, float *shared, int q, int parts)
{
    size_t out_size = (size_t)g->k * g->oh * g->ow;
    size_t wsize = (size_t)g->k * g->c * g->kh * g->kw;
    int n0, n1;
    partition(g->n, parts, q, &n0, &n1);
    float *part = shared + l->shared + l->per_thread * q;
    float *dw_scratch = part + l->part, *dx_scratch = dw_scratch + l->dw_scratch;
    float *masked = dx_scratch + l->dx_scratch;
    memset(part, 0, sizeof *part * l->part);
    int want_dx = io->dx && per_sample(p->dx);
    for (int n = n0; n < n1 && (per_sample(p->dw) || want_dx); n++) {
        const float *xn = io->x + io->x_stride * n, *dyn = io->dy + io->y_stride * n;
        if (g->relu) {
            relu_mask(io->y + io->y_stride * n, dyn, masked, out_size);
            dyn = masked;
        }
        if (p->dw == CONV_CHANVEC)
            chanvec_dw_image(g, xn, dyn, part, dw_scratch);
        else if (p->dw == CONV_ROWVEC)
            rowvec_dw_image(g, xn, dyn, part, dw_scratch);
        else if (p->dw == CONV_GEMM)
            gemm_dw_image(g, xn, dyn, part, part + wsize, dw_scratch);
        if (!want_dx)
            continue;
        float *dxn = io->dx + io->x_stride * n;
        if (p->dx == CONV_CHANVEC)
            chanvec_forward_image(gt, shared, 0, dyn, dxn, dx_scratch);
        else if (p->dx == CONV_ROWVEC)
            rowvec_forward_image(gt, shared, 0, dyn, dxn, dx_scratch);
        else
            gemm_dx_image(g, io->w, dyn, dxn, dx_scratch);
    }
    /* Winograd's passes take the part's samples in chunks, dy masked as read */
    const float *mask = g->relu ? io->y : NULL;
    int nb = winograd_chunk(g, CONV_DW), nbt = winograd_chunk(gt, CONV_DX);
    for (int n = n0; n < n1 && p->dw == CONV_WINOGRAD; n += nb)
        winograd_dw_chunk(g, io->x + io->x_stride * n, io->x_stride,
                          mask ? mask + io->y_stride * n : NULL, io->dy + io->y_stride * n,
                          io->y_stride, n1 - n < nb ? n1 - n : nb, part, dw_scratch);
    for (int n = n0; n < n1 && io->dx && p->dx == CONV_WINOGRAD; n += nbt)
        winograd_forward_chunk(gt, shared, NULL, io->dy + io->y_stride * n, io->y_stride,
                               mask ? mask + io->y_stride * n : NULL,
                               io->dx + io->x_stride * n, io->x_stride,
                               n1 - n < nbt ? n1 - n : nbt, dx_scratch);
    /* batch-lane's: blocks of 16 samples of the part, the last partial */
    for (int n = n0; n < n1 && io->dx && p->dx == CONV_BATCHLANE; n += 16)
        batchlane_forward_block(gt, shared, 0, io->dy + io->y_stride * n, io->y_stride,
                                mask ? mask + io->y_stride * n : NULL, io->dx + io->x_stride * n,
                                io->x_stride, n1 - n < 16 ? n1 - n : 16, dx_scratch);
}

static void backward_parts(void *arg, int t, int team)
{
    const conv_job *j = arg;
    const conv_geom *g = j->g;
    const conv_plan *p = j->p;
    const conv_io *io = j->io;
    const conv_layout *l = j->l;
    float *shared = j->shared;
    int parts = j->parts;
    if (io->dx && p->dx == CONV_WINOGRAD) { /* the filters, shared out */
        winograd_pack(j->gt, io->w, 1, shared, t, team);
        cpu_team_barrier(team);
    }
    /* `parts` parts of the batch, however many threads run them: the same sums */
    for (int q = t; q < parts; q += team)
        backward_part(g, p, j->gt, io, l, shared, q, parts);
    cpu_team_barrier(team);
    int f0, f1;
    partition(g->k, team, t, &f0, &f1);
    const float *part0 = shared + l->shared;
    if (p->dw == CONV_CHANVEC)
        chanvec_dw_reduce(g, part0, l->per_thread, parts, f0, f1, io->dw, io->db);
    else if (p->dw == CONV_ROWVEC)
        rowvec_dw_reduce(g, part0, l->per_thread, parts, f0, f1, io->dw, io->db);
    else if (p->dw == CONV_WINOGRAD)
        winograd_dw_reduce(g, part0, l->per_thread, parts, f0, f1, io->dw, io->db);
    else
        gemm_dw_reduce(g, part0, l->per_thread, parts, f0, f1, io->dw, io->db);
}

/* The backward pass of one group, whose geometry `g` has groups 1. */
static void backward_group(const conv_geom *g, const conv_plan *p, int threads,
                           const conv_io *io, float *workspace)
{
    conv_layout l = layout(g, p);
    conv_geom gt = dx_is_convolution(g) ? conv_dx_geometry(g) : *g;
    conv_job job = {g, &gt, p, &l, io, aligned64(workspace), threads};
    if (io->dx && p->dx == CONV_CHANVEC)
        chanvec_pack(&gt, io->w, NULL, 1, job.shared);
    else if (io->dx && p->dx == CONV_ROWVEC)
        rowvec_pack(&gt, io->w, NULL, 1, job.shared);
    else if (io->dx && p->dx == CONV_BATCHLANE)
        batchlane_pack(&gt, io->w, NULL, 1, job.shared);
    cpu_team(cpu_live_threads(threads), backward_parts, &job);
}

void conv_backward_planned(const conv_geom *g, const conv_plan *p, int threads, const float *x,
                           const float *w, const float *y, const float *dy, float *dx, float *dw,
                           float *db, float *workspace)
{
    conv_geom s = conv_group_geometry(g);
    conv_io all = {.x = x, .w = w, .y = y, .dy = dy, .dx = dx, .dw = dw, .db = db};
    for (int gi = 0; gi < conv_groups(g); gi++) {
        conv_io io = group_io(g, &s, gi, &all);
        backward_group(&s, p, threads, &io, workspace);
    }
}

size_t cpu_conv2d_workspace(const conv_geom *g)
{
    conv_plan p = conv_plan_auto(g);
    return conv_plan_workspace(g, &p, cpu_parts());
}

soma_status cpu_conv2d_forward(const conv_geom *g, const float *x, const float *w, const float *b,
                               float *y, float *workspace)
{
    conv_plan p = conv_plan_auto(g);
    conv_forward_planned(g, &p, cpu_parts(), x, w, b, y, workspace);
    return SOMA_OK;
}

soma_status cpu_conv2d_backward(const conv_geom *g, const float *x, const float *w, const float *y,
                                const float *dy, float *dx, float *dw, float *db, float *workspace)
{
    conv_plan p = conv_plan_auto(g);
    conv_backward_planned(g, &p, cpu_parts(), x, w, y, dy, dx, dw, db, workspace);
    return SOMA_OK;
}
