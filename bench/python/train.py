"""PyTorch's training throughput on bp's benchmark task, beside bp's figures from the same run.

Usage: train.py --measure ROUND BATCH SAMPLES FASHION_MNIST_DIR   (PyTorch's figures on 1 and 2 threads)
       train.py BP_RESULTS.txt PYTORCH_RESULTS.txt [PEAK_GFLOPS_2_THREADS]   (the table and ratio lines)
bench/run train runs bp and PyTorch in rounds, each batch size bp then PyTorch, and the report
takes the median over rounds of each ratio.

The model, data, optimizer and batch match `bp bench train`: 784-512-256-10, ReLU, softmax
cross-entropy, SGD (lr 0.01), Fashion-MNIST training images scaled to [0, 1], a new random order
every epoch, warm-up epochs (whole epochs until 3000 steps have run, at least one: bp's JIT goes on
compiling the trainer for a few thousand steps, see BenchCommand.WARMUP_STEPS), then the median of
three measured epochs. PyTorch runs in a child
process per thread setting (its thread pools are fixed at start) with OMP/OpenBLAS/MKL threads set
and OMP_WAIT_POLICY=PASSIVE, and is compared in its fastest setting.

OpenBLAS's kernel: some machines of this kind set OPENBLAS_CORETYPE (e.g. Haswell, AVX2) because old
OpenBLAS builds misdetect their processor. PyTorch is measured both with the environment as it is
and with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset (OpenBLAS then picks its own kernel, e.g. the
AVX-512 Cooperlake one on Zen 4/5); a setting counts only if its matrix product agrees with a
float64 one, and the faster valid setting is the one compared with.
"""
import gzip
import os
import re
import subprocess
import sys
import time

import numpy as np


# One training sample of 784-512-256-10: forward, weight gradients, and the input gradients of layers 2 and 3.
FLOP_PER_SAMPLE = 2 * (784 * 512 + 512 * 256 + 256 * 10) * 2 + 2 * (512 * 256 + 256 * 10)


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def openblas_is_right(torch):
    """Whether PyTorch's matrix product (OpenBLAS, with this process's OPENBLAS_CORETYPE) is right here."""
    a, b = np.random.default_rng(3).uniform(-1, 1, (2, 256, 256))
    got = torch.mm(torch.from_numpy(a.astype(np.float32)), torch.from_numpy(b.astype(np.float32))).numpy()
    return np.abs(got - a @ b).max() < 1e-3


def child(data_dir, batch, threads, samples):
    import torch
    torch.set_num_threads(threads)
    if not openblas_is_right(torch):
        print("wrong")
        return
    torch.manual_seed(1)
    x = torch.from_numpy(idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz")).reshape(-1, 784)[:samples]
                         .astype(np.float32) / 255)
    y = torch.from_numpy(idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"))[:samples].astype(np.int64))
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256),
                                torch.nn.ReLU(), torch.nn.Linear(256, 10))
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    rates = []
    warmup = warmup_epochs(samples, batch)
    for epoch in range(warmup + 3):
        order = torch.randperm(samples)
        start = time.perf_counter()
        for i in range(0, samples, batch):
            j = order[i:i + batch]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x[j]), y[j]).backward()
            opt.step()
        rates.append(samples / (time.perf_counter() - start))
    print(sorted(rates[warmup:])[1])


