/*
 * Conformance of batch normalisation: training forward (batch statistics,
 * saved mean and 1/sqrt(var + eps), running statistics with the unbiased
 * variance and momentum), evaluation forward, and both backwards, with and
 * without the fused ReLU, against Ioffe & Szegedy's formulas in double.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/conformance.h"

typedef struct bn_case {
    int n, c, spatial, relu;
    float momentum, eps;
} bn_case;

static const bn_case bn_cases[] = {
    {4, 3, 25, 0, 0.1f, 1e-5f},   /* a spatial size with a tail past 16 */
    {2, 16, 64, 1, 0.1f, 1e-5f},  /* multiples of 16 */
    {1, 17, 49, 1, 0.1f, 1e-5f},  /* batch 1 */
    {8, 70, 1, 0, 0.1f, 1e-5f},   /* per feature (after linear), more than one group */
    {16, 20, 1, 1, 0.1f, 1e-5f},  /* per feature, fused ReLU */
    {3, 5, 9, 1, 0.01f, 1e-3f},   /* fewer than 16 values per plane, other momentum, eps */
    {2, 33, 196, 0, 0.1f, 1e-5f}, /* 14x14 planes */
    {2, 5, 33000, 1, 0.1f, 1e-5f}, /* a channel's values fill the CPU's cache budget alone */
};

static size_t at(const bn_case *c, int b, int ch, int s)
{
    return ((size_t)b * c->c + ch) * c->spatial + s;
}

typedef struct bn_data {
    float *x, *gamma, *beta, *rmean, *rvar, *dy, *dgamma0, *dbeta0;
} bn_data;

static bn_data make_data(const bn_case *c, uint64_t s)
{
    size_t nx = (size_t)c->n * c->c * c->spatial;
    bn_data d = {host_normal(nx, s, 1.0f), host_uniform(c->c, s + 1, -1.5f, 1.5f),
                 host_normal(c->c, s + 2, 0.5f), host_normal(c->c, s + 3, 0.5f),
                 host_uniform(c->c, s + 4, 0.5f, 2.0f), host_normal(nx, s + 5, 1.0f),
                 host_normal(c->c, s + 6, 1.0f), host_normal(c->c, s + 7, 1.0f)};
    /* each channel its own mean and spread, as real activations */
    float *offset = host_uniform(c->c, s + 8, -2.0f, 2.0f);
    float *spread = host_uniform(c->c, s + 9, 0.5f, 2.0f);
    for (int b = 0; b < c->n; b++)
        for (int ch = 0; ch < c->c; ch++)
            for (int i = 0; i < c->spatial; i++)
                d.x[at(c, b, ch, i)] = offset[ch] + spread[ch] * d.x[at(c, b, ch, i)];
    free(offset), free(spread);
    return d;
}

static void free_data(bn_data *d)
{
    free(d->x), free(d->gamma), free(d->beta), free(d->rmean), free(d->rvar), free(d->dy);
    free(d->dgamma0), free(d->dbeta0);
}

/* y = x * scale + shift per channel, scale = gamma * invstd, shift = beta - mean * scale */
static void affine_reference(const bn_case *c, const float *x, int ch, dm scale, dm shift,
                             double *y, double *mag)
{
    for (int b = 0; b < c->n; b++)
        for (int i = 0; i < c->spatial; i++) {
            size_t j = at(c, b, ch, i);
            dm v = dm_add(dm_mul(dm_of(x[j]), scale), shift);
            y[j] = c->relu && !(v.v > 0.0) ? 0.0 : v.v;
            mag[j] = v.m;
        }
}

