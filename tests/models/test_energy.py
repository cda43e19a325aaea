"""EBGAN and BEGAN (autoencoder discriminators): energies and losses vs numpy, one update vs a hand computation,
the pulling-away term vs a double loop and over the global batch, BEGAN's k_t rule (1 device and 2 replicas),
k saved and restored, a short MNIST fit, and the argument checks."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts
from tests.subproc import run_python
from tfgan_stable import losses
from tfgan_stable.techniques.pulling_away import pulling_away

RNG = np.random.RandomState(0)


def close(tensor, expected, tol=1e-5):
    np.testing.assert_allclose(np.asarray(tensor), expected, rtol=tol, atol=tol)


# ------------------------------------------------------------------ energies and losses on fixed values
def test_reconstruction_energy_against_numpy():
    samples = RNG.uniform(-1, 1, (4, 3, 3, 2)).astype(np.float32)
    recon = RNG.uniform(-1, 1, (4, 3, 3, 2)).astype(np.float32)
    diff = recon.astype(np.float64) - samples
    close(losses.reconstruction_energy(recon, samples, power=2), (diff ** 2).reshape(4, -1).mean(1))
    close(losses.reconstruction_energy(recon, samples, power=1), np.abs(diff).reshape(4, -1).mean(1))
    with pytest.raises(ValueError, match="power"):
        losses.reconstruction_energy(recon, samples, power=3)
    with pytest.raises(ValueError, match="reconstructions"):
        losses.reconstruction_energy(recon[:, :2], samples)


def test_ebgan_began_and_generator_losses_against_numpy():
    real = np.array([0.1, 0.5, 2.0, 0.0], np.float32)
    fake = np.array([0.3, 1.5, 0.9, 1.0], np.float32)  # below, above, below and at the margin 1
    close(losses.ebgan_discriminator_loss(real, fake, margin=1.0), real + np.maximum(0.0, 1.0 - fake.astype(float)))
    close(losses.ebgan_discriminator_loss(real, fake, margin=1.0), [0.8, 0.5, 2.1, 0.0])  # by hand
    close(losses.began_discriminator_loss(real, fake, k=0.25), real - 0.25 * fake.astype(float))
    close(losses.energy_generator_loss(fake[:, None]), fake)


def linear_nets(fake_value, n=3, latent=2):
    """G whose samples are all `fake_value` (zero kernel), and a linear autoencoder D(v) = vW + b on R^n."""
    keras.utils.set_random_seed(0)
    g = keras.Sequential([keras.Input((latent,)), keras.layers.Dense(
        n, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(fake_value))])
    d = keras.Sequential([keras.Input((n,)), keras.layers.Dense(
        n, kernel_initializer=keras.initializers.RandomNormal(stddev=0.5, seed=1), name="code")])
    return g, d


def energy_and_gradients(w, b, v):
    """E(v) = mean_e (vW + b − v)_e² of each row of v, and dE/dW, dE/db, dE/dv (float64)."""
    n = v.shape[1]
    r = v @ w + b - v
    energy = (r ** 2).mean(1)
    d_w = 2.0 / n * v[:, :, None] * r[:, None, :]
    d_b = 2.0 / n * r
    d_v = 2.0 / n * r @ (w - np.eye(n)).T
    return energy, d_w, d_b, d_v


@pytest.mark.parametrize("family", ["ebgan", "began"])
def test_one_step_updates_both_players_as_computed_by_hand(family):
    """SGD step of D on L_D, then of G's bias on L_G = E(G(z)) with the updated D, recomputed in numpy."""
    lr, c = 0.1, np.array([0.9, -0.7, 0.4])
    g, d = linear_nets(c)
    x = RNG.uniform(-1, 1, (8, 3)).astype(np.float32)
    if family == "ebgan":
        gan = ts.EBGAN(g, d, latent_dim=2, margin=2.0)
    else:
        gan = ts.BEGAN(g, d, latent_dim=2, power=2, initial_k=0.3, lambda_k=0.5)
    gan.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
    w, b = [v.numpy().astype(np.float64) for v in d.weights]
    logs = gan.train_step(tf.constant(x))
    e_real, dw_real, db_real, _ = energy_and_gradients(w, b, x.astype(np.float64))
    e_fake, dw_fake, db_fake, _ = energy_and_gradients(w, b, c[None])
    if family == "ebgan":
        coef = -1.0 if 2.0 > e_fake[0] else 0.0  # d/dE max(0, m − E)
        assert coef == -1.0  # the hinge is active here, so the fake term matters
        expected_loss = e_real.mean() + max(0.0, 2.0 - e_fake[0])
    else:
        coef = -0.3
        expected_loss = e_real.mean() - 0.3 * e_fake[0]
    close(logs["d_loss"], expected_loss)
    close(logs["d_real"], e_real.mean())
    close(logs["d_fake"], e_fake[0])
    w1, b1 = w - lr * (dw_real.mean(0) + coef * dw_fake[0]), b - lr * (db_real.mean(0) + coef * db_fake[0])
    close(d.weights[0].numpy(), w1)
    close(d.weights[1].numpy(), b1)
    e_g, _, _, dv = energy_and_gradients(w1, b1, c[None])
    close(logs["g_loss"], e_g[0])
    close(g.weights[1].numpy(), c - lr * dv[0])  # every fake is c: the mean gradient is this one
    if family == "began":
        k1 = np.clip(0.3 + 0.5 * (0.5 * e_real.mean() - e_fake[0]), 0, 1)
        close(gan.k.numpy(), k1)
        close(logs["k"], k1)
        close(logs["convergence"], e_real.mean() + abs(0.5 * e_real.mean() - e_fake[0]))


