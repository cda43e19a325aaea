"""InfoGAN: the mutual-information term against numpy, code sampling (and on 2 replicas), a short MNIST fit in
which Q learns the categorical code, generation with fixed codes, export, `.keras` files, and bad inputs."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts
from tests.subproc import run_python
from tfgan_stable.distribute import StepNoise
from tfgan_stable.export import seed_latents

CATEGORICAL, CONTINUOUS, NOISE = (3, 2), 2, 2
WIDTH = sum(CATEGORICAL) + CONTINUOUS  # 7 code columns
LATENT = NOISE + WIDTH


def log_softmax(q):
    q = q - q.max(axis=1, keepdims=True)
    return q - np.log(np.exp(q).sum(axis=1, keepdims=True))


def numpy_information(q, codes, weight, continuous_weight):
    """λ·(Σ_j −Σ c_j·log softmax(q_j) + γ·Σ ½(c' − μ)²), per example, in float64."""
    q, codes = np.asarray(q, np.float64), np.asarray(codes, np.float64)
    total, start = np.zeros(len(q)), 0
    for k in CATEGORICAL:
        total -= (codes[:, start:start + k] * log_softmax(q[:, start:start + k])).sum(axis=1)
        start += k
    total += continuous_weight * 0.5 * ((codes[:, start:] - q[:, start:]) ** 2).sum(axis=1)
    return weight * total


def tiny_nets(sample_shape=(2,), hidden=6, seed=0):
    """A dense G of z [LATENT] and a dense D with a linear Q head (no batch norm: one update is hand-computable)."""
    keras.utils.set_random_seed(seed)
    size = int(np.prod(sample_shape))
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(8, activation="tanh"),
                          keras.layers.Dense(size, activation="tanh"), keras.layers.Reshape(sample_shape)])
    d = keras.Sequential([keras.Input(sample_shape), keras.layers.Flatten(),
                          keras.layers.Dense(hidden, activation="tanh", name="hidden"), keras.layers.Dense(1)])
    return g, ts.nets.add_head(d, WIDTH, "q")


def tiny_gan(info_weight=0.5, continuous_weight=0.3, sample_shape=(2,), **kwargs):
    g, d = tiny_nets(sample_shape)
    return ts.InfoGAN(g, d, latent_dim=LATENT, categorical_codes=CATEGORICAL, continuous_codes=CONTINUOUS,
                      info_weight=info_weight, continuous_weight=continuous_weight, seed=3, **kwargs)


def test_information_loss_matches_numpy_on_fixed_outputs_and_codes():
    rng = np.random.RandomState(0)
    q = rng.normal(0, 2, (5, WIDTH)).astype(np.float32)
    classes = [rng.randint(0, k, 5) for k in CATEGORICAL]
    codes = np.concatenate([np.eye(k)[c] for k, c in zip(CATEGORICAL, classes)]
                           + [rng.uniform(-1, 1, (5, CONTINUOUS))], axis=1).astype(np.float32)
    term = ts.techniques.MutualInformation(CATEGORICAL, CONTINUOUS, weight=0.7, continuous_weight=0.2)
    got = term.information_loss(tf.constant(q), tf.constant(codes)).numpy()
    assert got.shape == (5,)
    np.testing.assert_allclose(got, numpy_information(q, codes, 0.7, 0.2), rtol=1e-5)
    # A Q that is certain of the right classes and means exactly the continuous codes: L_I → 0.
    sure = codes.copy()
    sure[:, :sum(CATEGORICAL)] *= 60.0
    assert np.all(term.information_loss(tf.constant(sure), tf.constant(codes)).numpy() < 1e-6)
    assert ts.techniques.MutualInformation.from_config(term.get_config()).get_config() == term.get_config()


