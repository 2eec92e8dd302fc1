/* `soma export`: a checkpoint's network written for other frameworks (ONNX). */
#include <stdio.h>

#include "cli/args.h"
#include "cli/choices.h"
#include "cli/commands.h"

static const char export_help[] =
    "usage: soma export CHECKPOINT --onnx FILE.onnx\n"
    "\n"
    "Writes the checkpoint's network in evaluation mode as an ONNX model (opset 13)\n"
    "for onnxruntime and other ONNX tools. Its input 'input' is N x C x H x W raw pixel\n"
    "values 0..255 as floats, N any batch size: the model's input normalisation\n"
    "(x/255 - mean) / std is part of the graph, so it takes what soma predict takes.\n"
    "Its output 'logits' is N x classes, the class scores before the softmax (soma\n"
    "predict --logits prints the same). BatchNorm uses its running statistics and\n"
    "dropout is left out. The file is written atomically; a layer ONNX cannot\n"
    "express is an error naming it.\n"
    "\n"
    "  --onnx FILE   the ONNX file to write (required)\n"
    "  -h, --help    show this help\n"
    "\n"
    "example:\n"
    "  soma export runs/lenet5-20250101-120000/best.safetensors --onnx lenet5.onnx\n";

int cmd_export(int argc, char **argv, const command_line *full)
{
    (void)full;
    const char *onnx = NULL;
    cli_option options[] = {
        {"onnx", OPT_STRING, &onnx, 0, 0, 0, 0, "an output file", 0},
    };
    const char *positional[2];
    int npositional;
    parse_result r = args_parse("export", argc, argv, options, ARGS_COUNT(options), positional,
                                2, &npositional);
    int outcome = args_outcome(r, export_help);
    if (outcome >= 0)
        return outcome;
    if (npositional != 1 || !onnx) {
        fprintf(stderr,
                "usage: soma export CHECKPOINT --onnx FILE.onnx  (see soma export --help)\n");
        return EXIT_USAGE;
    }
    if (checkpoint_argument_check("export", positional[0]) >= 0)
        return EXIT_USAGE;
    soma_model *model = NULL;
    soma_status st = soma_checkpoint_load_model(positional[0], &model);
    if (st == SOMA_OK)
        st = soma_model_export_onnx(model, onnx);
    if (st == SOMA_OK) {
        int c, h, w;
        soma_model_input_shape(model, &c, &h, &w);
        printf("wrote %s (ONNX opset 13): input 'input' N x %d x %d x %d (pixels 0..255), "
               "output 'logits' N x %d\n",
               onnx, c, h, w, soma_model_classes(model));
    }
    soma_model_free(model);
    return st == SOMA_OK ? EXIT_OK : report_error(st);
}
