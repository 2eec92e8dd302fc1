/* What the subcommands share: error lines, accuracy lines, the data-fits-model check. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "core/error.h"

int report_error(soma_status status)
{
    const char *message = soma_last_error();
    if (!message || !*message)
        message = soma_status_name(status);
    fprintf(stderr, "soma: error: %s\n", message);
    return status == SOMA_ERR_INTERRUPTED ? EXIT_INTERRUPTED : EXIT_ERROR;
}

void print_accuracy_line(const char *split, double accuracy, double loss, int images)
{
    printf("%s accuracy %.2f%%  (error %.2f%%, loss %.4f)  on %d images\n", split,
           100.0 * accuracy, 100.0 * (1.0 - accuracy), loss, images);
    fflush(stdout);
}

soma_image_fit eval_fit(const char *augment)
{
    return augment && strstr(augment, "resized-crop") ? SOMA_FIT_CENTER_CROP_875
                                                      : SOMA_FIT_CENTER_CROP;
}

soma_status find_data_for_model(const char *data, const char *split, const soma_model *model,
                                int skip_bad, const char *augment, soma_dataset **out)
{
    soma_data_options options = {.fit = eval_fit(augment), .skip_bad_images = skip_bad};
    soma_model_input_shape(model, &options.channels, &options.height, &options.width);
    SOMA_TRY(soma_dataset_find_ex(data, split, &options, out));
    int skipped = soma_dataset_skipped(*out);
    if (skipped > 0)
        fprintf(stderr, "soma: warning: skipped %d unreadable image%s in %s\n", skipped,
                skipped == 1 ? "" : "s", soma_dataset_source(*out));
    return SOMA_OK;
}

int has_val_folder(const char *data)
{
    char path[4096];
    struct stat st;
    int len = snprintf(path, sizeof path, "%s/val", data);
    if (len <= 0 || (size_t)len >= sizeof path || stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    snprintf(path, sizeof path, "%s/train", data);
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

soma_status check_model_fits_data(const soma_model *model, const char *model_name,
                                  const soma_dataset *ds, const char *data_name)
{
    int mc, mh, mw, dc, dh, dw;
    soma_model_input_shape(model, &mc, &mh, &mw);
    soma_dataset_shape(ds, &dc, &dh, &dw);
    if (mc != dc || mh != dh || mw != dw)
        return soma_error(SOMA_ERR_SHAPE,
                          "model %s takes %dx%dx%d inputs (CxHxW) but %s has %dx%dx%d images",
                          model_name, mc, mh, mw, data_name, dc, dh, dw);
    int model_classes = soma_model_classes(model);
    int data_classes = soma_dataset_classes(ds);
    if (data_classes > model_classes)
        return soma_error(SOMA_ERR_SHAPE,
                          "model %s has %d outputs but %s has labels up to %d (%d classes)",
                          model_name, model_classes, data_name, data_classes - 1, data_classes);
    return SOMA_OK;
}
