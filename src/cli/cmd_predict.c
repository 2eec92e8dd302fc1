/* `soma predict`: classify images (PGM, PNG) or whole IDX files with a checkpoint. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/choices.h"
#include "cli/commands.h"
#include "cli/image_read.h"
#include "cli/thread_check.h"
#include "core/error.h"

#define PREDICT_BATCH 256
#define MAX_FILES 4096
#define MAX_TOP 1000

static const char predict_help[] =
    "usage: soma predict CHECKPOINT FILE... [options]\n"
    "\n"
    "Classifies images with a checkpoint written by soma train. FILE is\n"
    "  - a PNG, JPEG or binary PGM (P5, 8-bit) image of the model's input size\n"
    "    (or any size with --fit), printed as 'FILE: class 7 (p=0.998)', or\n"
    "    'FILE: class 7 cat (p=0.998)' when the model knows its class names\n"
    "    (trained on an image folder);\n"
    "  - an IDX image file (e.g. t10k-images-idx3-ubyte.gz): one line per image,\n"
    "    'INDEX CLASS PROBABILITY'; when the matching labels file (images-idx3 ->\n"
    "    labels-idx1) lies next to it, the accuracy follows.\n"
    "Colour images are turned into gray for one-channel models (and gray into\n"
    "RGB for three-channel ones); pixels are normalised as in training. MNIST-style\n"
    "models expect a light digit on a dark background. A file that cannot be read\n"
    "or does not fit is one line on stderr, and the others are still classified\n"
    "(exit status 1 at the end).\n"
    "\n"
    "  --top K       print the K most likely classes, at most the model's (default 1)\n"
    "  --logits      print every class score before the softmax instead, %.9g, one\n"
    "                line per image ('FILE: s0 s1 ...' or 'INDEX s0 s1 ...'): to\n"
    "                compare with another framework's copy of the model\n"
    "  --fit HOW     images of another size: exact (refused, the default), center-crop\n"
    "                (the largest centred region of the input's shape, resized: what\n"
    "                training on an image folder does) or resize (the whole image)\n"
    "  --threads N   threads, 0 = all cores (default 0)\n"
    "  --device NAME where to run: cpu (soma --version lists this build's)\n"
    "  -h, --help    show this help\n"
    "\n"
    "examples:\n"
    "  soma predict runs/lenet5-20250101-120000/best.safetensors digit.pgm\n"
    "  soma predict best.safetensors data/mnist/t10k-images-idx3-ubyte.gz --top 3\n";

typedef struct predictor {
    soma_model *model;
    int c, h, w, classes, top;
    int logits;           /* --logits: raw class scores, not the top classes */
    float *mean, *std;    /* per input channel */
    float *input, *probs; /* PREDICT_BATCH samples */
    int *order;           /* top classes of one sample */
    const char *device;   /* --device, or NULL */
    soma_image_fit fit;   /* --fit */
} predictor;

/* Class k's name, or NULL when it has none or the name is just its number. */
static const char *class_name(const predictor *p, int k)
{
    const char *name = soma_model_class_name(p->model, k);
    char number[16];
    snprintf(number, sizeof number, "%d", k);
    return name && *name && strcmp(name, number) != 0 ? name : NULL;
}

/* The `top` most probable classes of one row, best first. */
static void top_classes(const predictor *p, const float *probs, int *order)
{
    for (int k = 0; k < p->top; k++) {
        int best = -1;
        for (int j = 0; j < p->classes; j++) {
            int taken = 0;
            for (int q = 0; q < k && !taken; q++)
                taken = order[q] == j;
            if (!taken && (best < 0 || probs[j] > probs[best]))
                best = j;
        }
        order[k] = best;
    }
}

/* " s0 s1 ..." and the end of the line: floats written to be read back exactly. */
static void print_scores(const predictor *p, const float *row)
{
    for (int k = 0; k < p->classes; k++)
        printf(" %.9g", (double)row[k]);
    putchar('\n');
}

