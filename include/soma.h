/*
 * soma.h - the one public header of libsoma.
 *
 * libsoma trains convolutional networks from scratch on the CPU. A model is a
 * sequence of layers described by a small text file (see docs/model-format.md);
 * a dataset is a set of images with integer labels; training runs mini-batch
 * gradient descent with the optimizers of common practice and writes
 * checkpoints in the safetensors layout.
 *
 * Conventions:
 *  - Every function that can fail returns a soma_status. On failure,
 *    soma_last_error() gives one line that names the file, field or value
 *    at fault. The library never prints, never exits.
 *  - Objects are opaque handles, created by soma_X_create/load and released
 *    by soma_X_free (which accepts NULL).
 *  - Tensors are float32, NCHW.
 *  - Threads (docs/api.md#threads): objects that are not shared may be used
 *    from several threads at once (two models trained from two threads);
 *    one model, optimizer or dataset being written is used by one thread at
 *    a time. soma changes no environment variable and no OpenMP setting of
 *    the caller; it makes OpenBLAS single-threaded per call, once.
 */
#ifndef SOMA_H
#define SOMA_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SOMA_VERSION "0.1.0"

/* What libsoma exports: the functions below and nothing else (the library
 * is built with hidden visibility). */
#if defined(__GNUC__) || defined(__clang__)
#define SOMA_API __attribute__((visibility("default")))
#else
#define SOMA_API
#endif

/* ---------------------------------------------------------------- errors */

typedef enum soma_status {
    SOMA_OK = 0,
    SOMA_ERR_ARGUMENT,    /* a value passed in is out of range or malformed */
    SOMA_ERR_IO,          /* a file could not be opened, read or written */
    SOMA_ERR_FORMAT,      /* a file's content is malformed or inconsistent */
    SOMA_ERR_SHAPE,       /* shapes do not fit together */
    SOMA_ERR_MEMORY,      /* an allocation failed or a size is beyond limits */
    SOMA_ERR_DIVERGED,    /* training produced NaN or Inf */
    SOMA_ERR_INTERRUPTED, /* training was stopped by a signal (checkpoint saved) */
    SOMA_ERR_UNSUPPORTED  /* the build or device lacks what was asked for */
} soma_status;

/** The message of the last error raised on this thread ("" if none). */
SOMA_API const char *soma_last_error(void);
/** A short constant name for a status ("ok", "io error", ...). */
SOMA_API const char *soma_status_name(soma_status status);

/** How this build computes, e.g. "cpu: OpenBLAS SkylakeX kernels, OpenMP, 2 threads". */
SOMA_API const char *soma_build_info(void);

/* ------------------------------------------------------------ threading */

/** The thread count of work that names none (soma_train_config.threads = 0); 0 = all cores.
 *  Process-wide; a run keeps the count it started with. */
SOMA_API void soma_set_threads(int threads);
/** The thread count soma uses now on this thread: a run's own inside it (its progress
 *  callback), else the default. */
SOMA_API int soma_threads(void);
/** Process-wide, opt-in (the CLI calls it at start-up, before other threads use BLAS): when
 *  OpenBLAS fell back to its generic kernels on a CPU it does not know, picks the newest family
 *  the CPU supports (sets OPENBLAS_CORETYPE for a moment). Once; later calls do nothing. */
SOMA_API void soma_select_blas_kernels(void);

/* ---------------------------------------------------------------- model */

typedef struct soma_model soma_model;

/** The most layers a model may have (model file or builder). */
#define SOMA_MAX_LAYERS 1024

typedef enum soma_init {
    SOMA_INIT_HE = 0,  /* Kaiming normal, std = sqrt(2 / fan_in) (default) */
    SOMA_INIT_XAVIER,  /* Glorot uniform, a = sqrt(6 / (fan_in + fan_out)) */
    SOMA_INIT_LECUN    /* normal, std = sqrt(1 / fan_in) */
} soma_init;

/*
 * A model opened, parsed, built (soma_model_builder_finish) or loaded has
 * weights: a checkpoint's, or else He-initialised from seed 1, as
 * soma_model_init(model, SOMA_INIT_HE, 1) gives them. Their memory comes at
 * their first use (predict, train, save...), so that opening a large model
 * to print its summary allocates none of it.
 */

/** Parses a model file (see docs/model-format.md). Errors read "file:line:col: message". */
SOMA_API soma_status soma_model_load_file(const char *path, soma_model **out);
/** Parses model text; `name` is used in error messages in place of a file name. */
SOMA_API soma_status soma_model_parse(const char *text, const char *name, soma_model **out);
/** Builds a model from the zoo (soma_zoo_names(): "lenet5", "lenet5-bn", "mlp",
 *  "vgg-small", "vgg-small-32", "alexnet", "alexnet-1tower", "alexnet-convs",
 *  "bench-bn-cnn") or, failing that, a file path. */
