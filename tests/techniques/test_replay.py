"""ExperienceReplay: the fakes D trains on and the ring buffer against numpy; with the other techniques of issue
10 (Unrolled, DiffAugment): 2 replicas equal one device, and a `.keras` round trip (XLA). Every family is
trained with all three in test_augment.py."""
import types

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts
from tests.subproc import run_python
from tfgan_stable.techniques.augment import DiffAugment
from tfgan_stable.techniques.replay import ExperienceReplay
from tfgan_stable.techniques.unrolled import Unrolled

LATENT = 3


def sig(t):
    return 1.0 / (1.0 + np.exp(-t))


def nets(packing=1, seed=0):
    keras.utils.set_random_seed(seed)
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(2)])
    pack = [ts.layers.Pack(packing)] if packing > 1 else []
    d = keras.Sequential([keras.Input((2,)), *pack, keras.layers.Dense(1)])
    return g, d


def fifo(pushes, size, shape):
    """The ring buffer after `pushes` (a list of [b, ...] arrays), written independently of the class."""
    buffer, position = np.zeros((size, *shape)), 0
    for rows in pushes:
        for row in rows:
            buffer[position % size] = row
            position += 1
    return buffer, position


def test_pushes_fill_a_ring_buffer_first_in_first_out():
    g, d = nets()
    replay = ExperienceReplay(buffer_size=10, fraction=0.5)
    gan = ts.NonSaturatingGAN(g, d, latent_dim=LATENT, techniques=[replay])
    pushes = [np.random.RandomState(i).normal(size=(4, 2)) for i in range(4)]  # 16 rows: wraps around
    for i, rows in enumerate(pushes):
        replay.after_discriminator_update(gan, types.SimpleNamespace(fake=tf.constant(rows, tf.float32)))
        buffer, count = fifo(pushes[:i + 1], 10, (2,))
        np.testing.assert_allclose(replay.buffer.numpy(), buffer, rtol=1e-6)
        assert int(replay.stored.numpy()) == count


@pytest.mark.parametrize("packing", [1, 2])
def test_replaced_fakes_against_numpy(packing):
    g, d = nets(packing)
    replay = ExperienceReplay(buffer_size=6, fraction=0.4)
    ts.NonSaturatingGAN(g, d, latent_dim=LATENT, techniques=[replay])  # attaches: creates the buffer
    rng = np.random.RandomState(1)
    fakes = rng.normal(size=(8, 2)).astype(np.float32)
    ctx = types.SimpleNamespace(player="discriminator")
    u = rng.uniform(size=8).astype(np.float32)
    v = rng.uniform(size=8).astype(np.float32)
    ctx.draws = {replay.name: {"use": tf.constant(u[:, None]), "index": tf.constant(v)}}
    # Empty buffer: nothing is replaced.
    np.testing.assert_array_equal(replay.transform_discriminator_input(tf.constant(fakes), "fake", ctx), fakes)
    replay.buffer.assign(rng.normal(size=(6, 2)).astype(np.float32))
    for stored in (3, 6, 20):  # partly filled, full, wrapped around
        replay.stored.assign(stored)
        got = replay.transform_discriminator_input(tf.constant(fakes), "fake", ctx).numpy()
        filled = min(stored, 6)
        use = np.repeat(u[::packing], packing) < 0.4  # one decision per pack: its first example's
        want = np.where(use[:, None], replay.buffer.numpy()[np.floor(v * filled).astype(int)], fakes)
        np.testing.assert_array_equal(got, want)
        assert 0 < use.sum() < 8
    # Real inputs and the generator's update are never touched.
    np.testing.assert_array_equal(replay.transform_discriminator_input(tf.constant(fakes), "real", ctx), fakes)
    ctx.player = "generator"
    np.testing.assert_array_equal(replay.transform_discriminator_input(tf.constant(fakes), "fake", ctx), fakes)