static void check_train(const conf_target *t, const bn_case *c, const bn_data *d,
                        const char *name, float *y_out)
{
    const soma_backend *be = t->be;
    bn_geom g = {c->n, c->c, c->spatial, c->eps, c->momentum, c->relu, NULL, NULL};
    size_t nx = (size_t)c->n * c->c * c->spatial;
    double m = (double)c->n * c->spatial;
    double *y = host_doubles(nx), *y_mag = host_doubles(nx);
    double *ref[4], *mag[4]; /* mean, invstd, running mean, running var */
    for (int i = 0; i < 4; i++)
        ref[i] = host_doubles(c->c), mag[i] = host_doubles(c->c);
    for (int ch = 0; ch < c->c; ch++) {
        double sum = 0.0, abs_sum = 0.0, sq = 0.0, dev2 = 0.0;
        for (int b = 0; b < c->n; b++)
            for (int i = 0; i < c->spatial; i++) {
                double v = d->x[at(c, b, ch, i)];
                sum += v, abs_sum += fabs(v), sq += v * v;
            }
        /* a sum of m terms errs by up to m u times their size: the statistics
         * carry that factor in their magnitudes (and pass it on to y) */
        dm mean = {sum / m, m * (abs_sum / m)};
        for (int b = 0; b < c->n; b++)
            for (int i = 0; i < c->spatial; i++)
                dev2 += (d->x[at(c, b, ch, i)] - mean.v) * (d->x[at(c, b, ch, i)] - mean.v);
        /* the biased variance normalises; its size is that of the one-pass form */
        dm var = {dev2 / m, m * (sq / m + mean.v * mean.v)};
        dm invstd = dm_div(dm_of(1.0), dm_sqrt(dm_add(var, dm_of(c->eps))));
        dm scale = dm_mul(dm_of(d->gamma[ch]), invstd);
        dm shift = dm_sub(dm_of(d->beta[ch]), dm_mul(mean, scale));
        affine_reference(c, d->x, ch, scale, shift, y, y_mag);
        /* running_var takes the unbiased variance, var * m / (m - 1) */
        dm keep = dm_of(1.0 - (double)c->momentum), mom = dm_of(c->momentum);
        dm unbiased = dm_mul(var, dm_of(m / (m - 1.0)));
        dm rmean = dm_add(dm_mul(keep, dm_of(d->rmean[ch])), dm_mul(mom, mean));
        dm rvar = dm_add(dm_mul(keep, dm_of(d->rvar[ch])), dm_mul(mom, unbiased));
        dm all[4] = {mean, invstd, rmean, rvar};
        for (int i = 0; i < 4; i++)
            ref[i][ch] = all[i].v, mag[i][ch] = all[i].m;
    }

    float *d_x = dev_from_host(be, d->x, nx), *d_gamma = dev_from_host(be, d->gamma, c->c);
    float *d_beta = dev_from_host(be, d->beta, c->c), *d_y = dev_filled(be, nx, NAN);
    float *d_mean = dev_filled(be, c->c, NAN), *d_invstd = dev_filled(be, c->c, NAN);
    float *d_rmean = dev_from_host(be, d->rmean, c->c);
    float *d_rvar = dev_from_host(be, d->rvar, c->c);
    conf_case k;
    case_begin(&k, t, "batchnorm_forward_train", "%s", name);
    case_status(&k,
                run_bn_forward_train(be, &g, d_x, d_gamma, d_beta, d_y, d_mean, d_invstd,
                                     d_rmean, d_rvar),
                "batchnorm_forward_train");
    float *got_y = host_from_dev(be, d_y, nx);
    float *got[4] = {host_from_dev(be, d_mean, c->c), host_from_dev(be, d_invstd, c->c),
                     host_from_dev(be, d_rmean, c->c), host_from_dev(be, d_rvar, c->c)};
    static const char *const names[4] = {"save_mean", "save_invstd", "running_mean",
                                         "running_var"};
    double tol = conf_tolerance(TOL_BATCHNORM, 0);
    case_close(&k, "y", got_y, y, y_mag, nx, tol);
    for (int i = 0; i < 4; i++)
        case_close(&k, names[i], got[i], ref[i], mag[i], c->c, tol);
    case_end(&k);
    memcpy(y_out, got_y, sizeof *y_out * nx);
    free(got_y), free(y), free(y_mag);
    for (int i = 0; i < 4; i++)
        free(got[i]), free(ref[i]), free(mag[i]);

    /* backward, from the statistics forward saved (exact inputs here) */
    float *mean = host_from_dev(be, d_mean, c->c), *invstd = host_from_dev(be, d_invstd, c->c);
    double *dx = host_doubles(nx), *dx_mag = host_doubles(nx);
    double *dgamma = host_doubles(c->c), *dgamma_mag = host_doubles(c->c);
    double *dbeta = host_doubles(c->c), *dbeta_mag = host_doubles(c->c);
    for (int ch = 0; ch < c->c; ch++) {
        dm sum_dz = dm_of(0.0), sum_dz_xhat = dm_of(0.0);
        for (int b = 0; b < c->n; b++)
            for (int i = 0; i < c->spatial; i++) {
                size_t j = at(c, b, ch, i);
                /* the fused ReLU's mask is forward's y > 0 */
                dm dz = dm_of(c->relu && !(y_out[j] > 0.0f) ? 0.0f : d->dy[j]);
                dm xhat = dm_mul(dm_sub(dm_of(d->x[j]), dm_of(mean[ch])), dm_of(invstd[ch]));
                sum_dz = dm_add(sum_dz, dz);
                sum_dz_xhat = dm_add(sum_dz_xhat, dm_mul(dz, xhat));
            }
        sum_dz.m *= m, sum_dz_xhat.m *= m; /* sums of m terms */
        dm kk = dm_div(dm_mul(dm_of(d->gamma[ch]), dm_of(invstd[ch])), dm_of(m));
        for (int b = 0; b < c->n; b++)
            for (int i = 0; i < c->spatial; i++) {
                size_t j = at(c, b, ch, i);
                dm dz = dm_of(c->relu && !(y_out[j] > 0.0f) ? 0.0f : d->dy[j]);
                dm xhat = dm_mul(dm_sub(dm_of(d->x[j]), dm_of(mean[ch])), dm_of(invstd[ch]));
                dm v = dm_mul(kk, dm_sub(dm_sub(dm_mul(dm_of(m), dz), sum_dz),
                                         dm_mul(xhat, sum_dz_xhat)));
                dx[j] = v.v, dx_mag[j] = v.m;
            }
        dm dg = dm_add(dm_of(d->dgamma0[ch]), sum_dz_xhat);
        dm dbt = dm_add(dm_of(d->dbeta0[ch]), sum_dz);
        dgamma[ch] = dg.v, dgamma_mag[ch] = dg.m, dbeta[ch] = dbt.v, dbeta_mag[ch] = dbt.m;
    }
    float *d_dy = dev_from_host(be, d->dy, nx), *d_dx = dev_filled(be, nx, NAN);
    float *d_dgamma = dev_from_host(be, d->dgamma0, c->c);
    float *d_dbeta = dev_from_host(be, d->dbeta0, c->c);
    case_begin(&k, t, "batchnorm_backward", "%s", name);
    case_status(&k,
                run_bn_backward(be, &g, d_x, d_gamma, d_beta, d_mean, d_invstd, d_dy, d_dx,
                                d_dgamma, d_dbeta),
                "batchnorm_backward");
    float *got_dx = host_from_dev(be, d_dx, nx), *got_dgamma = host_from_dev(be, d_dgamma, c->c);
    float *got_dbeta = host_from_dev(be, d_dbeta, c->c);
    case_close(&k, "dx", got_dx, dx, dx_mag, nx, tol);
    case_close(&k, "dgamma", got_dgamma, dgamma, dgamma_mag, c->c, tol);
    case_close(&k, "dbeta", got_dbeta, dbeta, dbeta_mag, c->c, tol);
    case_end(&k);

    /* dx not needed: the parameter gradients accumulate once more */
    for (int ch = 0; ch < c->c; ch++) {
        dgamma[ch] += (double)got_dgamma[ch] - d->dgamma0[ch];
        dgamma_mag[ch] += fabs(got_dgamma[ch]);
        dbeta[ch] += (double)got_dbeta[ch] - d->dbeta0[ch];
        dbeta_mag[ch] += fabs(got_dbeta[ch]);
    }
    case_begin(&k, t, "batchnorm_backward dx=NULL", "%s", name);
    case_status(&k,
                run_bn_backward(be, &g, d_x, d_gamma, d_beta, d_mean, d_invstd, d_dy, NULL,
                                d_dgamma, d_dbeta),
                "batchnorm_backward");
    float *got_dgamma2 = host_from_dev(be, d_dgamma, c->c);
    float *got_dbeta2 = host_from_dev(be, d_dbeta, c->c);
    case_close(&k, "dgamma", got_dgamma2, dgamma, dgamma_mag, c->c, 2.0 * tol);
    case_close(&k, "dbeta", got_dbeta2, dbeta, dbeta_mag, c->c, 2.0 * tol);
    case_end(&k);

    free(mean), free(invstd), free(dx), free(dx_mag), free(dgamma), free(dgamma_mag);
    free(dbeta), free(dbeta_mag), free(got_dx), free(got_dgamma), free(got_dbeta);
    free(got_dgamma2), free(got_dbeta2);
    void *bufs[] = {d_x, d_gamma, d_beta, d_y, d_mean, d_invstd, d_rmean, d_rvar,
                    d_dy, d_dx, d_dgamma, d_dbeta};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        dev_release(be, bufs[i]);
}