@pytest.mark.parametrize("noisy", [False, True])
def test_one_step_terms_and_q_update_match_numpy(noisy):
    """Both players' logged terms are numpy's L_I on Q of the update's fakes with the codes of its z; Q's output
    bias moves by −lr·mean(λ·(softmax(q_j) − c_j), λγ·(μ − c')) in D's SGD update (the GAN logit does not
    depend on Q's bias). With instance noise on what D sees, Q still reads G's own fakes."""
    lr, weight, gamma = 0.1, 0.5, 0.3
    gan = tiny_gan(weight, gamma, techniques=[ts.techniques.InstanceNoise(0.5, decay_steps=10)] if noisy else [])
    gan.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
    real = tf.constant(np.random.RandomState(1).uniform(-1, 1, (8, 2)).astype(np.float32))
    z_d = gan.sample_latent(gan._noise(1, 0, real).named("z")).numpy()  # streams 1 (D) and 2 (G), step 0
    z_g = gan.sample_latent(gan._noise(2, 0, real).named("z")).numpy()
    q_d = gan.discriminator(gan.generator(z_d))[1].numpy()
    fake_g = gan.generator(z_g)  # G is unchanged until its own update
    bias = gan.discriminator.get_layer("q").bias.numpy().astype(np.float64)
    logs = gan.train_step(real)
    q_g = gan.discriminator(fake_g)[1].numpy()  # D after its update, as G's update sees it
    codes_d, codes_g = z_d[:, NOISE:], z_g[:, NOISE:]
    np.testing.assert_allclose(float(logs["d_mutual_information"]),
                               numpy_information(q_d, codes_d, weight, gamma).mean(), rtol=1e-5)
    np.testing.assert_allclose(float(logs["g_mutual_information"]),
                               numpy_information(q_g, codes_g, weight, gamma).mean(), rtol=1e-5)
    grad, start = [], 0
    for k in CATEGORICAL:
        p = np.exp(log_softmax(q_d[:, start:start + k].astype(np.float64)))
        grad.append(weight * (p - codes_d[:, start:start + k]).mean(axis=0))
        start += k
    grad.append(weight * gamma * (q_d[:, start:] - codes_d[:, start:]).mean(axis=0))
    np.testing.assert_allclose(gan.discriminator.get_layer("q").bias.numpy(), bias - lr * np.concatenate(grad),
                               atol=1e-6)


class _CountCalls(keras.layers.Layer):
    """Identity that records each time D runs on a batch (while a step is traced)."""

    def __init__(self, record, **kwargs):
        super().__init__(**kwargs)
        self.record = record  # a function (a list attribute would be copied into Keras' tracked list)

    def call(self, x):
        self.record(x.shape[0])
        return x


@pytest.mark.parametrize("feature_matching, expected", [(False, 3), (True, 4)])
def test_the_generator_update_runs_d_on_real_data_only_when_a_term_reads_it(feature_matching, expected):
    """InfoGAN's Q term reads only the fakes: one step runs D on real and fake for D's update and on the fakes
    for G's. Feature matching reads E f(x) in G's update, which adds the real pass."""
    calls = []
    keras.utils.set_random_seed(0)
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(2)])
    d = keras.Sequential([keras.Input((2,)), _CountCalls(calls.append), keras.layers.Dense(6, activation="tanh", name="hidden"),
                          keras.layers.Dense(1)])
    techniques = [ts.techniques.FeatureMatching("hidden")] if feature_matching else []
    gan = ts.InfoGAN(g, ts.nets.add_head(d, WIDTH, "q"), latent_dim=LATENT, categorical_codes=CATEGORICAL,
                     continuous_codes=CONTINUOUS, techniques=techniques)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
    calls.clear()
    tf.function(gan.train_step).get_concrete_function(tf.TensorSpec([8, 2], tf.float32))
    assert len(calls) == expected, calls