static soma_status predict_image(predictor *p, const char *path)
{
    soma_status st =
        image_to_input(path, p->c, p->h, p->w, p->fit, p->mean, p->std, p->input);
    if (st == SOMA_OK)
        st = p->logits ? soma_model_logits(p->model, p->input, 1, p->probs)
                       : soma_model_predict(p->model, p->input, 1, p->probs);
    if (st != SOMA_OK)
        return st;
    if (p->logits) {
        printf("%s:", path);
        print_scores(p, p->probs);
        return SOMA_OK;
    }
    top_classes(p, p->probs, p->order);
    printf("%s:", path);
    for (int k = 0; k < p->top; k++) {
        const char *name = class_name(p, p->order[k]);
        printf("%s class %d%s%s (p=%.3f)", k ? "," : "", p->order[k], name ? " " : "",
               name ? name : "", (double)p->probs[p->order[k]]);
    }
    putchar('\n');
    return SOMA_OK;
}

/* "x/t10k-images-idx3-ubyte.gz" -> "x/t10k-labels-idx1-ubyte.gz" if that exists. */
static char *labels_beside(const char *images_path)
{
    const char *at = strstr(images_path, "images-idx3");
    if (!at)
        return NULL;
    char *labels = strdup(images_path);
    if (!labels)
        return NULL;
    memcpy(labels + (at - images_path), "labels-idx1", 11);
    if (access(labels, R_OK) != 0) {
        free(labels);
        return NULL;
    }
    return labels;
}

static soma_status predict_idx(predictor *p, const char *checkpoint, const char *path)
{
    /* the shape from the header first: a file of other images is refused unread */
    int c, h, w;
    if (idx_image_shape(path, &c, &h, &w) && (c != p->c || h != p->h || w != p->w))
        return soma_error(SOMA_ERR_SHAPE, "%s: images are %dx%dx%d, the model expects %dx%dx%d",
                          path, c, h, w, p->c, p->h, p->w);
    char *labels_path = labels_beside(path);
    soma_dataset *ds = NULL;
    soma_status st = soma_dataset_load_idx(path, labels_path, &ds);
    /* the shapes, and labels the model has outputs for, as soma eval checks them */
    if (st == SOMA_OK)
        st = check_model_fits_data(p->model, checkpoint, ds, path);
    int count = st == SOMA_OK ? soma_dataset_count(ds) : 0;
    long long correct = 0;
    for (int first = 0; st == SOMA_OK && first < count; first += PREDICT_BATCH) {
        int n = count - first < PREDICT_BATCH ? count - first : PREDICT_BATCH;
        st = soma_dataset_get_channels(ds, first, n, p->c, p->mean, p->std, p->input);
        if (st == SOMA_OK)
            st = p->logits ? soma_model_logits(p->model, p->input, n, p->probs)
                           : soma_model_predict(p->model, p->input, n, p->probs);
        for (int i = 0; i < n && st == SOMA_OK && p->logits; i++) {
            printf("%d", first + i);
            print_scores(p, p->probs + (size_t)i * p->classes);
        }
        for (int i = 0; i < n && st == SOMA_OK && !p->logits; i++) {
            const float *row = p->probs + (size_t)i * p->classes;
            top_classes(p, row, p->order);
            printf("%d", first + i);
            for (int k = 0; k < p->top; k++) {
                const char *name = class_name(p, p->order[k]);
                printf(" %d%s%s %.4f", p->order[k], name ? " " : "", name ? name : "",
                       (double)row[p->order[k]]);
            }
            putchar('\n');
            int label = -1;
            if (labels_path)
                st = soma_dataset_label(ds, first + i, &label);
            correct += label == p->order[0];
        }
    }
    if (st == SOMA_OK && labels_path && count > 0 && !p->logits)
        printf("accuracy %.2f%%  (%lld of %d correct, labels from %s)\n",
               100.0 * (double)correct / count, correct, count, labels_path);
    free(labels_path);
    soma_dataset_free(ds);
    return st;
}