SOMA_API soma_status soma_model_open(const char *name_or_path, soma_model **out);
/** The names of the zoo models, NULL-terminated. */
SOMA_API const char *const *soma_zoo_names(void);
/** Releases a model and everything it owns. */
SOMA_API void soma_model_free(soma_model *model);

/** Re-initialises all parameters: weights by `init`, biases 0, BatchNorm gamma 1 / beta 0. */
SOMA_API soma_status soma_model_init(soma_model *model, soma_init init, uint64_t seed);
/** The number of trainable parameters. */
SOMA_API size_t soma_model_param_count(const soma_model *model);
/** Input shape per sample (channels, height, width). */
SOMA_API void soma_model_input_shape(const soma_model *model, int *c, int *h, int *w);
/** Number of classes (the size of the last layer's output). */
SOMA_API int soma_model_classes(const soma_model *model);
/** The name of class k (kept from an image folder's training set through training and
 *  checkpoints), or NULL when it has none. */
SOMA_API const char *soma_model_class_name(const soma_model *model, int k);
/** The model's text definition as parsed (owned by the model). */
SOMA_API const char *soma_model_text(const soma_model *model);
/** A Keras-like table of layers, output shapes, parameters and FLOPs; free() the result. */
SOMA_API char *soma_model_summary(const soma_model *model);
/**
 * Floating-point operations per sample of the convolution and linear layers:
 * 2 x multiply-adds, 2*K*(C/groups)*kh*kw*OH*OW per convolution and 2*in*out
 * per linear layer, the cheap element-wise layers left out (as bench/cfg.py
 * and published FLOP counts do). training = 1: forward and backward, three
 * times the forward except twice for the first such layer (no input gradient).
 */
SOMA_API double soma_model_flops(const soma_model *model, int training);
/**
 * Runs the model in evaluation mode (dropout off, BatchNorm's running
 * statistics; soma_evaluate too; soma_train alone runs training mode) on `n`
 * samples (NCHW floats, already normalised) and writes class probabilities
 * (n x classes) to `probs`.
 */
SOMA_API soma_status soma_model_predict(soma_model *model, const float *input, int n, float *probs);
/** soma_model_predict's class scores before the softmax (n x classes logits): what another
 *  framework's copy of the model computes, for comparing the two. */
SOMA_API soma_status soma_model_logits(soma_model *model, const float *input, int n,
                                       float *logits);

/*
 * Devices: where a model's memory lives and its operations run. "cpu" is
 * always there; a build with a device toolkit adds its own (e.g. "cuda").
 * A model starts on the first of soma_devices().
 */

/** The devices this build has, NULL-terminated, the default first. */
SOMA_API const char *const *soma_devices(void);
/** Moves the model to a device: its weights go along, the memory for a batch
 *  is planned again at the next use. An unknown name is SOMA_ERR_ARGUMENT,
 *  naming the devices the build has; on any failure the model stays where it was. */
SOMA_API soma_status soma_model_set_device(soma_model *model, const char *device);
/** The name of the device the model is on. */
SOMA_API const char *soma_model_device(const soma_model *model);

/* -------------------------------------------------------- model builder */

/*
 * A model built in code, one call per layer, as the model file would list
 * them (docs/model-format.md#models-built-in-code): the keys, ranges and
 * defaults are the file's. Each call checks its layer against the ones
 * before and returns an error naming it ("name: layer 3: conv2d: 'filters'
 * must be between 1 and 65536, got 0"); the first error sticks, and later
 * calls and finish return it again.
 */
typedef struct soma_model_builder soma_model_builder;

/** Starts a model of inputs channels x height x width; `name` (NULL: "model") names it in
 *  summaries, messages and checkpoints. Free the builder with soma_model_builder_free. */
SOMA_API soma_status soma_model_builder_create(const char *name, int channels, int height,
                                               int width, soma_model_builder **out);
/** Adds Conv2d(C, filters, size, stride, pad): square filters, zero padding, a bias. */
SOMA_API soma_status soma_model_builder_conv2d(soma_model_builder *b, int filters, int size,
                                               int stride, int pad);
/** Adds Conv2d(C, filters, size, stride, pad, groups=groups): inputs and filters in `groups`
 *  blocks, block g of the filters seeing block g of the inputs (AlexNet's two towers). */
SOMA_API soma_status soma_model_builder_conv2d_grouped(soma_model_builder *b, int filters,
                                                       int size, int stride, int pad, int groups);
/** Adds MaxPool2d(size, stride, pad). */
SOMA_API soma_status soma_model_builder_maxpool(soma_model_builder *b, int size, int stride,
                                                int pad);
/** Adds AvgPool2d(size, stride, pad) (padding not counted in the mean). */
SOMA_API soma_status soma_model_builder_avgpool(soma_model_builder *b, int size, int stride,
                                                int pad);
