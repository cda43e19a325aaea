"""Relativistic GANs (RSGAN, RaSGAN, RaLSGAN, RaHingeGAN): the losses against numpy (float64) on fixed logits,
one step of a linear GAN against a numpy finite-difference computation of each player's loss, 1 device ==
2 replicas (the global means), a short MNIST fit, serialisation and bad arguments."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts
from tests.subproc import run_python
from tfgan_stable import losses

RNG = np.random.RandomState(0)
REAL = RNG.normal(0.5, 2.0, size=16).astype(np.float32)
FAKE = RNG.normal(-0.5, 2.0, size=16).astype(np.float32)
LOSSES = ("sigmoid", "least_squares", "hinge")


def log_sigmoid(y):
    return -np.log1p(np.exp(-y))


# (f1, f2) per loss name, straight from the paper's definitions, in float64.
F = {"sigmoid": (lambda y: -log_sigmoid(y), lambda y: -np.log1p(-np.exp(log_sigmoid(y)))),
     "least_squares": (lambda y: (y - 1) ** 2, lambda y: (y + 1) ** 2),
     "hinge": (lambda y: np.maximum(0, 1 - y), lambda y: np.maximum(0, 1 + y))}


def paired_np(r, f, loss):
    """Per-pair (L_D, L_G) of the paired relativistic GAN."""
    f1 = F[loss][0]
    return f1(r - f), f1(f - r)


def average_np(r, f, loss):
    """Per-example (L_D, L_G) of the relativistic average GAN, means over the given logits."""
    f1, f2 = F[loss]
    return f1(r - f.mean()) + f2(f - r.mean()), f1(f - r.mean()) + f2(r - f.mean())


def close(tensor, expected, tol=1e-5):
    np.testing.assert_allclose(np.asarray(tensor, np.float64), expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("loss", LOSSES)
def test_losses_match_the_paper_formulas(loss):
    r, f = REAL.astype(np.float64), FAKE.astype(np.float64)
    d, g = paired_np(r, f, loss)
    close(losses.relativistic_discriminator_loss(REAL, FAKE, loss), d)
    close(losses.relativistic_generator_loss(REAL[:, None], FAKE[:, None], loss), g)
    d, g = average_np(r, f, loss)
    close(losses.relativistic_average_discriminator_loss(REAL, FAKE, REAL.mean(), FAKE.mean(), loss), d)
    close(losses.relativistic_average_generator_loss(REAL, FAKE, REAL.mean(), FAKE.mean(), loss), g)
    # The means are arguments: other means (e.g. over a global batch) change the loss accordingly.
    f1, f2 = F[loss]
    close(losses.relativistic_average_discriminator_loss(REAL, FAKE, 0.25, -1.5, loss), f1(r + 1.5) + f2(f - 0.25))


def test_sigmoid_losses_are_finite_for_large_differences():
    big = np.array([80.0, -80.0], np.float32)
    d = losses.relativistic_average_discriminator_loss(big, -big, 0.0, 0.0, "sigmoid").numpy()
    # example 0: softplus(−80) + softplus(−80) ≈ 0; example 1: softplus(80) + softplus(80) = 160 (no inf, no NaN)
    close(d, [0.0, 160.0], tol=1e-4)


def test_average_loss_differentiates_through_the_means():
    """d/dr_j of mean_i L_D = (f1'(r_j − m_f) − mean_i f2'(f_i − m_r)) / n, least squares, by hand."""
    r, f = tf.constant(REAL[:4]), tf.constant(FAKE[:4])
    with tf.GradientTape() as tape:
        tape.watch([r, f])
        value = tf.reduce_mean(losses.relativistic_average_discriminator_loss(
            r, f, tf.reduce_mean(r), tf.reduce_mean(f), "least_squares"))
    got_r, got_f = tape.gradient(value, [r, f])
    rr, ff = REAL[:4].astype(np.float64), FAKE[:4].astype(np.float64)
    d1, d2 = 2 * (rr - ff.mean() - 1), 2 * (ff - rr.mean() + 1)
    close(got_r, (d1 - d2.mean()) / 4)
    close(got_f, (d2 - d1.mean()) / 4)


def test_bad_arguments_of_the_losses():
    with pytest.raises(ValueError, match="'sigmoid', 'least_squares', 'hinge'.*got 'wasserstein'"):
        losses.relativistic_discriminator_loss(REAL, FAKE, "wasserstein")
    with pytest.raises(ValueError, match="same number of values"):
        losses.relativistic_generator_loss(REAL, FAKE[:8])
    with pytest.raises(ValueError, match="`fake_mean` must be a scalar"):
        losses.relativistic_average_discriminator_loss(REAL, FAKE, 0.0, FAKE)


# ---------------------------------------------------------------- one train_step against numpy
LATENT, BATCH, LR = 3, 8, 0.1


def linear_nets(packing=1):
    keras.utils.set_random_seed(7)
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(2, bias_initializer="random_normal")])
    pack = [ts.layers.Pack(packing)] if packing > 1 else []
    d = keras.Sequential([keras.Input((2,)), *pack, keras.layers.Dense(1, kernel_initializer="random_normal",
                                                                        bias_initializer="random_normal")])
    return g, d


def step_latent(gan, stream):
    return gan._noise(stream, 0, tf.zeros([BATCH])).named("z").latent(LATENT).numpy().astype(np.float64)


def numeric_gradient(fn, params, eps=1e-6):
    """Central differences of the scalar fn(*params) with respect to each array of params (float64)."""
    grads = []
    for k, p in enumerate(params):
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            up = [q.copy() for q in params]
            down = [q.copy() for q in params]
            up[k][idx] += eps
            down[k][idx] -= eps
            g[idx] = (fn(*up) - fn(*down)) / (2 * eps)
        grads.append(g)
    return grads


CASES = [(ts.RelativisticGAN, {"loss": loss}, 1) for loss in LOSSES]
CASES += [(ts.RaSGAN, {}, 1), (ts.RaLSGAN, {}, 1), (ts.RaHingeGAN, {}, 1),
          (ts.RelativisticGAN, {}, 2), (ts.RelativisticAverageGAN, {"loss": "least_squares"}, 2),
          (ts.RaSGAN, {"jit_compile": True}, 1)]


@pytest.mark.parametrize("cls, kwargs, packing", CASES,
                         ids=[f"{c.__name__}-{k.get('loss', c.__name__)}-pack{m}{'-jit' * ('jit_compile' in k)}"
                              for c, k, m in CASES])
def test_one_step_matches_numpy(cls, kwargs, packing):
    """SGD on linear nets: D's update is −lr·∇ of the batch mean of L_D(D's weights), G's is −lr·∇ of the
    mean of L_G(G's weights) against the updated D, with the gradients taken numerically in float64 from
    the numpy formulas (the means of the average variant included). The logs are those losses and the mean
    critic values. With packing m, D sees packs of m consecutive examples and pairs real pack i with fake pack i.
    With jit_compile the whole step is one XLA program (one device: allowed, the means need no all-reduce)."""
    g, d = linear_nets(packing)
    kwargs = dict(kwargs)
    jit = kwargs.pop("jit_compile", False)
    gan = cls(g, d, latent_dim=LATENT, seed=11, **kwargs)
    gan.compile(d_optimizer=keras.optimizers.SGD(LR), g_optimizer=keras.optimizers.SGD(LR), jit_compile=jit)
    x = np.random.RandomState(1).uniform(-1, 1, (BATCH, 2))
    wg, bg = (v.numpy().astype(np.float64) for v in g.weights)
    wd, bd = (v.numpy().astype(np.float64) for v in d.weights)
    z_d, z_g = step_latent(gan, 1), step_latent(gan, 2)
    per_example = average_np if isinstance(gan, ts.RelativisticAverageGAN) else paired_np
    loss = gan.loss_name

    def critic(samples, w, b):  # packs of `packing` consecutive samples, concatenated feature-wise
        return (samples.reshape(BATCH // packing, 2 * packing) @ w + b)[:, 0]

    def d_loss(w, b):
        return per_example(critic(x, w, b), critic(z_d @ wg + bg, w, b), loss)[0].mean()

    def g_loss(w, b, wd1, bd1):
        return per_example(critic(x, wd1, bd1), critic(z_g @ w + b, wd1, bd1), loss)[1].mean()

    if jit:  # fit compiles the step with XLA; a direct train_step call runs eagerly (quicker to start)
        history = gan.fit(x.astype(np.float32), batch_size=BATCH, epochs=1, shuffle=False, verbose=0).history
        logs = {name: values[-1] for name, values in history.items()}
    else:
        logs = gan.train_step(tf.constant(x, tf.float32))

    gw, gb = numeric_gradient(d_loss, [wd, bd])
    wd1, bd1 = wd - LR * gw, bd - LR * gb
    gw, gb = numeric_gradient(lambda w, b: g_loss(w, b, wd1, bd1), [wg, bg])
    wg1, bg1 = wg - LR * gw, bg - LR * gb
    for got, want in zip(d.weights + g.weights, [wd1, bd1, wg1, bg1]):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(float(logs["d_loss"]), d_loss(wd, bd), rtol=1e-5)
    np.testing.assert_allclose(float(logs["g_loss"]), g_loss(wg, bg, wd1, bd1), rtol=1e-5)
    np.testing.assert_allclose(float(logs["d_real"]), critic(x, wd, bd).mean(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(float(logs["d_fake"]), critic(z_d @ wg + bg, wd, bd).mean(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("family, expected", [("rsgan", (np.log(2), np.log(2))), ("rasgan", (2 * np.log(2),) * 2),
                                              ("ralsgan", (2.0, 2.0)), ("rahinge", (2.0, 2.0))])
def test_evaluate_with_a_zero_critic(family, expected):
    """C ≡ 0: every relative value is 0, so L = f(0) (paired) or f1(0) + f2(0) (average) for both players."""
    keras.utils.set_random_seed(0)
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(2)])
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    gan = ts.get_family(family)(g, d, latent_dim=LATENT)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.0))
    x = np.random.RandomState(0).uniform(-1, 1, (16, 2)).astype(np.float32)
    result = gan.evaluate(x, batch_size=8, verbose=0, return_dict=True)
    np.testing.assert_allclose([result["d_loss"], result["g_loss"]], expected, rtol=1e-6)


# ---------------------------------------------------------------- distribution
TWO_REPLICAS = """
import json
import numpy as np, keras
import tfgan_stable as ts
from tfgan_stable import losses

one = tf.distribute.OneDeviceStrategy("/cpu:0")
two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
x = np.random.RandomState(0).uniform(-1, 1, (24, 2)).astype("float32")


class LocalMeans(ts.RelativisticAverageGAN):  # the mistake the global means avoid: each replica's own means
    def discriminator_loss(self, real_logits, fake_logits, step, noise):
        return losses.relativistic_average_discriminator_loss(real_logits, fake_logits, tf.reduce_mean(real_logits),
                                                              tf.reduce_mean(fake_logits), self.loss_name)


def build(cls, kwargs, jit=False):
    keras.utils.set_random_seed(1)
    kwargs = dict(kwargs)
    pack = [ts.layers.Pack(kwargs.pop("packing"))] if "packing" in kwargs else []
    g = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)])
    d = keras.Sequential([keras.Input((2,)), *pack, keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
    gan = cls(g, d, latent_dim=4, seed=3, **kwargs)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1), jit_compile=jit)
    return gan


