/*
 * checkpoint_compare A B [--exact | --relative TOL]: compares the weights and
 * running statistics of two checkpoints. --exact: every float bit for bit;
 * --relative TOL: |A - B| / |B| (Euclidean norms over all of them) at most
 * TOL. Prints the figures; exit 0 when they agree, 1 when not, 2 on an error.
 * Used by the distributed training tests (tests/dist/).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/network.h"

static int load(const char *path, soma_model **m)
{
    if (soma_checkpoint_load_model(path, m) != SOMA_OK) {
        fprintf(stderr, "checkpoint_compare: %s\n", soma_last_error());
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: checkpoint_compare A B --exact | --relative TOL\n");
        return 2;
    }
    int exact = strcmp(argv[3], "--exact") == 0;
    double tol = !exact && argc == 5 ? strtod(argv[4], NULL) : 0.0;
    soma_model *a = NULL, *b = NULL;
    if (!load(argv[1], &a) || !load(argv[2], &b))
        return 2;
    if (a->nparams != b->nparams || a->nbuffers != b->nbuffers) {
        fprintf(stderr, "checkpoint_compare: the checkpoints hold different models\n");
        return 2;
    }
    size_t differ = 0;
    double diff2 = 0.0, norm2 = 0.0, worst = 0.0;
    const float *x[2] = {a->params, a->buffers}, *y[2] = {b->params, b->buffers};
    size_t n[2] = {a->nparams, a->nbuffers};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < n[k]; i++) {
            double d = (double)x[k][i] - y[k][i];
            differ += memcmp(&x[k][i], &y[k][i], sizeof(float)) != 0;
            diff2 += d * d;
            norm2 += (double)y[k][i] * y[k][i];
            if (fabs(d) > worst)
                worst = fabs(d);
        }
    double relative = norm2 > 0 ? sqrt(diff2 / norm2) : sqrt(diff2);
    printf("%zu of %zu floats differ; largest difference %.3g; relative %.3g\n", differ,
           n[0] + n[1], worst, relative);
    soma_model_free(a);
    soma_model_free(b);
    return exact ? differ != 0 : !(relative <= tol);
}
