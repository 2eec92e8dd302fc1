#!/usr/bin/python3
"""soma <-> PyTorch, checked on real images.

Builds the nn.Sequential a soma model file describes (docs/model-format.md),
then checks both directions on the first N images of an IDX test set:

  soma -> torch   a soma checkpoint's weights loaded into the nn.Sequential
                  (the file read by hand: no safetensors package needed) give
                  the logits `soma predict --logits` prints;
  torch -> soma   the nn.Sequential's own initial weights (running statistics
                  made up, so that BatchNorm does something), saved as a
                  safetensors state_dict in F32 and in BF16 and brought in with
                  `soma import`, give the logits torch computes.

Needs PyTorch and NumPy (Debian: python3-torch). Usage:

  scripts/torch_roundtrip.py --soma build/soma --model lenet5 \\
      --images data/mnist/t10k-images-idx3-ubyte.gz [--checkpoint CKPT] [--n 1000]

--model is a zoo name (models/NAME.cfg) or a model file. Without --checkpoint
the soma -> torch direction uses the checkpoint the torch -> soma one wrote.
Prints the largest absolute logit difference of each check; exits 1 when one
exceeds --tolerance (1e-4).
"""
import argparse
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I64": "<i8", "I32": "<i4", "U8": "u1"}


# ------------------------------------------------------------- model files

def parse_model(text, name):
    """[(kind, {key: value}), ...] and the input (C, H, W) of a model file."""
    layers, shape = [], None
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        kind, *pairs = line.split()
        values = dict(pair.split("=", 1) for pair in pairs)
        if kind == "input":
            shape = (int(values["channels"]), int(values["height"]), int(values["width"]))
        elif shape is None:
            sys.exit(f"{name}:{number}: the first entry must be 'input'")
        else:
            layers.append((kind, values))
    return layers, shape


def build_sequential(layers, shape):
    """The nn.Sequential of a soma model, module for module (same indices)."""
    c, h, w = shape
    flat = False
    modules = []
    for kind, v in layers:
        if kind == "conv2d":
            f, k = int(v["filters"]), int(v["size"])
            s, p, g = int(v.get("stride", 1)), int(v.get("pad", 0)), int(v.get("groups", 1))
            modules.append(torch.nn.Conv2d(c, f, k, s, p, groups=g))
            c, h, w = f, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        elif kind in ("maxpool", "avgpool"):
            k = int(v["size"])
            s, p = int(v.get("stride", k)), int(v.get("pad", 0))
            modules.append(torch.nn.MaxPool2d(k, s, p) if kind == "maxpool" else
                           torch.nn.AvgPool2d(k, s, p, count_include_pad=False))
            h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        elif kind == "linear":
            units = int(v["units"])
            modules.append(torch.nn.Linear(c * h * w, units))
            c, h, w = units, 1, 1
        elif kind == "flatten":
            modules.append(torch.nn.Flatten())
            c, h, w, flat = c * h * w, 1, 1, True
        elif kind == "batchnorm":
            eps, momentum = float(v.get("eps", 1e-5)), float(v.get("momentum", 0.1))
            bn = torch.nn.BatchNorm1d if flat else torch.nn.BatchNorm2d
            modules.append(bn(c, eps=eps, momentum=momentum))
        elif kind == "lrn":  # soma's alpha is the paper's: PyTorch divides it by size
            size = int(v.get("size", 5))
            modules.append(torch.nn.LocalResponseNorm(size, float(v.get("alpha", 1e-4)) * size,
                                                      float(v.get("beta", 0.75)),
                                                      float(v.get("k", 2))))
        elif kind == "dropout":
            modules.append(torch.nn.Dropout(float(v.get("p", 0.5))))
        elif kind in ("relu", "tanh", "sigmoid"):
            modules.append({"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh,
                            "sigmoid": torch.nn.Sigmoid}[kind]())
        else:
            sys.exit(f"unknown layer kind '{kind}'")
    return torch.nn.Sequential(*modules)


# ------------------------------------------------------------ safetensors

def read_safetensors(path):
    """(tensors as NumPy arrays, metadata), the checksum of a soma file checked."""
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    if raw[8:39] == b'{"__metadata__":{"soma.crc32":"':
        if raw[39:47] != b"%08x" % zlib.crc32(raw[:39] + b"00000000" + raw[47:]):
            sys.exit(f"{path}: checksum mismatch")
    data = raw[8 + n:]
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], DTYPES[info["dtype"]]).reshape(info["shape"])
    return tensors, meta