def test_discriminate_gives_the_energy_of_the_samples():
    g, d = linear_nets(np.zeros(3))
    x = RNG.uniform(-1, 1, (5, 3)).astype(np.float32)
    recon = d.predict(x, verbose=0).astype(np.float64)
    close(ts.EBGAN(g, d, latent_dim=2).discriminate(x), ((recon - x) ** 2).mean(1))
    close(ts.BEGAN(g, d, latent_dim=2).discriminate(x), np.abs(recon - x).mean(1))


def test_unrolled_look_ahead_scores_are_energies():
    """Unrolled calls D itself: with a zero learning rate its look-ahead D scores samples as D does."""
    g, d = linear_nets(np.zeros(3))
    gan = ts.BEGAN(g, d, latent_dim=2, techniques=[ts.techniques.Unrolled(steps=1)])
    gan.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.0))
    x = tf.constant(RNG.uniform(-1, 1, (6, 3)).astype(np.float32))
    weights = gan.techniques[0].unrolled_weights(gan, x, x[::-1])
    scores, _ = ts.techniques.Unrolled._call(gan, weights, [], x, None)
    close(scores, gan.discriminate(x).numpy(), 1e-6)


# ------------------------------------------------------------------ pulling-away term
def pulling_away_loop(codes):
    s = codes.reshape(len(codes), -1).astype(np.float64)
    n = len(s)
    total = 0.0
    for i in range(n):
        for j in range(n):
            if i != j:
                total += (s[i] @ s[j] / (np.linalg.norm(s[i]) * np.linalg.norm(s[j]))) ** 2
    return total / (n * (n - 1))


def test_pulling_away_against_a_double_loop():
    codes = RNG.normal(size=(7, 2, 3)).astype(np.float32)
    codes[3] = codes[1] * 2.5  # a parallel pair: cosine 1
    close(pulling_away(codes), pulling_away_loop(codes))
    same = np.tile(RNG.normal(size=(1, 4)), (5, 1)).astype(np.float32)
    close(pulling_away(same), 1.0)  # all codes parallel: the maximum
    close(pulling_away(np.eye(4, dtype=np.float32)), 0.0)  # orthogonal codes: the minimum
    close(pulling_away(codes[:1]), 0.0)  # one example has no pairs


