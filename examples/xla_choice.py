"""Whether XLA (`compile(jit_compile=True)`) makes a training step faster on THIS machine: measure, don't assume.

XLA's effect on a GAN step depends on the nets and the CPU: on one 2-core machine it slowed the DCGAN step
(TensorFlow's oneDNN convolutions beat XLA's), on another 2-core CPU (AMD EPYC, oneDNN on) it made the same
step 1.7× faster, and it speeds up the small 2-D MLPs everywhere it has been tried. So `examples/train.py
--jit_compile=auto` calls `choose_jit_compile`, and `benchmarks/speed.py` times its rounds with the same
`steps_per_second`.

Timing goes through the model's compiled train function (what `fit` runs once per step) on its own data
iterator, so it measures the step, not `fit`'s fixed start-up cost (~0.4 s per call).
"""
import time

import numpy as np


def _wait(logs):
    """Blocks until the step that returned `logs` has finished (the ops run asynchronously)."""
    for value in logs.values():
        np.asarray(value)
        return


def warm_train_function(model, dataset, warmup_steps=5):
    """Builds `model`'s train function through one `fit` step, runs `warmup_steps` more (tracing, XLA
    compilation), and returns (train_function, iterator) ready for timing."""
    model.fit(dataset, epochs=1, steps_per_epoch=1, verbose=0)
    train_function, iterator = model.make_train_function(), iter(dataset)
    logs = None
    for _ in range(warmup_steps):
        logs = train_function(iterator)
    if logs is not None:
        _wait(logs)
    return train_function, iterator


def steps_per_second(train_function, iterator, steps, min_seconds=0.0):
    """Runs at least `steps` training steps, and more (in chunks of 10) until `min_seconds` have passed, and
    returns their rate (steps/s), waiting for the last one to finish."""
    start, done = time.perf_counter(), 0
    while done < steps or time.perf_counter() - start < min_seconds:
        for _ in range(steps if done == 0 else 10):
            logs = train_function(iterator)
        done += steps if done == 0 else 10
        _wait(logs)
    return done / (time.perf_counter() - start)


def choose_jit_compile(build, make_dataset, min_steps=20, min_seconds=1.0, rounds=3):
    """Times the step with and without XLA on fresh copies of the real nets and returns the faster choice.

    Args:
      build: `build(jit_compile)` returns a compiled model with freshly built nets (the same architecture,
        family and optimizers as the real run); the copies are thrown away afterwards.
      make_dataset: `make_dataset(model)` returns the training data for that model (e.g. batched with
        `model.n_critic` × the per-update batch).
      min_steps, min_seconds: each timing window runs at least `min_steps` steps and `min_seconds` seconds.
      rounds: alternating rounds (without XLA, with XLA, ...); the choice is the median over rounds of the
        per-round ratio, so drift in the machine's speed hits both alike.

    Returns:
      (jit_compile, rates): True if XLA was faster, and {False: steps/s, True: steps/s} (medians over rounds).
    """
    functions = {}
    for jit in (False, True):
        model = build(jit)
        functions[jit] = warm_train_function(model, make_dataset(model))
    rates = {False: [], True: []}
    for _ in range(rounds):
        for jit, (train_function, iterator) in functions.items():
            rates[jit].append(steps_per_second(train_function, iterator, min_steps, min_seconds))
    ratio = float(np.median(np.array(rates[True]) / np.array(rates[False])))
    return ratio > 1.0, {jit: float(np.median(r)) for jit, r in rates.items()}
