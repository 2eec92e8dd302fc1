/*
 * A model's input normalisation, one (mean, std) pair per input channel:
 * inputs are (x/255 - mean[c]) / std[c]. Checkpoints keep it as the metadata
 * norm_mean and norm_std, each a comma-separated list of one number per
 * channel; a single number (what soma wrote before per-channel statistics)
 * applies to every channel.
 */
#ifndef SOMA_NN_NORMALIZATION_H
#define SOMA_NN_NORMALIZATION_H

#include "io/safetensors.h"
#include "nn/network.h"

/* 1 when the model has a normalisation (trained, loaded or set): every std > 0. */
int normalization_is_set(const soma_model *m);

/* Writes norm_mean and norm_std; an unusable normalisation is an error naming `path`. */
soma_status normalization_write_meta(st_writer *w, const char *path, const soma_model *m);

/* Reads norm_mean and norm_std into the model: one number, or one per input channel. */
soma_status normalization_read_meta(const st_file *f, const char *path, soma_model *m);

#endif
