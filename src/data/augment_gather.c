/* Samples as augmented training sees them: the random-resized crop at
 * decoding (it needs the image at full resolution), the rest on the pixels. */
#include "core/error.h"
#include "data/augment.h"
#include "data/dataset.h"

soma_status augment_check_data(const augment_pipeline *p, const soma_dataset *ds)
{
    if (augment_has(p, AUG_RESIZED_CROP) && !dataset_can_crop(ds))
        return soma_error(SOMA_ERR_ARGUMENT,
                          "resized-crop needs an image folder: it cuts each image at full "
                          "resolution before it is fitted, and %s holds %dx%d samples only "
                          "(use crop or scale)",
                          ds->source, ds->w, ds->h);
    return SOMA_OK;
}

soma_status augment_gather(const augment_pipeline *p, const soma_dataset *ds, uint64_t seed,
                           int epoch, const int *indices, int n, float *out, int32_t *labels,
                           float *scratch)
{
    /* parse_step keeps a resized-crop first, and once */
    if (p->n > 0 && p->steps[0].kind == AUG_RESIZED_CROP) {
        SOMA_TRY(augment_check_data(p, ds));
        const float *a = p->steps[0].arg;
        dataset_crop crop = {{{a[0], a[1]}, {a[2], a[3]}}, p->steps[0].p, seed, epoch};
        SOMA_TRY(dataset_gather_raw_cropped(ds, indices, n, &crop, out, labels));
    } else {
        SOMA_TRY(dataset_gather_raw(ds, indices, n, out, labels));
    }
    size_t sample = dataset_sample_size(ds);
    for (int i = 0; i < n; i++)
        augment_sample(p, seed, epoch, indices[i], ds->c, ds->h, ds->w, out + sample * i,
                       scratch);
    return SOMA_OK;
}
