"""``minigan bench``: ms per training step next to PyTorch, FLOPs, % of matmul peak, scaling.

See :mod:`minigan.bench` for what is measured and how.  ``--json`` prints the same
numbers as one JSON object on stdout; progress goes to stderr.  The thread counts can be
changed only from outside, e.g. ``OPENBLAS_NUM_THREADS=1 minigan bench``.
"""

from __future__ import annotations

import json
import sys

from ..errors import MiniganError

NAME = "bench"
HELP = ("time one training step of the article's GAN or of the DCGAN (and of PyTorch's, if installed): ms, FLOPs, "
        "percent of peak")


def add_arguments(p):
    p.add_argument("--quick", action="store_true", help="few steps and a small table (seconds, noisy)")
    p.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    p.add_argument("--no-torch", action="store_true", help="time minigan only, even if PyTorch is installed")
    p.add_argument("--batch", default="64,256", metavar="N,N",
                   help="batch sizes of the main comparison (default 64,256; --quick: 64)")
    p.add_argument("--seed", type=int, default=0, help="seed of the data and the networks (default 0)")
    p.add_argument("--default-step", action="store_true",
                   help="time only the default recipe's whole minigan train step on 1 and 2 BLAS threads (what "
                        "the default length is chosen from; no PyTorch)")
    p.add_argument("--arch", choices=("mlp", "dcgan"), default="mlp",
                   help="mlp (default): the article's networks; dcgan: minigan.dcgan's, with NumPy's BLAS on 1 "
                        "thread as 'minigan train --arch dcgan' runs it (default --batch 64)")
    p.add_argument("--batchnorm", action="store_true",
                   help="--arch dcgan: time DCGAN's batch-norm layers too (minigan train --arch dcgan has none "
                        "by default)")


