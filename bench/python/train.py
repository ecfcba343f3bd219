"""PyTorch's training throughput on bp's benchmark task, beside bp's figures from the same run.

Usage: train.py BP_RESULTS.txt FASHION_MNIST_DIR
The model, data, optimizer and batch match `bp bench train`: 784-512-256-10, ReLU, softmax
cross-entropy, SGD (lr 0.01), Fashion-MNIST training images scaled to [0, 1], a new random order
every epoch, one warm-up epoch, then the median of three measured epochs. PyTorch runs in a child
process per thread setting (its thread pools are fixed at start) with OMP/OpenBLAS/MKL threads set
and OMP_WAIT_POLICY=PASSIVE, and is compared in its fastest setting.
"""
import gzip
import os
import re
import subprocess
import sys
import time

import numpy as np


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def child(data_dir, batch, threads, samples):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    x = torch.from_numpy(idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz")).reshape(-1, 784)[:samples]
                         .astype(np.float32) / 255)
    y = torch.from_numpy(idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"))[:samples].astype(np.int64))
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256),
                                torch.nn.ReLU(), torch.nn.Linear(256, 10))
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    rates = []
    for epoch in range(4):
        order = torch.randperm(samples)
        start = time.perf_counter()
        for i in range(0, samples, batch):
            j = order[i:i + batch]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x[j]), y[j]).backward()
            opt.step()
        rates.append(samples / (time.perf_counter() - start))
    print(sorted(rates[1:])[1])


def pytorch(data_dir, batch, threads, samples):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE")
    out = subprocess.run([sys.executable, __file__, "--child", data_dir, str(batch), str(threads), str(samples)],
                         env=env, check=True, capture_output=True, text=True).stdout
    return float(out.split()[-1])


def main():
    bp = {}
    for line in open(sys.argv[1]):
        m = re.search(r"batch=(\d+) threads=(\d+) .*?: (\d+) samples/s", line)
        if m:
            bp[(int(m.group(1)), int(m.group(2)))] = float(m.group(3))
    data_dir = sys.argv[2]
    import torch
    # Debian's torch is built with BLAS_INFO=generic and links libblas.so.3, which the alternatives
    # system points at OpenBLAS when libopenblas0-pthread is installed.
    blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    print(f"\nPyTorch {torch.__version__}, BLAS: {blas}")
    print(f"{'batch':>5} {'threads':>7} {'bp':>10} {'PyTorch 1t':>11} {'PyTorch 2t':>11} {'bp/best':>8}   (samples/s)")
    summary = None
    for batch in (128, 32, 1):
        samples = 6000 if batch == 1 else 60000
        torch_rates = {t: pytorch(data_dir, batch, t, samples) for t in (1, 2)}
        best = max(torch_rates.values())
        for threads in (1, 2):
            mine = bp.get((batch, threads))
            if mine is None:
                continue
            print(f"{batch:5} {threads:7} {mine:10.0f} {torch_rates[1]:11.0f} {torch_rates[2]:11.0f} {mine / best:8.2f}")
            if batch == 128 and threads == 2:
                summary = mine / best
        if (batch, 1) in bp and (batch, 2) in bp:
            print(f"{'':5} bp 2-thread speed-up {bp[(batch, 2)] / bp[(batch, 1)]:.2f}×")
    if summary is not None:
        print(f"\ntrain ratio bp/pytorch threads=2 batch=128: {summary:.2f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