def test_pulling_away_technique_term_and_gradient():
    codes = tf.constant(RNG.normal(size=(6, 4)).astype(np.float32))

    class Ctx:
        fake_features = {"code": codes}

    t = ts.techniques.PullingAway("code", weight=0.1)
    close(t.generator_term(None, Ctx), 0.1 * pulling_away_loop(codes.numpy()))
    with tf.GradientTape() as tape:
        tape.watch(codes)
        value = pulling_away(codes)
    grad = tape.gradient(value, codes).numpy()
    eps, numeric = 1e-3, np.zeros(codes.shape)
    base = codes.numpy().astype(np.float64)
    for index in np.ndindex(*codes.shape):  # central differences of the double loop
        up, down = base.copy(), base.copy()
        up[index] += eps
        down[index] -= eps
        numeric[index] = (pulling_away_loop(up) - pulling_away_loop(down)) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, atol=2e-4)
    assert ts.techniques.PullingAway.from_config(t.get_config()).get_config() == t.get_config()


def test_ebgan_adds_the_pulling_away_term_as_a_builtin_technique():
    g, d = linear_nets(np.zeros(3))
    assert [t.name for t in ts.EBGAN(g, d, latent_dim=2).techniques] == []
    gan = ts.EBGAN(g, d, latent_dim=2, pulling_away_weight=0.1, code_layer="code")
    assert [(type(t), t.weight, t.layer_name) for t in gan.techniques] == [(ts.techniques.PullingAway, 0.1, "code")]
    with pytest.raises(ValueError, match="missing"):
        ts.EBGAN(g, d, latent_dim=2, pulling_away_weight=0.1, code_layer="missing")


# ------------------------------------------------------------------ BEGAN's k_t
def test_began_k_follows_its_rule_over_three_steps():
    """Each step: L(x) from an independent forward pass of D, d_loss = L(x) − k_t·L(G(z)), and
    k_{t+1} = clip(k_t + λ_k(γ·L(x) − L(G(z))), 0, 1) in float32 from the step's logged means."""
    keras.utils.set_random_seed(0)
    g = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(4)])
    d = ts.nets.mlp_autoencoder(4, units=(8,), code_dim=2)
    gamma, lam = np.float32(0.7), np.float32(0.4)
    gan = ts.BEGAN(g, d, latent_dim=2, gamma=0.7, lambda_k=0.4, initial_k=0.2, seed=1)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-2), g_optimizer=keras.optimizers.Adam(1e-2))
    x = RNG.uniform(-1, 1, (16, 4)).astype(np.float32)
    ks = [np.float32(gan.k.numpy())]
    for _ in range(3):
        real_energy = np.abs(d.predict(x, verbose=0).astype(np.float64) - x).mean()
        h = {k: v[-1] for k, v in gan.fit(x, batch_size=16, epochs=1, shuffle=False, verbose=0).history.items()}
        real, fake = np.float32(h["d_real"]), np.float32(h["d_fake"])
        close(real, real_energy)
        close(h["d_loss"], real - ks[-1] * fake)
        k = np.clip(ks[-1] + lam * (gamma * real - fake), np.float32(0), np.float32(1))
        assert abs(float(gan.k.numpy()) - float(k)) <= 2e-7, (gan.k.numpy(), k)
        assert h["k"] == pytest.approx(float(gan.k.numpy()), abs=1e-7)
        close(h["convergence"], real + abs(gamma * real - fake))
        ks.append(np.float32(gan.k.numpy()))
    assert len(set(ks)) == 4  # k moved every step