def test_a_training_step_trains_d_on_the_replayed_fakes_and_pushes_its_own():
    """Linear G (frozen: lr 0), linear D, NS loss, SGD. Step 0 fills the buffer with its fakes; step 1
    replaces some of its fakes by buffer entries; D's update of step 1 is checked against numpy."""
    batch, lr = 8, 0.5
    g, d = nets()
    replay = ExperienceReplay(buffer_size=12, fraction=0.5)
    gan = ts.NonSaturatingGAN(g, d, latent_dim=LATENT, techniques=[replay], seed=7)
    gan.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(0.0))
    x = np.random.RandomState(2).uniform(-1, 1, (batch, 2)).astype(np.float32)
    real = tf.constant(x)

    def fakes(step):
        z = gan._noise(1, step, real).named("z").latent(LATENT)
        return g(z).numpy().astype(np.float64)

    gan.train_step(real)
    f0 = fakes(0)
    np.testing.assert_allclose(replay.buffer.numpy()[:batch], f0, rtol=1e-6)
    w, b = (v.numpy().astype(np.float64) for v in d.weights)
    gan.train_step(real)
    f1 = fakes(1)
    u = gan._noise(1, 1, real).named(replay.name).uniform([2]).numpy()
    shown = np.where((u[:, 0] < 0.5)[:, None], f0[np.floor(u[:, 1] * batch).astype(int)], f1)
    assert 0 < (u[:, 0] < 0.5).sum() < batch
    # NS discriminator loss, mean over the batch: softplus(-D(x)) + softplus(D(x~)).
    dr, df = x @ w + b, shown @ w + b
    grad_w = (-sig(-dr) * x + sig(df) * shown).mean(0)[:, None]
    grad_b = (-sig(-dr) + sig(df)).mean(0)
    np.testing.assert_allclose(d.weights[0].numpy(), w - lr * grad_w, atol=1e-6)
    np.testing.assert_allclose(d.weights[1].numpy(), b - lr * grad_b, atol=1e-6)
    # The buffer got step 1's own fakes (not the replayed ones), wrapping around after 12 entries.
    buffer, count = fifo([f0, f1], 12, (2,))
    np.testing.assert_allclose(replay.buffer.numpy(), buffer, rtol=1e-5, atol=1e-6)
    assert int(replay.stored.numpy()) == count == 16


def test_two_replicas_equal_one_device_with_replay_unrolled_and_augment():
    """MirroredStrategy on 2 logical CPUs, with the techniques of issue 10 together (ExperienceReplay,
    Unrolled, DiffAugment): the buffer is the same on both replicas and equals the single device's, and so
    do all weights. 17 examples in batches of 8: the last batch leaves replica 1 empty (an uneven
    all-gather, an empty look-ahead share), and the 17 pushes wrap around the 12 entries."""
    result = run_python("""
import json
import numpy as np, keras
import tfgan_stable as ts
from tfgan_stable.techniques.augment import DiffAugment
from tfgan_stable.techniques.augment import DiffAugment
from tfgan_stable.techniques.replay import ExperienceReplay
from tfgan_stable.techniques.unrolled import Unrolled
from tfgan_stable.techniques.unrolled import Unrolled

one = tf.distribute.OneDeviceStrategy("/cpu:0")
two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
x = np.random.RandomState(0).uniform(-1, 1, (17, 8, 8, 1)).astype("float32")

def train(strategy):
    with strategy.scope():
        keras.utils.set_random_seed(1)
        g = keras.Sequential([keras.Input((3,)), keras.layers.Dense(64, activation="tanh"),
                              keras.layers.Reshape((8, 8, 1))])
        d = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1)])
        replay = ExperienceReplay(buffer_size=12, fraction=0.5)
        gan = ts.NonSaturatingGAN(g, d, latent_dim=3, seed=3, techniques=[DiffAugment(), Unrolled(steps=1), replay])
        gan.compile(d_optimizer=keras.optimizers.Adam(0.01), g_optimizer=keras.optimizers.Adam(0.01))
    initial = [w.numpy() for w in gan.weights]
    gan.fit(tf.data.Dataset.from_tensor_slices(x).batch(8), epochs=1, verbose=0)
    copies = [c.numpy() for c in strategy.experimental_local_results(replay.buffer.value)]
    counts = [int(c.numpy()) for c in strategy.experimental_local_results(replay.stored.value)]
    weights = [w.numpy() for w in gan.weights]
    return copies, counts, weights, max(float(np.abs(a - b).max()) for a, b in zip(weights, initial))

b1, c1, w1, moved = train(one)
b2, c2, w2, _ = train(two)
print(json.dumps({"replicas": float(np.abs(b2[0] - b2[1]).max()), "buffer": float(np.abs(b1[0] - b2[0]).max()),
                  "counts": c1 + c2, "weights": max(float(np.abs(a - b).max()) for a, b in zip(w1, w2)),
                  "moved": moved, "filled": float(np.abs(b1[0]).reshape(12, -1).sum(1).min())}))
""", devices=2)
    assert result["replicas"] == 0.0, result
    assert result["buffer"] < 1e-6 and result["weights"] < 1e-5 < 1e-3 < result["moved"], result
    assert result["counts"] == [17, 17, 17] and result["filled"] > 0, result  # every entry written


