"""The layers' state under MirroredStrategy on 2 logical CPUs (one subprocess runs all the checks)."""
import pytest

from tests.subproc import run_python

CODE = r"""
import json, shutil, tempfile
TMP = tempfile.mkdtemp()
import numpy as np, keras
from tfgan_stable.layers import (SpectralNormalization, VirtualBatchNormalization, MinibatchDiscrimination,
                                 ConditionalBatchNormalization, set_reference_batch)

two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
one = tf.distribute.OneDeviceStrategy("/cpu:0")
out = {}

def copies(variable):
    return [c.numpy() for c in variable.value.values]

def read(variable):  # the cross-replica value (the mean of the copies)
    return tf.convert_to_tensor(variable.value).numpy()

def spread(variable):  # largest difference between the replica copies
    values = copies(variable)
    return float(max(np.abs(v - values[0]).max() for v in values))

def saved_value(path, key):  # the value stored in the checkpoint file under `key`
    return tf.train.load_variable(path, key + "/.ATTRIBUTES/VARIABLE_VALUE")

rng = np.random.RandomState(0)
images = rng.uniform(-1, 1, (24, 8, 8, 1)).astype("float32")

# ---------------------------------------------------------------- spectral normalisation in a training loop
def sn_run(strategy, jit, steps=3):
    with strategy.scope():
        keras.utils.set_random_seed(1)
        d = keras.Sequential([keras.Input((8, 8, 1)),
                              SpectralNormalization(keras.layers.Conv2D(4, 3, strides=2), seed=1, name="sn_conv"),
                              keras.layers.LeakyReLU(0.2), keras.layers.Flatten(),
                              SpectralNormalization(keras.layers.Dense(3), seed=2, name="sn_dense")])
        opt = keras.optimizers.SGD(0.5)
        opt.build(d.trainable_variables)
    us = [l.u for l in d.layers if isinstance(l, SpectralNormalization)]
    init = {u.path: (spread(u) if strategy is two else 0.0) for u in us}
    u0 = [read(u).copy() for u in us]

    # like the GAN base model: loss-and-gradients in a (possibly XLA-compiled) tf.function nested in strategy.run
    def grads_fn(x):
        with tf.GradientTape() as tape:
            per_example = tf.reduce_sum(tf.nn.softplus(-d(x, training=True)), axis=-1)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=8)
        return tape.gradient(loss, d.trainable_variables)
    grads_fn = tf.function(grads_fn, jit_compile=jit)

    @tf.function
    def step(batch):
        def replica(x):
            opt.apply_gradients(zip(grads_fn(x), d.trainable_variables))
        strategy.run(replica, (batch,))

    data = iter(strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices(images).repeat().batch(8)))
    for _ in range(steps):
        step(next(data))
    return d, us, init, u0, step, data

for jit in (False, True):
    d2, us2, init, u0, step, data = sn_run(two, jit)
    d1, us1, _, _, _, _ = sn_run(one, jit)
    r = {"init_spread": max(init.values()),
         "spread": max(spread(u) for u in us2),
         "moved": min(float(np.abs(read(u) - a).max()) for u, a in zip(us2, u0)),
         "vs_one_device_u": max(float(np.abs(read(a) - read(b)).max()) for a, b in zip(us2, us1)),
         "vs_one_device_w": max(float(np.abs(a.numpy() - b.numpy()).max())
                                for a, b in zip(d2.trainable_weights, d1.trainable_weights)),
         "unit_norm": max(abs(float(np.linalg.norm(read(u))) - 1) for u in us2)}
    ckpt = tf.train.Checkpoint(model=d2)
    path = ckpt.save(f"{TMP}/sn_ckpt_{jit}/c")
    saved = [read(u).copy() for u in us2]
    keys = [f"model/_functional/_operations/{i}/u" for i in (1, 4)]  # the two SN layers of the Sequential
    r["stored_is_u"] = max(float(np.abs(saved_value(path, k) - s).max()) for k, s in zip(keys, saved))
    step(next(data))  # u (and W) move on
    r["moved_after_save"] = min(float(np.abs(read(u) - s).max()) for u, s in zip(us2, saved))
    ckpt.restore(path).assert_consumed()
    r["restored"] = max(float(np.abs(c - s).max()) for u, s in zip(us2, saved) for c in copies(u))
    out[f"sn_jit_{jit}"] = r

# ---------------------------------------------------------------- VBN reference statistics
def vbn_generator():
    keras.utils.set_random_seed(2)
    z = keras.Input((4,))
    h = keras.layers.Reshape((2, 2, 4))(keras.layers.Dense(16)(z))
    h = keras.layers.ReLU()(VirtualBatchNormalization(name="vbn_a")(h))
    return keras.Model(z, VirtualBatchNormalization(name="vbn_b")(keras.layers.Conv2D(2, 1)(h)))

with two.scope():
    g = vbn_generator()
    g_opt = keras.optimizers.SGD(0.1)
    g_opt.build(g.trainable_variables)
vbns = [g.get_layer("vbn_a"), g.get_layer("vbn_b")]
z_ref = rng.normal(size=(10, 4)).astype("float32")
set_reference_batch(g, z_ref)  # outside strategy.run: the same value goes to every replica
stats = lambda: [v for l in vbns for v in (l.reference_mean, l.reference_mean_square, l.reference_size)]
r = {"spread_after_set": max(spread(v) for v in stats())}
first = [read(v).copy() for v in stats()]

def g_grads(x):
    with tf.GradientTape() as tape:
        loss = tf.nn.compute_average_loss(tf.reduce_mean(tf.square(g(x, training=True) - 0.5), [1, 2, 3]),
                                          global_batch_size=8)
    return tape.gradient(loss, g.trainable_variables)
g_grads = tf.function(g_grads, jit_compile=True)

@tf.function
def g_step(batch):
    def replica(x):
        g_opt.apply_gradients(zip(g_grads(x), g.trainable_variables))
    two.run(replica, (batch,))

refresh = tf.function(lambda: set_reference_batch(g, z_ref))
latents = tf.data.Dataset.from_tensor_slices(rng.normal(size=(24, 4)).astype("float32")).batch(8)
zs = iter(two.experimental_distribute_dataset(latents))
for _ in range(3):
    g_step(next(zs))
    refresh()
r["spread_after_training"] = max(spread(v) for v in stats())
r["refreshed"] = max(float(np.abs(read(v) - f).max()) for v, f in zip(stats(), first))
w, b = g.layers[1].get_weights()
r["matches_current_weights"] = float(np.abs(read(vbns[0].reference_mean) -
                                            (z_ref @ w + b).reshape(-1, 4).mean(0)).max())
# the reference can also be set inside strategy.run, with the same reference batch on every replica
@tf.function
def set_in_replicas():
    two.run(lambda: set_reference_batch(g, tf.constant(z_ref[:6])))
set_in_replicas()
r["spread_set_in_replicas"] = max(spread(v) for v in stats())
r["size_set_in_replicas"] = [float(c) for c in copies(vbns[1].reference_size)]
ckpt = tf.train.Checkpoint(g=g)
path = ckpt.save(f"{TMP}/vbn_ckpt/c")
saved = [read(v).copy() for v in stats()]
set_reference_batch(g, z_ref)
r["changed_before_restore"] = max(float(np.abs(read(v) - s).max()) for v, s in zip(stats(), saved))
ckpt.restore(path).assert_consumed()
r["restored"] = max(float(np.abs(c - s).max()) for v, s in zip(stats(), saved) for c in copies(v))
# a new generator restored from the checkpoint runs in the replicas (XLA) without set_reference_batch
with two.scope():
    g_new = vbn_generator()
tf.train.Checkpoint(g=g_new).restore(path)
z_new = rng.normal(size=(8, 4)).astype("float32")
z_local = two.experimental_distribute_values_from_function(
    lambda ctx: tf.constant(z_new[4 * ctx.replica_id_in_sync_group:4 * (ctx.replica_id_in_sync_group + 1)]))
run_new = tf.function(lambda a: g_new(a, training=True), jit_compile=True)
per_replica = tf.function(lambda z: two.run(lambda a: run_new(a), (z,)))(z_local)
r["restored_model_output"] = float(np.abs(np.concatenate([t.numpy() for t in two.experimental_local_results(
    per_replica)]) - g(z_new).numpy()).max())
out["vbn"] = r

# ---------------------------------------------------------------- minibatch discrimination: per-replica batch
with two.scope():
    mbd = MinibatchDiscrimination(3, 2)
    mbd.build((None, 5))
    mbd.kernel.assign(rng.normal(scale=0.3, size=(5, 3, 2)).astype("float32"))
features = rng.normal(size=(8, 5)).astype("float32")
local = two.experimental_distribute_values_from_function(
    lambda ctx: tf.constant(features[4 * ctx.replica_id_in_sync_group:4 * (ctx.replica_id_in_sync_group + 1)]))
per_replica = tf.function(lambda x: two.run(lambda a: mbd(a), (x,)))(local)
out["mbd"] = {"per_replica": [t.numpy().tolist() for t in two.experimental_local_results(per_replica)],
              "features": features.tolist(), "kernel": mbd.kernel.numpy().tolist()}

# ---------------------------------------------------------------- conditional BN moving statistics
with two.scope():
    cbn = ConditionalBatchNormalization(num_classes=2, momentum=0.5)
    cbn.build([(None, 3), (None,)])
xs = rng.normal(size=(8, 3)).astype("float32") * np.array([1, 2, 3], "float32")
xs[4:] += 5.0  # the two replicas see different batches
x_local = two.experimental_distribute_values_from_function(
    lambda ctx: tf.constant(xs[4 * ctx.replica_id_in_sync_group:4 * (ctx.replica_id_in_sync_group + 1)]))
labels = tf.constant([0, 1, 1, 0])
tf.function(lambda x: two.run(lambda a: cbn([a, labels], training=True), (x,)))(x_local)
mean_copies = copies(cbn.moving_mean)
ckpt = tf.train.Checkpoint(cbn=cbn)
path = ckpt.save(f"{TMP}/cbn_ckpt/c")
stored = saved_value(path, "cbn/moving_mean")
ckpt.restore(path)
out["cbn"] = {"copies": [c.tolist() for c in mean_copies], "read": read(cbn.moving_mean).tolist(),
              "stored": stored.tolist(), "restored": [c.tolist() for c in copies(cbn.moving_mean)],
              "xs": xs.tolist()}
shutil.rmtree(TMP)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def result():
    return run_python(CODE, devices=2, timeout=300)


@pytest.mark.parametrize("jit", [False, True], ids=["graph", "xla"])
def test_spectral_norm_u_identical_on_replicas_and_checkpointed(result, jit):
    r = result[f"sn_jit_{jit}"]
    assert r["init_spread"] == 0.0                  # the initial random u is the same on both replicas
    assert r["moved"] > 1e-4                        # training calls updated u ...
    assert r["spread"] == 0.0                       # ... identically on both replicas (bitwise)
    assert r["unit_norm"] < 1e-5
    assert r["vs_one_device_w"] < 1e-5              # 2 replicas x 4 examples == 1 device x 8 examples
    assert r["vs_one_device_u"] < 1e-5
    assert r["stored_is_u"] == 0.0                  # the checkpoint holds u itself (a "sum" would hold 2u)
    assert r["moved_after_save"] > 1e-6
    assert r["restored"] == 0.0                     # restore gives every replica the saved u


def test_vbn_reference_statistics_identical_on_replicas(result):
    r = result["vbn"]
    assert r["spread_after_set"] == 0.0
    assert r["spread_after_training"] == 0.0
    assert r["refreshed"] > 1e-3                    # the refresh followed the XLA-trained weights
    assert r["matches_current_weights"] < 1e-5
    assert r["spread_set_in_replicas"] == 0.0
    assert r["size_set_in_replicas"] == [6.0, 6.0]
    assert r["changed_before_restore"] > 1e-3
    assert r["restored"] == 0.0
    assert r["restored_model_output"] < 1e-6


def test_minibatch_discrimination_compares_within_each_replica(result):
    import numpy as np
    from tests.layers.test_minibatch import _numpy_minibatch_discrimination

    r = result["mbd"]
    features, kernel = np.array(r["features"], "float32"), np.array(r["kernel"], "float32")
    global_batch = _numpy_minibatch_discrimination(features, kernel)
    for i, values in enumerate(r["per_replica"]):
        half = features[4 * i:4 * (i + 1)]
        np.testing.assert_allclose(values, _numpy_minibatch_discrimination(half, kernel), rtol=1e-5, atol=1e-6)
        # not the global-batch features: the other replica's examples would add to the sum
        assert np.min(global_batch[4 * i:4 * (i + 1), 5:] - np.array(values)[:, 5:]) > 1e-3


def test_conditional_bn_moving_statistics_checkpoint_as_replica_mean(result):
    import numpy as np

    r = result["cbn"]
    xs = np.array(r["xs"])
    expected = [0.5 * xs[:4].mean(0), 0.5 * xs[4:].mean(0)]  # each replica: its own batch, momentum 0.5
    np.testing.assert_allclose(r["copies"], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(r["read"], 0.5 * xs.mean(0), rtol=1e-5, atol=1e-6)  # = EMA of the global mean
    np.testing.assert_allclose(r["stored"], r["read"], rtol=1e-6)
    np.testing.assert_allclose(r["restored"], [r["read"]] * 2, rtol=1e-6)
