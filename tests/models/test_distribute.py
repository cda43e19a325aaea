"""1 device vs 2 replicas (MirroredStrategy over 2 logical CPUs): same update, different z per replica."""
import pytest

from tests.subproc import run_python

COMMON = """
import json
import numpy as np, keras
import tfgan_stable as ts

one = tf.distribute.OneDeviceStrategy("/cpu:0")
two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
x = np.random.RandomState(0).uniform(-1, 1, (48, 2)).astype("float32")

def train(strategy, name, jit, kwargs, examples=48, batch=16, generator_norm=True, drop_remainder=False):
    with strategy.scope():
        keras.utils.set_random_seed(1)
        g = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16), keras.layers.BatchNormalization(synchronized=not jit),
                              keras.layers.ReLU(), keras.layers.Dense(2, activation="tanh")])
        if jit or not generator_norm:  # synchronized BN cannot run inside XLA under a strategy
            g = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(2, activation="tanh")])
        kwargs = dict(kwargs)
        pack = [ts.layers.Pack(kwargs.pop("packing"))] if "packing" in kwargs else []
        d = keras.Sequential([keras.Input((2,)), *pack, keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
        gan = getattr(ts, name)(g, d, latent_dim=4, seed=3, **kwargs)
        gan.compile(d_optimizer=keras.optimizers.SGD(0.05), g_optimizer=keras.optimizers.SGD(0.05), jit_compile=jit)
    variables = gan.generator.trainable_weights + gan.discriminator.trainable_weights
    initial = [v.numpy() for v in variables]
    data = tf.data.Dataset.from_tensor_slices(x[:examples]).batch(batch, drop_remainder=drop_remainder)
    hist = gan.fit(data, epochs=1, verbose=0)  # 3 steps by default
    weights = [v.numpy() for v in variables]
    moved = max(float(np.max(np.abs(a - b))) for a, b in zip(weights, initial))
    return weights, hist.history, moved

def compare(cases, **options):
    out = {}
    for name, jit, kwargs in cases:
        w1, h1, moved = train(one, name, jit, kwargs, **options)
        w2, h2, _ = train(two, name, jit, kwargs, **options)
        logs = sorted(h1)
        out[f"{name}/{jit}/{kwargs}"] = {"diff": max(float(np.max(np.abs(a - b))) for a, b in zip(w1, w2)),
                                         "finite": bool(all(np.all(np.isfinite(a)) for a in w2)), "moved": moved,
                                         "logs": max(abs(h1[k][-1] - h2[k][-1]) for k in logs),
                                         "same_logs": sorted(h2) == logs}
    return out
"""


# The cases of the comparison tests below, one entry per test; one subprocess runs them all, so TensorFlow
# starts once for the six tests (about 8 s each time on one core).
COMPARISONS = {
    "three_steps": """compare([
        ("NonSaturatingGAN", False, {}), ("MinimaxGAN", False, {"real_label": 0.9, "label_noise": 0.2}),
        ("MinimaxGAN", False, {"real_label_range": (0.7, 1.2), "fake_label_range": (0.0, 0.3), "label_noise": 0.2}),
        ("LSGAN", False, {}), ("WGAN", False, {"n_critic": 2}), ("WGANGP", False, {"n_critic": 2}),
        ("DRAGAN", False, {}), ("HingeGAN", False, {})])""",
    "static_batches": """compare([
        ("NonSaturatingGAN", False, {}), ("WGANGP", False, {"n_critic": 2}), ("DRAGAN", True, {}),
        ("MinimaxGAN", True, {"label_noise": 0.3, "packing": 2})], drop_remainder=True)""",
    "empty_replica": """compare([
        ("NonSaturatingGAN", False, {}), ("MinimaxGAN", False, {"label_noise": 0.3}), ("LSGAN", False, {}),
        ("WGANGP", False, {"n_critic": 1}), ("DRAGAN", False, {}), ("HingeGAN", True, {})],
        examples=17, batch=8, generator_norm=False)""",
    "critic_batches": """compare([("NonSaturatingGAN", True, {"n_critic": 2}), ("WGAN", False, {"n_critic": 4, "packing": 2})])""",
    "packed": """compare([
        ("NonSaturatingGAN", False, {"packing": 4}), ("MinimaxGAN", False, {"packing": 2, "label_noise": 0.3}),
        ("WGANGP", False, {"packing": 2, "n_critic": 2}), ("DRAGAN", True, {"packing": 4})])""",
    "xla": """compare([("WGAN", True, {"n_critic": 2}), ("WGANGP", True, {"n_critic": 2})])""",
}


