"""Mixed precision: every family and technique trains under "mixed_float16" and "mixed_bfloat16", each player's
loss is scaled by its own optimizer's loss scale, and one update matches the float32 update.

Every test sets the global dtype policy through `global_policy` (or the `policy` fixture), which restores the
previous policy afterwards, so the other test files keep running in float32.

Tolerances are stated in units of u = 2^-11, the unit roundoff of float16 (10 stored mantissa bits): one
rounding to float16 changes a value by a relative |δ| <= u. bfloat16 (u = 2^-8) is only checked for finiteness.
"""
import contextlib
import json
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts
from tests.conditioning import is_conditional, labels_for
from tests.family_nets import make_gan
from tests.subproc import run_python

T = ts.techniques
POLICIES = ("mixed_float16", "mixed_bfloat16")
U16 = 2.0 ** -11


@contextlib.contextmanager
def global_policy(name):
    """Sets Keras' global dtype policy to `name` and restores the previous one on exit."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


@pytest.fixture(params=POLICIES)
def policy(request):
    """Each mixed policy in turn, set globally for one test and restored after it."""
    with global_policy(request.param):
        yield request.param


# One factory per technique of `tfgan_stable.techniques` (test_all_techniques_are_covered checks the list).
TECHNIQUES = {
    "instance_noise": lambda: T.InstanceNoise(0.1, decay_steps=10),
    "r1": lambda: T.R1(1.0),
    "r2": lambda: T.R2(1.0),
    "gradient_penalty": lambda: T.GradientPenalty(1.0, name="extra_gp"),
    "dragan_penalty": lambda: T.DRAGANPenalty(1.0, name="extra_dragan"),
    "feature_matching": lambda: T.FeatureMatching("hidden", weight=0.5),
    "historical_averaging": lambda: T.HistoricalAveraging(0.1),
    "orthogonal_regularization": lambda: T.OrthogonalRegularization(1e-3, player="both"),
    "ema": lambda: T.EMA(0.5),
    "experience_replay": lambda: T.ExperienceReplay(buffer_size=32, fraction=0.5),
    "unrolled": lambda: T.Unrolled(steps=1),
    "diff_augment": lambda: T.DiffAugment("color,translation,cutout"),
    "pulling_away": lambda: T.PullingAway("hidden", 0.1),
    "top_k": lambda: T.TopK(0.5, decay=0.5, decay_steps=1),
}


def image_nets(float32_output):
    """Tiny MLPs on 4x4x1 images (DiffAugment needs images). With `float32_output` G's last layer computes in
    float32, as the library's nets do (`nets.dcgan_generator`); otherwise G returns the policy's half type."""
    keras.utils.set_random_seed(0)
    g = keras.Sequential([keras.Input((3,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(16),
                          keras.layers.Reshape((4, 4, 1)),
                          keras.layers.Activation("tanh", dtype="float32" if float32_output else None)])
    d = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
                          keras.layers.Dense(8, activation="tanh", name="hidden"), keras.layers.Dense(1)])
    return g, d


def short_run(family, techniques, policy, float32_output, steps=1):
    """`steps` eager training steps (`train_step` called directly: no tracing and no `fit` set-up, so the many
    cases stay quick); checks what every mixed-precision run must give: finite logs, weights and technique
    state, every term logged, the loss scaling of the policy in use, and each player updated or (float16)
    its update skipped for an overflow of its scaled gradients, with its scale halved."""
    g, d = image_nets(float32_output)
    if is_conditional(family):  # the replay buffer keeps no labels: conditional families refuse it
        techniques = [t for t in techniques if not isinstance(t, T.ExperienceReplay)]
    gan = make_gan(family, g, d, latent_dim=3, n_critic=1, techniques=techniques)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    float16 = policy == "mixed_float16"  # bfloat16 has float32's exponent range: no loss scaling
    for opt in (gan.d_optimizer, gan.g_optimizer):
        assert isinstance(opt, keras.optimizers.LossScaleOptimizer) == float16
    players = (gan.generator, gan.discriminator)
    before = [[w.numpy().copy() for w in net.trainable_weights] for net in players]
    x = np.random.RandomState(1).uniform(-1, 1, size=(steps, 8, 4, 4, 1)).astype(np.float32)
    for batch in x:
        logs = gan.train_step((tf.constant(batch), tf.constant(labels_for(len(batch)))) if is_conditional(family)
                              else tf.constant(batch))
    logs = {name: float(value) for name, value in logs.items()}
    assert all(np.isfinite(v) for v in logs.values()), logs
    for t in gan.techniques:
        for player in t.term_players:
            assert t.log_name(player) in logs, (t.name, sorted(logs))
    for net, old, opt in zip(players, before, (gan.g_optimizer, gan.d_optimizer)):
        new = [w.numpy() for w in net.trainable_weights]
        assert all(np.all(np.isfinite(w)) for w in new), net.name
        updates = int(opt.iterations.numpy())
        assert updates == steps or float16, net.name  # only a loss scale skips updates
        if updates == 0:  # Keras' initial 2^15 is meant to be too large at first: each skip halves it
            assert float(opt.dynamic_scale.numpy()) == 2.0 ** (15 - steps), net.name
            assert all(np.array_equal(a, b) for a, b in zip(old, new)), net.name
        else:
            assert any(not np.array_equal(a, b) for a, b in zip(old, new)), f"{net.name} was not updated"
    for t in gan.techniques:
        assert all(np.all(np.isfinite(w.numpy())) for w in t.weights), t.name


def test_all_techniques_are_covered():
    exported = {getattr(T, name) for name in T.__all__} - {T.Technique, T.UpdateContext}
    exported -= {T.MutualInformation}  # InfoGAN's own term (it needs coded z and a Q head): the "infogan" family
    exported -= {T.AuxiliaryClassifier}  # ACGAN's builtin: it runs in every "acgan" case
    assert {type(make()) for make in TECHNIQUES.values()} == exported


@pytest.mark.parametrize("family", sorted(ts.FAMILIES))
def test_every_family_with_all_techniques(policy, family):
    """All techniques at once with each family; G returns float32 (the WGAN-GP/DRAGAN case that failed:
    float16 real data x float32 fakes in the interpolation)."""
    short_run(family, [make() for make in TECHNIQUES.values()], policy, float32_output=True)


@pytest.mark.parametrize("technique", sorted(TECHNIQUES))
def test_each_technique_alone_under_mixed_float16(technique):
    """Each technique alone, with a G that returns float16 (bfloat16 differs from float16 only by having no
    loss scale; every technique runs under it in the family tests above)."""
    with global_policy("mixed_float16"):
        short_run("ns", [TECHNIQUES[technique]()], "mixed_float16", float32_output=False)


# ---------------------------------------------------------------------------------------- the loss scale
class Recording(keras.optimizers.SGD):
    """SGD that keeps the gradients it is given (eager runs only)."""

    def apply(self, grads, trainable_variables=None):
        self.seen = [None if g is None else np.array(g) for g in grads]
        return super().apply(grads, trainable_variables)


def confident_gan(d_optimizer, g_optimizer, **compile_kwargs):
    """An NS GAN whose D gives logit l = 16 to the real point (1, 1) and l = −17.5 to G's fakes (−1.2, −1.2)
    (the asymmetry keeps D's bias gradients from cancelling), so that D's per-example loss gradients,
    σ(−|l|)/B <= 1.1e-7/8 = 1.4e-8, are below half float16's smallest subnormal (2^-25 = 3.0e-8): unscaled,
    all of D's float16 gradients underflow to 0; times 2^15 they are >= 1e-4, normal float16 (>= 2^-14)."""
    g = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, kernel_initializer="zeros",
                                                                bias_initializer=keras.initializers.Constant(-1.2))])
    hidden = keras.initializers.Constant(0.5)  # real: tanh(0.5 * 2) = tanh(1) in each of 4 units
    logit = keras.initializers.Constant(16 / (4 * np.tanh(1.0)))  # real: 16; fake: 16 tanh(1.2) / tanh(1) = -17.5
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, activation="tanh", kernel_initializer=hidden),
                          keras.layers.Dense(1, kernel_initializer=logit)])
    gan = ts.NonSaturatingGAN(g, d, latent_dim=3, seed=4)
    gan.compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, run_eagerly=True, **compile_kwargs)
    return gan


