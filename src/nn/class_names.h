/*
 * The names of a model's classes (an image folder's class folders), kept
 * through training and checkpoints: metadata "class_names", a JSON array of
 * strings, name k for output k (it may name fewer classes than the model has).
 */
#ifndef SOMA_NN_CLASS_NAMES_H
#define SOMA_NN_CLASS_NAMES_H

#include "io/safetensors.h"
#include "nn/network.h"

/* Copies names[0..n) (n <= the model's classes) as the model's class names. */
soma_status class_names_set(soma_model *m, char *const *names, int n);

void class_names_free(soma_model *m);

/* Writes "class_names" when the model has names. */
soma_status class_names_write_meta(st_writer *w, const soma_model *m);

/* Reads "class_names" when present: a JSON array of at most `classes` strings. */
soma_status class_names_read_meta(const st_file *f, const char *path, soma_model *m);

#endif