@pytest.fixture(scope="module")
def compared():
    """{test's entry: {case: what _check reads}}, from one subprocess on 2 logical CPUs."""
    calls = ", ".join(f"{key!r}: {call}" for key, call in COMPARISONS.items())
    return run_python(COMMON + f"print(json.dumps({{{calls}}}))", devices=2, timeout=1800)


def test_replicas_draw_different_z_that_tile_the_single_device_draw():
    result = run_python("""
import json, numpy as np
from tfgan_stable.distribute import StepNoise
two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
seed = tf.constant([5, 9], tf.int64)

@tf.function
def draw(kind):
    return two.run(lambda: DRAWS[kind](StepNoise.for_replica(seed, 4)))

DRAWS = {"uniform": lambda noise: noise.uniform([3]), "latent": lambda noise: noise.latent(3)}
out = {}
for kind in DRAWS:
    per_replica = [t.numpy() for t in two.experimental_local_results(draw(kind))]
    single = DRAWS[kind](StepNoise.for_replica(seed, 8)).numpy()
    out[kind] = {"differ": bool(np.abs(per_replica[0] - per_replica[1]).min() > 0),
                 "tile": float(np.abs(np.concatenate(per_replica) - single).max())}
print(json.dumps(out))
""", devices=2)
    assert result["uniform"]["differ"] and result["latent"]["differ"]
    assert result["uniform"]["tile"] == 0.0  # the same Philox words, bit for bit
    # z = Φ⁻¹(u) of those uniforms: Eigen evaluates ndtri in SIMD packets and the remainder one by one, so
    # a value may differ by a few float32 ulps (|z| ≤ 5.3: ulp ≤ 4.8e-7) with the size of the draw.
    assert result["latent"]["tile"] < 2e-6


def _check(result):
    for case, r in result.items():
        assert r["finite"], case
        assert r["moved"] > 1e-3, (case, r)  # 100x the tolerance below: the comparison means something
        assert r["diff"] < 1e-5, (case, r)
        assert r["same_logs"] and r["logs"] < 1e-5, (case, r)  # logged values are global-batch means


def test_three_steps_on_two_replicas_equal_one_device(compared):
    _check(compared["three_steps"])


def test_static_batches_draw_noise_without_collectives():
    """drop_remainder=True: each replica's rows follow from its replica id, with no cross-replica call while
    tracing, and each replica draws only its own rows; the draws still tile the single-device draw, and a
    replica function compiled whole with XLA (as TPUStrategy compiles it) builds. The dynamic-size path, for uneven batches, all-gathers (so the
    check can fail)."""
    result = run_python("""
import json, numpy as np
from tfgan_stable.distribute import StepNoise
two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
seed = tf.constant([5, 9], tf.int64)

calls = []
for name in ("all_gather", "all_reduce", "merge_call"):  # every cross-replica entry point of a replica context
    original = getattr(tf.distribute.ReplicaContext, name)
    setattr(tf.distribute.ReplicaContext, name,
            lambda self, *a, _name=name, _original=original, **k: (calls.append(_name), _original(self, *a, **k))[1])

def collectives(fn, *args):
    calls.clear()
    tf.function(lambda *a: two.run(fn, args=a)).get_concrete_function(*args)
    return sorted(set(calls))

def random_words(fn):  # sizes of the uint32 random draws in the traced two-replica function
    graph = tf.function(lambda: two.run(fn)).get_concrete_function().graph
    return sorted(op.outputs[0].shape.as_list()[0] for op in graph.get_operations()
                  if op.type == "StatelessRandomUniformFullIntV2" and op.get_attr("dtype") == tf.uint32)

static = tf.function(lambda: StepNoise.for_replica(seed, 4).latent(3), jit_compile=True)
per_replica = [t.numpy() for t in two.experimental_local_results(tf.function(lambda: two.run(static))())]
single = StepNoise.for_replica(seed, 8).latent(3).numpy()
dynamic = lambda x: StepNoise.for_replica(seed, tf.shape(x)[0]).latent(3)
print(json.dumps({"tile": float(np.abs(np.concatenate(per_replica) - single).max()),
                  "static": collectives(lambda: StepNoise.for_replica(seed, 4).latent(3)),
                  "words": random_words(lambda: StepNoise.for_replica(seed, 4).latent(3)),
                  "dynamic": collectives(dynamic, tf.TensorSpec([None, 2], tf.float32))}))
""", devices=2)
    assert result["tile"] < 1e-6  # the same uniforms; XLA's inverse normal CDF differs in the last bits
    assert result["static"] == [], result
    assert result["dynamic"], result
    assert result["words"] == [4 * 3 + 3] * 2, result  # each replica draws its 4 rows of 3, not all 8


