"""Every technique with every family; state identical on 2 replicas; state saved and resumed exactly."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts
from tests.conditioning import is_conditional, labels_for
from tests.family_nets import make_gan
from tests.subproc import run_python

T = ts.techniques

# One factory per technique; each GAN gets fresh objects.
TECHNIQUES = {
    "instance_noise": lambda: [T.InstanceNoise(0.1, decay_steps=10)],
    "r1_r2": lambda: [T.R1(1.0), T.R2(1.0)],
    "gradient_penalty": lambda: [T.GradientPenalty(1.0, name="extra_gp")],
    "dragan_penalty": lambda: [T.DRAGANPenalty(1.0, name="extra_dragan")],
    "feature_matching": lambda: [T.FeatureMatching("hidden", weight=0.5)],
    "feature_matching_replace": lambda: [T.FeatureMatching("hidden", replace=True)],
    "historical_averaging": lambda: [T.HistoricalAveraging(0.1)],
    "orthogonal_regularization": lambda: [T.OrthogonalRegularization(1e-3, player="both")],
    "ema": lambda: [T.EMA(0.5)],
    "pulling_away": lambda: [T.PullingAway("hidden", 0.1)],
    "top_k": lambda: [T.TopK(0.5, decay=0.5, decay_steps=1)],
}


def nets(latent=3):
    keras.utils.set_random_seed(0)
    g = keras.Sequential([keras.Input((latent,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="tanh", name="hidden"),
                          keras.layers.Dense(1)])
    return g, d


def state(gan):
    """The values of every variable the techniques own."""
    return [w.numpy().copy() for t in gan.techniques for w in t.weights]


def train_one_step(family, techniques):
    """One eager step (no tracing, so the many cases stay quick): finite logs; weights and state move."""
    g, d = nets()
    gan = make_gan(family, g, d, latent_dim=3, techniques=techniques)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-2), g_optimizer=keras.optimizers.Adam(1e-2), run_eagerly=True)
    before = [w.numpy().copy() for w in gan.generator.weights + gan.discriminator.weights]
    owned = [[w.numpy().copy() for w in t.weights] for t in gan.techniques]
    x = np.random.RandomState(1).normal(size=(8 * gan.n_critic, 2)).astype(np.float32)
    y = labels_for(len(x)) if is_conditional(family) else None
    history = gan.fit(x, y, batch_size=8 * gan.n_critic, epochs=1, verbose=0, shuffle=False).history
    assert all(np.isfinite(v[-1]) for v in history.values()), history
    for t in gan.techniques:
        for player in t.term_players:
            assert t.log_name(player) in history, (t.name, sorted(history))
    after = [w.numpy() for w in gan.generator.weights + gan.discriminator.weights]
    assert all(np.all(np.isfinite(w)) for w in after)
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    for t, own in zip(gan.techniques, owned):
        if own:  # the state advanced (a weight with zero gradient may keep its running mean)
            assert any(not np.array_equal(a, b.numpy()) for a, b in zip(own, t.weights)), t.name


@pytest.mark.parametrize("family", sorted(ts.FAMILIES))
def test_every_technique_trains_with_every_family(family):
    """All techniques at once with each family: each term is logged, the state of each moves."""
    techniques = [t for name, make in sorted(TECHNIQUES.items()) if name != "feature_matching_replace"
                  for t in make()]
    train_one_step(family, techniques)


@pytest.mark.parametrize("technique", sorted(TECHNIQUES))
def test_each_technique_alone(technique):
    train_one_step("ns", TECHNIQUES[technique]())


TWO_REPLICAS = """
import json
import numpy as np, keras
import tfgan_stable as ts
T = ts.techniques
one = tf.distribute.OneDeviceStrategy("/cpu:0")
two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
x = np.random.RandomState(0).normal(size=(48, 2)).astype("float32")