/** Adds BatchNorm with eps 1e-5 and momentum 0.1 (PyTorch's defaults). */
SOMA_API soma_status soma_model_builder_batchnorm(soma_model_builder *b);
/** Adds BatchNorm with the given eps and momentum (PyTorch's meaning of both). */
SOMA_API soma_status soma_model_builder_batchnorm_ex(soma_model_builder *b, float eps,
                                                     float momentum);
/** Adds local response normalisation across `size` channels with the AlexNet paper's formula
 *  (the paper's layer: 5, 1e-4, 0.75, 2); PyTorch's LocalResponseNorm divides alpha by size. */
SOMA_API soma_status soma_model_builder_lrn(soma_model_builder *b, int size, float alpha,
                                            float beta, float k);
/** Adds a ReLU. */
SOMA_API soma_status soma_model_builder_relu(soma_model_builder *b);
/** Adds a tanh. */
SOMA_API soma_status soma_model_builder_tanh(soma_model_builder *b);
/** Adds a sigmoid. */
SOMA_API soma_status soma_model_builder_sigmoid(soma_model_builder *b);
/** Adds Dropout(p), p the probability of dropping a unit. */
SOMA_API soma_status soma_model_builder_dropout(soma_model_builder *b, float p);
/** Adds a flatten (C x H x W to C*H*W x 1 x 1). */
SOMA_API soma_status soma_model_builder_flatten(soma_model_builder *b);
/** Adds Linear(N, units) on a flat input. */
SOMA_API soma_status soma_model_builder_linear(soma_model_builder *b, int units);
/** The model text of the layers so far (owned by the builder, valid until its next call). */
SOMA_API const char *soma_model_builder_text(const soma_model_builder *b);
/** Builds the model (initialised as an opened one); the builder stays the caller's to free. */
SOMA_API soma_status soma_model_builder_finish(soma_model_builder *b, soma_model **out);
/** Releases a builder (accepts NULL). */
SOMA_API void soma_model_builder_free(soma_model_builder *b);

/* -------------------------------------------------------------- dataset */

typedef struct soma_dataset soma_dataset;

/**
 * Loads an IDX image file (idx3 or idx4, uint8) and its IDX label file (idx1);
 * gzip or raw. `labels_path` may be NULL (images to predict): the labels are
 * then all 0 and the dataset has 0 classes.
 */
SOMA_API soma_status soma_dataset_load_idx(const char *images_path, const char *labels_path,
                                  soma_dataset **out);
/**
 * Finds and loads a named dataset ("mnist", "fashion-mnist", "cifar-10",
 * "cifar-100") or a directory holding IDX files or CIFAR-10/100 binary files
 * (docs/data.md). `split` is "train" or "test". Searched, in order:
 * $SOMA_DATA/NAME, ./data/NAME, ../shared/data/NAME, /usr/share/datasets/NAME,
 * then ../data/NAME and ../../data/NAME relative to the executable's directory.
 * For "train", the full train-* files are preferred over the train10k-* subset.
 */
SOMA_API soma_status soma_dataset_find(const char *name_or_dir, const char *split, soma_dataset **out);
/** How an image of another size is made to fit a sample's height x width. */
typedef enum soma_image_fit {
    SOMA_FIT_EXACT = 0,  /* other sizes are refused (SOMA_ERR_SHAPE) */
    SOMA_FIT_CENTER_CROP, /* the largest centred region of the sample's aspect ratio, resized */
    SOMA_FIT_RESIZE,     /* the whole image resized (the aspect ratio not kept) */
    SOMA_FIT_CENTER_CROP_875 /* the centre 87.5% (224/256) of CENTER_CROP's region: the
                                shorter side resized to size x 256/224, then the centre
                                size x size (torchvision's ImageNet evaluation) */
} soma_image_fit;

/** What soma_dataset_find_ex needs for image folders (other datasets ignore it). */
typedef struct soma_data_options {
    int channels, height, width; /* the sample shape, e.g. a model's soma_model_input_shape:
                                    images are decoded, made gray (1) or RGB (3) and fitted */
    soma_image_fit fit;          /* SOMA_FIT_EXACT (0) is taken as SOMA_FIT_CENTER_CROP here */
    int skip_bad_images;         /* 1: images that do not decode are checked for when the
                                    folder is opened and left out (soma_dataset_skipped counts
                                    them); 0: such an image is an error naming it when read */
} soma_data_options;

/**
 * soma_dataset_find, and also image folders: DIR/SPLIT/CLASS/ *.png|jpg|jpeg|pgm
 * (classes are the folder names, sorted; a test or val split takes its class
 * list from DIR/train). Images are decoded a batch at a time, never held
 * all in memory. `options` may be NULL for datasets that are not folders.
 */
SOMA_API soma_status soma_dataset_find_ex(const char *name_or_dir, const char *split,
                                          const soma_data_options *options, soma_dataset **out);
