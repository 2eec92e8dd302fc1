/* `soma report`: one self-contained HTML page about one or more runs. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/report_data.h"
#include "cli/report_html.h"
#include "cli/run_files.h"
#include "core/error.h"

#define REPORT_MAX_RUNS 16

static const char report_help[] =
    "usage: soma report RUN_DIR [RUN_DIR...] [--out report.html]\n"
    "\n"
    "Writes one self-contained HTML page (no network, no scripts) about training\n"
    "runs: loss and accuracy curves (training and validation, the runs overlaid),\n"
    "the learning rate, each step's loss and gradient norm (steps.csv), the confusion\n"
    "matrix, accuracy per class, the misclassified test images with their true and\n"
    "predicted labels, the model, every setting and the timing of each run.\n"
    "\n"
    "options:\n"
    "  --out FILE   the page to write (default report.html)\n"
    "\n"
    "examples:\n"
    "  soma report runs/lenet5-20250101-120000\n"
    "  soma report runs/sgd runs/adam --out compare.html\n";

int cmd_report(int argc, char **argv, const command_line *full)
{
    (void)full;
    const char *out = "report.html";
    cli_option options[] = {
        {"out", OPT_STRING, &out, 0, 0, 0, 0, "an HTML file to write", 0},
    };
    const char *dirs[REPORT_MAX_RUNS + 1];
    int ndirs = 0;
    parse_result r = args_parse("report", argc, argv, options, ARGS_COUNT(options), dirs,
                                REPORT_MAX_RUNS, &ndirs);
    int outcome = args_outcome(r, report_help);
    if (outcome >= 0)
        return outcome;
    if (ndirs < 1)
        return usage_error("report", "name at least one run directory (see soma report --help)");
    run_record *runs = calloc((size_t)ndirs, sizeof *runs);
    if (!runs)
        return report_error(soma_error(SOMA_ERR_MEMORY, "out of memory"));
    soma_status st = SOMA_OK;
    int read = 0;
    for (; st == SOMA_OK && read < ndirs; read++)
        st = run_record_read(dirs[read], &runs[read]);
    strbuf html;
    strbuf_init(&html);
    if (st == SOMA_OK)
        st = report_html(runs, ndirs, &html);
    if (st == SOMA_OK)
        st = cli_write_file_atomic(out, html.data, html.len);
    strbuf_free(&html);
    for (int i = 0; i < read; i++)
        run_record_free(&runs[i]);
    free(runs);
    if (st != SOMA_OK)
        return report_error(st);
    printf("wrote %s (%d run%s)\n", out, ndirs, ndirs == 1 ? "" : "s");
    return EXIT_OK;
}