def train(strategy, jit):
    with strategy.scope():
        keras.utils.set_random_seed(1)
        g = keras.Sequential([keras.Input((3,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
        d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="tanh", name="hidden"),
                              keras.layers.Dense(1)])
        techniques = [T.InstanceNoise(0.2, decay_steps=5), T.EMA(0.5)]
        if not jit:  # (XLA: a state update and a transform inside the compiled step; the rest in graph mode,
                     # where FeatureMatching's all-reduce inside the gradient can run)
            techniques += [T.HistoricalAveraging(0.1), T.OrthogonalRegularization(1e-2, player="both"),
                           T.R1(1.0), T.R2(0.5), T.FeatureMatching("hidden", weight=0.5),
                           T.TopK(0.5, decay=0.5, decay_steps=1)]
        gan = ts.NonSaturatingGAN(g, d, latent_dim=3, seed=3, techniques=techniques)
        gan.compile(d_optimizer=keras.optimizers.SGD(0.05), g_optimizer=keras.optimizers.SGD(0.05), jit_compile=jit)
    history = gan.fit(tf.data.Dataset.from_tensor_slices(x).batch(16), epochs=1, verbose=0).history  # 3 steps
    def copies(v):
        return [c.numpy() for c in v.value.values] if hasattr(v.value, "values") else [v.numpy()]
    values = [copies(w) for w in gan.weights]
    return values, history

out = {}
for jit in (False, True):
    w1, h1 = train(one, jit)
    w2, h2 = train(two, jit)
    out[str(jit)] = {"diff": max(float(np.max(np.abs(a[0] - c))) for a, b in zip(w1, w2) for c in b),
                     "spread": max(float(np.max(np.abs(b[0] - c))) for b in w2 for c in b),
                     "logs": max(abs(h1[k][-1] - h2[k][-1]) for k in h1), "names": sorted(h1) == sorted(h2)}
print(json.dumps(out))
"""


def test_technique_state_on_two_replicas_equals_one_device():
    """Weights, EMA generator, historical means: equal on both replicas and to one device (graph and XLA)."""
    result = run_python(TWO_REPLICAS, devices=2)
    for jit, r in result.items():
        assert r["spread"] == 0.0, (jit, r)  # every replica holds the same values
        assert r["diff"] < 1e-5 and r["logs"] < 1e-5 and r["names"], (jit, r)


def test_a_refused_combination_under_xla_and_replicas():
    result = run_python("""
import json, keras
import tfgan_stable as ts
two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with two.scope():
    g = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, name="hidden"), keras.layers.Dense(1)])
    gan = ts.NonSaturatingGAN(g, d, latent_dim=3, techniques=[ts.techniques.FeatureMatching("hidden")])
    try:
        gan.compile(d_optimizer=keras.optimizers.SGD(), g_optimizer=keras.optimizers.SGD(), jit_compile=True)
        print(json.dumps({"error": None}))
    except ValueError as e:
        print(json.dumps({"error": str(e)}))
""", devices=2)
    assert result["error"] and "feature_matching" in result["error"]


def stateful_gan():
    g, d = nets()
    gan = ts.NonSaturatingGAN(g, d, latent_dim=3, seed=2, techniques=[
        T.EMA(0.8), T.HistoricalAveraging(0.05), T.InstanceNoise(0.2, decay_steps=12),
        T.FeatureMatching("hidden", 0.1)])
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-2), g_optimizer=keras.optimizers.Adam(1e-2))
    return gan


X = np.random.RandomState(3).normal(size=(32, 2)).astype(np.float32)


def test_keras_file_round_trip_restores_the_technique_state_and_continues_exactly(tmp_path):
    gan = stateful_gan()
    gan.fit(X, batch_size=8, epochs=1, verbose=0, shuffle=False)
    gan.save(tmp_path / "gan.keras")
    restored = keras.models.load_model(tmp_path / "gan.keras")
    assert [type(t) for t in restored.techniques] == [type(t) for t in gan.techniques]
    for a, b in zip(state(gan), state(restored)):
        np.testing.assert_array_equal(a, b)
    gan.fit(X, batch_size=8, epochs=1, verbose=0, shuffle=False)
    restored.fit(X, batch_size=8, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(gan.weights, restored.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
    np.testing.assert_allclose(gan.generate(8, seed=1).numpy(), restored.generate(8, seed=1).numpy(), atol=1e-6)


def test_backup_and_restore_resumes_the_technique_state_exactly(tmp_path):
    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("interrupted")

    def fit(gan, callbacks=()):
        gan.fit(X, batch_size=8, epochs=4, verbose=0, shuffle=False, callbacks=list(callbacks))
        return gan

    reference = fit(stateful_gan())
    with pytest.raises(RuntimeError, match="interrupted"):
        fit(stateful_gan(), [keras.callbacks.BackupAndRestore(str(tmp_path)), Interrupt()])
    resumed = fit(stateful_gan(), [keras.callbacks.BackupAndRestore(str(tmp_path))])
    for a, b in zip(reference.weights, resumed.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
    for a, b in zip(state(reference), state(resumed)):
        np.testing.assert_allclose(a, b, atol=1e-6)