def test_sampled_codes_are_valid_one_hots_and_uniforms():
    gan = tiny_gan()
    n = 20000
    z = gan.sample_latent(StepNoise.for_replica(tf.constant([4, 2], tf.int64), n)).numpy().astype(np.float64)
    assert z.shape == (n, LATENT)
    noise, start = z[:, :NOISE], NOISE
    assert abs(noise.mean()) < 5 / np.sqrt(noise.size) and abs(noise.std() - 1) < 0.02
    for k in CATEGORICAL:
        block = z[:, start:start + k]
        assert set(np.unique(block)) == {0.0, 1.0} and np.all(block.sum(axis=1) == 1.0)
        counts = block.sum(axis=0)  # Binomial(n, 1/k): within 5 standard deviations of n/k
        assert np.all(np.abs(counts - n / k) < 5 * np.sqrt(n * (1 / k) * (1 - 1 / k))), counts
        start += k
    continuous = z[:, start:]
    assert continuous.min() >= -1 and continuous.max() <= 1
    # U(−1, 1): mean 0 (sd of the mean sqrt(1/3n)), variance 1/3 (sd of the estimate sqrt((1/5 − 1/9)/n)).
    assert np.all(np.abs(continuous.mean(axis=0)) < 5 * np.sqrt(1 / (3 * n)))
    assert np.all(np.abs(continuous.var(axis=0) - 1 / 3) < 5 * np.sqrt((1 / 5 - 1 / 9) / n))
    # The codes are drawn independently of the noise: class and noise sign are uncorrelated.
    assert abs(np.corrcoef(z[:, NOISE], noise[:, 0] > 0)[0, 1]) < 5 / np.sqrt(n)


def test_codes_and_training_on_two_replicas_equal_one_device():
    result = run_python("""
import json
import numpy as np, keras
import tfgan_stable as ts
from tfgan_stable.distribute import StepNoise
one = tf.distribute.OneDeviceStrategy("/cpu:0")
two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
x = np.random.RandomState(0).uniform(-1, 1, (48, 2)).astype("float32")

def build(strategy):
    with strategy.scope():
        keras.utils.set_random_seed(1)
        g = keras.Sequential([keras.Input((9,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(2)])
        d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)])
        gan = ts.InfoGAN(g, ts.nets.add_head(d, 7, "q"), latent_dim=9, categorical_codes=(3, 2), continuous_codes=2,
                         seed=3)
        gan.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
    return gan

seed = tf.constant([5, 9], tf.int64)
gan = build(two)
per_replica = two.run(tf.function(lambda: gan.sample_latent(StepNoise.for_replica(seed, 4))))
rows = np.concatenate([t.numpy() for t in two.experimental_local_results(per_replica)])
single = gan.sample_latent(StepNoise.for_replica(seed, 8)).numpy()
out = {"codes": float(np.abs(rows[:, 2:] - single[:, 2:]).max()), "noise": float(np.abs(rows - single).max()),
       "replicas_differ": bool(np.abs(rows[:4] - rows[4:]).max() > 0)}
weights = {}
for name, strategy in (("one", one), ("two", two)):
    gan = build(strategy)
    before = [v.numpy() for v in gan.discriminator.weights]
    hist = gan.fit(tf.data.Dataset.from_tensor_slices(x).batch(16), epochs=1, verbose=0).history  # 3 steps
    weights[name] = ([v.numpy() for v in gan.generator.weights + gan.discriminator.weights], hist)
    out[name + "_moved"] = max(float(np.abs(a - b.numpy()).max()) for a, b in zip(before, gan.discriminator.weights))
(w1, h1), (w2, h2) = weights["one"], weights["two"]
out["weights"] = max(float(np.abs(a - b).max()) for a, b in zip(w1, w2))
out["logs"] = max(abs(h1[k][-1] - h2[k][-1]) for k in h1)
out["names"] = sorted(h1) == sorted(h2) and "g_mutual_information" in h1
print(json.dumps(out))
""", devices=2)
    assert result["codes"] == 0.0 and result["replicas_differ"], result  # the same Philox words, bit for bit
    assert result["noise"] < 2e-6, result  # Φ⁻¹ may differ in the last float32 bits (see test_distribute)
    assert result["one_moved"] > 1e-3 and result["names"], result
    assert result["weights"] < 1e-5 and result["logs"] < 1e-5, result


