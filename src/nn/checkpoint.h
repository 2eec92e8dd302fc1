/*
 * The model's part of a checkpoint: a safetensors file with the model's
 * tensors named as a PyTorch nn.Sequential state_dict would name them
 * ("0.weight", "1.running_mean") and the model's metadata (model text,
 * input normalisation, format version). A training run adds its own state
 * to the same file (train/run_state.h). See docs/checkpoint-format.md.
 */
#ifndef SOMA_NN_CHECKPOINT_H
#define SOMA_NN_CHECKPOINT_H

#include "io/safetensors.h"
#include "nn/network.h"

/* Version 2 is sealed with a CRC32 of the whole file; version 1 (still
 * read) with a CRC32 of the data section only. */
#define CHECKPOINT_FORMAT "soma-checkpoint-2"
#define CHECKPOINT_FORMAT_V1 "soma-checkpoint-1"

/* Checkpoints larger than this are refused before reading. */
#define CHECKPOINT_MAX_BYTES ((size_t)16 << 30)

/* Adds the model's metadata to a checkpoint being written; refuses a model
 * whose input normalisation is unset or unusable (`path` names the file). */
soma_status checkpoint_add_model_meta(st_writer *w, const char *path, const soma_model *m);
/* Adds the model's tensors; each batchnorm's num_batches_tracked holds
 * `batches_tracked`. */
soma_status checkpoint_add_model_tensors(st_writer *w, const soma_model *m,
                                         long long batches_tracked);

/* Reads a checkpoint and checks its format, checksum and tensor values. */
soma_status checkpoint_open(const char *path, st_file **f);
/* Loads the model's tensors and normalisation from an open checkpoint. */
soma_status checkpoint_load_weights(const st_file *f, const char *path, soma_model *m);

/* Rebuilds the model stored in a checkpoint and loads its weights. */
soma_status checkpoint_load_model(const char *path, soma_model **out);
/* The same from bytes in memory (`name` starts error messages). */
soma_status checkpoint_parse_model(const uint8_t *bytes, size_t len, const char *name,
                                   soma_model **out);

/* Device <-> host copies of one tensor, through the file or the writer. */
soma_status checkpoint_add_device_tensor(st_writer *w, const soma_backend *be, const char *name,
                                         int ndim, const int64_t *dims, const float *data,
                                         size_t n);
soma_status checkpoint_load_device_tensor(const st_file *f, const soma_backend *be,
                                          const char *name, int ndim, const int64_t *dims,
                                          float *dst, size_t n);

#endif
