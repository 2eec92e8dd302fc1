"""PyTorch DistributedDataParallel counterpart of `mpirun -np N soma train`:
N processes (gloo backend, on this machine), each with THREADS threads, train
the network of a models/*.cfg for one epoch on an IDX dataset the way
torch_lenet.py does one process: the same permutation in every process, each
taking its contiguous part of every global batch of BATCH samples; DDP
averages the gradients (the loss is each process's mean, DDP divides the sum
by N: the global batch's mean when the parts are equal). Rank 0 prints one
JSON line with the keys of torch_lenet.py's; images per second count all
processes' images over the epoch's wall time.

usage: torch_ddp.py DATA_DIR --model CFG [--procs 2] [--threads 1] [--batch 64] [--lr 1e-3]
"""
import argparse
import json
import os
import socket
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel

import torch_common
import torch_lenet


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(rank, args, port):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch_common.set_threads(args.threads)
    dist.init_process_group("gloo", rank=rank, world_size=args.procs)
    torch.manual_seed(args.seed)  # the same initial weights in every process
    x_train, y_train = torch_lenet.load(args.data, "train")
    mean, std = torch_lenet.pixel_stats(x_train)
    model, _ = torch_common.build(args.model)
    ddp = DistributedDataParallel(model)
    opt = torch.optim.Adam(ddp.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    n = len(y_train)
    ddp.train()
    dist.barrier()
    t0 = time.perf_counter()
    order = torch.randperm(n)
    for first in range(0, n, args.batch):
        idx = order[first:first + args.batch]
        part = idx[len(idx) * rank // args.procs:len(idx) * (rank + 1) // args.procs]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(ddp(torch_lenet.normalise(x_train[part], mean, std)), y_train[part])
        loss.backward()
        opt.step()
    dist.barrier()
    seconds = time.perf_counter() - t0
    if rank == 0:
        x_test, y_test = torch_lenet.load(args.data, "test")
        accuracy, test_loss = torch_lenet.evaluate(model, x_test, y_test, mean, std)
        print(json.dumps({
            "framework": "pytorch-ddp", "backend": "gloo", "torch_version": torch.__version__,
            "processes": args.procs, "threads": torch.get_num_threads(), "epochs": 1,
            "batch": args.batch, "train_images": n, "epoch_seconds": seconds,
            "images_per_second": n / seconds, "test_accuracy": accuracy, "test_loss": test_loss,
            "last_batch_loss": loss.item(), "peak_rss_mib": torch_common.peak_rss_mib(),
        }), flush=True)
    dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data")
    ap.add_argument("--model", required=True)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    mp.spawn(worker, args=(args, free_port()), nprocs=args.procs, join=True)


if __name__ == "__main__":
    main()