/** Reads an image file (PNG, JPEG, binary PGM) as one sample of channels (1 or 3) x height x
 *  width bytes, CHW, fitted as `fit` says. Errors name the file. */
SOMA_API soma_status soma_image_read(const char *path, int channels, int height, int width,
                                     soma_image_fit fit, uint8_t *out);
/** Releases a dataset. */
SOMA_API void soma_dataset_free(soma_dataset *ds);
/** Number of samples. */
SOMA_API int soma_dataset_count(const soma_dataset *ds);
/** Shape of one sample. */
SOMA_API void soma_dataset_shape(const soma_dataset *ds, int *c, int *h, int *w);
/** Number of classes (max label + 1). */
SOMA_API int soma_dataset_classes(const soma_dataset *ds);
/** The label of sample i in *label; SOMA_ERR_ARGUMENT when i is out of range. */
SOMA_API soma_status soma_dataset_label(const soma_dataset *ds, int i, int *label);
/** Where the images were read from. */
SOMA_API const char *soma_dataset_source(const soma_dataset *ds);
/** The name of class `label` (an image folder's folder name), or NULL when it has none. */
SOMA_API const char *soma_dataset_class_name(const soma_dataset *ds, int label);
/** How many unreadable images were left out when the dataset was opened (skip_bad_images). */
SOMA_API int soma_dataset_skipped(const soma_dataset *ds);
/** Sample i as c x h x w bytes, CHW (decoded when streamed); SOMA_ERR_ARGUMENT out of range. */
SOMA_API soma_status soma_dataset_image(const soma_dataset *ds, int i, uint8_t *out);
/**
 * Splits off a validation set: a seeded random `fraction` of `ds` goes to
 * `*val`, the rest to `*train`. Both are new datasets; `ds` is unchanged.
 */
SOMA_API soma_status soma_dataset_split(const soma_dataset *ds, double fraction, uint64_t seed,
                               soma_dataset **train, soma_dataset **val);
/**
 * Writes samples [first, first+n) as normalised floats (x/255 - mean) / std,
 * NCHW, into `out`. A range out of bounds or a std that is not positive is
 * SOMA_ERR_ARGUMENT, and nothing is written.
 */
SOMA_API soma_status soma_dataset_get(const soma_dataset *ds, int first, int n, float mean,
                                      float std, float *out);
/**
 * soma_dataset_get with a (mean, std) per channel: channel c of each sample is
 * (x/255 - mean[c]) / std[c]; `channels` must be the dataset's channel count.
 */
SOMA_API soma_status soma_dataset_get_channels(const soma_dataset *ds, int first, int n,
                                               int channels, const float *mean, const float *std,
                                               float *out);

/* --------------------------------------------------------- augmentation */

/**
 * Checks an augmentation spec (docs/augment.md) and, when `canonical` is not
 * NULL, writes the canonical spec there (free() it): every transform with
 * all its values and its probability, or "none". An error's message names
 * the column: "1:9: unknown transform 'rotat' (did you mean 'rotate'?)".
 */
SOMA_API soma_status soma_augment_parse(const char *spec, char **canonical);
/**
 * Whether `spec` applies to `ds`: SOMA_ERR_ARGUMENT, with the reason, when it
 * does not parse or names resized-crop for data that is not an image folder
 * (the crop cuts images at full resolution, before they are fitted).
 */
SOMA_API soma_status soma_augment_check(const char *spec, const soma_dataset *ds);
/**
 * Samples [first, first+n) as training with `spec` and `seed` sees them in
 * `epoch` (0-based): pixels x/255 in [0, 1] after the transforms, NCHW in
 * `out`, before normalisation.
 */
SOMA_API soma_status soma_augment_get(const soma_dataset *ds, const char *spec, uint64_t seed,
                                      int epoch, int first, int n, float *out);

/* ------------------------------------------------------------- training */

typedef enum soma_optimizer_kind {
    SOMA_OPT_SGD = 0,
    SOMA_OPT_MOMENTUM,
    SOMA_OPT_NESTEROV,
    SOMA_OPT_ADAGRAD,
    SOMA_OPT_RMSPROP,
    SOMA_OPT_ADAM,
    SOMA_OPT_ADAMW
} soma_optimizer_kind;

typedef enum soma_schedule {
    SOMA_SCHEDULE_CONST = 0,
    SOMA_SCHEDULE_STEP,   /* lr * gamma^(epoch / step_epochs) */
    SOMA_SCHEDULE_COSINE  /* per step, from lr down to 0 over all epochs */
} soma_schedule;

/** Parses "const", "step", "cosine". */
SOMA_API soma_status soma_schedule_parse(const char *name, soma_schedule *out);
/** The name of a schedule. */
SOMA_API const char *soma_schedule_name(soma_schedule schedule);

