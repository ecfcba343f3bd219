"""bp's ONNX export and import, checked against ONNX's own checker, ONNX Runtime and PyTorch.

Usage: check.py BP DATA_DIR WORK_DIR   (run by tools/onnx-check; BP is the bp command)

1. Export: for every activation (maxout and PReLU included), a sigmoid and an identity output, an
   input scaling (--normalize: Sub and Div before the first Gemm) and a Fashion-MNIST model, `bp export` writes a file that onnx.checker accepts with full_check, ONNX
   Runtime's outputs equal `bp predict`'s to 1e-5 on 100 rows, and `bp import` gives back the
   model file byte for byte. The Fashion-MNIST export also runs in ONNX Runtime for Java, through
   the README's example (examples/onnxruntime-java/Serve.java, command in $BP_ORT_JAVA).
2. Import: networks built and exported by PyTorch (Gemm and MatMul+Add forms, with and without a
   leading Flatten, opsets 13 and 17) are read by `bp import`, and `bp predict` gives PyTorch's
   outputs to 1e-5; a PyTorch-trained model keeps its accuracy in `bp eval` and trains on with
   `bp train --init-from`.
3. Refusals: a convolution and a truncated file fail with one line naming the problem and write
   nothing.
"""
import gzip
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch

BP, DATA, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
TOLERANCE = 1e-5
failures = []


def bp(*args, expect=0):
    r = subprocess.run([BP, *map(str, args)], capture_output=True, text=True)
    if r.returncode != expect:
        raise SystemExit(f"onnx-check: bp {' '.join(map(str, args))} exited {r.returncode}, expected {expect}:\n"
                         f"{r.stdout}{r.stderr}")
    return r


def path(name):
    return os.path.join(WORK, name)


def write_rows(name, x):
    with open(path(name), "w") as f:
        for row in x:
            f.write(",".join(repr(float(v)) for v in row) + "\n")
    return path(name)


def bp_predict(model, rows):
    out = bp("predict", "--model", model, "--input", rows).stdout.strip().splitlines()
    header = out[0].split(",")
    values = np.array([[float(v) for v in line.split(",")] for line in out[1:]], dtype=np.float64)
    return values[:, 1:] if header[0] == "class" else values


def compare(what, expected, actual):
    expected = np.asarray(expected, dtype=np.float64)
    if expected.shape != actual.shape:
        failures.append(f"{what}: shape {actual.shape}, expected {expected.shape}")
        return
    error = np.max(np.abs(actual - expected) / np.maximum(1.0, np.abs(expected)))
    status = "ok" if error <= TOLERANCE else "FAILED"
    print(f"  {what}: max error {error:.2e} {status}")
    if error > TOLERANCE:
        failures.append(f"{what}: max error {error:.2e} > {TOLERANCE}")


def digits():
    with gzip.open(os.path.join(DATA, "digits", "digits.csv.gz"), "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float32)
    return table[:, :64] / 16, table[:, 64].astype(np.int64)


def fashion_rows(n):
    with gzip.open(os.path.join(DATA, "fashion-mnist", "t10k-images-idx3-ubyte.gz"), "rb") as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784)
    return images[:n].astype(np.float32) / 255


def run_onnx(file, x):
    session = ort.InferenceSession(file, providers=["CPUExecutionProvider"])
    return session.run(["output"], {"input": x})[0]


def check_export(name, rows_file, rows, train_args):
    model, exported, back = path(name + ".safetensors"), path(name + ".onnx"), path(name + ".back.safetensors")
    bp("train", *train_args, "--epochs", 1, "--quiet", "--out", model)
    bp("export", "--model", model, "--out", exported)
    onnx.checker.check_model(onnx.load(exported), full_check=True)
    compare(f"export {name}: ONNX Runtime vs bp predict", run_onnx(exported, rows), bp_predict(model, rows_file))
    bp("import", "--onnx", exported, "--out", back)
    with open(model, "rb") as a, open(back, "rb") as b:
        same = a.read() == b.read()
    print(f"  export {name}: import gives back the same file: {'ok' if same else 'FAILED'}")
    if not same:
        failures.append(f"export {name}: bp import of the export differs from the model file")