CONFIDENT_X = np.ones((8, 2), np.float32)


def seen_gradients(policy, d_optimizer, g_optimizer, **compile_kwargs):
    """One step of `confident_gan` under `policy`: the gradients each player's (inner) Recording saw."""
    with global_policy(policy):
        gan = confident_gan(d_optimizer, g_optimizer, **compile_kwargs)
        logs = gan.fit(CONFIDENT_X, batch_size=8, epochs=1, verbose=0).history
    inner = [getattr(opt, "inner_optimizer", opt) for opt in (gan.d_optimizer, gan.g_optimizer)]
    return [opt.seen for opt in inner], gan, logs


def relative_error(values, reference):
    """‖values − reference‖ / ‖reference‖ over all of one player's tensors together (one tensor's own relative
    error is not bounded where its terms cancel, e.g. a bias gradient summed over real and fake examples)."""
    values = np.concatenate([np.ravel(v) for v in values])
    reference = np.concatenate([np.ravel(v) for v in reference])
    return np.linalg.norm(values - reference) / np.linalg.norm(reference)


def test_each_players_loss_is_scaled_so_its_float16_gradients_match_float32():
    """The inner optimizers see the float32 gradients: each player's loss was scaled by its own scale.

    Tolerance: D's gradients are proportional to σ(−|l|) at |l| <= 17.5, whose relative change is
    |l|·δl/l: the logit is a float16 result of ~4 roundings (weight casts, hidden units, tanh, the logit),
    so δl/l <= 4u and σ(−|l|) is off by <= 70u; backpropagation adds ~4 roundings per layer (8u for two
    layers). So <= 78u relative (3.8%), over all of D's gradients. G's gradients are not saturated (~4
    roundings per layer and pass through D and G, <= 24u); they get the same bound. Without scaling, D's
    gradients are all 0 (relative error 1); the unscaled loss with gradients divided by the scale (the
    bug this fixes) gives 1 − 2^-15.
    """
    reference, _, _ = seen_gradients("float32", Recording(0.1), Recording(0.1))
    assert all(np.linalg.norm(g) > 0 for player in reference for g in player)  # no cancelling symmetry
    # Distinct scales: each player's gradient is unscaled by its own optimizer's scale (G's float16
    # gradients are O(1) per example, so 2^15 · 8 examples would overflow; 2^8 does not).
    d_opt = keras.optimizers.LossScaleOptimizer(Recording(0.1), initial_scale=2.0 ** 15)
    g_opt = keras.optimizers.LossScaleOptimizer(Recording(0.1), initial_scale=2.0 ** 8)
    (d_seen, g_seen), gan, _ = seen_gradients("mixed_float16", d_opt, g_opt)
    tolerance = 78 * U16
    assert relative_error(d_seen, reference[0]) < tolerance
    assert relative_error(g_seen, reference[1]) < tolerance
    assert gan.d_optimizer is d_opt and gan.g_optimizer is g_opt  # given LossScaleOptimizers are used as given

    # Without loss scaling (auto_scale_loss=False and plain optimizers), D's float16 gradients underflow.
    (d_plain, _), gan, _ = seen_gradients("mixed_float16", Recording(0.1), Recording(0.1), auto_scale_loss=False)
    assert not isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
    assert all(np.all(g == 0) for g in d_plain)


