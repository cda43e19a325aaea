"""get_config/from_config and keras.models.load_model restore a GAN, its options and optimizer state."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts


def make(cls, **kwargs):
    keras.utils.set_random_seed(0)
    g = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    return cls(g, d, latent_dim=4, seed=5, **kwargs)


CASES = [(ts.MinimaxGAN, {"real_label": 0.9, "label_noise": 0.1}),
         (ts.LSGAN, {"fake_target": ts.schedules.LinearRamp(0.0, 0.3, 5, 10), "generator_target": 0.5}),
         (ts.WGAN, {"clip_value": 0.05, "n_critic": 3}), (ts.WGANGP, {"penalty_weight": 5.0}),
         (ts.DRAGAN, {"perturbation_scale": 0.3}), (ts.HingeGAN, {}),
         (ts.NonSaturatingGAN, {"techniques": [ts.techniques.GradientPenalty(weight=2.0)]})]


@pytest.mark.parametrize("cls, kwargs", CASES, ids=[c.__name__ for c, _ in CASES])
def test_config_round_trip(cls, kwargs):
    gan = make(cls, **kwargs)
    clone = cls.from_config(gan.get_config())
    assert clone.get_config() == gan.get_config()
    assert [type(t) for t in clone.techniques] == [type(t) for t in gan.techniques]


def test_save_and_load_model_resumes_exactly(tmp_path):
    x = np.random.RandomState(0).uniform(-1, 1, (32, 2)).astype(np.float32)
    gan = make(ts.WGANGP, n_critic=2)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    gan.fit(x, batch_size=8, epochs=1, verbose=0, shuffle=False)
    gan.save(tmp_path / "gan.keras")
    restored = keras.models.load_model(tmp_path / "gan.keras")
    assert isinstance(restored, ts.WGANGP) and restored.n_critic == 2
    for a, b in zip(gan.generator.weights + gan.d_optimizer.variables, restored.generator.weights +
                    restored.d_optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # The next epoch is identical: same optimizer state, same step counters, same noise.
    gan.fit(x, batch_size=8, epochs=1, verbose=0, shuffle=False)
    restored.fit(x, batch_size=8, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(gan.weights, restored.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_backup_and_restore_resumes_an_interrupted_fit_exactly(tmp_path):
    """Optimizer state and step counters are restored, so the resumed run draws the same noise."""
    x = np.random.RandomState(0).uniform(-1, 1, (32, 2)).astype(np.float32)

    def fit(gan, callbacks=()):
        gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
        gan.fit(x, batch_size=8, epochs=4, verbose=0, shuffle=False, callbacks=list(callbacks))
        return gan

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("interrupted")

    reference = fit(make(ts.WGANGP, n_critic=2))
    with pytest.raises(RuntimeError, match="interrupted"):
        fit(make(ts.WGANGP, n_critic=2), [keras.callbacks.BackupAndRestore(str(tmp_path)), Interrupt()])
    resumed = fit(make(ts.WGANGP, n_critic=2), [keras.callbacks.BackupAndRestore(str(tmp_path))])
    assert int(resumed.g_optimizer.iterations.numpy()) == 16
    for a, b in zip(reference.weights, resumed.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_config_keeps_the_dtype_policy(tmp_path):
    gan = make(ts.HingeGAN, dtype="mixed_float16")
    assert gan.compute_dtype == "float16"
    assert ts.HingeGAN.from_config(gan.get_config()).dtype_policy.name == "mixed_float16"
    gan.save(tmp_path / "gan.keras")
    assert keras.models.load_model(tmp_path / "gan.keras").dtype_policy.name == "mixed_float16"


def test_compile_config_keeps_steps_per_execution(tmp_path):
    gan = make(ts.HingeGAN)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3),
                steps_per_execution=3)
    gan.save(tmp_path / "gan.keras")
    restored = keras.models.load_model(tmp_path / "gan.keras")
    assert restored.steps_per_execution == 3 and not restored.jit