def check_java_serving(exported, rows_file, model):
    """The README's Java example (examples/onnxruntime-java/Serve.java) on ONNX Runtime for Java."""
    r = subprocess.run(os.environ["BP_ORT_JAVA"].split() + [exported, rows_file], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"onnx-check: Serve.java exited {r.returncode}:\n{r.stdout}{r.stderr}")
    outputs = np.array([[float(v) for v in line.split(",")] for line in r.stdout.strip().splitlines()])
    compare("export fashion-mnist: ONNX Runtime for Java (Serve.java) vs bp predict", bp_predict(model, rows_file),
            outputs)


class Maxout(torch.nn.Module):
    def __init__(self, pieces, units):
        super().__init__()
        self.pieces, self.units = pieces, units

    def forward(self, z):
        return z.view(-1, self.pieces, self.units).amax(dim=1)


class MatMulLinear(torch.nn.Module):
    """A dense layer written as x @ W + b, which torch exports as MatMul then Add."""

    def __init__(self, inputs, units, bias=True):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(inputs, units) / inputs ** 0.5)
        self.b = torch.nn.Parameter(torch.randn(units) * 0.1) if bias else None

    def forward(self, x):
        y = torch.matmul(x, self.w)
        return y + self.b if self.b is not None else y


def torch_export(module, example, file, opset):
    torch.onnx.export(module.eval(), example, file, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}}, opset_version=opset)


def check_import(name, module, rows_file, rows, shape, opset):
    file, model = path(name + ".torch.onnx"), path(name + ".imported.safetensors")
    x = torch.from_numpy(rows).reshape(shape)
    torch_export(module, x[:1], file, opset)
    ops = [n.op_type for n in onnx.load(file).graph.node]
    bp("import", "--onnx", file, "--out", model)
    with torch.no_grad():
        expected = module(x).numpy()
    compare(f"import {name} (opset {opset}: {' '.join(ops)}): bp predict vs PyTorch", expected,
            bp_predict(model, rows_file))


def check_training_continues(rows_file):
    """A model trained in PyTorch keeps its accuracy in bp and trains on there."""
    x, y = digits()
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10),
                                torch.nn.Softmax(dim=1))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(30):
        optimizer.zero_grad()
        torch.nn.functional.nll_loss(torch.log(model(xt)), yt).backward()
        optimizer.step()
    file, imported = path("trained.torch.onnx"), path("trained.safetensors")
    torch_export(model, xt[:1], file, 17)
    bp("import", "--onnx", file, "--out", imported)
    with torch.no_grad():
        torch_accuracy = float((model(xt).argmax(1) == yt).float().mean())
    evaluated = bp("eval", "--model", imported, "--data", "digits").stdout
    accuracy = float(evaluated.split("accuracy")[1].split("%")[0].strip(" :=")) / 100
    continued = bp("train", "--data", "digits", "--init-from", imported, "--epochs", 3, "--quiet").stdout
    final = float(continued.split("test accuracy")[1].split("%")[0]) / 100
    print(f"  PyTorch-trained 64-32:tanh-10: torch accuracy {torch_accuracy:.3f} (all rows), bp eval {accuracy:.3f} "
          f"(test rows), after 3 more epochs in bp {final:.3f}")
    if not (torch_accuracy > 0.8 and accuracy > 0.8 and final > 0.85):
        failures.append(f"training continued from PyTorch: accuracies {torch_accuracy:.3f} (torch), {accuracy:.3f} "
                        f"(bp eval), {final:.3f} (bp train --init-from), expected > 0.8, > 0.8, > 0.85")


def check_refused(name, file, needle):
    out = path(name + ".refused.safetensors")
    r = bp("import", "--onnx", file, "--out", out, expect=1)
    # the JVM's own notice about the incubating Vector API module is not bp's message
    message = "\n".join(line for line in r.stderr.strip().splitlines() if not line.startswith("WARNING: Using incubator"))
    good = needle in message and "\n" not in message and not os.path.exists(out)
    print(f"  refuses {name}: {message} {'ok' if good else 'FAILED'}")
    if not good:
        failures.append(f"refusal of {name}: expected one line naming {needle!r} and no output, got {message!r}")