/** Optimizer settings; soma_optimizer_defaults() fills the published defaults. */
typedef struct soma_optimizer_config {
    soma_optimizer_kind kind;
    float lr;           /* learning rate */
    float momentum;     /* momentum / Nesterov coefficient */
    float alpha;        /* RMSProp decay of the squared-gradient average */
    float beta1, beta2; /* Adam moment decays */
    float eps;          /* added to the denominator of adaptive methods */
    float weight_decay; /* L2 added to the gradient; decoupled for AdamW */
} soma_optimizer_config;

/** The documented defaults for an optimizer kind (see docs/optimizers.md). */
SOMA_API soma_optimizer_config soma_optimizer_defaults(soma_optimizer_kind kind);
/** Parses "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw". */
SOMA_API soma_status soma_optimizer_parse(const char *name, soma_optimizer_kind *out);
/** The name of an optimizer kind. */
SOMA_API const char *soma_optimizer_name(soma_optimizer_kind kind);

/**
 * An optimizer over a flat array of `n` floats of the caller's (a toy
 * function's coordinates, say): the update soma_train runs, on the CPU.
 * soma_optimizer_step applies one step at config->lr: params -= update(grads),
 * keeping the state (momentum, squared-gradient averages, Adam's step count)
 * between calls. The configuration is checked as soma_train checks it.
 */
typedef struct soma_optimizer soma_optimizer;
SOMA_API soma_status soma_optimizer_create(const soma_optimizer_config *config, size_t n,
                                           soma_optimizer **out);
SOMA_API soma_status soma_optimizer_step(soma_optimizer *opt, float *params, const float *grads);
/** Releases an optimizer (NULL is fine). */
SOMA_API void soma_optimizer_free(soma_optimizer *opt);

/*
 * Looking inside training (soma experiment): the weights as one flat array,
 * one training-mode pass's loss and gradient without a step, and per-layer
 * statistics of such a pass. The parameters are laid out as the checkpoint
 * lists them (layer by layer, weight then bias, ...), soma_model_param_count
 * floats. A pass runs in training mode (batch statistics for BatchNorm,
 * dropout masks keyed by `seed` and `step`) and leaves the weights and the
 * running statistics as they were.
 */
SOMA_API soma_status soma_model_get_params(soma_model *model, float *out);
SOMA_API soma_status soma_model_set_params(soma_model *model, const float *params);
/** The mean loss over n samples (NCHW, normalised; labels in 0..classes-1) and, when
 *  `grad` is not NULL, its gradient with respect to every parameter. */
SOMA_API soma_status soma_model_loss_grad(soma_model *model, const float *input,
                                          const int32_t *labels, int n, uint64_t seed,
                                          long long step, double *loss, float *grad);

#define SOMA_PROBE_BINS 41
/** One layer's output in a training-mode pass, and the loss gradient with respect to it. */
typedef struct soma_layer_probe {
    int layer;           /* its index (tensor names "index.weight", soma_model_summary) */
    const char *kind;    /* "linear", "conv2d", "tanh", "relu", ... */
    /* the layer applies the ReLU after it: its output is after the ReLU (0 when
     * a max-pool after that ReLU applies it: the output is before the ReLU) */
    int relu;
    double act_mean, act_std;   /* of the output over the batch */
    double grad_mean, grad_std; /* of d loss / d output (the mean loss over the batch) */
    double weight_std, weight_grad_std; /* of its weight and weight gradient; NaN without */
    double hist_lo, hist_hi;    /* the histogram's range: the output's min and max */
    int hist[SOMA_PROBE_BINS];  /* output values counted in equal bins over that range */
} soma_layer_probe;
/** soma_model_loss_grad's pass with statistics of every layer (except a ReLU that the
 *  layer before applies, whose output that layer's entry describes), first layer first:
 *  at most `max` into probes, *count of them. */
SOMA_API soma_status soma_model_probe(soma_model *model, const float *input,
                                      const int32_t *labels, int n, soma_layer_probe *probes,
                                      int max, int *count, double *loss);

/** The largest batch soma_train, soma_evaluate, soma_benchmark and the memory estimate take. */
#define SOMA_MAX_BATCH 65536

/*
 * Data-parallel training over processes (docs/distributed.md): the processes
 * a launcher (mpirun) started train one model together, each on its shard of
 * every global batch, their gradients summed after each step. A build
 * without MPI has the single process only.
 */
typedef struct soma_comm soma_comm;

/** The processes this one was started among: with `mpirun -np N`, N of them (MPI starts
 *  here unless the program started it); without a launcher, this process alone. A build
 *  without MPI started as one of several is SOMA_ERR_UNSUPPORTED. Free with soma_comm_free. */