def test_static_batches_on_two_replicas_equal_one_device(compared):
    _check(compared["static_batches"])


def test_a_final_batch_that_leaves_a_replica_empty(compared):
    """17 examples in batches of 8: the last global batch has 1 example, so replica 1 gets none. The step,
    its noise and its logs must still equal one device's (no division by zero, no NaN in the logs)."""
    _check(compared["empty_replica"])


def test_critic_batches_on_two_replicas_equal_one_device(compared):
    """n_critic = k splits each replica's 8 examples into k strided parts: the single device's parts (WGAN-GP
    and WGAN with n_critic = 2 are in the three-step test)."""
    _check(compared["critic_batches"])


def test_packed_discriminator_on_two_replicas_equals_one_device(compared):
    """PacGAN: each replica packs its own 8 examples; with 8 divisible by m the packs are the single device's."""
    _check(compared["packed"])


def test_three_steps_on_two_replicas_equal_one_device_with_xla(compared):
    """XLA-compiled sides under the strategy: the critic families here; NS-GAN with XLA is in the critic-batch
    test, DRAGAN with XLA in the static-batch and packed tests."""
    _check(compared["xla"])


def test_synchronized_batch_norm_with_xla_under_a_strategy_is_a_clear_error():
    result = run_python("""
import json, keras
import tfgan_stable as ts
two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with two.scope():
    g = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.BatchNormalization(synchronized=True),
                          keras.layers.Dense(2)])
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    gan = ts.NonSaturatingGAN(g, d, latent_dim=4)
    try:
        gan.compile(d_optimizer=keras.optimizers.SGD(), g_optimizer=keras.optimizers.SGD(), jit_compile=True)
        print(json.dumps({"error": None}))
    except ValueError as e:
        print(json.dumps({"error": str(e)}))
""", devices=2)
    assert result["error"] and "synchronized" in result["error"]


def test_noise_adds_no_collective_to_the_whole_replica_step():
    """TPU readiness of the whole step, with static per-replica batches: a step whose family and techniques draw
    noise (label flips, instance noise, a gradient penalty's interpolation) makes exactly the cross-replica calls
    of the same step drawing only z (the step's reductions of gradients and logs) and never all-gathers; and
    the noisy step compiles whole with XLA, optimizer updates included, as one function per replica (one
    replica here: on 2 logical CPUs MirroredStrategy's own collectives cannot be compiled, a TPU's can)."""
    result = run_python("""
import json, numpy as np, keras
import tfgan_stable as ts
two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
calls = []
for name in ("all_gather", "all_reduce", "merge_call"):  # every cross-replica entry point of a replica context
    original = getattr(tf.distribute.ReplicaContext, name)
    setattr(tf.distribute.ReplicaContext, name,
            lambda self, *a, _name=name, _original=original, **k: (calls.append(_name), _original(self, *a, **k))[1])

def build(noisy):
    keras.utils.set_random_seed(1)
    g = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)])
    techniques = ([ts.techniques.InstanceNoise(0.1, decay_steps=10), ts.techniques.GradientPenalty(1.0)]
                  if noisy else [])
    gan = ts.MinimaxGAN(g, d, latent_dim=4, label_noise=0.2 if noisy else 0.0, techniques=techniques)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.05), g_optimizer=keras.optimizers.SGD(0.05))
    return gan

def replica_step_calls(noisy):
    with two.scope():
        gan = build(noisy)
    calls.clear()
    tf.function(lambda x: two.run(gan.train_step, args=(x,))).get_concrete_function(
        tf.TensorSpec([4, 2], tf.float32))  # a static per-replica batch of 4
    return list(calls)

gan = build(True)
x = tf.constant(np.random.RandomState(0).uniform(-1, 1, (8, 2)).astype("float32"))
logs = tf.function(gan.train_step, jit_compile=True)(x)
print(json.dumps({"plain": replica_step_calls(False), "noisy": replica_step_calls(True),
                  "xla_finite": bool(all(np.isfinite(float(v)) for v in logs.values())),
                  "xla_moved": int(gan.d_optimizer.iterations.numpy())}))
""", devices=2)
    assert result["plain"] and "all_gather" not in result["noisy"], result
    assert result["noisy"] == result["plain"], result
    assert result["xla_finite"] and result["xla_moved"] == 1, result