static void check_eval(const conf_target *t, const bn_case *c, const bn_data *d,
                       const char *name)
{
    const soma_backend *be = t->be;
    bn_geom g = {c->n, c->c, c->spatial, c->eps, c->momentum, c->relu, NULL, NULL};
    size_t nx = (size_t)c->n * c->c * c->spatial;
    double m = (double)c->n * c->spatial;
    double *y = host_doubles(nx), *y_mag = host_doubles(nx);
    for (int ch = 0; ch < c->c; ch++) {
        dm invstd = dm_div(dm_of(1.0), dm_sqrt(dm_add(dm_of(d->rvar[ch]), dm_of(c->eps))));
        dm scale = dm_mul(dm_of(d->gamma[ch]), invstd);
        dm shift = dm_sub(dm_of(d->beta[ch]), dm_mul(dm_of(d->rmean[ch]), scale));
        affine_reference(c, d->x, ch, scale, shift, y, y_mag);
    }
    float *d_x = dev_from_host(be, d->x, nx), *d_gamma = dev_from_host(be, d->gamma, c->c);
    float *d_beta = dev_from_host(be, d->beta, c->c), *d_y = dev_filled(be, nx, NAN);
    float *d_rmean = dev_from_host(be, d->rmean, c->c);
    float *d_rvar = dev_from_host(be, d->rvar, c->c);
    conf_case k;
    case_begin(&k, t, "batchnorm_forward_eval", "%s", name);
    case_status(&k, run_bn_forward_eval(be, &g, d_x, d_gamma, d_beta, d_rmean, d_rvar, d_y),
                "batchnorm_forward_eval");
    float *got_y = host_from_dev(be, d_y, nx);
    case_close(&k, "y", got_y, y, y_mag, nx, conf_tolerance(TOL_BATCHNORM, 0));
    case_end(&k);

    /* the affine map's gradients; a fused ReLU masks by the y given */
    double *dx = host_doubles(nx), *dx_mag = host_doubles(nx);
    double *dgamma = host_doubles(c->c), *dgamma_mag = host_doubles(c->c);
    double *dbeta = host_doubles(c->c), *dbeta_mag = host_doubles(c->c);
    for (int ch = 0; ch < c->c; ch++) {
        dm invstd = dm_div(dm_of(1.0), dm_sqrt(dm_add(dm_of(d->rvar[ch]), dm_of(c->eps))));
        dm sum_dz_xhat = dm_of(0.0), sum_dz = dm_of(0.0);
        for (int b = 0; b < c->n; b++)
            for (int i = 0; i < c->spatial; i++) {
                size_t j = at(c, b, ch, i);
                dm dz = dm_of(c->relu && !(got_y[j] > 0.0f) ? 0.0f : d->dy[j]);
                dm xhat = dm_mul(dm_sub(dm_of(d->x[j]), dm_of(d->rmean[ch])), invstd);
                dm v = dm_mul(dm_mul(dz, dm_of(d->gamma[ch])), invstd);
                dx[j] = v.v, dx_mag[j] = v.m;
                sum_dz_xhat = dm_add(sum_dz_xhat, dm_mul(dz, xhat));
                sum_dz = dm_add(sum_dz, dz);
            }
        sum_dz.m *= m, sum_dz_xhat.m *= m; /* sums of m terms */
        dm dg = dm_add(dm_of(d->dgamma0[ch]), sum_dz_xhat);
        dm dbt = dm_add(dm_of(d->dbeta0[ch]), sum_dz);
        dgamma[ch] = dg.v, dgamma_mag[ch] = dg.m, dbeta[ch] = dbt.v, dbeta_mag[ch] = dbt.m;
    }
    float *d_dy = dev_from_host(be, d->dy, nx), *d_dx = dev_filled(be, nx, NAN);
    float *d_dgamma = dev_from_host(be, d->dgamma0, c->c);
    float *d_dbeta = dev_from_host(be, d->dbeta0, c->c);
    double tol = conf_tolerance(TOL_BATCHNORM, 0);
    case_begin(&k, t, "batchnorm_backward_eval", "%s", name);
    case_status(&k,
                run_bn_backward_eval(be, &g, d_x, d_gamma, d_y, d_rmean, d_rvar, d_dy, d_dx,
                                     d_dgamma, d_dbeta),
                "batchnorm_backward_eval");
    float *got_dx = host_from_dev(be, d_dx, nx), *got_dgamma = host_from_dev(be, d_dgamma, c->c);
    float *got_dbeta = host_from_dev(be, d_dbeta, c->c);
    case_close(&k, "dx", got_dx, dx, dx_mag, nx, tol);
    case_close(&k, "dgamma", got_dgamma, dgamma, dgamma_mag, c->c, tol);
    case_close(&k, "dbeta", got_dbeta, dbeta, dbeta_mag, c->c, tol);
    case_end(&k);

    free(y), free(y_mag), free(got_y), free(dx), free(dx_mag), free(dgamma), free(dgamma_mag);
    free(dbeta), free(dbeta_mag), free(got_dx), free(got_dgamma), free(got_dbeta);
    void *bufs[] = {d_x, d_gamma, d_beta, d_y, d_rmean, d_rvar, d_dy, d_dx, d_dgamma, d_dbeta};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        dev_release(be, bufs[i]);
}

void conf_batchnorm(const conf_target *t)
{
    for (size_t i = 0; i < sizeof bn_cases / sizeof bn_cases[0]; i++) {
        const bn_case *c = &bn_cases[i];
        bn_data d = make_data(c, 900 + 20 * (uint64_t)i);
        float *y = host_floats((size_t)c->n * c->c * c->spatial);
        CONF_FOR_THREADS(t, ti) {
            char name[112];
            snprintf(name, sizeof name, "#%zu n%d c%d spatial %d%s m%g eps%g, %d thread%s", i,
                     c->n, c->c, c->spatial, c->relu ? " relu" : "", (double)c->momentum,
                     (double)c->eps, t->threads[ti], t->threads[ti] == 1 ? "" : "s");
            check_train(t, c, &d, name, y);
            check_eval(t, c, &d, name);
        }
        free(y);
        free_data(&d);
    }
}
