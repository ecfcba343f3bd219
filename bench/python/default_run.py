"""PyTorch running bp's default command's recipe end to end, beside bp's own run from the same bench.

Usage: default_run.py BP_SECONDS BP_ACCURACY FASHION_MNIST_DIR
The recipe of `tools/bp train`: Fashion-MNIST read from its gzip IDX files, 784-512-256-10 ReLU with
softmax cross-entropy, Adam (lr 1e-3) with a cosine schedule stepped per epoch over 15 epochs,
batch 128 in a new random order every epoch, the test set evaluated after every epoch. The time
runs from process start (interpreter and torch import included, as the JVM's start is for bp) to
the final accuracy. PyTorch runs on 1 and 2 threads and in each OpenBLAS setting (see train.py),
and is compared in its fastest valid one.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def child(data_dir, threads):
    import numpy as np
    import torch
    from train import idx, openblas_is_right
    torch.set_num_threads(threads)
    if not openblas_is_right(torch):
        print("wrong")
        return
    torch.manual_seed(1)

    def load(prefix):
        x = idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz")).reshape(-1, 784).astype(np.float32) / 255
        y = idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz")).astype(np.int64)
        return torch.from_numpy(x), torch.from_numpy(y)

    x, y = load("train")
    tx, ty = load("t10k")
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256),
                                torch.nn.ReLU(), torch.nn.Linear(256, 10))
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    epochs = 15
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    accuracy = 0.0
    for epoch in range(epochs):
        order = torch.randperm(len(x))
        for i in range(0, len(x), 128):
            j = order[i:i + 128]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x[j]), y[j]).backward()
            opt.step()
        schedule.step()
        with torch.no_grad():
            accuracy = float((model(tx).argmax(1) == ty).float().mean())
    print(accuracy)


def run(data_dir, threads, unset):
    import subprocess
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               OMP_WAIT_POLICY="PASSIVE")
    start = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--child", data_dir, str(threads)], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    seconds = time.perf_counter() - start
    return None if not out or out[-1] == "wrong" else (seconds, float(out[-1]))


def main():
    bp_seconds, bp_accuracy, data_dir = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    runs = {}
    for threads in (1, 2):
        for unset in ((), ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")):
            if unset and not any(v in os.environ for v in unset):
                continue
            r = run(data_dir, threads, unset)
            if r is not None:
                runs[(threads, "env" if not unset else "native")] = r
    print(f"\nThe default command end to end (process start to final accuracy)")
    print(f"{'run':28} {'seconds':>8} {'test accuracy':>14}")
    print(f"{'bp train':28} {bp_seconds:8.1f} {100 * bp_accuracy:13.2f}%")
    for (threads, blas), (seconds, accuracy) in sorted(runs.items()):
        print(f"{f'PyTorch {threads}t, OpenBLAS {blas}':28} {seconds:8.1f} {100 * accuracy:13.2f}%")
    best = min(seconds for seconds, _ in runs.values())
    print(f"\ndefault run ratio bp/pytorch wall: {bp_seconds / best:.2f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
    else:
        main()
