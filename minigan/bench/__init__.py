"""``minigan bench``: how fast one training step is, next to PyTorch on the same CPU.

:func:`run_benchmark` returns every number as a dict (what ``--json`` prints):

* ms per ``GAN.train_step`` of the article's networks, and of the same step in PyTorch
  (:mod:`.reference`) when torch is importable, measured in one process in alternating
  blocks (:mod:`.timing`), and their ratio;
* the step's FLOPs counted from the layer shapes (:mod:`.flops`), this machine's float32
  matmul peak (:mod:`.peak`) and the fraction of it each step reaches;
* the thread counts each side ran with and the BLAS kernel (:mod:`.system`);
* the step's matrix products alone in NumPy (:mod:`.floor`): no NumPy step with this
  BLAS can be faster, so ``matmul_floor_ms / pytorch_ms`` bounds the reachable ratio;
* a scaling table over batch size and hidden width, and the peak RSS of the process;
* the default recipe's whole ``minigan train`` step on 1 and 2 BLAS threads
  (:mod:`.default_step`);
* how busy other processes kept the CPUs meanwhile (a shared machine spoils timings).
"""

from __future__ import annotations

import importlib.util
import time

import numpy as np

from .floor import make_matmul_step
from .flops import mlp_shapes, train_step_flops
from .peak import matmul_peak_gflops
from .system import OtherLoad, blas_info, machine_info, peak_rss_mb
from .timing import alternate_blocks, median_ms

Z_DIM, OUT_DIM, DEPTH = 100, 784, 3

#: (blocks, timed steps per block, warm-up steps per block, pause in s) per kind of run
FULL = {"headline": (8, 25, 5, 0.2), "cell_blocks": 4, "cell_seconds": 0.3, "pause": 0.15,
        "batches": (16, 64, 256, 1024), "widths": (64, 128, 256, 512, 1024), "peak": (2048, 5)}
QUICK = {"headline": (2, 10, 2, 0.05), "cell_blocks": 2, "cell_seconds": 0.05, "pause": 0.05,
         "batches": (16, 64), "widths": (64, 128), "peak": (1024, 3)}

TORCH_HINT = "PyTorch is not installed: minigan numbers only (for the comparison: pip install torch==2.13.0)"
TORCH_OFF = "PyTorch comparison switched off (--no-torch): minigan numbers only"


def network_shapes(width: int = 128):
    """Layer shapes of the article's G and D with every hidden layer ``width`` wide."""
    hidden = (width,) * DEPTH
    return mlp_shapes((Z_DIM, *hidden, OUT_DIM)), mlp_shapes((OUT_DIM, *hidden, 1))


def make_minigan_step(real: np.ndarray, width: int = 128, seed: int = 0):
    """A ``GAN`` with the article's networks at hidden width ``width``; returns ``step()``."""
    from .. import GAN, build_discriminator, build_generator
    from ..allocator import keep_freed_memory

    keep_freed_memory()  # as minigan train runs it
    hidden = (width,) * DEPTH
    gan = GAN(build_generator(Z_DIM, hidden, OUT_DIM, rng=seed), build_discriminator(OUT_DIM, hidden, rng=seed + 1),
              z_dim=Z_DIM, rng=seed + 2)
    return lambda: gan.train_step(real)


def measure(batch: int, width: int, *, blocks: int, block_steps: int, warmup: int, pause: float,
            use_torch: bool, peak_gflops: float, seed: int = 0) -> dict:
    """Time both steps at one (batch, width) and return the row of numbers."""
    real = np.random.default_rng(seed).uniform(-1, 1, (batch, OUT_DIM)).astype(np.float32)
    steps = {"minigan": make_minigan_step(real, width, seed),
             "matmul_floor": make_matmul_step(*network_shapes(width), batch, seed)}
    if use_torch:
        from .reference import make_torch_step

        steps["pytorch"] = make_torch_step(real, width=width, z_dim=Z_DIM, depth=DEPTH, seed=seed)[0]
    with OtherLoad() as load:
        times = alternate_blocks(steps, blocks=blocks, block_steps=block_steps, warmup=warmup, pause=pause)
    flops = sum(train_step_flops(*network_shapes(width), batch).values())
    row = {"batch": batch, "width": width, "timed_steps": blocks * block_steps, "flops": flops,
           "other_load_cpus": load.cpus}
    for name, seconds in times.items():
        ms = median_ms(seconds)
        row[f"{name}_ms"] = ms
        row[f"{name}_peak_fraction"] = flops / (ms * 1e-3) / (peak_gflops * 1e9)
    row["ratio"] = row["minigan_ms"] / row["pytorch_ms"] if use_torch else None
    row["floor_ratio"] = row["matmul_floor_ms"] / row["pytorch_ms"] if use_torch else None
    return row