def main():
    os.makedirs(WORK, exist_ok=True)
    x, _ = digits()
    rows = x[:100].copy()
    rows_file = write_rows("digits-rows.csv", rows)

    print("onnx-check: bp export, against onnx.checker and ONNX Runtime", onnx.__version__, ort.__version__)
    for act in ["sigmoid", "tanh", "relu", "leaky_relu:0.2", "elu:0.5", "prelu:0.1", "softplus", "identity",
                "maxout:3"]:
        check_export(act.replace(":", "-"), rows_file, rows, ["--data", "digits", "--layers", f"64,24:{act},10"])
    check_export("sigmoid-output", rows_file, rows,
                 ["--data", "digits", "--layers", "64,16:tanh,10:sigmoid", "--loss", "bce"])
    check_export("identity-output", rows_file, rows,
                 ["--data", "digits", "--layers", "64,16:elu,10:identity", "--loss", "mse"])
    check_export("normalized-input", rows_file, rows,
                 ["--data", "digits", "--layers", "64,24:relu,10", "--normalize", "standard"])
    fashion = fashion_rows(100)
    fashion_file = write_rows("fashion-rows.csv", fashion)
    check_export("fashion-mnist", fashion_file, fashion, ["--data", "fashion-mnist"])
    check_java_serving(path("fashion-mnist.onnx"), fashion_file, path("fashion-mnist.safetensors"))

    print("onnx-check: bp import of PyTorch's torch.onnx.export", torch.__version__)
    torch.manual_seed(7)
    for opset in (13, 17):
        activations = {"relu": torch.nn.ReLU(), "sigmoid": torch.nn.Sigmoid(), "tanh": torch.nn.Tanh(),
                       "leaky_relu": torch.nn.LeakyReLU(0.2), "elu": torch.nn.ELU(0.5), "prelu": torch.nn.PReLU(32),
                       "softplus": torch.nn.Softplus(), "identity": torch.nn.Identity()}
        for name, act in activations.items():
            with torch.no_grad():
                if name == "prelu":
                    act.weight.uniform_(-0.5, 0.5)
            module = torch.nn.Sequential(torch.nn.Linear(64, 32), act, torch.nn.Linear(32, 10), torch.nn.Softmax(dim=1))
            check_import(name, module, rows_file, rows, (-1, 64), opset)
        check_import("maxout", torch.nn.Sequential(torch.nn.Linear(64, 3 * 16), Maxout(3, 16), torch.nn.Linear(16, 10),
                                                   torch.nn.Softmax(dim=1)), rows_file, rows, (-1, 64), opset)
        check_import("flatten", torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 32), torch.nn.ReLU(),
                                                    torch.nn.Linear(32, 10)), rows_file, rows, (-1, 1, 8, 8), opset)
        check_import("matmul-add", torch.nn.Sequential(MatMulLinear(64, 32), torch.nn.Tanh(), MatMulLinear(32, 10, False),
                                                       torch.nn.Sigmoid()), rows_file, rows, (-1, 64), opset)
        check_import("no-bias", torch.nn.Sequential(torch.nn.Linear(64, 32, bias=False), torch.nn.ReLU(),
                                                    torch.nn.Linear(32, 10)), rows_file, rows, (-1, 64), opset)
    check_training_continues(rows_file)

    print("onnx-check: refusals")
    conv = path("conv.torch.onnx")
    torch_export(torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Flatten(), torch.nn.Linear(144, 10)),
                 torch.zeros(1, 1, 8, 8), conv, 17)
    check_refused("a convolution", conv, "(Conv)")
    with open(path("fashion-mnist.onnx"), "rb") as f:
        data = f.read()
    truncated = path("truncated.onnx")
    with open(truncated, "wb") as f:
        f.write(data[:len(data) // 2])
    check_refused("a truncated file", truncated, "truncated or corrupted")

    if failures:
        print("onnx-check: FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("onnx-check: all passed")


main()