def warmup_epochs(samples, batch):
    """Whole epochs until 3000 steps have run, at least one: as `bp bench train` (BenchCommand.warmupEpochs)."""
    steps = -(-samples // batch)
    return max(1, -(-3000 // steps))


def pytorch_settings(script, args, threads):
    """The figure that `script --child ARGS` prints in PyTorch's fastest valid OpenBLAS setting (see above)."""
    best = 0.0
    for unset in ((), ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")):
        if unset and not any(v in os.environ for v in unset):
            continue
        env = {k: v for k, v in os.environ.items() if k not in unset}
        env.update(OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
                   MKL_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE")
        out = subprocess.run([sys.executable, script, "--child", *args], env=env, check=True,
                             capture_output=True, text=True).stdout.split()
        if out and out[-1] != "wrong":
            best = max(best, float(out[-1]))
    return best


def pytorch(data_dir, batch, threads, samples):
    return pytorch_settings(__file__, [data_dir, str(batch), str(threads), str(samples)], threads)


def parse(path, pattern):
    """{(round, batch, threads): samples/s} from the lines of path that match pattern."""
    rates = {}
    for line in open(path):
        m = re.search(pattern, line)
        if m:
            rates[(int(m.group(1)), int(m.group(2)), int(m.group(3)))] = float(m.group(4))
    return rates


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def report(bp_path, torch_path, peak):
    """The table and the ratio lines. Every ratio is the median over rounds of a ratio of figures
    measured minutes apart in the same round, so that the machine's drift (its speed varies by
    a quarter from one minute to the next on these VMs) cancels instead of deciding the ratio."""
    bp = parse(bp_path, r"round (\d+): bp train .*?batch=(\d+) threads=(\d+) .*?: (\d+) samples/s")
    torch_rates = parse(torch_path, r"round=(\d+) batch=(\d+) threads=(\d+): ([\d.]+) samples/s")
    rounds = sorted({r for r, _, _ in bp})
    import torch
    # Debian's torch is built with BLAS_INFO=generic and links libblas.so.3, which the alternatives
    # system points at OpenBLAS when libopenblas0-pthread is installed.
    blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    print(f"\nPyTorch {torch.__version__}, BLAS: {blas}; medians of {len(rounds)} rounds, each measuring bp and "
          f"PyTorch one after the other")
    print(f"{'batch':>5} {'threads':>7} {'bp':>10} {'PyTorch 1t':>11} {'PyTorch 2t':>11} {'bp/best':>8}   (samples/s)")
    pairs = {}  # batch -> round -> two independent one-thread runs at once, against one alone
    for line in open(bp_path):
        m = re.search(r"round (\d+): bp pair batch=(\d+) threads=1\+1: (\d+) \+ (\d+) samples/s", line)
        if m and (int(m.group(1)), int(m.group(2)), 1) in bp:
            round_, batch = int(m.group(1)), int(m.group(2))
            pairs.setdefault(batch, {})[round_] = (int(m.group(3)) + int(m.group(4))) / bp[(round_, batch, 1)]
    ratios, scaling = {}, {}
    for batch in (128, 32, 1):
        best = {r: max(torch_rates.get((r, batch, t), 0) for t in (1, 2)) for r in rounds}
        for threads in (1, 2):
            per_round = [bp[(r, batch, threads)] / best[r] for r in rounds if (r, batch, threads) in bp and best[r] > 0]
            if not per_round:
                continue
            ratios[(batch, threads)] = median(per_round)
            print(f"{batch:5} {threads:7} {median([bp[(r, batch, threads)] for r in rounds if (r, batch, threads) in bp]):10.0f} "
                  f"{median([torch_rates.get((r, batch, 1), 0) for r in rounds]):11.0f} "
                  f"{median([torch_rates.get((r, batch, 2), 0) for r in rounds]):11.0f} {ratios[(batch, threads)]:8.2f}")
        per_round = [bp[(r, batch, 2)] / bp[(r, batch, 1)] for r in rounds if (r, batch, 1) in bp and (r, batch, 2) in bp]
        if per_round:
            scaling[batch] = median(per_round)
            print(f"{'':5} bp 2-thread speed-up {scaling[batch]:.2f}× (per round: "
                  f"{', '.join(f'{x:.2f}' for x in per_round)})")
        pair = pairs.get(batch)
        if pair:
            print(f"{'':5} two one-thread runs at once: {median(list(pair.values())):.2f}× one alone (per round: "
                  f"{', '.join(f'{pair[r]:.2f}' for r in sorted(pair))}), the ceiling of the speed-up this hour")
    print()
    for batch, threads in ((128, 2), (32, 2), (128, 1), (1, 1)):
        if (batch, threads) in ratios:
            print(f"train ratio bp/pytorch threads={threads} batch={batch}: {ratios[(batch, threads)]:.2f}")
    for batch in (128, 32, 1):
        if batch in scaling:
            print(f"train scaling batch={batch}: {scaling[batch]:.2f}")
    for batch in (128, 32):
        if batch in pairs:
            print(f"train scaling ceiling batch={batch}: {median(list(pairs[batch].values())):.2f}")
    fast = [bp[(r, 128, 2)] for r in rounds if (r, 128, 2) in bp]
    if peak and fast:
        gflops = median(fast) * FLOP_PER_SAMPLE / 1e9
        print(f"train efficiency threads=2 batch=128: {100 * gflops / peak:.0f}% of peak "
              f"({gflops:.0f} of {peak:.0f} GFLOP/s)")


if __name__ == "__main__":
    if sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif sys.argv[1] == "--measure":
        # --measure ROUND BATCH SAMPLES FASHION_MNIST_DIR: PyTorch on 1 and 2 threads, one line each
        round_, batch, samples, data_dir = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
        for threads in (1, 2):
            rate = pytorch(data_dir, batch, threads, samples)
            print(f"pytorch round={round_} batch={batch} threads={threads}: {rate:.0f} samples/s", flush=True)
    else:
        report(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else None)