def test_plain_optimizers_are_wrapped_under_float16_only():
    with global_policy("mixed_float16"):
        d_opt, g_opt = Recording(0.1), Recording(0.1)
        gan = confident_gan(d_opt, g_opt)
        for opt, inner, name in ((gan.d_optimizer, d_opt, "d"), (gan.g_optimizer, g_opt, "g")):
            assert isinstance(opt, keras.optimizers.LossScaleOptimizer) and opt.inner_optimizer is inner
            assert opt.name == f"{name}_loss_scale_optimizer"
        assert gan.optimizer is gan.g_optimizer  # Keras' own `optimizer` is not wrapped a second time
        static = Recording(0.1, loss_scale_factor=1024.0)  # a static loss scale is the user's choice
        assert confident_gan(static, Recording(0.1)).d_optimizer is static
    with global_policy("mixed_bfloat16"):
        d_opt = Recording(0.1)
        assert confident_gan(d_opt, Recording(0.1)).d_optimizer is d_opt


def test_a_non_finite_scaled_gradient_skips_that_players_update_and_halves_its_scale():
    """D's scale 2^40 makes its scaled gradients overflow float16 (the loss is ~1e-7 but its gradient times
    2^40 is ~1e4 per example in the float16 backward pass through a 4-unit layer, summed over 8 examples:
    > 65504): D's update is skipped and its scale halved; G's own scale is unaffected and G is updated."""
    d_opt = keras.optimizers.LossScaleOptimizer(Recording(0.1), initial_scale=2.0 ** 40)
    g_opt = keras.optimizers.LossScaleOptimizer(Recording(0.1), initial_scale=2.0 ** 8)
    with global_policy("mixed_float16"):
        gan = confident_gan(d_opt, g_opt)
        d_before = [w.numpy().copy() for w in gan.discriminator.trainable_weights]
        g_before = [w.numpy().copy() for w in gan.generator.trainable_weights]
        logs = gan.fit(CONFIDENT_X, batch_size=8, epochs=1, verbose=0).history
    assert not hasattr(d_opt.inner_optimizer, "seen")  # the inner optimizer never ran
    assert float(d_opt.dynamic_scale.numpy()) == 2.0 ** 39 and int(d_opt.iterations.numpy()) == 0
    for a, b in zip(d_before, gan.discriminator.trainable_weights):
        np.testing.assert_array_equal(a, b.numpy())
    assert float(g_opt.dynamic_scale.numpy()) == 2.0 ** 8 and int(g_opt.iterations.numpy()) == 1
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(g_before, gan.generator.trainable_weights))
    assert np.isfinite(logs["d_loss"][-1])  # what is logged is the unscaled loss


