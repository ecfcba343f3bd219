"""bp's JMH kernel results beside OpenBLAS sgemm on the same shapes, single-threaded.

Usage: kernels.py JMH_RESULT.json (run by bench/run kernels with OPENBLAS_NUM_THREADS=1).
OpenBLAS is called through CBLAS with exactly bp's operations: C = A·Bᵀ (forward, without the
bias, which bp also adds), C = A·B (Δ·W) and C += Aᵀ·B (Δᵀ·A, beta = 1).
"""
import ctypes
import glob
import json
import sys
import time

import numpy as np

SIZES = [784, 512, 256, 10]
ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112


def load_openblas():
    for path in (glob.glob("/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas*.so*")
                 + glob.glob("/usr/lib/*/libopenblas*.so*")):
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_set_num_threads(1)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            check(lib)
            return lib, f"{path} ({lib.openblas_get_corename().decode()} kernels)"
        except OSError:
            continue
    sys.exit("bench: no libopenblas found; apt-get install libopenblas0-pthread")


def check(lib):
    """Exits with status 3 when OpenBLAS's sgemm is wrong here (an old build misdetecting the processor)."""
    rng = np.random.default_rng(2)
    a, b = rng.uniform(-1, 1, (2, 200, 300)).astype(np.float32)
    c = np.zeros((200, 200), np.float32)
    p = lambda x: x.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
    lib.cblas_sgemm(ROW_MAJOR, NO_TRANS, TRANS, 200, 200, 300, ctypes.c_float(1), p(a), 300, p(b), 300,
                    ctypes.c_float(0), p(c), 200)
    if np.abs(c - a.astype(np.float64) @ b.T.astype(np.float64)).max() > 1e-3:
        sys.exit(3)


def dims(shape, rows):
    layer = int(shape[-1])
    fan_in, units = SIZES[layer - 1], SIZES[layer]
    return {"fwd": (rows, units, fan_in), "dx": (rows, fan_in, units), "dw": (units, fan_in, rows)}[shape[:-1]]


def openblas_us(lib, shape, rows):
    m, n, k = dims(shape, rows)
    rng = np.random.default_rng(1)
    f = ctypes.c_float
    p = lambda a: a.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
    c = np.zeros((m, n), np.float32)
    if shape.startswith("fwd"):      # C[m×n] = A[m×k]·B[n×k]ᵀ
        a, b = rng.uniform(-1, 1, (m, k)).astype(np.float32), rng.uniform(-1, 1, (n, k)).astype(np.float32)
        call = lambda: lib.cblas_sgemm(ROW_MAJOR, NO_TRANS, TRANS, m, n, k, f(1), p(a), k, p(b), k, f(0), p(c), n)
    elif shape.startswith("dx"):     # C[m×n] = A[m×k]·B[k×n]
        a, b = rng.uniform(-1, 1, (m, k)).astype(np.float32), rng.uniform(-1, 1, (k, n)).astype(np.float32)
        call = lambda: lib.cblas_sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, m, n, k, f(1), p(a), k, p(b), n, f(0), p(c), n)
    else:                            # C[m×n] += A[k×m]ᵀ·B[k×n]
        a, b = rng.uniform(-1, 1, (k, m)).astype(np.float32), rng.uniform(-1, 1, (k, n)).astype(np.float32)
        call = lambda: lib.cblas_sgemm(ROW_MAJOR, TRANS, NO_TRANS, m, n, k, f(1), p(a), m, p(b), n, f(1), p(c), n)
    for _ in range(20):
        call()
    best = float("inf")
    for _ in range(5):
        reps, start = 0, time.perf_counter()
        while time.perf_counter() - start < 0.3:
            call()
            reps += 1
        best = min(best, (time.perf_counter() - start) / reps)
    return best * 1e6


ELEMENTWISE_BYTES = {  # bytes read + written per call
    "relu": 2 * 4 * 128 * 512, "reluBackward": 3 * 4 * 128 * 512, "sigmoid": 2 * 4 * 128 * 512,
    "tanh": 2 * 4 * 128 * 512, "softmax": 2 * 4 * 128 * 512,
    "sgdStep": 3 * 4 * 535818, "adamStep": 7 * 4 * 535818,
}


def main():
    results = json.load(open(sys.argv[1]))
    lib, path = load_openblas()
    gemm, elementwise, allocation = {}, {}, {}
    for r in results:
        name = r["benchmark"].rsplit(".", 2)
        params = r.get("params", {})
        us = r["primaryMetric"]["score"]
        gc = r.get("secondaryMetrics", {}).get("gc.alloc.rate.norm")
        if gc is not None and params.get("impl") == "vector":
            allocation[name[-1] + " " + " ".join(f"{k}={v}" for k, v in sorted(params.items()))] = gc["score"]
        if name[-2] == "GemmBench":
            gemm[(params["shape"], int(params["rows"]), params["impl"])] = us
        else:
            elementwise[(name[-1], params["impl"])] = us
    print(f"\nGEMM, single thread, GFLOP/s (2·m·n·k per call); OpenBLAS: {path}")
    print(f"{'shape':6} {'rows':>4} {'m×n×k':>14} {'scalar':>8} {'vector':>8} {'OpenBLAS':>9} {'bp/OpenBLAS':>12}")
    ratios = []
    for shape in ["fwd1", "fwd2", "fwd3", "dx2", "dx3", "dw1", "dw2", "dw3"]:
        for rows in (32, 64, 128):
            if (shape, rows, "vector") not in gemm:
                continue
            m, n, k = dims(shape, rows)
            flop = 2.0 * m * n * k
            gf = lambda us: flop / us / 1e3
            vec = gf(gemm[(shape, rows, "vector")])
            sca = gf(gemm[(shape, rows, "scalar")]) if (shape, rows, "scalar") in gemm else float("nan")
            blas = gf(openblas_us(lib, shape, rows))
            ratios.append(vec / blas)
            print(f"{shape:6} {rows:4} {f'{m}×{n}×{k}':>14} {sca:8.1f} {vec:8.1f} {blas:9.1f} {vec / blas:12.2f}")
    if elementwise:
        print("\nElementwise, single thread, GB/s (bytes read + written)")
        print(f"{'kernel':14} {'scalar':>8} {'vector':>8} {'speed-up':>9}")
        for kernel, nbytes in ELEMENTWISE_BYTES.items():
            if (kernel, "vector") in elementwise:
                v = nbytes / elementwise[(kernel, "vector")] / 1e3
                s = nbytes / elementwise[(kernel, "scalar")] / 1e3
                print(f"{kernel:14} {s:8.1f} {v:8.1f} {v / s:9.1f}")
    if allocation:
        worst = max(allocation, key=allocation.get)
        print(f"\nallocation per call (JMH -prof gc), vector kernels: at most {allocation[worst]:.1f} B/op ({worst})")
    print(f"\ngemm ratio bp/openblas min={min(ratios):.2f}")


if __name__ == "__main__":
    main()
