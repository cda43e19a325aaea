"""MultiWorkerMirroredStrategy: two worker processes on 127.0.0.1 train one GAN with `fit` and `evaluate`.

Each worker is its own Python process with a `TF_CONFIG` naming both workers. A third process trains the same GAN
on the same global batches twice: on one device, and on two replicas (MirroredStrategy over two logical CPUs).
The workers must end with identical weights (every replica applies the same all-reduced gradients), equal bit for
bit to the two in-process replicas (same split of each global batch, same two partial sums), and equal to the
one-device weights up to the order of float32 sums.
"""
import json
import os
import sys

import numpy as np

from tests.conftest import REPO
from tests.subproc import EXIT_NOW, run_together, worker_configs

# One script for all three processes: argv = (mode, output prefix); it saves <prefix>.npz (and, for the
# reference, <prefix>_mirrored.npz) and prints its logs as JSON.
_SCRIPT = r"""
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np, tensorflow as tf

mode, out = sys.argv[1], sys.argv[2]
if mode == "worker":  # the strategy must exist before TensorFlow runs anything: it sets up the collectives
    worker_strategy = tf.distribute.MultiWorkerMirroredStrategy()
else:  # two logical CPUs for the in-process MirroredStrategy reference
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
import tfgan_stable as ts

# 4 global batches of 16 (points, labels). DATA sharding (what AUTO picks for in-memory data) gives worker r the
# rows 8r .. 8r + 7 of each global batch: the rows that replica r owns in the GAN's step.
points = np.random.RandomState(0).normal(size=(64, 2)).astype("float32")
labels = (np.arange(64) % 8).astype("int32")  # a conditional GAN's (points, labels) batch is a nest, which Keras'
# own fit mishandles under several workers
data = tf.data.Dataset.from_tensor_slices((points, labels)).batch(16, drop_remainder=True)
options = tf.data.Options()
options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
data = data.with_options(options)


def train(strategy, path, evaluate=True, steps_per_execution=1):
    with strategy.scope():
        keras.utils.set_random_seed(1)
        g = ts.nets.conditional_mlp_generator(4, 8, units=(32, 32), norm="sync_batch")  # global-batch statistics
        d = ts.nets.conditional_mlp_discriminator(8, units=(32, 32))
        gan = ts.ConditionalGAN(g, d, latent_dim=4, num_classes=8, n_critic=2, seed=7)
        gan.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1),
                    steps_per_execution=steps_per_execution)
    initial = [w.numpy() for w in g.weights + d.weights]
    history = gan.fit(data, epochs=2, verbose=0)
    evaluated = gan.evaluate(data, verbose=0, return_dict=True) if evaluate else None
    weights = [w.numpy() for w in g.weights + d.weights]
    np.savez(path, *weights)
    return {"history": history.history, "evaluate": evaluated, "steps": int(gan.g_optimizer.iterations.numpy()),
            "moved": max(float(np.abs(a - b).max()) for a, b in zip(weights, initial))}


if mode == "worker":
    # 3 steps per call: the 4 batches of an epoch take a full call, then a call that finds the data's end.
    # (Keras' own loop for several steps per call fails under MirroredStrategy, so the reference runs 1.)
    logs = train(worker_strategy, out + ".npz", steps_per_execution=3)
else:
    logs = {"one_device": train(tf.distribute.get_strategy(), out + ".npz", evaluate=False),
            "mirrored": train(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]), out + "_mirrored.npz")}
print(json.dumps(logs))
"""

# A generous deadline for the three processes together (about 30 s on an idle 2-core machine): a worker stuck
# in a collective (e.g. its peer died) fails the test instead of hanging CI.
_TIMEOUT = 300


def _weights(path):
    with np.load(path) as f:
        return [f[f"arr_{i}"] for i in range(len(f.files))]


def _max_diff(a, b):
    assert len(a) == len(b) and all(x.shape == y.shape for x, y in zip(a, b))
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


def test_two_workers_end_with_the_single_process_weights(tmp_path):
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    commands = {f"worker{i}": ([sys.executable, "-c", _SCRIPT + EXIT_NOW, "worker", str(tmp_path / f"worker{i}")],
                               {**env, "TF_CONFIG": config}) for i, config in enumerate(worker_configs(2))}
    commands["reference"] = ([sys.executable, "-c", _SCRIPT + EXIT_NOW, "reference", str(tmp_path / "reference")], env)
    logs = {name: json.loads(out.strip().splitlines()[-1])
            for name, out in run_together(commands, tmp_path, _TIMEOUT).items()}
    w0, w1 = logs["worker0"], logs["worker1"]
    one, two = logs["reference"]["one_device"], logs["reference"]["mirrored"]
    worker0, worker1, one_device, two_replicas = (_weights(tmp_path / f"{name}.npz") for name in
                                                  ("worker0", "worker1", "reference", "reference_mirrored"))

    assert w0["steps"] == w1["steps"] == one["steps"] == two["steps"] == 8  # 2 epochs of 4 global batches
    assert one["moved"] > 0.1  # the weights travelled far more than the tolerance below
    # Both workers apply the same all-reduced gradients: bit-identical weights, logs and evaluation.
    assert _max_diff(worker0, worker1) == 0.0
    assert w0["history"] == w1["history"] and w0["evaluate"] == w1["evaluate"]
    # Two replicas in one process split each global batch the same way and add the same two partial sums.
    assert _max_diff(worker0, two_replicas) == 0.0
    assert w0["history"] == two["history"] and w0["evaluate"] == two["evaluate"]
    # One device sums each global batch in another order. A float32 sum of n terms is exact to (n - 1) eps
    # times the sum of their magnitudes; over the run's SGD steps that is about (n - 1) eps times the distance
    # the weights travelled (n = 16, the global batch).
    tolerance = 15 * float(np.finfo(np.float32).eps) * one["moved"]
    diff = _max_diff(worker0, one_device)
    print(f"max |dw|: worker 0 vs worker 1 0, vs two in-process replicas 0, vs one device {diff:.3g} "
          f"(tolerance {tolerance:.3g})")
    assert diff < tolerance, (diff, tolerance)
    for name, values in one["history"].items():
        np.testing.assert_allclose(w0["history"][name], values, rtol=1e-5, atol=1e-6, err_msg=name)