def test_loss_scale_state_is_saved_and_restored(tmp_path):
    d_opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=2.0 ** 40)
    with global_policy("mixed_float16"):
        g_opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=2.0 ** 8)
        gan = confident_gan(d_opt, g_opt)
        gan.fit(CONFIDENT_X, batch_size=8, epochs=2, verbose=0)  # D's scale halves twice: 2^38; G's counts 2
        gan.save(tmp_path / "gan.keras")
        restored = keras.models.load_model(tmp_path / "gan.keras")
        gan.save_weights(tmp_path / "gan.weights.h5")
        fresh = confident_gan(keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1)), keras.optimizers.SGD(0.1))
        fresh.load_weights(tmp_path / "gan.weights.h5")
    for other in (restored, fresh):
        for name in ("d_optimizer", "g_optimizer"):
            a, b = getattr(gan, name), getattr(other, name)
            assert isinstance(b, keras.optimizers.LossScaleOptimizer), name
            assert float(b.dynamic_scale.numpy()) == float(a.dynamic_scale.numpy()), name
            assert int(b.step_counter.numpy()) == int(a.step_counter.numpy()), name
    assert float(restored.d_optimizer.dynamic_scale.numpy()) == 2.0 ** 38
    assert int(restored.g_optimizer.step_counter.numpy()) == 2


# ---------------------------------------------------------------------------------------- float32 fidelity
def one_update(policy, family):
    """Weights after one train step (SGD: the change is −lr·gradient) from the same initial weights."""
    with global_policy(policy):
        keras.utils.set_random_seed(7)
        g = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="tanh"),
                              keras.layers.Dense(2, dtype="float32")])
        d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(1)])
        gan = ts.get_family(family)(g, d, latent_dim=4, seed=5, n_critic=1)
        gan.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1), run_eagerly=True)
        before = [w.numpy().copy() for w in gan.discriminator.trainable_weights + gan.generator.trainable_weights]
        x = np.random.RandomState(2).uniform(-1, 1, (16, 2)).astype(np.float32)
        gan.fit(x, batch_size=16, epochs=1, verbose=0)
        after = [w.numpy() for w in gan.discriminator.trainable_weights + gan.generator.trainable_weights]
    return [a - b for a, b in zip(after, before)]