TWO_REPLICAS = """
import json
import numpy as np, keras
import tfgan_stable as ts
one = tf.distribute.OneDeviceStrategy("/cpu:0")
two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
x = np.random.RandomState(0).uniform(-1, 1, (48, 4)).astype("float32")

def train(strategy, family):
    with strategy.scope():
        keras.utils.set_random_seed(1)
        g = keras.Sequential([keras.Input((3,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(4)])
        d = ts.nets.mlp_autoencoder(4, units=(8,), code_dim=3)
        if family == "began":
            gan = ts.BEGAN(g, d, latent_dim=3, seed=3, gamma=0.6, lambda_k=0.3, initial_k=0.1)
        else:
            gan = ts.EBGAN(g, d, latent_dim=3, seed=3, pulling_away_weight=0.5)
        gan.compile(d_optimizer=keras.optimizers.SGD(0.05), g_optimizer=keras.optimizers.SGD(0.05))
    history = gan.fit(tf.data.Dataset.from_tensor_slices(x).batch(16), epochs=3, steps_per_epoch=1,
                      verbose=0).history  # one step per epoch: the logs are each step's
    def copies(v):
        return [c.numpy() for c in v.value.values] if hasattr(v.value, "values") else [v.numpy()]
    return [copies(w) for w in gan.weights], history

# The pulling-away term of two halves on two replicas: the full batch's value, and (each replica's loss scaled by
# 1/replicas, as the GAN scales a scalar term) each replica's rows of the full batch's gradient.
from tfgan_stable.techniques.pulling_away import pulling_away
codes = np.random.RandomState(1).normal(size=(16, 5)).astype("float32")

def value_and_gradient(c, replicas):
    with tf.GradientTape() as tape:
        tape.watch(c)
        value = pulling_away(c)
        scaled = value / replicas
    return value, tape.gradient(scaled, c)

halves = two.experimental_distribute_values_from_function(
    lambda ctx: tf.constant(codes[8 * ctx.replica_id_in_sync_group:8 * (ctx.replica_id_in_sync_group + 1)]))
values, grads = tf.function(lambda c: two.run(value_and_gradient, args=(c, 2)))(halves)
value, grad = value_and_gradient(tf.constant(codes), 1)
out = {"pulling_away": {
    "values": [float(v) for v in two.experimental_local_results(values)], "single": float(value),
    "grad_diff": float(np.max(np.abs(np.concatenate([g.numpy() for g in two.experimental_local_results(grads)])
                                     - grad.numpy()))), "grad_max": float(np.max(np.abs(grad.numpy())))}}
for family in ("began", "ebgan"):
    w1, h1 = train(one, family)
    w2, h2 = train(two, family)
    out[family] = {"diff": max(float(np.max(np.abs(a[0] - c))) for a, b in zip(w1, w2) for c in b),
                   "spread": max(float(np.max(np.abs(b[0] - c))) for b in w2 for c in b),
                   "logs": max(abs(a - b) for k in h1 for a, b in zip(h1[k], h2[k])), "h2": h2}
print(json.dumps(out))
"""


def test_two_replicas_equal_one_device_and_k_follows_its_rule_there():
    """The pulling-away term of two halves on 2 replicas equals the whole batch's (value and gradient). BEGAN
    (k_t) and EBGAN-PT trained on 2 replicas: every replica holds the same weights and k, equal to one
    device's; k follows its rule from the 2-replica step's logs."""
    result = run_python(TWO_REPLICAS, devices=2)
    pt = result.pop("pulling_away")
    assert max(abs(v - pt["single"]) for v in pt["values"]) < 1e-6, pt
    assert pt["grad_diff"] < 1e-6 and pt["grad_max"] > 1e-3, pt
    for family, r in result.items():
        assert r["spread"] == 0.0, (family, r)
        assert r["diff"] < 1e-5 and r["logs"] < 1e-5, (family, r)
    h = result["began"]["h2"]
    k = np.float32(0.1)
    for t in range(3):
        real, fake = np.float32(h["d_real"][t]), np.float32(h["d_fake"][t])
        k = np.clip(k + np.float32(0.3) * (np.float32(0.6) * real - fake), np.float32(0), np.float32(1))
        assert abs(h["k"][t] - float(k)) <= 2e-7, (t, h["k"][t], k)
    assert h["k"][0] != 0.1 and h["k"][1] != h["k"][2]
    assert all(v > 0 for v in result["ebgan"]["h2"]["pulling_away"])