def test_save_and_load_restores_the_buffer_and_the_techniques(tmp_path):
    """A `.keras` round trip of a packed WGAN-GP trained with XLA (the whole step compiled, look-ahead and
    buffer writes included) and the techniques of issue 10: the buffer and its count come back exactly, the
    techniques with their configuration, the weights and optimizer state with them."""
    x = np.random.RandomState(0).uniform(-1, 1, (16, 4, 4, 1)).astype(np.float32)
    keras.utils.set_random_seed(0)
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(16), keras.layers.Reshape((4, 4, 1))])
    d = keras.Sequential([keras.Input((4, 4, 1)), ts.layers.Pack(2), keras.layers.Flatten(), keras.layers.Dense(1)])
    gan = ts.WGANGP(g, d, latent_dim=LATENT, n_critic=1, techniques=[
        ExperienceReplay(24, 0.75), DiffAugment("color,cutout"), Unrolled(steps=2)])
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-2), g_optimizer=keras.optimizers.Adam(1e-2), jit_compile=True)
    gan.fit(x, batch_size=8, epochs=2, verbose=0, shuffle=False)
    gan.save(tmp_path / "gan.keras")
    restored = keras.models.load_model(tmp_path / "gan.keras")
    assert [t.get_config() for t in restored.techniques] == [t.get_config() for t in gan.techniques]
    replay, other = gan.techniques[1], restored.techniques[1]
    assert isinstance(other, ExperienceReplay)
    np.testing.assert_array_equal(other.buffer.numpy(), replay.buffer.numpy())
    assert int(other.stored.numpy()) == int(replay.stored.numpy()) == 32
    assert np.abs(replay.buffer.numpy()).reshape(24, -1).sum(1).min() > 0  # 32 pushes: every entry written
    for a, b in zip(gan.weights + gan.d_optimizer.variables, restored.weights + restored.d_optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("kwargs, name", [({"buffer_size": 0}, "buffer_size"), ({"buffer_size": 2.5}, "buffer_size"),
                                          ({"buffer_size": True}, "buffer_size"),
                                          ({"buffer_size": 8, "fraction": -0.1}, "fraction"),
                                          ({"buffer_size": 8, "fraction": 1.5}, "fraction"),
                                          ({"buffer_size": 8, "fraction": "half"}, "fraction")])
def test_bad_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ExperienceReplay(**kwargs)


def test_a_buffer_smaller_than_the_batch_is_refused():
    g, d = nets()
    gan = ts.NonSaturatingGAN(g, d, latent_dim=LATENT, techniques=[ExperienceReplay(buffer_size=4)])
    gan.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
    x = np.zeros((16, 2), np.float32)
    with pytest.raises(ValueError, match="buffer_size"):
        gan.fit(tf.data.Dataset.from_tensor_slices(x).batch(8, drop_remainder=True), epochs=1, verbose=0)
