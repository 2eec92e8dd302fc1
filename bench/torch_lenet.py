"""PyTorch counterpart of `soma train lenet5 --val-split 0 --opt adam`: trains
the network of models/lenet5.cfg on an IDX dataset the way soma does, then
tests it, and prints one JSON line with the same keys as soma's summary.json.

Like soma: the training images stay in memory as uint8 (one tensor, loaded
before the clock starts); every epoch draws a random permutation and each
batch is gathered by index and normalised as (x/255 - mean) / std with the
training set's mean and std; the last, partial batch is kept; weights are
Kaiming normal, biases zero; Adam with PyTorch's defaults. Only the training
loop is timed (per epoch), not loading, start-up or the test.

usage: torch_lenet.py DATA_DIR [--epochs 1] [--batch 64] [--lr 1e-3] [--threads 1]
"""
import argparse
import gzip
import json
import os
import statistics
import time

import numpy as np
import torch
from torch import nn

import idx_files
import torch_common

HERE = os.path.dirname(os.path.abspath(__file__))


def read_idx(path):
    """An IDX file (raw or gzip) as a numpy array, shape from its header."""
    data = idx_files.read(path)
    shape, start = idx_files.dims(data)
    return np.frombuffer(data, dtype=np.uint8, offset=start).reshape(shape)


def load(directory, split):
    stem = "train" if split == "train" else "t10k"
    images = read_idx(idx_files.find(directory, f"{stem}-images-idx3-ubyte"))
    labels = read_idx(idx_files.find(directory, f"{stem}-labels-idx1-ubyte"))
    x = torch.from_numpy(images.copy()).unsqueeze(1)  # N x 1 x H x W, uint8
    return x, torch.from_numpy(labels.astype(np.int64))


def pixel_stats(x_uint8):
    """Mean and (population) std of x/255 over all training pixels, exactly,
    from a histogram: no float copy of the data set inflates peak memory."""
    counts = np.bincount(x_uint8.numpy().ravel(), minlength=256).astype(np.float64)
    values = np.arange(256, dtype=np.float64) / 255.0
    mean = (counts * values).sum() / counts.sum()
    var = (counts * (values - mean) ** 2).sum() / counts.sum()
    return float(mean), float(np.sqrt(var))


def normalise(x_uint8, mean, std):
    return (x_uint8.float() / 255.0 - mean) / std


def evaluate(model, x, y, mean, std, batch=1000):
    model.eval()
    correct, loss_sum = 0, 0.0
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    with torch.no_grad():
        for i in range(0, len(y), batch):
            logits = model(normalise(x[i:i + batch], mean, std))
            loss_sum += loss_fn(logits, y[i:i + batch]).item()
            correct += (logits.argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(y), loss_sum / len(y)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data")
    ap.add_argument("--model", default=os.path.join(HERE, "..", "models", "lenet5.cfg"))
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    torch_common.set_threads(args.threads)
    torch.manual_seed(args.seed)
    x_train, y_train = load(args.data, "train")
    x_test, y_test = load(args.data, "test")
    mean, std = pixel_stats(x_train)

    model, _ = torch_common.build(args.model)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    n = len(y_train)
    epoch_seconds = []
    for _ in range(args.epochs):
        model.train()
        t0 = time.perf_counter()
        order = torch.randperm(n)
        for first in range(0, n, args.batch):
            idx = order[first:first + args.batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(normalise(x_train[idx], mean, std)), y_train[idx])
            loss.backward()
            opt.step()
        epoch_seconds.append(time.perf_counter() - t0)
    train_loss = loss.item()
    test_accuracy, test_loss = evaluate(model, x_test, y_test, mean, std)
    seconds = statistics.median(epoch_seconds)
    print(json.dumps({
        "framework": "pytorch", "torch_version": torch.__version__, "threads": torch.get_num_threads(),
        "epochs": args.epochs, "batch": args.batch, "train_images": n,
        "epoch_seconds": seconds, "images_per_second": n / seconds,
        "test_accuracy": test_accuracy, "test_loss": test_loss, "last_batch_loss": train_loss,
        "norm_mean": mean, "norm_std": std, "peak_rss_mib": torch_common.peak_rss_mib(),
    }))


if __name__ == "__main__":
    main()