SOMA_API soma_status soma_comm_world(soma_comm **out);
/** This process's rank, 0 .. size - 1 (0 for NULL). */
SOMA_API int soma_comm_rank(const soma_comm *comm);
/** The number of processes (1 for NULL). */
SOMA_API int soma_comm_size(const soma_comm *comm);
/** Releases the communicator, and ends MPI when soma_comm_world started it (accepts NULL).
 *  Every process calls it; a process that failed alone should exit without it instead (the
 *  launcher then ends the others). */
SOMA_API void soma_comm_free(soma_comm *comm);

/** Everything that defines a training run. soma_train_defaults() fills it. */
typedef struct soma_train_config {
    soma_optimizer_config opt;
    soma_schedule schedule;
    int step_epochs;     /* step schedule: epochs between decays */
    float step_gamma;    /* step schedule: decay factor */
    float warmup_epochs; /* linear warm-up before the schedule (0 = none) */
    int epochs;
    int batch;
    int patience;        /* early stopping: epochs without improvement (0 = off) */
    uint64_t seed;
    int checkpoint_every; /* also checkpoint every N steps (0 = only at epoch ends) */
    double checkpoint_minutes; /* also checkpoint every N minutes (0 = off) */
    const char *out_dir;  /* where checkpoints go (NULL = none) */
    const char *resume;   /* checkpoint to continue from (NULL = fresh start) */
    const char *command;  /* the command line, recorded in checkpoints */
    const char *settings; /* the run's settings as a JSON object, recorded in checkpoints
                             (metadata "settings") so that a resume can check them; or NULL */
    const char *augment;  /* data augmentation spec (docs/augment.md), e.g. "shift=2,rotate=10";
                             NULL or "none": none. Training batches only, never evaluation */
    int profile;          /* time each layer's forward and backward */
    int threads;          /* this run's thread count (0 = soma_threads() when it starts) */
    const volatile sig_atomic_t *stop; /* this run stops when *stop becomes nonzero, polled after
                                          each step (NULL = none); set it from a signal handler,
                                          the progress callback or, with an atomic store, any
                                          thread */
    /* data parallelism (docs/distributed.md); fields added last, so that older callers'
       layouts stay valid */
    soma_comm *comm;      /* the processes training together, each calling soma_train with the
                             same config and data (NULL = this one alone); `batch` is the
                             global batch, split among them */
    int sync_bn;          /* 1: BatchNorm's batch statistics over the global batch (one sum
                             across processes per layer); 0: each process's own (as DDP) */
    int overlap;          /* 1: sum gradients across processes in buckets of layers while
                             backward continues, instead of once after it */
} soma_train_config;

/** Defaults: AdamW (lr 2e-3, weight decay 0.05), cosine schedule, 20 epochs, batch 32,
 *  no early stopping, seed 1. */
SOMA_API soma_train_config soma_train_defaults(void);

/** What training reports after each step (for progress bars) and each epoch. */
typedef struct soma_progress {
    int epoch, epochs;        /* 1-based epoch, total */
    int step, steps;          /* 1-based step within the epoch, steps per epoch */
    long long global_step;    /* steps since the start of the run */
    double loss;              /* running mean training loss this epoch */
    double accuracy;          /* running training accuracy this epoch */
    double lr;                /* current learning rate */
    double seconds;           /* seconds since the epoch began */
    double images_per_second; /* this epoch so far */
    /* set for each step (NaN at the end of an epoch): */
    double step_loss;         /* this step's mean training loss over its batch */
    double grad_norm;         /* l2 norm of this step's gradient over all parameters */
    /* set at the end of an epoch only (epoch_done = 1): */
    int epoch_done;
    double val_loss, val_accuracy; /* NaN when there is no validation set */
    int improved;                  /* validation improved: new best checkpoint */
    const char *profile;           /* per-layer timing table when profiling, else NULL */
    /* 1: the run writes its checkpoint when this call returns (a callback
     * that logs to files flushes them now, so that a run resumed from that
     * checkpoint finds every row up to it). A stop asked for during the call
     * writes one too, unannounced. */
    int saving;
} soma_progress;

typedef void (*soma_progress_fn)(const soma_progress *progress, void *user);

/** The outcome of soma_train. */
typedef struct soma_train_result {
    int epochs_run;
    int best_epoch;           /* epoch with the best validation accuracy, ties broken by the
                                 lower validation loss (0 if none) */
    double best_val_accuracy; /* NaN without validation */
    double best_val_loss;     /* the best epoch's validation loss (NaN without validation) */
    double final_train_loss;
    double final_train_accuracy;
    double seconds;
    double images_per_second; /* mean over the run */
    int stopped_early;
    double threads_running; /* mean threads that ran the steps: fewer than the run's count
                               while other programs kept cores busy (the results are the
                               same either way) */
} soma_train_result;