/* Loads the checkpoint and what a batch needs; an exit status on failure, else -1. */
static int predictor_open(predictor *p, const char *checkpoint)
{
    soma_status st = soma_checkpoint_load_model(checkpoint, &p->model);
    if (st == SOMA_OK && p->device)
        st = soma_model_set_device(p->model, p->device);
    if (st != SOMA_OK)
        return report_error(st);
    soma_model_input_shape(p->model, &p->c, &p->h, &p->w);
    p->mean = malloc(sizeof(float) * (size_t)p->c);
    p->std = malloc(sizeof(float) * (size_t)p->c);
    if (!p->mean || !p->std)
        return report_error(soma_error(SOMA_ERR_MEMORY, "out of memory"));
    st = soma_model_normalization_channels(p->model, p->c, p->mean, p->std);
    if (st != SOMA_OK)
        return report_error(st);
    p->classes = soma_model_classes(p->model);
    if (p->top > p->classes) /* never clamped silently */
        return usage_error("predict", "--top %d is more than the %d classes of %s", p->top,
                           p->classes, checkpoint);
    size_t sample = (size_t)p->c * p->h * p->w;
    p->input = malloc(sizeof(float) * sample * PREDICT_BATCH);
    p->probs = malloc(sizeof(float) * (size_t)p->classes * PREDICT_BATCH);
    p->order = malloc(sizeof(int) * (size_t)p->classes);
    if (!p->input || !p->probs || !p->order)
        return report_error(soma_error(SOMA_ERR_MEMORY, "out of memory"));
    return -1;
}

/* Each file on its own: a bad one is one line on stderr, and the others go on. */
static int predict_all(predictor *p, const char *checkpoint, const char **files, int nfiles)
{
    int rc = predictor_open(p, checkpoint);
    if (rc >= 0)
        return rc;
    int failed = 0;
    for (int i = 0; i < nfiles; i++) {
        soma_status st = looks_like_idx(files[i]) ? predict_idx(p, checkpoint, files[i])
                                                  : predict_image(p, files[i]);
        fflush(stdout);
        if (st != SOMA_OK) {
            report_error(st);
            failed++;
        }
    }
    return failed ? EXIT_ERROR : EXIT_OK;
}

int cmd_predict(int argc, char **argv, const command_line *full)
{
    (void)full;
    int top = 1, threads = 0, logits = 0;
    const char *device = NULL, *fit = "exact";
    cli_option options[] = {
        {"fit", OPT_STRING, &fit, 0, 0, 0, 0, "exact, center-crop or resize", 0},
        {"logits", OPT_FLAG, &logits, 0, 0, 0, 0, NULL, 0},
        {"top", OPT_INT, &top, 1, MAX_TOP, 0, 0, "a whole number from 1 to 1000", 0},
        {"threads", OPT_INT, &threads, 0, 1024, 0, 0, "a whole number from 0 to 1024", 0},
        {"device", OPT_STRING, &device, 0, 0, 0, 0, "a device name", 0},
    };
    static const char *positional[MAX_FILES + 1];
    int npositional;
    parse_result r = args_parse("predict", argc, argv, options, ARGS_COUNT(options), positional,
                                MAX_FILES + 1, &npositional);
    int outcome = args_outcome(r, predict_help);
    if (outcome >= 0)
        return outcome;
    if (npositional < 2) {
        fprintf(stderr,
                "usage: soma predict CHECKPOINT FILE... [--top K]  (see soma predict --help)\n");
        return EXIT_USAGE;
    }
    if (checkpoint_argument_check("predict", positional[0]) >= 0 ||
        (device && !(device = device_choice("predict", device))))
        return EXIT_USAGE;
    if (threads_check(threads) >= 0)
        return EXIT_ERROR;
    soma_image_fit how = SOMA_FIT_EXACT;
    if (strcmp(fit, "center-crop") == 0)
        how = SOMA_FIT_CENTER_CROP;
    else if (strcmp(fit, "resize") == 0)
        how = SOMA_FIT_RESIZE;
    else if (strcmp(fit, "exact") != 0)
        return usage_error("predict", "--fit '%s': expected exact, center-crop or resize", fit);
    soma_set_threads(threads);
    predictor p;
    memset(&p, 0, sizeof p);
    p.fit = how;
    p.top = top;
    p.logits = logits;
    p.device = device;
    int rc = predict_all(&p, positional[0], positional + 1, npositional - 1);
    free(p.input);
    free(p.probs);
    free(p.order);
    free(p.mean);
    free(p.std);
    soma_model_free(p.model);
    return rc;
}