@pytest.mark.parametrize("family", ["ns", "wgan_gp"])
def test_one_update_under_mixed_float16_matches_float32(family):
    """‖Δθ₁₆ − Δθ₃₂‖ <= k·u·‖Δθ₃₂‖ over each player's weights, k = 32 (NS) or 64 (WGAN-GP).

    Tolerance: with SGD, Δθ = −lr·∇θ, so this compares gradients. Each float16 rounding on the way (casting
    inputs and weights, each layer's matmul and activation outputs: ~4 per layer and pass) adds a relative
    error <= u; G's gradient passes forward and backward through 2 layers of G and 2 of D, <= 32 roundings,
    and WGAN-GP's penalty differentiates D twice, doubling that. The tanh nets with weights of
    O(1/sqrt(fan-in)) are well conditioned (no amplification of the relative errors), and G's update uses
    D's updated weights, whose own error is within the same bound. Without scaling the loss, but with the
    gradients divided by the scale (the bug this fixes), the relative error would be 1 − 2^-15.
    """
    k = {"ns": 32, "wgan_gp": 64}[family]
    reference = one_update("float32", family)
    mixed = one_update("mixed_float16", family)
    d_count = 4  # D's kernels and biases come first
    for player in (slice(0, d_count), slice(d_count, None)):
        error = relative_error(mixed[player], reference[player])
        assert error <= k * U16, (player, error / U16)


# ---------------------------------------------------------------------------------------- errors
def test_policies_with_half_precision_variables_are_refused():
    with global_policy("float16"):
        g = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        gan = ts.NonSaturatingGAN(g, d, latent_dim=3)
        with pytest.raises(ValueError, match="mixed_float16"):
            gan.compile(d_optimizer=keras.optimizers.SGD(), g_optimizer=keras.optimizers.SGD())
    g = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, dtype="bfloat16")])
    with pytest.raises(ValueError, match="`discriminator`"):
        ts.NonSaturatingGAN(g, d, latent_dim=3).compile(d_optimizer=keras.optimizers.SGD(),
                                                        g_optimizer=keras.optimizers.SGD())


def test_compile_arguments_are_checked():
    g = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    gan = ts.NonSaturatingGAN(g, d, latent_dim=3)
    with pytest.raises(ValueError, match="auto_scale_loss"):
        gan.compile(d_optimizer=keras.optimizers.SGD(), g_optimizer=keras.optimizers.SGD(), auto_scale_loss="yes")
    shared = keras.optimizers.SGD()
    with pytest.raises(ValueError, match="distinct"):
        gan.compile(d_optimizer=keras.optimizers.LossScaleOptimizer(shared),
                    g_optimizer=keras.optimizers.LossScaleOptimizer(shared))
    # A LossScaleOptimizer under float32 is fine: the loss is scaled and the gradients unscaled.
    gan.compile(d_optimizer=keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1)),
                g_optimizer=keras.optimizers.SGD(0.1), run_eagerly=True)
    history = gan.fit(np.random.RandomState(0).normal(size=(8, 2)).astype(np.float32), batch_size=8, verbose=0)
    assert np.isfinite(history.history["d_loss"][-1]) and int(gan.d_optimizer.iterations.numpy()) == 1


