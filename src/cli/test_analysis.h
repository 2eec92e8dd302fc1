/*
 * What a run's final test leaves to look at: the confusion matrix
 * (confusion.csv), every misclassified test sample (misclassified.csv:
 * index,true,predicted,confidence, most confident mistakes first) and a grid
 * of the first of them (misclassified.png, row by row in the csv's order).
 * Class names are the model's or the dataset's where they have them
 * (Fashion-MNIST's are known by name).
 */
#ifndef SOMA_CLI_TEST_ANALYSIS_H
#define SOMA_CLI_TEST_ANALYSIS_H

#include "soma.h"

/* the grid: MISCLASSIFIED_COLUMNS tiles a row, at most MISCLASSIFIED_GRID tiles */
#define MISCLASSIFIED_COLUMNS 8
#define MISCLASSIFIED_GRID 64

/* Runs `model` over `test` once more and writes the three files in `dir`
 * (each atomically). `data` is the run's --data (for class names). */
soma_status test_analysis_write(soma_model *model, const soma_dataset *test, const char *data,
                                const char *dir);

/* The name of class k for a run (model, then dataset, then known datasets by
 * the --data name), or NULL. */
const char *test_class_name(const soma_model *model, const soma_dataset *ds, const char *data,
                            int k);

#endif
