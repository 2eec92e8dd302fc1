#include "support/synthetic.h"

#include "core/rng.h"
#include "data/dataset.h"

soma_dataset *synthetic_patterns(int n, uint64_t seed, uint64_t stream)
{
    soma_dataset *ds;
    if (dataset_create(n, 1, 8, 8, 3, "synthetic", &ds) != SOMA_OK)
        return NULL;
    rng r;
    rng_init(&r, seed, RNG_TEST, stream, 0);
    for (int i = 0; i < n; i++) {
        int label = (int)rng_below(&r, 3);
        ds->labels[i] = label;
        for (int p = 0; p < 64; p++) {
            int bright = (label == 0 && p < 24) || (label == 1 && p % 8 < 3);
            ds->images[i * 64 + p] =
                (uint8_t)(bright ? 160 + rng_below(&r, 90) : rng_below(&r, 120));
        }
    }
    return ds;
}