# ---------------------------------------------------------------------------------------- replicas
def test_two_replicas_agree_on_a_skipped_update():
    """2 replicas under mixed_float16 with dynamic loss scaling. In the second step only the second replica's
    half of the batch overflows D's scaled gradients; Keras' LossScaleOptimizer decides from the first
    replica's gradients, and would apply the infinite all-reduced gradient (NaN weights). The step makes every
    replica skip, as one device with that batch does: same weights and scales on every replica."""
    result = run_python("""
import json, numpy as np, keras
import tfgan_stable as ts
keras.mixed_precision.set_global_policy("mixed_float16")
two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
x = np.random.RandomState(0).uniform(-1, 1, (48, 2)).astype("float32")
x[24:32] *= 300.0  # step 2, second replica's half: D's scaled gradients overflow at 2^15

def copies(v):
    v = v.value
    return [c.numpy() for c in v.values] if hasattr(v, "values") else [v.numpy()]

def train(strategy):
    with strategy.scope():
        keras.utils.set_random_seed(1)
        g = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(2, dtype="float32")])
        d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
        gan = ts.NonSaturatingGAN(g, d, latent_dim=4, seed=3)
        gan.compile(d_optimizer=keras.optimizers.SGD(0.05), g_optimizer=keras.optimizers.SGD(0.05))
    gan.fit(tf.data.Dataset.from_tensor_slices(x).batch(16), epochs=1, verbose=0)  # 3 steps
    weights = [copies(w) for w in gan.discriminator.trainable_weights + gan.generator.trainable_weights]
    scales = [copies(opt.dynamic_scale) for opt in (gan.d_optimizer, gan.g_optimizer)]
    return weights, scales

weights, scales = train(two)
print(json.dumps({"scales": [[c.tolist() for c in s] for s in scales],
                  "finite": bool(all(np.all(np.isfinite(c)) for w in weights for c in w)),
                  "spread": max(float(np.max(np.abs(w[0] - c))) for w in weights for c in w)}))
""", devices=2)
    # D skipped exactly the one update whose global batch overflowed (as one device with that batch does),
    # on both replicas; G, whose gradients never overflowed, skipped none.
    assert result["scales"] == [[2.0 ** 14] * 2, [2.0 ** 15] * 2], result
    assert result["finite"] and result["spread"] == 0.0, result


# ---------------------------------------------------------------------------------------- a long run
@pytest.mark.slow
def test_wgan_gp_dcgan_runs_2000_steps_under_mixed_float16(shared_data):
    """WGAN-GP with the DCGAN nets (layer norm in D, as `WGANGP.discriminator_norm` says) for 2,000 training
    steps on MNIST under mixed_float16: no NaN or Inf in any logged value or weight."""
    from tfgan_stable.data import read_idx
    images = read_idx(str(shared_data / "mnist" / "train-images-idx3-ubyte.gz"))[:8192, :, :, None]
    images = images.astype(np.float32) / 127.5 - 1.0
    with global_policy("mixed_float16"):
        keras.utils.set_random_seed(0)
        g = ts.nets.dcgan_generator(latent_dim=64, image_shape=(28, 28, 1))
        d = ts.nets.dcgan_discriminator(image_shape=(28, 28, 1), norm=ts.WGANGP.discriminator_norm)
        # n_critic = 1: 2,000 updates of each player (the paper's 5 would make this CPU run several times longer;
        # the numerics of a critic update do not depend on how many there are per generator update).
        gan = ts.WGANGP(g, d, latent_dim=64, n_critic=1)
        gan.compile(d_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9),
                    g_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9))
        data = tf.data.Dataset.from_tensor_slices(images).shuffle(8192, seed=0).repeat()
        data = data.batch(32, drop_remainder=True)
        start = time.time()
        history = gan.fit(data, steps_per_epoch=500, epochs=4, verbose=0,
                          callbacks=[keras.callbacks.TerminateOnNaN()]).history
        seconds = time.time() - start
        assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
        print(json.dumps({"final": {k: v[-1] for k, v in history.items()}, "d_loss_per_epoch": history["d_loss"],
                          "scales": [float(o.dynamic_scale.numpy()) for o in (gan.d_optimizer, gan.g_optimizer)],
                          "seconds": seconds}))
    assert len(history["d_loss"]) == 4  # TerminateOnNaN did not stop it
    assert all(np.all(np.isfinite(v)) for v in history.values()), history
    assert all(np.all(np.isfinite(w.numpy())) for w in gan.weights)