/**
 * Trains `model` on `train`, watching `val` (may be NULL) for early stopping.
 * Writes `out_dir/last.safetensors` at every epoch end and
 * `out_dir/best.safetensors` when validation accuracy improves, or stays
 * equal with a lower validation loss (without a validation set every epoch
 * counts as an improvement). With a validation set
 * the best weights are restored at the end, whether or not training stopped
 * early. When config->stop is set, or soma_request_stop() was called (from a
 * signal handler, say), it checkpoints after the current step and returns
 * SOMA_ERR_INTERRUPTED.
 */
SOMA_API soma_status soma_train(soma_model *model, const soma_dataset *train, const soma_dataset *val,
                       const soma_train_config *config, soma_progress_fn progress, void *user,
                       soma_train_result *result);

/** Asks every soma_train in progress (or the next to start) to stop after its current step;
 *  async-signal-safe. Process-wide: to stop one run of several, use config->stop. */
SOMA_API void soma_request_stop(void);

/** Evaluation: mean cross-entropy loss and accuracy of `model` on `ds`. */
SOMA_API soma_status soma_evaluate(soma_model *model, const soma_dataset *ds, int batch, double *loss,
                          double *accuracy);
/** soma_evaluate shared among the processes of `comm` (each calls it, with the same dataset):
 *  each evaluates its part of `ds`, and all get the totals. comm NULL: soma_evaluate. */
SOMA_API soma_status soma_evaluate_comm(soma_model *model, const soma_dataset *ds, int batch,
                                        const soma_comm *comm, double *loss, double *accuracy);

/**
 * Test-time augmentation: the mean of the softmax over `copies` deterministic
 * copies of each sample (1..25; 1..50 when `augment` includes flip): the
 * sample itself, then shifts by 1 and 2 pixels (zero fill), each also
 * flipped horizontally only when the spec `augment` (the run's, or NULL)
 * includes flip. Writes the mean cross-entropy of the averaged probabilities
 * and the accuracy of their argmax; copies = 1 is soma_evaluate exactly.
 */
SOMA_API soma_status soma_evaluate_tta(soma_model *model, const soma_dataset *ds, int batch,
                                       int copies, const char *augment, double *loss,
                                       double *accuracy);

/**
 * Times training steps (training = 1) or inference (training = 0) on random
 * inputs of `batch` samples (1..SOMA_MAX_BATCH): `warmup` untimed steps, then
 * `steps` timed ones. Writes the median images per second over the timed
 * steps. The model's weights and BatchNorm statistics are as they were
 * before (training steps run on them and are undone).
 */
SOMA_API soma_status soma_benchmark(soma_model *model, int batch, int training, int warmup, int steps,
                           double *images_per_second);

/** How soma_benchmark_run times: a fixed number of steps, or for a given time. */
typedef struct soma_benchmark_config {
    int batch;             /* samples per step, 1..SOMA_MAX_BATCH */
    int training;          /* 1: training steps (forward, backward, Adam); 0: inference */
    int warmup_steps;      /* untimed steps first, at least this many ... */
    double warmup_seconds; /* ... and until this much time has passed (0: no time) */
    int steps;             /* > 0: exactly this many timed steps (seconds ignored) */
    double seconds;        /* steps = 0: timed steps until this much time, at least 5 */
} soma_benchmark_config;

/** What soma_benchmark_run measured: images per second of single steps. */
typedef struct soma_benchmark_result {
    int warmup_steps;            /* untimed steps run */
    int steps;                   /* timed steps */
    double seconds;              /* the timed steps' total */
    double images_per_second;    /* at the median step time */
    double q1_images_per_second; /* at the 75th percentile of the step times (slower) */
    double q3_images_per_second; /* at the 25th percentile (faster): the interquartile range */
    double min_images_per_second, max_images_per_second; /* slowest and fastest step */
    double flops_per_image;      /* soma_model_flops(model, training) */
    double gflops_per_second;    /* flops_per_image x images_per_second / 1e9 */
} soma_benchmark_result;

/**
 * soma_benchmark with time-based warm-up and measurement and the spread of
 * the step times (soma bench's defaults: 1 s of each). The model is left as
 * it was; a config out of range is SOMA_ERR_ARGUMENT.
 */
SOMA_API soma_status soma_benchmark_run(soma_model *model, const soma_benchmark_config *config,
                                        soma_benchmark_result *result);

/** The memory soma_train needs, in bytes, part by part (soma_train_memory_estimate). */
typedef struct soma_memory_estimate {
    size_t parameters;  /* weights and running statistics */
    size_t gradients;   /* one set, plus one per extra slice of a step split over threads */
    size_t optimizer;   /* the optimizer's state: none (SGD), one set or two (Adam, AdamW) */
    size_t activations; /* layer outputs, their gradients, caches and the batch, for the batch */
    size_t workspace;   /* the layers' shared scratch for the batch and thread count */
    size_t best;        /* the copy of the best weights kept for early stopping */
    size_t checkpoint;  /* the copy a checkpoint is written from (with out_dir or resume) */
    size_t total;
    size_t available;   /* what the process can still allocate, plus what the model holds
                           already; SIZE_MAX when no limit is known */
    const char *limit;  /* the limit that sets `available` ("MemAvailable", "ulimit -v",
                           "cgroup memory.max", ...), or NULL */
} soma_memory_estimate;

