"""Reads soma model files (docs/model-format.md) for the benchmark's Python side.

The PyTorch networks and the FLOP counts are both derived from the same
models/*.cfg that soma runs, so the two sides cannot drift apart. Only the
subset of the grammar the model files use is read here: "kind key=value ...",
'#' comments, a first "input" line. No torch import: report.py uses this too.
"""

DEFAULTS = {
    "conv2d": {"stride": 1, "pad": 0, "groups": 1},
    "maxpool": {"pad": 0},
    "avgpool": {"pad": 0},
    "dropout": {"p": 0.5},
    "batchnorm": {"eps": 1e-5, "momentum": 0.1},
    "lrn": {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0},
}


def parse(path):
    """Returns (input (c, h, w), [(kind, {key: value})]) with numbers converted."""
    shape, layers = None, []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            kind, values = words[0], dict(DEFAULTS.get(words[0], {}))
            for pair in words[1:]:
                key, _, value = pair.partition("=")
                values[key] = float(value) if "." in value or "e" in value else int(value)
            if kind == "input":
                shape = (values["channels"], values["height"], values["width"])
            elif shape is None:
                raise ValueError(f"{path}:{lineno}: no 'input' line before the first layer")
            else:
                if kind in ("maxpool", "avgpool"):
                    values.setdefault("stride", values["size"])
                layers.append((kind, values))
    if shape is None:
        raise ValueError(f"{path}: no 'input' line")
    return shape, layers


def walk(shape, layers):
    """Yields (kind, values, input shape, output shape) for each layer."""
    c, h, w = shape
    for kind, v in layers:
        before = (c, h, w)
        if kind == "conv2d" or kind in ("maxpool", "avgpool"):
            k, s, p = v["size"], v["stride"], v["pad"]
            h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
            if kind == "conv2d":
                c = v["filters"]
        elif kind == "linear":
            c, h, w = v["units"], 1, 1
        elif kind == "flatten":
            c, h, w = c * h * w, 1, 1
        yield kind, v, before, (c, h, w)


def forward_flops(shape, layers):
    """Multiply-adds x 2 per image of the conv2d and linear layers, forward only:
    2*K*(C/groups)*kh*kw*OH*OW per convolution, 2*in*out per linear layer. The
    cheap element-wise layers (ReLU, pooling, BatchNorm, LRN, dropout) are left
    out, as is usual when quoting a network's FLOPs."""
    total = 0
    for kind, v, (c, h, w), (oc, oh, ow) in walk(shape, layers):
        if kind == "conv2d":
            total += 2 * oc * (c // v["groups"]) * v["size"] ** 2 * oh * ow
        elif kind == "linear":
            total += 2 * c * h * w * oc
    return total


def training_flops(shape, layers):
    """Forward + backward per image: each conv/linear layer costs its forward
    once more for the input gradient and once more for the weight gradient,
    i.e. 3x forward, except that the first such layer has no input gradient
    to compute (nothing below it to pass it to)."""
    first = True
    total = 0
    for kind, v, before, after in walk(shape, layers):
        if kind not in ("conv2d", "linear"):
            continue
        f = forward_flops(before, [(kind, v)])
        total += 2 * f if first else 3 * f
        first = False
    return total


def param_count(shape, layers):
    total = 0
    for kind, v, (c, h, w), (oc, _, _) in walk(shape, layers):
        if kind == "conv2d":
            total += oc * (c // v["groups"]) * v["size"] ** 2 + oc
        elif kind == "linear":
            total += c * h * w * oc + oc
        elif kind == "batchnorm":
            total += 2 * c
    return total