def train(strategy, cls, kwargs):
    with strategy.scope():
        gan = build(cls, kwargs)
    initial = [v.numpy() for v in gan.trainable_weights]
    batch = 8 * gan.n_critic
    hist = gan.fit(tf.data.Dataset.from_tensor_slices(x[:3 * batch]).batch(batch), epochs=1, verbose=0).history
    weights = [v.numpy() for v in gan.trainable_weights]
    return weights, hist, max(float(np.max(np.abs(a - b))) for a, b in zip(weights, initial))


def compare(cls, kwargs):
    w1, h1, moved = train(one, cls, kwargs)
    w2, h2, _ = train(two, cls, kwargs)
    return {"diff": max(float(np.max(np.abs(a - b))) for a, b in zip(w1, w2)), "moved": moved,
            "logs": max(abs(h1[k][-1] - h2[k][-1]) for k in h1)}, w1


out = {}
out["RaSGAN"], reference = compare(ts.RaSGAN, {})
out["RaLSGAN_critic2_pack2"], _ = compare(ts.RaLSGAN, {"n_critic": 2, "packing": 2})
local, _, _ = train(two, LocalMeans, {"loss": "sigmoid"})  # on one device LocalMeans is RaSGAN
out["local_means"] = {"diff": max(float(np.max(np.abs(a - b))) for a, b in zip(local, reference))}
with two.scope():
    try:
        build(ts.RaSGAN, {}, jit=True)
        out["refused"] = None
    except ValueError as e:
        out["refused"] = str(e)