/** Estimates what soma_train needs for `model` and `config` at config->threads
 *  (0: the current count). */
SOMA_API soma_status soma_train_memory_estimate(const soma_model *model, const soma_train_config *config,
                                       soma_memory_estimate *out);
/** SOMA_ERR_MEMORY, with the numbers, when training would not fit (soma_train checks first). */
SOMA_API soma_status soma_train_memory_check(const soma_model *model, const soma_train_config *config);

/* ----------------------------------------------------------- checkpoints */

/**
 * Loads a checkpoint written by soma_train: rebuilds the model from its
 * stored definition and restores weights and BN statistics.
 */
SOMA_API soma_status soma_checkpoint_load_model(const char *path, soma_model **out);
/** Writes the model's weights and statistics (no optimizer state) atomically. */
SOMA_API soma_status soma_checkpoint_save_model(const char *path, const soma_model *model);
/** A metadata value stored in a checkpoint in *value (free() it): SOMA_OK with *value NULL
 *  when the key is absent, an error status (and NULL) when the file cannot be read. */
SOMA_API soma_status soma_checkpoint_metadata(const char *path, const char *key, char **value);
/**
 * Several metadata values from one read of the checkpoint: values[i] is set
 * to keys[i]'s value (free() it) or NULL when absent. On an error every
 * value is NULL.
 */
SOMA_API soma_status soma_checkpoint_metadata_get(const char *path, const char *const *keys, int n,
                                         char **values);

/* --------------------------------------------------------------- interop */

/** A renaming for soma_model_import_safetensors: the file's tensor `from`, or every tensor
 *  under the module path `from` ("classifier.1" takes "classifier.1.weight"), is read as
 *  `to` (the matched part replaced; an empty `to` strips it). */
typedef struct soma_name_map {
    const char *from, *to;
} soma_name_map;

/**
 * Loads a PyTorch state_dict saved as safetensors into `model` (docs/interop.md): tensors
 * named as nn.Sequential names them ("0.weight", "4.running_var") after the renamings in
 * map[0..nmap) and with a module prefix that all other names share ("module.", "features.")
 * stripped; F32, F16, BF16 or F64; num_batches_tracked ignored. Every missing, unexpected,
 * misshapen or non-finite tensor is named in one message (SOMA_ERR_SHAPE); on any error
 * the model's weights are as they were. The input normalisation is left to the caller.
 */
SOMA_API soma_status soma_model_import_safetensors(soma_model *model, const char *path,
                                                   const soma_name_map *map, int nmap);
/** Loads another checkpoint's weights, running statistics, input normalisation and class
 *  names into `model` (fine-tuning); every tensor's shape must match, else SOMA_ERR_SHAPE naming the
 *  first layer that does not, and the model is unchanged. */
SOMA_API soma_status soma_model_load_weights(soma_model *model, const char *checkpoint);
/**
 * Writes the model in evaluation mode as an ONNX file (opset 13, docs/interop.md). Its
 * input "input" is raw pixel values 0..255 as floats, N x C x H x W with N dynamic; the
 * model's normalisation (x/255 - mean) / std comes first as Div, Sub and Div nodes;
 * dropout is left out; its output "logits" is the class scores before the softmax.
 * Written atomically; a layer ONNX cannot express is SOMA_ERR_UNSUPPORTED naming it.
 */
SOMA_API soma_status soma_model_export_onnx(soma_model *model, const char *path);

/*
 * Input normalisation stored with a model, one (mean, std) pair per input
 * channel: channel c of an input is (x/255 - mean[c]) / std[c]. soma_train
 * derives it from the training set unless it is set; checkpoints keep it.
 */

/** Channel 0's (mean, std) (every channel's when they share one; std 0 when unset). */
SOMA_API void soma_model_normalization(const soma_model *model, float *mean, float *std);
/** Sets one (mean, std) for every input channel. */
SOMA_API void soma_model_set_normalization(soma_model *model, float mean, float std);
/** Writes each input channel's mean and std to mean[0..channels) and std[0..channels);
 *  `channels` must be the model's input channel count (SOMA_ERR_ARGUMENT otherwise). */
SOMA_API soma_status soma_model_normalization_channels(const soma_model *model, int channels,
                                                       float *mean, float *std);
/** Sets a (mean, std) per input channel; each mean in [0, 1], each std a positive finite
 *  number, `channels` the model's input channel count (else SOMA_ERR_ARGUMENT, nothing set). */
SOMA_API soma_status soma_model_set_normalization_channels(soma_model *model, int channels,
                                                           const float *mean, const float *std);

#ifdef __cplusplus
}
#endif
#endif /* SOMA_H */
