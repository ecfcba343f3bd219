"""PyTorch's inference speed on bp's benchmark network, beside bp's figures from the same run.

Usage: predict.py BP_RESULTS.txt FASHION_MNIST_DIR
The model and data match `bp bench predict`: 784-512-256-10, ReLU, softmax, Fashion-MNIST test
images scaled to [0, 1], batches of 1, 32, 128 and 1000 rows cycling through them, under torch.no_grad(),
2 s of warm-up then 3 s measured. PyTorch runs in a child process per thread setting (1 and 2) and
OpenBLAS setting (see train.py), and is compared in its fastest valid one.
"""
import os
import re
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import idx, openblas_is_right, pytorch_settings  # noqa: E402


# bench/run passes the same sizes to bp bench predict
BATCHES = (1, 32, 128, 1000)


def child(data_dir, batch, threads):
    import torch
    torch.set_num_threads(threads)
    if not openblas_is_right(torch):
        print("wrong")
        return
    torch.manual_seed(1)
    x = torch.from_numpy(idx(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz")).reshape(-1, 784)
                         .astype(np.float32) / 255)
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256),
                                torch.nn.ReLU(), torch.nn.Linear(256, 10), torch.nn.Softmax(dim=1)).eval()
    batches = [x[i:i + batch].contiguous() for i in range(0, len(x) - batch + 1, batch)]
    calls, sink = 0, 0.0
    with torch.no_grad():
        start = time.perf_counter()
        while time.perf_counter() - start < 2:
            sink += float(model(batches[calls % len(batches)])[0, 0])
            calls += 1
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < 3:
            sink += float(model(batches[calls % len(batches)])[0, 0])
            calls += 1
        elapsed = time.perf_counter() - start
    print(calls * batch / elapsed)


def main():
    bp = {}
    for line in open(sys.argv[1]):
        m = re.search(r"batch=(\d+) threads=\d+: ([\d.]+) us/sample, (\d+) samples/s", line)
        if m:
            bp[int(m.group(1))] = float(m.group(3))
    data_dir = sys.argv[2]
    print(f"\n{'batch':>5} {'bp':>12} {'PyTorch 1t':>12} {'PyTorch 2t':>12} {'bp/best':>8}   (samples/s; at batch 1 also µs)")
    ratios = {}
    for batch in BATCHES:
        rates = {t: pytorch_settings(__file__, [data_dir, str(batch), str(t)], t) for t in (1, 2)}
        best = max(rates.values())
        mine = bp.get(batch)
        if mine is None:
            continue
        ratios[batch] = mine / best
        note = f"   bp {1e6 / mine:.1f} µs, PyTorch {1e6 / best:.1f} µs" if batch == 1 else ""
        print(f"{batch:5} {mine:12.0f} {rates[1]:12.0f} {rates[2]:12.0f} {mine / best:8.2f}{note}")
    print()
    for batch in BATCHES:
        if batch in ratios:
            print(f"predict ratio bp/pytorch batch={batch}: {ratios[batch]:.2f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