def write_safetensors(path, tensors, dtype="F32"):
    """A plain safetensors state_dict, as safetensors.torch.save_file writes it."""
    entries, chunks, at = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if t.dtype == torch.int64:
            raw, kind = t.numpy().astype("<i8").tobytes(), "I64"
        elif dtype == "BF16":  # the top half of each float32
            raw = (t.float().numpy().view("<u4") >> 16).astype("<u2").tobytes()
            kind = "BF16"
        else:
            raw, kind = t.float().numpy().astype(DTYPES[dtype]).tobytes(), dtype
        entries[name] = {"dtype": kind, "shape": list(t.shape), "data_offsets": [at, at + len(raw)]}
        chunks.append(raw)
        at += len(raw)
    header = json.dumps({"__metadata__": {"format": "pt"}, **entries}, separators=(",", ":"))
    header += " " * (-(8 + len(header)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header.encode() + b"".join(chunks))


# ------------------------------------------------------------------ data

def read_idx_images(path, n):
    raw = (gzip.open if path.endswith(".gz") else open)(path, "rb").read()
    dims = raw[3]
    shape = struct.unpack(">" + "I" * dims, raw[4:4 + 4 * dims])
    images = np.frombuffer(raw[4 + 4 * dims:], np.uint8).reshape(shape)[:n]
    if images.ndim == 3:
        images = images[:, None]
    return images.astype(np.float32)


def write_idx_images(path, images):
    """The images as an uncompressed IDX file, for soma predict to read the same ones."""
    n, c, h, w = images.shape
    with open(path, "wb") as f:
        if c == 1:
            f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, n, h, w))
        else:
            f.write(struct.pack(">BBBBIIII", 0, 0, 8, 4, n, c, h, w))
        f.write(images.astype(np.uint8).tobytes())


def normalised(images, meta):
    c = images.shape[1]
    mean = [float(x) for x in meta["norm_mean"].split(",")]
    std = [float(x) for x in meta["norm_std"].split(",")]
    mean = np.array(mean * c if len(mean) == 1 else mean, np.float32).reshape(1, c, 1, 1)
    std = np.array(std * c if len(std) == 1 else std, np.float32).reshape(1, c, 1, 1)
    # as soma does it, in float: (x/255 - mean) / std
    return torch.from_numpy(((images / np.float32(255)) - mean) / std)


def soma_logits(soma, checkpoint, images_path, n):
    out = subprocess.run([soma, "predict", checkpoint, images_path, "--logits"], check=True,
                         capture_output=True, text=True).stdout.splitlines()
    rows = [[float(x) for x in line.split()[1:]] for line in out[:n]]
    return np.array(rows, np.float64)


def torch_logits(model, x):
    model.eval()
    with torch.no_grad():
        return model(x).double().numpy()


# ---------------------------------------------------------------- checks

def compare(what, a, b, tolerance):
    diff = float(np.max(np.abs(a - b)))
    same_class = float(np.mean(a.argmax(1) == b.argmax(1)))
    ok = diff <= tolerance and a.shape == b.shape
    print(f"{what}: {a.shape[0]} images, max |logit difference| {diff:.3g} "
          f"(tolerance {tolerance:g}), same class {100 * same_class:.2f}%: "
          f"{'ok' if ok else 'FAILED'}")
    return ok


def soma_to_torch(args, layers, shape, checkpoint, images):
    tensors, meta = read_safetensors(checkpoint)
    model = build_sequential(layers, shape)
    state = {k: torch.from_numpy(v.copy()) for k, v in tensors.items()
             if not k.startswith(("optimizer.", "best."))}
    model.load_state_dict(state, strict=True)
    ours = torch_logits(model, normalised(images, meta))
    theirs = soma_logits(args.soma, checkpoint, args.subset, len(images))
    return compare(f"soma -> torch ({os.path.basename(checkpoint)})", ours, theirs,
                   args.tolerance)


def torch_to_soma(args, layers, shape, images, work, dtype):
    torch.manual_seed(args.seed)
    model = build_sequential(layers, shape)
    with torch.no_grad():  # running statistics of a trained network, not the identity
        for m in model.modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
            if dtype == "BF16":  # the weights as a BF16 file holds them
                for p in list(m.parameters(recurse=False)) + [
                        b for b in m.buffers(recurse=False) if b.is_floating_point()]:
                    p.copy_(p.to(torch.bfloat16).float())
    weights = os.path.join(work, f"torch-{dtype}.safetensors")
    # wrapped as a user's module would be: the prefix is stripped on import
    write_safetensors(weights, {"net." + k: v for k, v in model.state_dict().items()}, dtype)
    checkpoint = os.path.join(work, f"imported-{dtype}.safetensors")
    subprocess.run([args.soma, "import", weights, "--model", args.model_path, "--out", checkpoint,
                    "--mean", "0.1307", "--std", "0.3081"], check=True, capture_output=True)
    _, meta = read_safetensors(checkpoint)
    ours = torch_logits(model, normalised(images, meta))
    theirs = soma_logits(args.soma, checkpoint, args.subset, len(images))
    return compare(f"torch -> soma ({dtype} state_dict)", ours, theirs, args.tolerance), checkpoint


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--soma", required=True, help="the soma executable")
    parser.add_argument("--model", required=True, help="a zoo name or a model file")
    parser.add_argument("--images", required=True, help="an IDX image file")
    parser.add_argument("--checkpoint", help="a soma checkpoint of the model (soma -> torch)")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()
    zoo = os.path.join(HERE, "..", "models", args.model + ".cfg")
    args.model_path = args.model if os.path.exists(args.model) else zoo
    layers, shape = parse_model(open(args.model_path).read(), args.model_path)
    images = read_idx_images(args.images, args.n)
    torch.set_num_threads(1)
    ok = True
    with tempfile.TemporaryDirectory() as work:
        args.subset = os.path.join(work, "images-idx3-ubyte")  # no labels beside it
        write_idx_images(args.subset, images)
        for dtype in ("F32", "BF16"):
            good, imported = torch_to_soma(args, layers, shape, images, work, dtype)
            ok &= good
        ok &= soma_to_torch(args, layers, shape, args.checkpoint or imported, images)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
