"""Turns the runs of bench/run.sh into the markdown of bench/RESULTS.md.

usage: report.py RUNS_DIR MODELS_DIR > RESULTS.md
RUNS_DIR/REP/WORKLOAD/FRAMEWORK-tTHREADS/ holds each run's stdout, stderr,
rc, maxrss_kib (from /usr/bin/time -f %M) and, for soma train, out/. The
context (command, commit, ...) comes from BENCH_* environment variables.
"""
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cfg  # noqa: E402

WORKLOADS = [  # name, title, model file, batch, what is timed
    ("lenet5-train", "LeNet-5 training, Fashion-MNIST, 1 epoch", "lenet5.cfg", 64, "train"),
    ("lenet5-infer", "LeNet-5 inference", "lenet5.cfg", 256, "infer"),
    ("bn-cnn-train", "BN + dropout CNN training (bench-bn-cnn)", "bench-bn-cnn.cfg", 64, "train"),
    ("vgg-small-train", "VGG-style BN CNN training (vgg-small)", "vgg-small.cfg", 64, "train"),
    ("alexnet-train", "AlexNet convolutions training, 224x224 (alexnet-convs)",
     "alexnet-convs.cfg", 8, "train"),
    ("alexnet-b8-train", "AlexNet training, 224x224 (alexnet)", "alexnet.cfg", 8, "train"),
    ("alexnet-b32-train", "AlexNet training, 224x224 (alexnet)", "alexnet.cfg", 32, "train"),
    ("alexnet-infer", "AlexNet inference, 224x224 (alexnet)", "alexnet.cfg", 32, "infer"),
]
# One epoch of `soma train` / torch_lenet.py, read from summary.json / its JSON line.
TRAININGS = ("lenet5-train", "lenet5-busy", "lenet5-bn-busy", "lenet5-dist", "bn-cnn-dist",
             "lenet5-pair")
DIST = [  # name, title: one epoch data-parallel (bench/run.sh dist_train)
    ("lenet5-dist", "LeNet-5"),
    ("bn-cnn-dist", "BN + dropout CNN (bench-bn-cnn)"),
]
BUSY = [  # name, title, model file
    ("lenet5-busy", "LeNet-5", "lenet5.cfg"),
    ("lenet5-bn-busy", "LeNet-5-BN", "lenet5-bn.cfg"),
]
SOMA_LINE = re.compile(r"^(train|inference)\s+[\d,.]+ img/s\s+\(([\d.]+) ms per batch of (\d+)\)")


def read(path, default=None):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return default


def parse_run(workload, framework, d):
    """The figures of one run, or {'error': ...}."""
    rc = (read(os.path.join(d, "rc"), "?") or "?").strip()
    rss = read(os.path.join(d, "maxrss_kib"), "")
    rss_mib = None
    m = re.search(r"^(\d+)\s*$", rss or "", re.M)  # time(1) may prefix a status line
    if m:
        rss_mib = int(m.group(1)) / 1024.0
    if rc != "0":
        tail = (read(os.path.join(d, "stderr"), "") or "").strip().splitlines()[-1:] or [""]
        return {"error": f"exit {rc}: {tail[0][:160]}"}
    out = read(os.path.join(d, "stdout"), "")
    r = {"rss_mib": rss_mib}
    try:
        if framework.startswith("openblas"):
            j = json.loads(out.strip().splitlines()[-1])
            r.update(gflops=j["gflops"], best_gflops=j["best_gflops"], core=j["core"])
        elif framework.startswith("pytorch"):
            j = json.loads(out.strip().splitlines()[-1])
            r["ips"] = j["images_per_second"]
            r["threads_running"] = j.get("threads")
            if workload in TRAININGS:
                r.update(epoch_seconds=j["epoch_seconds"], test_accuracy=j["test_accuracy"])
        elif workload in TRAININGS:
            s = json.loads(read(os.path.join(d, "out", "summary.json")))
            r["threads_running"] = s.get("threads_running")
            rows = (read(os.path.join(d, "out", "metrics.csv")) or "").strip().splitlines()
            header = rows[0].split(",")
            last = dict(zip(header, rows[-1].split(",")))
            r.update(ips=s["images_per_second"], epoch_seconds=float(last["seconds"]),
                     test_accuracy=s["test_accuracy"],
                     recipe=", ".join(f"{k} {s.get(k)}" for k in
                                      ("optimizer", "lr", "schedule", "batch", "epochs",
                                       "train_images", "val_images")))
        else:  # soma bench: the "train" or "inference" line, ms per batch for precision
            want = "inference" if workload.endswith("infer") else "train"
            for line in out.splitlines():
                m = SOMA_LINE.match(line.strip())
                if m and m.group(1) == want:
                    r["ips"] = int(m.group(3)) * 1000.0 / float(m.group(2))
            if "ips" not in r:
                return {"error": f"no '{want}' line in soma bench output"}
    except (ValueError, KeyError, IndexError, TypeError) as e:
        return {"error": f"unreadable output ({e})"}
    return r


