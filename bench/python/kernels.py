"""bp's GEMM kernels beside OpenBLAS sgemm on the same shapes, single-threaded, shape by shape.

Usage: kernels.py RESULT_DIR ELEMENTWISE_JSON -- JMH_COMMAND... (run by bench/run kernels with
OPENBLAS_NUM_THREADS=1). For each shape it runs bp's JMH benchmark (JMH_COMMAND plus the shape's
parameters: one fork per implementation) between two measurements of OpenBLAS on the same shape,
seconds apart: these VMs drift by a quarter from one minute to the next, and a ratio of figures
measured minutes apart measured the drift (one full run put dw1 at 0.69 where runs of that shape
alone gave 1.0). Both sides are best figures: bp's fastest of its JMH iterations, OpenBLAS's
fastest of its timing windows before and after. OpenBLAS is called through CBLAS with exactly
bp's operations: C = A·Bᵀ (forward, without the bias, which bp also adds), C = A·B (Δ·W) and
C += Aᵀ·B (Δᵀ·A, beta = 1).
"""
import ctypes
import glob
import json
import os
import subprocess
import statistics
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


SHAPES = ["fwd1", "fwd2", "fwd3", "dx2", "dx3", "dw1", "dw2", "dw3"]


def jmh_gemm(command, out, shape, rows):
    """Runs bp's GemmBench for one shape (vector and scalar) and returns its JMH results."""
    path = os.path.join(out, f"gemm-{shape}-{rows}.json")
    with open(os.path.join(out, "kernels.log"), "a") as log:
        subprocess.run(command + ["GemmBench", "-p", f"shape={shape}", "-p", f"rows={rows}",
                                  "-rf", "json", "-rff", path], stdout=log, stderr=subprocess.STDOUT, check=True)
    return json.load(open(path))


def best_us(result):
    """The fastest iteration of a JMH result, in its unit (µs/op)."""
    return min(v for fork in result["primaryMetric"]["rawData"] for v in fork)


def allocation(results):
    """gc.alloc.rate.norm of each vector-kernel result (JMH -prof gc), by a readable name: the median
    of the measured iterations, since a kernel's last JIT compile can still fall into the first one
    (dw1 at 128 rows: 463 KB/op in iteration 1 while C2 compiled stridedGemm, 14 B/op after)."""
    found = {}
    for r in results:
        params = r.get("params", {})
        gc = r.get("secondaryMetrics", {}).get("gc.alloc.rate.norm")
        if gc is not None and params.get("impl") == "vector":
            name = r["benchmark"].rsplit(".", 1)[-1]
            per_iteration = [x for fork in gc.get("rawData", []) for x in fork] or [gc["score"]]
            found[name + " " + " ".join(f"{k}={v}" for k, v in sorted(params.items()))] = statistics.median(per_iteration)
    return found


def main():
    out, elementwise_json = sys.argv[1], sys.argv[2]
    command = sys.argv[sys.argv.index("--") + 1:]
    lib, path = load_openblas()
    open(os.path.join(out, "kernels.log"), "w").close()
    print(f"\nGEMM, single thread, GFLOP/s (2·m·n·k per call); OpenBLAS: {path}")
    print("bp: the fastest of its JMH iterations; OpenBLAS: the fastest of its timings just before and just after")
    print(f"{'shape':6} {'rows':>4} {'m×n×k':>14} {'scalar':>8} {'vector':>8} {'OpenBLAS':>9} {'bp/OpenBLAS':>12}",
          flush=True)
    ratios, allocated = [], {}
    for shape in SHAPES:
        for rows in (32, 64, 128):
            before = openblas_us(lib, shape, rows)
            results = jmh_gemm(command, out, shape, rows)
            after = openblas_us(lib, shape, rows)
            allocated.update(allocation(results))
            us = {r["params"]["impl"]: best_us(r) for r in results}
            m, n, k = dims(shape, rows)
            gf = lambda t: 2.0 * m * n * k / t / 1e3
            vec = gf(us["vector"])
            sca = gf(us["scalar"]) if "scalar" in us else float("nan")
            blas = gf(min(before, after))
            ratios.append(vec / blas)
            print(f"{shape:6} {rows:4} {f'{m}×{n}×{k}':>14} {sca:8.1f} {vec:8.1f} {blas:9.1f} {vec / blas:12.2f}",
                  flush=True)
    elementwise = {}
    results = json.load(open(elementwise_json))
    allocated.update(allocation(results))
    for r in results:
        elementwise[(r["benchmark"].rsplit(".", 1)[-1], r["params"]["impl"])] = r["primaryMetric"]["score"]
    if elementwise:
        print("\nElementwise, single thread, GB/s (bytes read + written)")
        print(f"{'kernel':14} {'scalar':>8} {'vector':>8} {'speed-up':>9}")
        for kernel, nbytes in ELEMENTWISE_BYTES.items():
            if (kernel, "vector") in elementwise:
                v = nbytes / elementwise[(kernel, "vector")] / 1e3
                s = nbytes / elementwise[(kernel, "scalar")] / 1e3
                print(f"{kernel:14} {s:8.1f} {v:8.1f} {v / s:9.1f}")
    if allocated:
        worst = max(allocated, key=allocated.get)
        print(f"\nallocation per call (JMH -prof gc), vector kernels: at most {allocated[worst]:.1f} B/op ({worst})")
    print(f"\ngemm ratio bp/openblas min={min(ratios):.2f}")


if __name__ == "__main__":
    main()
