"""A fit killed mid-epoch and resumed with BackupAndRestore(save_freq=N) ends bit-identical to an uninterrupted one."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_stable as ts
from tfgan_stable.layers import (RefreshReferenceBatch, SpectralNormalization, VirtualBatchNormalization,
                                 set_reference_batch)

T = ts.techniques
POINTS = np.random.RandomState(0).normal(size=(40, 2)).astype(np.float32)  # 5 batches of 8 per epoch
Z_REF = np.random.RandomState(1).normal(size=(16, 4)).astype(np.float32)
EPOCHS, STEPS_PER_EPOCH = 3, 5


def make_gan():
    """Tiny MLPs with every kind of state: VBN statistics, SN u vectors, EMA, replay buffer, both optimizers."""
    keras.utils.set_random_seed(0)
    z = keras.Input((4,))
    h = keras.layers.ReLU()(VirtualBatchNormalization(name="vbn")(keras.layers.Dense(8)(z)))
    g = keras.Model(z, keras.layers.Dense(2)(h))
    x = keras.Input((2,))
    h = keras.layers.Activation("tanh")(SpectralNormalization(keras.layers.Dense(8), seed=1, name="sn")(x))
    d = keras.Model(x, keras.layers.Dense(1)(h))
    gan = ts.NonSaturatingGAN(g, d, latent_dim=4, seed=3, techniques=[
        T.EMA(0.8), T.ExperienceReplay(buffer_size=12, fraction=0.5)])
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-2, 0.5), g_optimizer=keras.optimizers.Adam(1e-2, 0.5))
    set_reference_batch(g, Z_REF)
    return gan


def variables(gan):
    """Every variable of a run: G, D (with SN u and VBN statistics), technique state, both optimizers."""
    found = gan.variables + [w for t in gan.techniques for w in t.weights]
    found += gan.d_optimizer.variables + gan.g_optimizer.variables
    return list({id(v): v for v in found}.values())


@pytest.fixture(scope="module")
def model():
    """One model for every run (tracing the step once keeps the test fast), with its freshly built state."""
    gan = make_gan()
    return gan, [v.numpy().copy() for v in variables(gan)]


def fresh(model):
    """The model as a new process builds it: every variable back to its initial value, no restored epoch."""
    gan, initial = model
    for variable, value in zip(variables(gan), initial):
        variable.assign(value)
    gan._initial_epoch = None  # set by BackupAndRestore; a new model has none
    return gan


class Interrupt(keras.callbacks.Callback):
    """Kills the run after the given training step, as Keras' own BackupAndRestore tests do."""

    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.g_optimizer.iterations.numpy()) == self.step:
            raise RuntimeError("interrupted")


class RecordStart(keras.callbacks.Callback):
    """The step and epoch a fit starts from, read after BackupAndRestore restored them."""

    def on_train_begin(self, logs=None):
        self.step = int(self.model.g_optimizer.iterations.numpy())

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs = getattr(self, "epochs", []) + [epoch]


def fit(model, data, callbacks, save_freq=None, backup=None):
    """A fit of 3 epochs from the fresh state (a new process), optionally with BackupAndRestore first."""
    gan = fresh(model)
    refresh = RefreshReferenceBatch(gan.generator, Z_REF, every_n_steps=2)
    if backup is not None:
        callbacks = [keras.callbacks.BackupAndRestore(backup, save_freq=save_freq), *callbacks]
    gan.fit(data(), epochs=EPOCHS, verbose=0, callbacks=[*callbacks, refresh])
    return [v.numpy().copy() for v in variables(gan)], gan


def max_difference(a, b):
    return max(float(np.max(np.abs(x.astype(np.float64) - y.astype(np.float64)))) for x, y in zip(a, b))


def test_resume_mid_epoch_is_bit_identical(model, tmp_path):
    """Killed twice: after a backup inside epoch 1, then after a backup at the last batch of epoch 1."""
    def data():
        return ts.data.resumable(POINTS, batch_size=8, seed=4)

    reference, _ = fit(model, data, [])
    backup = str(tmp_path / "backup")
    # 1st run: backups after steps 3 and 6; killed after step 8, so steps 7-8 are lost.
    with pytest.raises(RuntimeError, match="interrupted"):
        fit(model, data, [Interrupt(8)], save_freq=3, backup=backup)
    # 2nd run: resumes at step 6, inside epoch 1 (its first epoch is epoch 1's last 4 batches); a backup after
    # its 4th batch, step 10, the end of epoch 1, which Keras records as unfinished; killed after step 12.
    start = RecordStart()
    with pytest.raises(RuntimeError, match="interrupted"):
        fit(model, data, [start, Interrupt(12)], save_freq=4, backup=backup)
    assert (start.step, start.epochs) == (6, [1, 2])
    # 3rd run: resumes at step 10 and starts with epoch 2, not epoch 1 again.
    start = RecordStart()
    final, resumed = fit(model, data, [start], save_freq=4, backup=backup)
    assert (start.step, start.epochs) == (10, [2])
    assert resumed.g_optimizer.iterations.numpy() == EPOCHS * STEPS_PER_EPOCH
    assert resumed.d_optimizer.iterations.numpy() == EPOCHS * STEPS_PER_EPOCH
    difference = max_difference(reference, final)
    print(f"max |dw| between the uninterrupted and the twice-resumed run: {difference}")
    assert difference == 0.0


def test_plain_data_cannot_skip_and_the_resume_warns(model, tmp_path):
    """With ordinary data, BackupAndRestore alone restarts the interrupted epoch from its first batch."""
    def data():
        return tf.data.Dataset.from_tensor_slices(POINTS).batch(8)

    backup = str(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="interrupted"):
        fit(model, data, [Interrupt(8)], save_freq=3, backup=backup)
    with pytest.warns(UserWarning, match="cannot skip the batches already trained on"):
        _, resumed = fit(model, data, [], save_freq=3, backup=backup)
    assert resumed.g_optimizer.iterations.numpy() == EPOCHS * STEPS_PER_EPOCH + 1  # batch 0 of epoch 1 twice


def test_an_epoch_that_runs_out_of_data_adds_no_step(model):
    """Keras ends a dataset of unknown length with one more step call whose get_next fails; it must not count."""
    gan = fresh(model)
    unknown_length = tf.data.Dataset.from_tensor_slices(POINTS).batch(8).filter(lambda x: True)
    gan.fit(unknown_length, epochs=2, verbose=0)
    assert gan.g_optimizer.iterations.numpy() == 2 * STEPS_PER_EPOCH
    assert gan.d_optimizer.iterations.numpy() == 2 * STEPS_PER_EPOCH