def collect(runs_dir):
    """{(workload, framework, threads): [run, ...]} over all repetitions, in order."""
    runs = {}
    for rep in sorted(os.listdir(runs_dir), key=lambda s: int(s) if s.isdigit() else 0):
        for workload in sorted(os.listdir(os.path.join(runs_dir, rep))):
            for leaf in sorted(os.listdir(os.path.join(runs_dir, rep, workload))):
                framework, _, t = leaf.rpartition("-t")
                r = parse_run(workload, framework, os.path.join(runs_dir, rep, workload, leaf))
                r["rep"] = int(rep)
                runs.setdefault((workload, framework, int(t)), []).append(r)
    return runs


def median(runs, key):
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def fmt(x, digits=0, suffix=""):
    if x is None:
        return "—"
    return f"{x:,.{digits}f}{suffix}"


def fmt_rate(x):
    """Images/s: whole numbers, but a decimal below 100 (AlexNet runs at a few)."""
    return fmt(x, 1 if x is not None and x < 100 else 0)


def command_output(args):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def cpu_model():
    """The first CPU's model name, family/model numbers (a virtual machine often
    shows a generic name) and its widest vector extension."""
    info = {}
    for line in (read("/proc/cpuinfo", "") or "").splitlines():
        key, _, value = line.partition(":")
        if not line.strip():
            break
        info.setdefault(key.strip(), value.strip())
    name = info.get("model name") or platform.processor() or "unknown"
    flags = info.get("flags", "").split()
    vector = next((v for v in ("avx512f", "avx2", "avx", "sse2") if v in flags), "?")
    return f"{name} (family {info.get('cpu family', '?')}, model {info.get('model', '?')}, {vector})"


def versions():
    import numpy
    import torch
    deb = command_output(["dpkg-query", "-W", "-f", "${Version}", "python3-torch"])
    blas = command_output(["dpkg-query", "-W", "-f", "${Version}", "libopenblas0-pthread"])
    gcc = command_output(["gcc", "--version"]).splitlines()[:1]
    soma = command_output([os.environ.get("BENCH_SOMA", "soma"), "--version"]).splitlines()[:1]
    soma = soma[0] if soma else ""
    return torch.__version__, deb, numpy.__version__, blas, (gcc or ["?"])[0], soma


def header(w, runs):
    env = os.environ.get
    torch_v, torch_deb, numpy_v, blas_v, gcc_v, soma_v = versions()
    # every sgemm run names its kernels: the sgemm rows' and the pair rounds'
    cores = sorted({r["core"] for rs in runs.values() for r in rs if "core" in r})
    w("# soma vs PyTorch: side-by-side benchmark\n")
    if env("BENCH_QUICK") == "1":
        w("> **SMOKE TEST** — written by `bench/run.sh --quick`: one repetition, few timed steps,")
        w("> LeNet-5 trained on 10,000 images only, on a machine possibly busy with other work.")
        w("> It shows that the harness runs; its figures are not results to quote.")
        w("> Run `bench/run.sh` (on an idle machine) for the real table.\n")
    load = (env("BENCH_LOAD_START") or "").split()
    if load and float(load[0]) > 0.5:
        w(f"> **Warning:** the machine was busy when the run started (load average {load[0]} on "
          f"{os.cpu_count()} CPUs): other processes compete for the cores, and multi-threaded "
          "figures suffer most (a thread that loses its core stalls its team at every barrier).\n")
    w(f"Produced by `{env('BENCH_COMMAND', 'bench/run.sh')}` on "
      f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; "
      f"medians of {env('BENCH_REPS', '?')} repetition(s), each a separate process pinned with "
      "`taskset`, soma and PyTorch alternating. See docs/benchmarks.md for what each row means.\n")
    blas_env = env("BENCH_BLAS_ENV")
    blas_note = f" ({blas_env} for sgemm and PyTorch; soma selects the same itself)" if blas_env else ""
    loadavg = " ".join((read("/proc/loadavg", "?") or "?").split()[:3])
    w("| | |\n| --- | --- |")
    w(f"| CPU | {cpu_model()}, {os.cpu_count()} CPUs; load average (1, 5, 15 min) before / after: "
      f"{env('BENCH_LOAD_START', '?')} / {loadavg} |")
    w(f"| soma | {soma_v or '?'}, commit {env('BENCH_COMMIT', '?')}, {gcc_v}, Release, "
      "default build (no `-march=native`: kernels pick AVX-512 at run time) |")
    w(f"| PyTorch | {torch_v} (Debian python3-torch {torch_deb}), numpy {numpy_v} |")
    w(f"| OpenBLAS | {blas_v}, kernels: {', '.join(cores) or '?'}{blas_note} |")
    w(f"| data | {env('BENCH_DATA', '?')} |")
    w(f"| timed steps | {env('BENCH_STEPS', '?')} |\n")