def test_short_mnist_fit_teaches_q_the_categorical_code(shared_data):
    """60 steps of the paper's MNIST setting (one 10-way code, two continuous codes), tiny DCGAN nets: finite
    losses, L_I falls for both players, and Q names the class of fresh fakes far above chance (1/10)."""
    keras.utils.set_random_seed(0)
    pixels = ts.data.read_idx(str(shared_data / "mnist" / "train-images-idx3-ubyte.gz"))[:1280]
    x = pixels[..., None].astype(np.float32) / 127.5 - 1.0
    latent = 16 + 12
    g = ts.nets.dcgan_generator(latent, (28, 28, 1), width=0.25)
    d = ts.nets.add_head(ts.nets.dcgan_discriminator((28, 28, 1), width=0.25), 12, "q", hidden_units=32)
    gan = ts.InfoGAN(g, d, latent_dim=latent, seed=0)
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, 0.5), g_optimizer=keras.optimizers.Adam(1e-3, 0.5))
    history = gan.fit(tf.data.Dataset.from_tensor_slices(x).batch(64, drop_remainder=True), epochs=3,
                      verbose=0).history
    assert all(np.all(np.isfinite(v)) for v in history.values()), history
    for name in ("d_mutual_information", "g_mutual_information"):
        assert history[name][-1] < 0.85 * history[name][0], (name, history[name])
    classes = np.repeat(np.arange(10), 20)[:, None]
    fakes = gan.generate(200, seed=5, categorical=classes)
    q = gan.discriminator(fakes, training=False)[1].numpy()
    accuracy = float(np.mean(q[:, :10].argmax(axis=1) == classes[:, 0]))
    assert accuracy > 0.5, accuracy


def test_generate_with_fixed_codes():
    gan = tiny_gan()
    noise = np.random.RandomState(2).normal(size=(4, NOISE)).astype(np.float32)
    categorical = np.array([[0, 1], [1, 0], [2, 1], [2, 0]])
    continuous = np.array([[-1.0, 0.5], [0.0, 0.0], [1.0, -0.5], [2.0, -2.0]], np.float32)  # ±2: the paper's sweep
    got = gan.generate(z=noise, categorical=categorical, continuous=continuous).numpy()
    z = np.concatenate([noise, np.eye(3)[categorical[:, 0]], np.eye(2)[categorical[:, 1]], continuous], axis=1)
    np.testing.assert_allclose(got, gan.generator(z.astype(np.float32)).numpy(), atol=1e-6)
    # Codes not given come from the seed; the noise rows are GAN.generate's for that seed.
    a = gan.generate(6, seed=7, categorical=[[i % 3, 0] for i in range(6)]).numpy()
    b = gan.generate(6, seed=7, categorical=[[i % 3, 0] for i in range(6)]).numpy()
    np.testing.assert_array_equal(a, b)
    swept = gan.generate(3, seed=7, continuous=[[v, 0.0] for v in (-1.0, 0.0, 1.0)]).numpy()
    assert not np.allclose(swept[0], swept[2])
    raw_noise = ts.sampling.latent_normal(3, NOISE, 7).numpy()
    fixed = gan.generate(z=raw_noise, seed=7, continuous=[[v, 0.0] for v in (-1.0, 0.0, 1.0)]).numpy()
    np.testing.assert_allclose(swept, fixed, atol=1e-6)


def test_export_signatures_take_the_codes(tmp_path):
    gan = tiny_gan(sample_shape=(4, 4, 1))
    path = gan.export_generator(str(tmp_path / "infogan"))
    loaded = tf.saved_model.load(path)
    noise = np.random.RandomState(3).normal(size=(3, NOISE)).astype(np.float32)
    categorical = np.array([[0, 1], [2, 0], [1, 1]], np.int32)
    continuous = np.array([[0.5, -0.5], [-1.0, 1.0], [0.0, 0.25]], np.float32)
    want = gan.generate(z=noise, categorical=categorical, continuous=continuous).numpy()
    got = loaded.signatures["serving_default"](z=tf.constant(noise), categorical=tf.constant(categorical),
                                              continuous=tf.constant(continuous))["images"].numpy()
    np.testing.assert_allclose(got, want, atol=1e-6)
    seeds = np.array([1, 2, 3], np.int64)
    sampled = loaded.signatures["sample"](seed=tf.constant(seeds), categorical=tf.constant(categorical),
                                          continuous=tf.constant(continuous))["images"].numpy()
    want = gan.generate(z=seed_latents(seeds, NOISE), categorical=categorical, continuous=continuous).numpy()
    np.testing.assert_allclose(sampled, want, atol=1e-5)
    assert int(loaded.latent_dim.numpy()) == NOISE
    assert "sample_png" in loaded.signatures