def test_k_is_saved_and_restored(tmp_path):
    g, d = linear_nets(np.array([0.5, 0.1, -0.2]))
    gan = ts.BEGAN(g, d, latent_dim=2, lambda_k=0.5, initial_k=0.4)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-2), g_optimizer=keras.optimizers.Adam(1e-2))
    x = RNG.uniform(-1, 1, (8, 3)).astype(np.float32)
    gan.fit(x, batch_size=8, epochs=2, shuffle=False, verbose=0)
    k = float(gan.k.numpy())
    assert k != 0.4
    gan.save(tmp_path / "began.keras")
    restored = keras.models.load_model(tmp_path / "began.keras")
    assert float(restored.k.numpy()) == k and restored.get_config()["initial_k"] == 0.4
    gan.fit(x, batch_size=8, epochs=1, shuffle=False, verbose=0)
    restored.fit(x, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert float(restored.k.numpy()) == pytest.approx(float(gan.k.numpy()), abs=1e-7)
    for a, b in zip(gan.weights, restored.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
    gan.save_weights(tmp_path / "began.weights.h5")
    fresh = ts.BEGAN(*linear_nets(np.zeros(3)), latent_dim=2)
    fresh.load_weights(tmp_path / "began.weights.h5")
    assert float(fresh.k.numpy()) == float(gan.k.numpy())


def test_ebgan_config_round_trip():
    gan = ts.EBGAN(*linear_nets(np.zeros(3)), latent_dim=2, margin=0.5, pulling_away_weight=0.1)
    clone = ts.EBGAN.from_config(gan.get_config())
    assert {k: clone.get_config()[k] for k in ("margin", "pulling_away_weight", "code_layer")} == \
        {"margin": 0.5, "pulling_away_weight": 0.1, "code_layer": "code"}


# ------------------------------------------------------------------ real data
@pytest.mark.parametrize("family", ["ebgan", "began"])
def test_short_fit_on_mnist(shared_data, family):
    """12 steps on 768 MNIST digits with the library's nets: finite logs, and D learns to reconstruct real
    digits (their energy falls)."""
    keras.utils.set_random_seed(0)
    pixels = ts.data.read_idx(str(shared_data / "mnist" / "train-images-idx3-ubyte.gz"))[:768]
    images = pixels[..., None].astype("float32") / 127.5 - 1.0
    g = ts.nets.dcgan_generator(16, (28, 28, 1), width=0.25)
    d = ts.nets.autoencoder_discriminator((28, 28, 1), code_dim=16, width=0.25)
    kwargs = {"pulling_away_weight": 0.1} if family == "ebgan" else {}
    gan = ts.get_family(family)(g, d, latent_dim=16, **kwargs)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3, 0.5), g_optimizer=keras.optimizers.Adam(1e-3, 0.5))
    real_before = float(np.mean(gan.discriminate(images[:256])))
    history = gan.fit(images, batch_size=64, epochs=1, verbose=0, shuffle=False).history
    assert all(np.isfinite(v[-1]) for v in history.values()), history
    assert float(np.mean(gan.discriminate(images[:256]))) < 0.7 * real_before
    assert np.all(np.isfinite(gan.generate(8).numpy()))


# ------------------------------------------------------------------ argument checks
@pytest.mark.parametrize("family, kwargs, name", [
    ("ebgan", {"margin": -1.0}, "margin"), ("ebgan", {"margin": 0}, "margin"),
    ("ebgan", {"margin": float("inf")}, "margin"), ("ebgan", {"pulling_away_weight": -0.1}, "pulling_away_weight"),
    ("ebgan", {"code_layer": ""}, "code_layer"),
    ("began", {"gamma": 0.0}, "gamma"), ("began", {"gamma": 1.5}, "gamma"), ("began", {"power": 3}, "power"),
    ("began", {"power": True}, "power"), ("began", {"lambda_k": -1e-3}, "lambda_k"),
    ("began", {"initial_k": 1.5}, "initial_k")])
def test_bad_arguments_name_the_argument(family, kwargs, name):
    with pytest.raises(ValueError, match=name):
        ts.get_family(family)(*linear_nets(np.zeros(3)), latent_dim=2, **kwargs)


@pytest.mark.parametrize("family", ["ebgan", "began"])
def test_a_discriminator_that_is_not_an_autoencoder_is_refused(family):
    g, _ = linear_nets(np.zeros(3))
    d = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="autoencoder"):
        ts.get_family(family)(g, d, latent_dim=2)


def test_pulling_away_bad_arguments():
    with pytest.raises(ValueError, match="layer"):
        ts.techniques.PullingAway("")
    with pytest.raises(ValueError, match="weight"):
        ts.techniques.PullingAway("code", weight=-1)