def gflops_cell(ips, flop, peak):
    if ips is None:
        return "—"
    g = ips * flop / 1e9
    return f"{g:.1f} ({100 * g / peak:.0f}%)" if peak else f"{g:.1f}"


def summary(w, runs, threads, flops, peak):
    w("## Summary\n")
    w("Images per second (higher is better); ratio = soma / PyTorch (above 1: soma is faster). "
      "GFLOP/s counts the conv and linear layers only (see below) and is also given as a share "
      "of the OpenBLAS sgemm peak at the same thread count.\n")
    w("| workload | batch | threads | soma img/s | PyTorch img/s | soma / PyTorch | "
      "soma GFLOP/s (of peak) | PyTorch GFLOP/s (of peak) |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, title, _, batch, _ in WORKLOADS:
        if not any(k[0] == name for k in runs):
            continue
        for t in threads:
            s = median(runs.get((name, "soma", t), []), "ips")
            p = median(runs.get((name, "pytorch", t), []), "ips")
            ratio = f"{s / p:.2f}" if s and p else "—"
            w(f"| {title} | {batch} | {t} | {fmt_rate(s)} | {fmt_rate(p)} | {ratio} | "
              f"{gflops_cell(s, flops[name], peak.get(t))} | "
              f"{gflops_cell(p, flops[name], peak.get(t))} |")
    w("")


def lenet_training(w, runs, threads):
    if not any(k[0] == "lenet5-train" for k in runs):
        return
    images = int(os.environ.get("BENCH_TRAIN_IMAGES", "60000"))
    w(f"## LeNet-5 training on Fashion-MNIST (one epoch of {images:,} images, batch 64, "
      "Adam lr 1e-3, tested on the 10,000 test images)\n")
    w("Seconds of the training loop of the epoch (data already in memory; start-up, loading and "
      "the test are not counted), test accuracy after that epoch, and the peak resident memory "
      "of the whole process (`/usr/bin/time -f %M`).\n")
    recipes = sorted({r["recipe"] for (name, fw, _), rs in runs.items()
                      if name == "lenet5-train" and fw == "soma" for r in rs if "recipe" in r})
    if recipes:
        w(f"soma's run as recorded in its summary.json: {'; '.join(recipes)}. PyTorch: Adam "
          "(lr 1e-3, betas 0.9/0.999, eps 1e-8, no weight decay), constant rate.\n")
    if images < 60000:
        w(f"With {images:,} training images the test accuracies are those of early training and "
          "vary by a point or more with the seed: the 1-point check is meant for the full "
          "60,000-image epoch.\n")
    w("| threads | soma s/epoch | PyTorch s/epoch | soma img/s | PyTorch img/s | soma / PyTorch "
      "| soma test acc | PyTorch test acc | within 1 point | soma peak RSS | PyTorch peak RSS "
      "| soma ≤ half of PyTorch |")
    w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | ---: | ---: | :---: |")
    for t in threads:
        s_runs = runs.get(("lenet5-train", "soma", t), [])
        p_runs = runs.get(("lenet5-train", "pytorch", t), [])
        ss, ps = median(s_runs, "epoch_seconds"), median(p_runs, "epoch_seconds")
        si, pi = median(s_runs, "ips"), median(p_runs, "ips")
        sa, pa = median(s_runs, "test_accuracy"), median(p_runs, "test_accuracy")
        sm, pm = median(s_runs, "rss_mib"), median(p_runs, "rss_mib")
        within = ("yes" if abs(sa - pa) <= 0.01 else "**no**") if sa and pa else "—"
        half = ("yes" if sm <= pm / 2 else "**no**") if sm and pm else "—"
        ratio = f"{si / pi:.2f}" if si and pi else "—"
        w(f"| {t} | {fmt(ss, 2)} | {fmt(ps, 2)} | {fmt_rate(si)} | {fmt_rate(pi)} | {ratio} | "
          f"{fmt(sa and 100 * sa, 2, '%')} | {fmt(pa and 100 * pa, 2, '%')} | {within} | "
          f"{fmt(sm, 0, ' MiB')} | {fmt(pm, 0, ' MiB')} | {half} |")
    w("")


def busy_rounds(runs, name):
    """[(rep, round, soma default img/s, soma 1-thread img/s)] of a busy
    workload's rounds, the two runs of each seconds apart."""
    rounds = []
    for k in range(1, 100):
        fw = "soma" if k == 1 else f"soma-r{k}"
        if (name, fw, 0) not in runs:
            break
        one = {r["rep"]: r.get("ips") for r in runs.get((name, fw, 1), [])}
        for r in runs[(name, fw, 0)]:
            rounds.append((r["rep"], k, r.get("ips"), one.get(r["rep"])))
    return sorted(rounds, key=lambda r: (r[0], r[1]))


def busy(w, runs):
    if not any(k[0].endswith("-busy") for k in runs):
        return
    w("## Training while another program keeps a core busy\n")
    w("One epoch of the LeNet-5 recipe above, while a shell loop pinned to the last CPU runs "
      "the whole time. *default*: no thread setting, every CPU allowed (soma's thread governor "
      "then picks how many of its threads run; PyTorch uses one per core). *1*: one thread, "
      "pinned to the first CPU. Threads running: soma's mean over the steps "
      "(summary.json `threads_running`), PyTorch's `torch.get_num_threads()`. soma runs in "
      "rounds of its default then 1 thread, a few seconds apart: the goal's ratio (default "
      "within 10% of 1 thread) is each round's, then their median; the machine's speed drifts "
      "by more than that from minute to minute, and the img/s medians are of runs minutes "
      "apart. PyTorch: once per repetition.\n")
    w("| network | soma default img/s (threads running) | soma 1 thread | PyTorch default "
      "(threads) | PyTorch 1 thread | soma default / soma 1 thread (median of rounds) | "
      "each round | soma default / PyTorch default | soma default / PyTorch's best |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, title, _ in BUSY:
        sd = [r for k, v in runs.items() if k[0] == name and k[1].startswith("soma") and
              k[2] == 0 for r in v]
        s1 = [r for k, v in runs.items() if k[0] == name and k[1].startswith("soma") and
              k[2] == 1 for r in v]
        pd, p1 = runs.get((name, "pytorch", 0), []), runs.get((name, "pytorch", 1), [])
        sdi, s1i, pdi, p1i = (median(x, "ips") for x in (sd, s1, pd, p1))
        best = max((x for x in (pdi, p1i) if x), default=None)

        def ratio(a, b):
            return f"{a / b:.2f}" if a and b else "—"
        each = [a / b for _, _, a, b in busy_rounds(runs, name) if a and b]
        w(f"| {title} | {fmt_rate(sdi)} ({fmt(median(sd, 'threads_running'), 2)}) | "
          f"{fmt_rate(s1i)} | {fmt_rate(pdi)} ({fmt(median(pd, 'threads_running'), 0)}) | "
          f"{fmt_rate(p1i)} | {fmt(statistics.median(each) if each else None, 2)} | "
          f"{', '.join(f'{x:.2f}' for x in each) or '—'} | {ratio(sdi, pdi)} | "
          f"{ratio(sdi, best)} |")
    w("")


def memory(w, runs, threads):
    """Peak RSS of the whole-AlexNet processes, soma against PyTorch."""
    whole = ("alexnet-b8-train", "alexnet-b32-train", "alexnet-infer")
    if not any((n, "soma", t) in runs for n in whole for t in threads):
        return
    w("## Peak memory of the AlexNet runs\n")
    w("Peak resident memory of the whole process (`/usr/bin/time -f %M`, median over the "
      "repetitions): the weights (61M floats, 233 MiB), their gradients and Adam's two state "
      "tensors in training, the activations of one batch, and each framework's own code and "
      "libraries.\n")
    w("| workload | batch | threads | soma peak RSS | PyTorch peak RSS | soma / PyTorch |")
    w("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, title, _, batch, _ in WORKLOADS:
        if name not in whole:
            continue
        for t in threads:
            sm = median(runs.get((name, "soma", t), []), "rss_mib")
            pm = median(runs.get((name, "pytorch", t), []), "rss_mib")
            if sm is None and pm is None:
                continue
            ratio = f"{sm / pm:.2f}" if sm and pm else "—"
            w(f"| {title} | {batch} | {t} | {fmt(sm, 0, ' MiB')} | {fmt(pm, 0, ' MiB')} | "
              f"{ratio} |")
    w("")


def distributed(w, runs):
    if not any(k[0].endswith("-dist") for k in runs):
        return
    w("## Data-parallel training (2 processes)\n")
    w("One epoch of the LeNet-5 recipe above, Fashion-MNIST (LeNet-5: the images of the "
      "LeNet-5 row; the BN CNN: the first 10,000, 1,000 with --quick), global batch 64. "
      "soma: one "
      "process with 1 and 2 threads, and `mpirun -np 2` with 1 thread per rank "
      "(docs/distributed.md); PyTorch: DistributedDataParallel, gloo backend, 2 processes "
      "with 1 thread each (bench/torch_ddp.py). The 2-process runs and the 2-thread run are "
      "pinned to the same 2 CPUs. Goals: 2 ranks at least 1.8x 1 rank; soma at least 3x "
      "PyTorch DDP.\n")
    w("| network | soma 1x1 img/s | soma 1x2 | soma 2 ranks x 1 | PyTorch DDP 2x1 | "
      "2 ranks / 1x1 | 2 ranks / 1x2 | soma 2 ranks / DDP |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, title in DIST:
        s1 = median(runs.get((name, "soma", 1), []), "ips")
        s2 = median(runs.get((name, "soma", 2), []), "ips")
        m2 = median(runs.get((name, "soma-mpi2", 1), []), "ips")
        d2 = median(runs.get((name, "pytorch-ddp2", 1), []), "ips")

        def ratio(a, b):
            return f"{a / b:.2f}" if a and b else "—"
        w(f"| {title} | {fmt_rate(s1)} | {fmt_rate(s2)} | {fmt_rate(m2)} | {fmt_rate(d2)} | "
          f"{ratio(m2, s1)} | {ratio(m2, s2)} | {ratio(m2, d2)} |")
    w("")


def pair(w, runs):
    """Two 1-thread runs at once against one alone: what the machine gives a
    second core, the ceiling for the 2-thread speed-up."""
    if not any(k[0] == "lenet5-pair" for k in runs):
        return
    w("## How far two cores take one job on this machine\n")
    w("One epoch of the LeNet-5 recipe above with 1 thread alone (CPU 0) and one process with "
      "2 threads (the rounds of the next section, medians), then two 1-thread runs at the same "
      "time (one pinned to CPU 0, one to CPU 1). "
      "Two independent jobs share nothing in soma, so their sum over the lone run is the most "
      "any 2-thread run can gain here: the rest is lost in the machine (shared caches, memory, "
      "and on a VM the host). The goal for 2 threads is 1.85x 1 thread.\n")
    w("| network | 1 thread alone img/s | two at once: CPU 0 | CPU 1 | sum | sum / alone "
      "(ceiling) | 2 threads | 2 threads / alone | 2 threads / sum |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rounds = pair_rounds(runs)
    ones, twos = [r[3] for r in rounds if r[3]], [r[4] for r in rounds if r[4]]
    alone = statistics.median(ones) if ones else None
    two = statistics.median(twos) if twos else None
    # the sum per repetition (the two runs of one repetition ran together), then the median
    sums, each = [], {}
    for cpu in (0, 1):
        each[cpu] = {r["rep"]: r.get("ips") for r in runs.get(("lenet5-pair", f"soma-cpu{cpu}", 1), [])}
    for rep, a in each[0].items():
        b = each[1].get(rep)
        if a and b:
            sums.append(a + b)
    total = statistics.median(sums) if sums else None
    ceiling = total / alone if total and alone else None

    def ratio(a, b):
        return f"{a / b:.2f}" if a and b else "—"
    w(f"| LeNet-5 | {fmt_rate(alone)} | "
      f"{fmt_rate(median(runs.get(('lenet5-pair', 'soma-cpu0', 1), []), 'ips'))} | "
      f"{fmt_rate(median(runs.get(('lenet5-pair', 'soma-cpu1', 1), []), 'ips'))} | "
      f"{fmt_rate(total)} | {fmt(ceiling, 2)} | {fmt_rate(two)} | {ratio(two, alone)} | "
      f"{ratio(two, total)} |")
    w("")


def pair_rounds(runs):
    """[(rep, round, sgemm best GFLOP/s on CPU 0, 1-thread img/s on CPU 0,
    2-thread img/s, sgemm on CPU 1, 1-thread on CPU 1)] of the pair
    workload's rounds, each run seconds after the one before (None where a
    run is missing: CPU 1's runs came later)."""
    def by_rep(framework, threads, key):
        return {r["rep"]: r.get(key) for r in runs.get(("lenet5-pair", framework, threads), [])}
    rounds = []
    for k in range(1, 100):
        fw = "soma" if k == 1 else f"soma-r{k}"
        if ("lenet5-pair", fw, 1) not in runs:
            break
        blas = fw.replace("soma", "openblas")
        peak0, one0 = by_rep(blas, 1, "best_gflops"), by_rep(fw, 1, "ips")
        peak1, one1 = by_rep(blas + "-c1", 1, "best_gflops"), by_rep(fw + "-c1", 1, "ips")
        two = by_rep(fw, 2, "ips")
        for rep in sorted(one0):
            rounds.append((rep, k, peak0.get(rep), one0[rep], two.get(rep), peak1.get(rep),
                           one1.get(rep)))
    return sorted(rounds, key=lambda r: (r[0], r[1]))


def goals(w, runs, flop):
    """The issue's two LeNet-5 goals, each ratio from runs seconds apart."""
    rounds = pair_rounds(runs)
    if not rounds:
        return
    w("## The two LeNet-5 goals, from runs seconds apart\n")
    w("Rounds of: OpenBLAS sgemm 2048³ on 1 thread (its best call) and one epoch of the "
      "LeNet-5 recipe on 1 thread, on CPU 0 then on CPU 1, then the recipe on 2 threads. Each "
      "ratio divides runs of the same round, a few seconds apart: on this shared machine a "
      "core's speed drifts by up to 20% from minute to minute, which the medians of the tables "
      "above, taken minutes apart, do not cancel, and one core can run a third slower than "
      "the other for minutes: 2 threads run on both, so they are set against each core alone "
      "and against the mean of the two. Goals: 1 thread at or above 75% of the sgemm peak, "
      "2 threads at least 1.85x 1 thread.\n")
    w("| rep | round | sgemm CPU 0 GFLOP/s | 1 thread CPU 0 img/s | of sgemm | sgemm CPU 1 "
      "| 1 thread CPU 1 img/s | of sgemm | 2 threads img/s | 2 threads / CPU 0 "
      "| 2 threads / mean of CPUs 0, 1 |")
    w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    cols = {"share0": [], "share1": [], "vs0": [], "vsmean": []}

    def ratio(a, b, key):
        r = a / b if a and b else None
        if r:
            cols[key].append(r)
        return r

    def pct(x):
        return fmt(x * 100 if x else None, 0, "%")
    for rep, k, peak0, one0, two, peak1, one1 in rounds:
        share0 = ratio(one0 * flop / 1e9 if one0 else None, peak0, "share0")
        share1 = ratio(one1 * flop / 1e9 if one1 else None, peak1, "share1")
        vs0 = ratio(two, one0, "vs0")
        vsmean = ratio(two, (one0 + one1) / 2 if one0 and one1 else None, "vsmean")
        w(f"| {rep} | {k} | {fmt(peak0, 1)} | {fmt_rate(one0)} | {pct(share0)} | "
          f"{fmt(peak1, 1)} | {fmt_rate(one1)} | {pct(share1)} | {fmt_rate(two)} | "
          f"{fmt(vs0, 2)} | {fmt(vsmean, 2)} |")

    def spread(key, scale, digits, suffix):
        xs = cols[key]
        if not xs:
            return "—"
        return (f"{statistics.median(xs) * scale:.{digits}f}{suffix} "
                f"({min(xs) * scale:.{digits}f}{suffix} to {max(xs) * scale:.{digits}f}{suffix})")
    w(f"| median (range) | | | | {spread('share0', 100, 0, '%')} | | | "
      f"{spread('share1', 100, 0, '%')} | | {spread('vs0', 1, 2, 'x')} | "
      f"{spread('vsmean', 1, 2, 'x')} |")
    w("")


def sgemm(w, runs, threads, peak):
    if not any(k[0] == "sgemm" for k in runs):
        w("(sgemm was not run: no peak to compare with.)\n")
        return
    w("## Practical peak: OpenBLAS sgemm 2048³\n")
    w("The peak used for the shares above is the best single sgemm call of all repetitions "
      "(other work on the machine only ever lowers it); the median shows how steady it was.\n")
    w("| threads | peak GFLOP/s (best) | median GFLOP/s | kernels |")
    w("| ---: | ---: | ---: | --- |")
    for t in threads:
        rs = runs.get(("sgemm", "openblas", t), [])
        kernels = ", ".join(sorted({r.get("core", "?") for r in rs}))
        w(f"| {t} | {fmt(peak.get(t), 1)} | {fmt(median(rs, 'gflops'), 1)} | {kernels} |")
    w("")


def flops_table(w, flops):
    w("## FLOPs per image (computed from the model files by bench/cfg.py)\n")
    w("Conv layers 2·K·C·kh·kw·OH·OW, linear layers 2·in·out; training = 3× forward, less the "
      "input gradient of the first layer (never computed).\n")
    w("| workload | model file | FLOP per image, as timed |")
    w("| --- | --- | ---: |")
    for name, title, model, _, mode in WORKLOADS:
        kind = "forward" if mode == "infer" else "forward + backward"
        w(f"| {title} | models/{model} | {flops[name] / 1e6:,.2f} M ({kind}) |")
    w("")


def every_run(w, runs, runs_dir, root):
    w("## Every run\n")
    w("Images/s (GFLOP/s for sgemm) of each process, in the order they ran; peak RSS in MiB.\n")
    w("| rep | workload | threads | framework | value | peak RSS |")
    w("| ---: | --- | ---: | --- | ---: | ---: |")
    order = ["sgemm"] + [x[0] for x in WORKLOADS] + [x[0] for x in BUSY] + [x[0] for x in DIST]
    rows = sorted(((r["rep"], name, t, fw, r) for (name, fw, t), rs in runs.items() for r in rs),
                  key=lambda x: (x[0], order.index(x[1]) if x[1] in order else 99, x[2],
                                 x[3] != "soma"))
    for rep, name, t, fw, r in rows:
        value = r.get("error") or fmt(r.get("gflops") if fw.startswith("openblas")
                                      else r.get("ips"), 1)
        w(f"| {rep} | {name} | {t or 'default'} | {fw} | {value} | {fmt(r.get('rss_mib'), 0)} |")
    w("")
    w(f"Raw outputs: `{os.path.relpath(runs_dir, root)}/REP/WORKLOAD/FRAMEWORK-tTHREADS/` "
      "(stdout, stderr, command, exit status, peak RSS).")


def main():
    runs_dir, models_dir = sys.argv[1], sys.argv[2]
    runs = collect(runs_dir)
    threads = sorted({t for (name, _, t) in runs
                      if not name.endswith(("-busy", "-dist", "-pair"))})
    # the peak is a ceiling: the best sgemm call of all repetitions (noise only lowers it)
    peak = {t: max((r["best_gflops"] for r in runs.get(("sgemm", "openblas", t), [])
                    if "best_gflops" in r), default=None) for t in threads}
    flops = {}
    for name, _, model, _, mode in WORKLOADS:
        shape, layers = cfg.parse(os.path.join(models_dir, model))
        flops[name] = (cfg.forward_flops(shape, layers) if mode == "infer"
                       else cfg.training_flops(shape, layers))
    out = []
    header(out.append, runs)
    summary(out.append, runs, threads, flops, peak)
    lenet_training(out.append, runs, threads)
    busy(out.append, runs)
    memory(out.append, runs, threads)
    distributed(out.append, runs)
    pair(out.append, runs)
    goals(out.append, runs, flops["lenet5-train"])
    sgemm(out.append, runs, threads, peak)
    flops_table(out.append, flops)
    every_run(out.append, runs, runs_dir, os.path.dirname(os.path.abspath(models_dir)))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