def test_keras_file_round_trip(tmp_path):
    gan = tiny_gan(0.25, 0.5)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-2), g_optimizer=keras.optimizers.Adam(1e-2))
    x = tf.constant(np.random.RandomState(4).uniform(-1, 1, (16, 2)).astype(np.float32))
    gan.train_step(x[:8])  # eager steps: no tracing, so the test stays quick
    gan.save(tmp_path / "infogan.keras")
    restored = keras.models.load_model(tmp_path / "infogan.keras")
    assert isinstance(restored, ts.InfoGAN)
    assert (restored.categorical_codes, restored.continuous_codes, restored.info_weight, restored.continuous_weight,
            restored.noise_dim) == (CATEGORICAL, CONTINUOUS, 0.25, 0.5, NOISE)
    codes = {"categorical": [[1, 1], [2, 0]], "continuous": [[0.1, -0.2], [0.3, 0.9]]}
    np.testing.assert_array_equal(gan.generate(2, seed=1, **codes).numpy(),
                                  restored.generate(2, seed=1, **codes).numpy())
    gan.train_step(x[8:])
    restored.train_step(x[8:])
    for a, b in zip(gan.weights, restored.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    ({"categorical_codes": (10, 1)}, "categorical_codes"),
    ({"categorical_codes": 10}, "categorical_codes"),
    ({"continuous_codes": -1}, "continuous_codes"),
    ({"categorical_codes": (), "continuous_codes": 0}, "at least one latent code"),
    ({"categorical_codes": (3, 3)}, "Q head"),  # Q outputs 7 values, the codes would need 8
    ({"continuous_codes": 7}, "latent_dim"),  # 12 code columns in a 9-wide z
    ({"info_weight": -1.0}, "info_weight"),
    ({"continuous_weight": "big"}, "continuous_weight"),
    ({"q_head": "aux"}, "q_head"),
])
def test_bad_constructor_arguments_name_the_argument(kwargs, match):
    g, d = tiny_nets()
    arguments = {"categorical_codes": CATEGORICAL, "continuous_codes": CONTINUOUS, **kwargs}
    with pytest.raises(ValueError, match=match):
        ts.InfoGAN(g, d, latent_dim=LATENT, **arguments)


def test_a_discriminator_without_q_or_packed_is_refused():
    g, d = tiny_nets()
    plain = keras.Model(d.inputs, d.outputs[0])
    with pytest.raises(ValueError, match="add_head"):
        ts.InfoGAN(g, plain, latent_dim=LATENT, categorical_codes=CATEGORICAL, continuous_codes=CONTINUOUS)
    packed = keras.Sequential([keras.Input((2,)), ts.layers.Pack(2), keras.layers.Dense(4, name="hidden"),
                               keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="packs 2"):
        ts.InfoGAN(g, ts.nets.add_head(packed, WIDTH, "q"), latent_dim=LATENT, categorical_codes=CATEGORICAL,
                   continuous_codes=CONTINUOUS)


@pytest.mark.parametrize("kwargs, match", [
    ({"categorical": [[0], [1]]}, r"shape \[n, 2\]"),  # one column per categorical code
    ({"categorical": [[0, 0], [3, 1]]}, r"column 0 .* \[0, 2\]"),  # a 3-way code has classes 0, 1, 2
    ({"categorical": [[0, 0], [-1, 1]]}, "column 0"),
    ({"categorical": [[0.5, 0], [1, 1]]}, "integer"),
    ({"continuous": [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]}, r"shape \[n, 2\]"),
    ({"continuous": [[np.nan, 0.0], [0.0, 0.0]]}, "finite"),
    ({"labels": [1, 2]}, "unconditional"),
    ({"z": np.zeros((2, LATENT), np.float32), "num": None}, "noise_dim"),  # z is the noise, not the whole input
])
def test_bad_generate_arguments_name_the_argument(kwargs, match):
    gan = tiny_gan()
    arguments = {"num": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        gan.generate(**arguments)
