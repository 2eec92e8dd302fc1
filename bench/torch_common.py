"""The PyTorch side of bench/run.sh: networks built from soma's own model files.

build(path) turns a models/*.cfg into the nn.Sequential that the file
describes (docs/model-format.md says which PyTorch module each kind is), with
soma's default initialisation: Kaiming normal weights (std sqrt(2 / fan_in)),
zero biases, BatchNorm gamma 1 / beta 0. Layer indices match soma's, so
state_dict names match too.
"""
import os
import resource
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cfg  # noqa: E402


def set_threads(threads):
    """Pins PyTorch's intra-op pool to `threads` (OMP_NUM_THREADS and
    MKL_NUM_THREADS are set by run.sh before the interpreter starts);
    0 leaves PyTorch's own default (one thread per core)."""
    if threads <= 0:
        return
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set: only possible before any parallel work
        pass


def build(path):
    shape, layers = cfg.parse(path)
    modules = []
    for kind, v, (c, h, w), (oc, oh, ow) in cfg.walk(shape, layers):
        if kind == "conv2d":
            modules.append(nn.Conv2d(c, oc, v["size"], v["stride"], v["pad"], groups=v["groups"]))
        elif kind == "linear":
            modules.append(nn.Linear(c * h * w, oc))
        elif kind == "maxpool":
            modules.append(nn.MaxPool2d(v["size"], v["stride"], v["pad"]))
        elif kind == "avgpool":
            modules.append(nn.AvgPool2d(v["size"], v["stride"], v["pad"], count_include_pad=False))
        elif kind == "relu":
            modules.append(nn.ReLU())
        elif kind == "tanh":
            modules.append(nn.Tanh())
        elif kind == "sigmoid":
            modules.append(nn.Sigmoid())
        elif kind == "dropout":
            modules.append(nn.Dropout(v["p"]))
        elif kind == "flatten":
            modules.append(nn.Flatten())
        elif kind == "lrn":  # soma's alpha is the paper's: PyTorch divides by size
            modules.append(nn.LocalResponseNorm(v["size"], v["alpha"] * v["size"], v["beta"],
                                                v["k"]))
        elif kind == "batchnorm":
            bn = nn.BatchNorm2d if h * w > 1 else nn.BatchNorm1d
            modules.append(bn(c, eps=v["eps"], momentum=v["momentum"]))
        else:
            raise ValueError(f"{path}: layer kind '{kind}' is not known to bench/torch_common.py")
    model = nn.Sequential(*modules)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(m.bias)
    expected = cfg.param_count(shape, layers)
    got = sum(p.numel() for p in model.parameters())
    if got != expected:
        raise ValueError(f"{path}: built {got} parameters, the file describes {expected}")
    return model, shape


def peak_rss_mib():
    """Peak resident memory of this process (VmHWM), in MiB."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