print(json.dumps(out))
"""


def test_two_replicas_equal_one_device_and_xla_is_refused_there():
    """Batches of 8 on one device vs 4 + 4 on two logical CPUs, 3 steps of SGD: the same weights, because the
    average variant's means (and their gradients) are all-reduced over the global batch; with each
    replica's own means the update differs, so the comparison can fail. XLA is refused, with a clear
    message, under two replicas (on one device it compiles: `test_one_step_matches_numpy`, jit)."""
    result = run_python(TWO_REPLICAS, devices=2)
    for case, r in result.items():
        if case in ("refused", "local_means"):
            continue
        assert r["moved"] > 1e-2, (case, r)
        assert r["diff"] < 2e-6 and r["logs"] < 1e-5, (case, r)  # float32 rounding of 3 steps (seen: 5e-7)
    assert result["local_means"]["diff"] > 1e-4, result["local_means"]
    assert result["refused"] and "RaSGAN" in result["refused"] and "jit_compile=False" in result["refused"]


# ---------------------------------------------------------------- real data, serialisation, errors
def test_short_fit_on_mnist(shared_data):
    """20 steps of RaLSGAN with small DCGAN nets on 1,280 MNIST digits: finite losses and samples, and the
    critic rates real digits above the fakes on average (it learned something)."""
    keras.utils.set_random_seed(0)
    pixels = ts.data.read_idx(str(shared_data / "mnist" / "train-images-idx3-ubyte.gz"))[:1280]
    images = pixels[..., None].astype("float32") / 127.5 - 1.0
    g = ts.nets.dcgan_generator(16, (28, 28, 1), width=0.25)
    d = ts.nets.dcgan_discriminator((28, 28, 1), width=0.25)
    gan = ts.RaLSGAN(g, d, latent_dim=16, seed=0)
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, 0.5), g_optimizer=keras.optimizers.Adam(2e-4, 0.5))
    history = gan.fit(tf.data.Dataset.from_tensor_slices(images).batch(64), epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in history.values()), history
    assert history["d_real"][-1] > history["d_fake"][-1], history
    assert np.all(np.isfinite(gan.generate(8).numpy()))


def small_nets():
    keras.utils.set_random_seed(0)
    g = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    return g, d


def options(gan):
    return {k: v for k, v in gan.get_config().items() if k not in ("generator", "discriminator")}


def test_config_round_trip_keeps_the_loss():
    gan = ts.RelativisticGAN(*small_nets(), latent_dim=4, loss="hinge", n_critic=2)
    clone = ts.RelativisticGAN.from_config(gan.get_config())
    assert clone.loss_name == "hinge" and options(clone) == options(gan) and options(gan)["loss"] == "hinge"


def test_keras_file_round_trip_continues_exactly(tmp_path):
    """A preset class (its loss is not in its config) saved mid-training resumes the same run."""
    cls = ts.RaLSGAN
    x = np.random.RandomState(0).uniform(-1, 1, (32, 2)).astype(np.float32)
    gan = cls(*small_nets(), latent_dim=4, seed=5)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-2), g_optimizer=keras.optimizers.Adam(1e-2))
    gan.fit(x, batch_size=8, epochs=1, verbose=0, shuffle=False)
    gan.save(tmp_path / "gan.keras")
    restored = keras.models.load_model(tmp_path / "gan.keras")
    assert type(restored) is cls and restored.loss_name == gan.loss_name
    assert options(restored) == options(gan) and "loss" not in options(gan)
    gan.fit(x, batch_size=8, epochs=1, verbose=0, shuffle=False)
    restored.fit(x, batch_size=8, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(gan.weights, restored.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_family_names_and_bad_arguments():
    expected = {"rsgan": (ts.RelativisticGAN, "sigmoid"), "rasgan": (ts.RaSGAN, "sigmoid"),
                "ralsgan": (ts.RaLSGAN, "least_squares"), "rahinge": (ts.RaHingeGAN, "hinge")}
    for name, (cls, loss) in expected.items():
        gan = ts.get_family(name)(*small_nets(), latent_dim=4)
        assert type(gan) is cls and gan.loss_name == loss
        assert gan.generator_uses_real
        assert gan.needs_cross_replica_gradients == (name != "rsgan")
    with pytest.raises(ValueError, match="`loss` must be one of 'sigmoid', 'least_squares', 'hinge', got 'ls'"):
        ts.RelativisticAverageGAN(*small_nets(), latent_dim=4, loss="ls")
    with pytest.raises(ValueError, match="`loss` must be one of"):
        ts.RelativisticGAN(*small_nets(), latent_dim=4, loss=None)
    with pytest.raises(TypeError, match="RaLSGAN always uses loss='least_squares'"):
        ts.RaLSGAN(*small_nets(), latent_dim=4, loss="hinge")
