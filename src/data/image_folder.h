/*
 * Image folders: ROOT/SPLIT/CLASS/FILE, FILE a .png, .jpg, .jpeg or .pgm
 * (any case). The classes are the folder names of ROOT/train (or of the split
 * itself when there is no train folder), sorted bytewise, so that every split
 * numbers them alike. The dataset holds the file paths and labels only: each
 * sample is decoded and fitted (image_file.h) when a batch asks for it.
 */
#ifndef SOMA_DATA_IMAGE_FOLDER_H
#define SOMA_DATA_IMAGE_FOLDER_H

#include "soma.h"

#define IMAGE_FOLDER_MAX_FILES 100000000

/* 1 when `root` looks like an image folder (it has a train, test or val folder). */
int image_folder_detect(const char *root);

/* Opens split `split` ("train", "test" or "val") of the folder at `root`. */
soma_status image_folder_open(const char *root, const char *split, const soma_data_options *opt,
                              soma_dataset **out);

#endif