def _batches(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise MiniganError(f"--batch must be positive integers separated by commas, got {text!r}")
    return values


def run(args) -> int:
    from ..bench import run_benchmark

    batches = _batches(args.batch)
    progress = None if args.json else (lambda msg: print(f"  ... {msg}", file=sys.stderr, flush=True))
    if args.arch == "dcgan":
        return _run_dcgan(args, (64,) if args.batch == "64,256" else batches, progress)
    if args.default_step:
        return _run_default_step(args, progress)
    result = run_benchmark(quick=args.quick, use_torch=False if args.no_torch else None, batches=batches,
                           seed=args.seed, progress=progress)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(format_report(result))
    return 0


def _run_default_step(args, progress) -> int:
    from ..bench.default_step import format_default_step, measure_default_step
    from ..bench.system import OtherLoad, machine_info

    if progress:
        progress("the default recipe's step on 1 and 2 BLAS threads, alternating blocks")
    with OtherLoad() as load:
        result = measure_default_step(**({"blocks": 2, "block_steps": 10, "warmup": 3, "pause": 0.05}
                                         if args.quick else {}), seed=args.seed)
    result.update(machine=machine_info(), other_load_cpus=load.cpus)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    m = result["machine"]
    lines = [f"machine   {m['cpus']} CPUs, {m['platform']}, Python {m['python']}, NumPy {m['numpy']}", "",
             *format_default_step(result)]
    if load.cpus is not None and load.cpus > 0.1:
        lines.append(f"WARNING   other processes used {load.cpus:.2f} CPUs meanwhile: rerun on an idle machine")
    print("\n".join(lines))
    return 0


def _row(r: dict, torch: bool) -> str:
    cells = [f"{r['batch']:>5}", f"{r['width']:>5}", f"{r['flops'] / 1e6:>9.1f}", f"{r['minigan_ms']:>10.3f}"]
    if torch:
        cells += [f"{r['pytorch_ms']:>10.3f}", f"{r['ratio']:>7.2f}"]
    cells.append(f"{r['matmul_floor_ms']:>8.3f}")
    if torch:
        cells.append(f"{r['floor_ratio']:>7.2f}")
    cells.append(f"{100 * r['minigan_peak_fraction']:>6.1f}")
    if torch:
        cells.append(f"{100 * r['pytorch_peak_fraction']:>6.1f}")
    cells.append(f"{r['timed_steps']:>5}")
    load = r.get("other_load_cpus")
    cells.append(f"{load:>5.2f}" if load is not None else "    -")
    return "  ".join(cells)


def _table(rows: list[dict], torch: bool) -> list[str]:
    head = ["batch", "width", "    MFLOP", "minigan ms"]
    if torch:
        head += ["pytorch ms", "  ratio"]
    head.append("floor ms")
    if torch:
        head.append("  floor")
    head.append("mg %pk")
    if torch:
        head.append("pt %pk")
    head += ["steps", "other"]
    return ["  ".join(head), *(_row(r, torch) for r in rows)]


def format_report(result: dict) -> str:
    """The human-readable report of :func:`minigan.bench.run_benchmark`'s result."""
    torch = "pytorch_default" in result["threads"]
    m, blas, peak, net = result["machine"], result["blas"], result["peak"], result["network"]
    threads = result["threads"]
    lines = [
        "minigan bench: one GAN.train_step of the article's networks",
        "  G 100-128-128-128-784 (tanh), D 784-128-128-128-1, leaky ReLU 0.2, float32,",
        "  Adam(2e-4, betas (0.5, 0.999)), non-saturating loss; one D step on real + fake, then one G step",
        "",
        f"machine   {m['cpus']} CPUs, {m['platform']}, Python {m['python']}, NumPy {m['numpy']}",
        f"BLAS      {blas['library']} {blas['version']}, kernel {blas['kernel'] or 'unknown (no threadpoolctl)'}",
    ]
    if m["blas_env"]:
        lines.append("env       " + ", ".join(f"{k}={v}" for k, v in m["blas_env"].items()))
    thread_line = f"threads   minigan (NumPy BLAS): {threads['numpy_blas']} ({threads['numpy_blas_source']})"
    if torch:
        thread_line += (f"; PyTorch: {threads['pytorch']} (its default {threads['pytorch_default']}, "
                        "read before any thread setting changed)")
    lines.append(thread_line)
    lines.append(f"peak      float32 matmul {peak['size']}x{peak['size']}: {peak['gflops']:.1f} GFLOP/s "
                 f"(best of {peak['repeats']}, NumPy BLAS, {peak['threads']} threads)")
    per_sample = net["flops_per_sample"]
    lines.append(f"FLOPs     {per_sample:,} per sample per step, matrix products only: forward 2 N in out per Dense,")
    lines.append("          backward 2 N in out for dW and 2 N in out for dx, each only where computed:")
    for part, flops in net["flops_parts_per_sample"].items():
        lines.append(f"            {part:<46} {flops:>9,} x N")
    for note in result["notes"]:
        lines.append(f"note      {note}")

    timing = result["timing"]["headline"]
    lines += ["", f"the article's networks (median of {timing['blocks'] * timing['steps_per_block']} timed steps "
              f"per side: {timing['blocks']} alternating blocks of {timing['steps_per_block']}, each after a "
              f"{timing['pause_s']} s pause and {timing['warmup_per_block']} warm-up steps)"]
    lines += _table(result["headline"], torch)
    lines += ["", "scaling (batch at width 128, then width = every hidden layer at batch 64; fewer steps, noisier)"]
    lines += _table(result["scaling"], torch)
    if "default_recipe" in result:
        from ..bench.default_step import format_default_step

        lines += ["", *format_default_step(result["default_recipe"])]
    legend = "%pk = FLOPs / (ms per step) / peak, in %"
    if torch:
        legend = "ratio = minigan ms / pytorch ms (< 1: minigan is faster); mg, pt = minigan, PyTorch; " + legend
    floor = ("floor ms = the step's matrix products alone in NumPy (no NumPy step can be faster with this BLAS)"
             + ("; floor = floor ms / pytorch ms, the lowest ratio reachable" if torch else ""))
    lines += ["", legend, floor,
              "other = CPUs kept busy by other processes meanwhile (should be ~0 for numbers to trust)"]
    busy = [r["other_load_cpus"] for r in result["headline"] + result["scaling"] if r.get("other_load_cpus")]
    if busy and max(busy) > 0.1:
        lines.append(f"WARNING   other processes used up to {max(busy):.2f} CPUs during the measurement: "
                     "the timings are not reliable; rerun on an idle machine")
    rss = result["peak_rss_mb"]
    if rss is not None:
        lines.append(f"peak RSS of this process: {rss:.0f} MiB" + (" (includes PyTorch)" if torch else ""))
    return "\n".join(lines)


def _run_dcgan(args, batches, progress) -> int:
    import importlib.util

    from ..bench.dcgan import run_dcgan_benchmark
    from ..bench.system import blas_info, machine_info

    use_torch = not args.no_torch and importlib.util.find_spec("torch") is not None
    result = run_dcgan_benchmark(quick=args.quick, use_torch=use_torch, batches=batches, seed=args.seed,
                                 batchnorm=args.batchnorm, progress=progress)
    result["machine"], result["blas"] = machine_info(), blas_info()
    print(json.dumps(result, indent=2) if args.json else format_dcgan_report(result))
    return 0


def format_dcgan_report(result: dict) -> str:
    """The human-readable report of :func:`minigan.bench.dcgan.run_dcgan_benchmark`'s result."""
    m, blas = result["machine"], result["blas"]
    torch = result["pytorch_threads"] is not None
    lines = [
        "minigan bench --arch dcgan: one GAN.train_step of minigan.dcgan's networks (28x28, channels 32, "
        + ("with batch norm)" if result.get("batchnorm", True) else "no batch norm, as minigan train --arch dcgan)"),
        f"  G {result['params']['G']:,} parameters, D {result['params']['D']:,}; float32, Adam(2e-4, betas (0.5, "
        "0.999)); D on the real batch, then on a fake batch (separate passes), then G through D",
        "",
        f"machine   {m['cpus']} CPUs, {m['platform']}, Python {m['python']}, NumPy {m['numpy']}",
        f"BLAS      {blas['library']} {blas['version']}, kernel {blas['kernel'] or 'unknown'}",
        f"threads   minigan (NumPy BLAS): {result['minigan_threads']} (as minigan train --arch dcgan)"
        + (f"; PyTorch: {result['pytorch_threads']} (its default)" if torch else "; PyTorch not measured"),
        "",
    ]
    head = ["batch", "  GFLOP", "minigan ms", "floor ms"]
    if torch:
        head += ["pytorch ms", "ratio", "floor/pt"]
        if any("pytorch_same_threads_ms" in r for r in result["rows"]):
            head += [f"pytorch@{result['minigan_threads']} ms", "ratio@same"]
    head += ["other"]
    lines.append("  ".join(head))
    for r in result["rows"]:
        cells = [f"{r['batch']:>5}", f"{r['flops'] / 1e9:>7.2f}", f"{r['minigan_ms']:>10.1f}", f"{r['floor_ms']:>8.1f}"]
        if torch:
            cells += [f"{r['pytorch_ms']:>10.1f}", f"{r['ratio']:>5.2f}", f"{r['floor_ratio']:>8.2f}"]
            if "pytorch_same_threads_ms" in r:
                cells += [f"{r['pytorch_same_threads_ms']:>12.1f}", f"{r['ratio_same_threads']:>10.2f}"]
        cells.append(f"{r['other_load_cpus']:.2f}" if r.get("other_load_cpus") is not None else "-")
        lines.append("  ".join(cells))
    lines += ["", "where minigan's time goes at batch 64 (ms per step; each layer's forward and backward, all calls):"]
    for name, ms in result["breakdown_ms"].items():
        lines.append(f"  {name:<32} {ms:>7.2f}")
    lines += ["", "floor ms = the step's matrix products alone in NumPy (im2col products, see minigan.bench.dcgan); "
              "ratio = minigan ms / pytorch ms",
              "other = CPUs kept busy by other processes meanwhile (should be ~0 for numbers to trust)"]
    return "\n".join(lines)