def _cell_steps(batch: int, width: int, seconds: float) -> int:
    """Timed steps per block so that one block of minigan takes about ``seconds``."""
    real = np.zeros((batch, OUT_DIM), np.float32)
    step = make_minigan_step(real, width)
    step()
    start = time.perf_counter()
    step()
    return int(min(25, max(3, seconds / max(time.perf_counter() - start, 1e-6))))


def run_benchmark(*, quick: bool = False, use_torch: bool | None = None, batches=(64, 256), seed: int = 0,
                  progress=None) -> dict:
    """Measure everything (see the module docstring); ``progress(str)`` hears what runs now."""
    say = progress or (lambda _msg: None)
    plan = QUICK if quick else FULL
    torch_installed = importlib.util.find_spec("torch") is not None
    if use_torch is None:
        use_torch = torch_installed
    result: dict = {"machine": machine_info(), "notes": []}
    threads: dict = {}
    if use_torch:
        from .reference import torch_default_threads

        threads["pytorch_default"] = torch_default_threads()  # before anything touches thread settings
    else:
        result["notes"].append(TORCH_HINT if not torch_installed else TORCH_OFF)
    blas = blas_info()
    threads["numpy_blas"] = blas["threads"]
    threads["numpy_blas_source"] = blas["source"]
    result["blas"] = blas

    size, repeats = plan["peak"]
    say(f"matmul peak ({size} x {size} float32)")
    peak = matmul_peak_gflops(size, repeats)
    result["peak"] = {"gflops": peak, "size": size, "repeats": repeats, "threads": blas["threads"]}

    g_shapes, d_shapes = network_shapes(128)
    per_sample = train_step_flops(g_shapes, d_shapes, 1)
    result["network"] = {
        "generator": [Z_DIM, 128, 128, 128, OUT_DIM], "discriminator": [OUT_DIM, 128, 128, 128, 1],
        "alpha": 0.2, "dtype": "float32", "optimizer": "Adam(lr=2e-4, betas=(0.5, 0.999))",
        "loss": "non_saturating", "flops_per_sample": sum(per_sample.values()), "flops_parts_per_sample": per_sample,
    }

    blocks, block_steps, warmup, pause = plan["headline"]
    headline_batches = (64,) if quick else tuple(batches)
    result["headline"] = []
    for batch in headline_batches:
        say(f"batch {batch}: {blocks} x {block_steps} timed steps per side")
        result["headline"].append(measure(batch, 128, blocks=blocks, block_steps=block_steps, warmup=warmup,
                                          pause=pause, use_torch=use_torch, peak_gflops=peak, seed=seed))

    cells = [(b, 128) for b in plan["batches"]] + [(64, w) for w in plan["widths"] if w != 128]
    result["scaling"] = []
    for batch, width in cells:
        steps = _cell_steps(batch, width, plan["cell_seconds"])
        say(f"scaling: batch {batch}, width {width}: {plan['cell_blocks']} x {steps} steps per side")
        result["scaling"].append(measure(batch, width, blocks=plan["cell_blocks"], block_steps=steps,
                                         warmup=2, pause=plan["pause"], use_torch=use_torch, peak_gflops=peak,
                                         seed=seed))
    from .default_step import measure_default_step

    say("the default recipe's step on 1 and 2 BLAS threads")
    result["default_recipe"] = measure_default_step(**({"blocks": 2, "block_steps": 10, "warmup": 3, "pause": 0.05}
                                                       if quick else {}), seed=seed)
    if use_torch:
        import torch

        threads["pytorch"] = torch.get_num_threads()
    result["threads"] = threads
    result["peak_rss_mb"] = peak_rss_mb()
    result["timing"] = {"method": "alternating blocks in one process", "headline": dict(
        zip(("blocks", "steps_per_block", "warmup_per_block", "pause_s"), plan["headline"]))}
    return result
