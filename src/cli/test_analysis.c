/* The confusion matrix and the misclassified test samples of a run. */
#define _POSIX_C_SOURCE 200809L
#include "cli/test_analysis.h"

#include <stdlib.h>
#include <string.h>

#include "cli/png_write.h"
#include "cli/run_files.h"
#include "core/error.h"
#include "core/strbuf.h"

#define ANALYSIS_BATCH 256
#define TILE_GAP 2

static const char *const fashion_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                              "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                              "Bag",         "Ankle boot"};

const char *test_class_name(const soma_model *model, const soma_dataset *ds, const char *data,
                            int k)
{
    const char *name = model ? soma_model_class_name(model, k) : NULL;
    if (!name && ds)
        name = soma_dataset_class_name(ds, k);
    if (!name && data && strstr(data, "fashion") && k >= 0 && k < 10)
        name = fashion_names[k];
    return name;
}

typedef struct mistake {
    int index, truth, predicted;
    float confidence;
} mistake;

/* most confident first; the lower index breaks ties (a stable, total order) */
static int by_confidence(const void *a, const void *b)
{
    const mistake *x = a, *y = b;
    if (x->confidence != y->confidence)
        return x->confidence > y->confidence ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

typedef struct analysis {
    int classes, n;
    long long *confusion; /* [truth][predicted] */
    mistake *mistakes;
    int nmistakes;
} analysis;

static soma_status classify_all(soma_model *model, const soma_dataset *test, analysis *a)
{
    int c, h, w;
    soma_model_input_shape(model, &c, &h, &w);
    size_t in = (size_t)c * h * w;
    float *input = malloc(sizeof(float) * in * ANALYSIS_BATCH);
    float *probs = malloc(sizeof(float) * (size_t)a->classes * ANALYSIS_BATCH);
    float *mean = malloc(sizeof(float) * (size_t)c), *std = malloc(sizeof(float) * (size_t)c);
    soma_status st = SOMA_OK;
    if (!input || !probs || !mean || !std)
        st = soma_error(SOMA_ERR_MEMORY, "out of memory");
    if (st == SOMA_OK)
        st = soma_model_normalization_channels(model, c, mean, std);
    for (int first = 0; st == SOMA_OK && first < a->n; first += ANALYSIS_BATCH) {
        int n = a->n - first < ANALYSIS_BATCH ? a->n - first : ANALYSIS_BATCH;
        st = soma_dataset_get_channels(test, first, n, c, mean, std, input);
        if (st == SOMA_OK)
            st = soma_model_predict(model, input, n, probs);
        for (int i = 0; st == SOMA_OK && i < n; i++) {
            const float *p = probs + (size_t)i * a->classes;
            int best = 0, truth;
            for (int k = 1; k < a->classes; k++)
                if (p[k] > p[best])
                    best = k;
            st = soma_dataset_label(test, first + i, &truth);
            if (st != SOMA_OK || truth < 0 || truth >= a->classes)
                break;
            a->confusion[(size_t)truth * a->classes + best]++;
            if (best != truth)
                a->mistakes[a->nmistakes++] = (mistake){first + i, truth, best, p[best]};
        }
    }
    free(input), free(probs), free(mean), free(std);
    return st;
}

static soma_status write_text(const char *dir, const char *name, strbuf *sb)
{
    char *path = cli_path_join(dir, name);
    soma_status st = !path || sb->failed ? soma_error(SOMA_ERR_MEMORY, "out of memory")
                                         : cli_write_file_atomic(path, sb->data, sb->len);
    free(path);
    strbuf_free(sb);
    return st;
}

/* A class label for a CSV cell: the name (commas and quotes made plain) or the number. */
static void append_label(strbuf *sb, const char *name, int k)
{
    if (!name) {
        strbuf_appendf(sb, "%d", k);
        return;
    }
    for (const char *p = name; *p; p++)
        strbuf_append_n(sb, *p == ',' || *p == '"' || *p == '\n' ? " " : p, 1);
}

static soma_status write_confusion(const analysis *a, soma_model *model, const soma_dataset *ds,
                                   const char *data, const char *dir)
{
    strbuf sb;
    strbuf_init(&sb);
    /* rows: true class; columns: predicted class; a first column and row of names */
    strbuf_append(&sb, "true\\predicted");
    for (int k = 0; k < a->classes; k++) {
        strbuf_append(&sb, ",");
        append_label(&sb, test_class_name(model, ds, data, k), k);
    }
    strbuf_append(&sb, "\n");
    for (int t = 0; t < a->classes; t++) {
        append_label(&sb, test_class_name(model, ds, data, t), t);
        for (int k = 0; k < a->classes; k++)
            strbuf_appendf(&sb, ",%lld", a->confusion[(size_t)t * a->classes + k]);
        strbuf_append(&sb, "\n");
    }
    return write_text(dir, "confusion.csv", &sb);
}

static soma_status write_mistakes(const analysis *a, const char *dir)
{
    strbuf sb;
    strbuf_init(&sb);
    strbuf_append(&sb, "index,true,predicted,confidence\n");
    for (int i = 0; i < a->nmistakes; i++) {
        const mistake *m = &a->mistakes[i];
        strbuf_appendf(&sb, "%d,%d,%d,%.4f\n", m->index, m->truth, m->predicted,
                       (double)m->confidence);
    }
    return write_text(dir, "misclassified.csv", &sb);
}

/* The first MISCLASSIFIED_GRID mistakes as tiles on white, gaps between. */
static soma_status write_grid(const analysis *a, const soma_dataset *ds, const char *dir)
{
    int c, h, w;
    soma_dataset_shape(ds, &c, &h, &w);
    int tiles = a->nmistakes < MISCLASSIFIED_GRID ? a->nmistakes : MISCLASSIFIED_GRID;
    int cols = tiles < MISCLASSIFIED_COLUMNS ? (tiles ? tiles : 1) : MISCLASSIFIED_COLUMNS;
    int rows = tiles ? (tiles + cols - 1) / cols : 1;
    int out_c = c == 3 ? 3 : 1;
    int gw = cols * (w + TILE_GAP) + TILE_GAP, gh = rows * (h + TILE_GAP) + TILE_GAP;
    uint8_t *grid = malloc((size_t)gw * gh * out_c);
    uint8_t *img = malloc((size_t)c * h * w);
    soma_status st = grid && img ? SOMA_OK : soma_error(SOMA_ERR_MEMORY, "out of memory");
    if (st == SOMA_OK)
        memset(grid, 255, (size_t)gw * gh * out_c);
    for (int t = 0; st == SOMA_OK && t < tiles; t++) {
        st = soma_dataset_image(ds, a->mistakes[t].index, img);
        int x0 = TILE_GAP + (t % cols) * (w + TILE_GAP);
        int y0 = TILE_GAP + (t / cols) * (h + TILE_GAP);
        for (int y = 0; st == SOMA_OK && y < h; y++)
            for (int x = 0; x < w; x++)
                for (int ch = 0; ch < out_c; ch++) /* CHW to interleaved */
                    grid[((size_t)(y0 + y) * gw + x0 + x) * out_c + ch] =
                        img[((size_t)ch * h + y) * w + x];
    }
    uint8_t *png = NULL;
    size_t len = 0;
    if (st == SOMA_OK)
        st = png_encode(grid, gw, gh, out_c, &png, &len);
    char *path = st == SOMA_OK ? cli_path_join(dir, "misclassified.png") : NULL;
    if (st == SOMA_OK)
        st = path ? cli_write_file_atomic(path, (const char *)png, len)
                  : soma_error(SOMA_ERR_MEMORY, "out of memory");
    free(path), free(png), free(grid), free(img);
    return st;
}

soma_status test_analysis_write(soma_model *model, const soma_dataset *test, const char *data,
                                const char *dir)
{
    analysis a = {0};
    a.classes = soma_model_classes(model);
    a.n = soma_dataset_count(test);
    a.confusion = calloc((size_t)a.classes * a.classes, sizeof *a.confusion);
    a.mistakes = malloc(sizeof *a.mistakes * (size_t)(a.n ? a.n : 1));
    soma_status st = a.confusion && a.mistakes ? SOMA_OK
                                               : soma_error(SOMA_ERR_MEMORY, "out of memory");
    if (st == SOMA_OK)
        st = classify_all(model, test, &a);
    if (st == SOMA_OK) {
        qsort(a.mistakes, (size_t)a.nmistakes, sizeof *a.mistakes, by_confidence);
        st = write_confusion(&a, model, test, data, dir);
    }
    if (st == SOMA_OK)
        st = write_mistakes(&a, dir);
    if (st == SOMA_OK)
        st = write_grid(&a, test, dir);
    free(a.confusion);
    free(a.mistakes);
    return st;
}
