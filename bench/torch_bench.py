"""PyTorch counterpart of `soma bench`: images/s of training or inference steps
on random inputs, the median over timed steps after untimed warm-up steps.

Training steps are what soma_benchmark times: forward, softmax cross-entropy,
backward and an Adam update (lr 1e-5, so that random data cannot make the
weights blow up). Inference is model.eval() under torch.no_grad().

usage: torch_bench.py MODEL.cfg --batch B --threads T --steps S [--inference]
Prints one JSON line.
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn

import torch_common


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, help="untimed steps (default: as soma bench)")
    ap.add_argument("--inference", action="store_true")
    args = ap.parse_args()
    warmup = args.warmup if args.warmup is not None else max(2, args.steps // 5)

    torch_common.set_threads(args.threads)
    torch.manual_seed(1)
    model, (c, h, w) = torch_common.build(args.model)
    x = torch.randn(args.batch, c, h, w)
    classes = model[-1].out_features
    y = torch.randint(0, classes, (args.batch,))
    times = []
    if args.inference:
        model.eval()
        with torch.no_grad():
            for step in range(warmup + args.steps):
                t0 = time.perf_counter()
                model(x)
                if step >= warmup:
                    times.append(time.perf_counter() - t0)
    else:
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-5)
        loss_fn = nn.CrossEntropyLoss()
        for step in range(warmup + args.steps):
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            if step >= warmup:
                times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    print(json.dumps({
        "framework": "pytorch", "model": args.model, "batch": args.batch,
        "mode": "inference" if args.inference else "train", "threads": torch.get_num_threads(),
        "steps": args.steps, "warmup": warmup, "images_per_second": args.batch / median,
        "ms_per_batch": 1000.0 * median, "peak_rss_mib": torch_common.peak_rss_mib(),
    }))


if __name__ == "__main__":
    main()
