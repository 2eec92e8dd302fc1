/* libFuzzer harness for augmentation specs (--augment, soma_train_config.augment):
 * no crash or leak; a spec that parses has a canonical text that parses to
 * the same text; applying it to a small image keeps every pixel in [0, 1];
 * a resized-crop's boxes stay inside images of a few shapes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/augment.h"
#include "data/resize.h"

static float scratch[4096];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = malloc(size + 1);
    if (!spec)
        return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';
    augment_pipeline p, again;
    if (augment_parse(spec, &p) == SOMA_OK) {
        char once[AUGMENT_TEXT_MAX], twice[AUGMENT_TEXT_MAX];
        augment_canonical(&p, once, sizeof once);
        if (augment_parse(once, &again) != SOMA_OK)
            abort();
        augment_canonical(&again, twice, sizeof twice);
        if (strcmp(once, twice) != 0)
            abort();
        float x[3 * 5 * 6];
        for (int i = 0; i < 90; i++)
            x[i] = (float)(i % 7) / 6.0f;
        if (augment_scratch_floats(3, 5, 6) > sizeof scratch / sizeof scratch[0])
            abort();
        augment_sample(&p, size, 1, 2, 3, 5, 6, x, scratch);
        if (p.n > 0 && p.steps[0].kind == AUG_RESIZED_CROP) {
            const float *a = p.steps[0].arg;
            resized_crop rc = {{a[0], a[1]}, {a[2], a[3]}};
            static const int shapes[][2] = {{1, 1}, {7, 3}, {3, 500}, {640, 480}};
            for (int s = 0; s < 4; s++) {
                rng r;
                rng_init(&r, size, RNG_AUGMENT_CROP, 0, (uint64_t)s);
                crop_box b = crop_box_random(shapes[s][0], shapes[s][1], &rc, &r);
                if (!(b.x >= 0 && b.y >= 0 && b.w >= 1 && b.h >= 1 &&
                      b.x + b.w <= shapes[s][0] && b.y + b.h <= shapes[s][1]))
                    abort();
            }
        }
        for (int i = 0; i < 90; i++)
            if (!(x[i] >= 0.0f && x[i] <= 1.0f))
                abort();
    }
    soma_error_clear();
    free(spec);
    return 0;
}
