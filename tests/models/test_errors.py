"""Bad input at the public boundary raises a clear ValueError/TypeError naming the argument."""
import keras
import numpy as np
import pytest

import tfgan_stable as ts


def nets(latent=4, out=2):
    g = keras.Sequential([keras.Input((latent,)), keras.layers.Dense(out, activation="tanh")])
    d = keras.Sequential([keras.Input((out,)), keras.layers.Dense(1)])
    return g, d


def image_nets():
    g = keras.Sequential([keras.Input((4,)), keras.layers.Dense(28 * 28), keras.layers.Reshape((28, 28, 1))])
    d = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    return g, d


def compiled(gan):
    gan.compile(d_optimizer=keras.optimizers.SGD(), g_optimizer=keras.optimizers.SGD())
    return gan


def test_latent_dim_mismatch():
    with pytest.raises(ValueError, match="latent_dim"):
        ts.NonSaturatingGAN(*nets(latent=4), latent_dim=8)
    with pytest.raises(ValueError, match="latent_dim"):
        ts.NonSaturatingGAN(*nets(), latent_dim=0)


def test_generator_discriminator_shape_mismatch():
    g, _ = nets(out=2)
    _, d = nets(out=3)
    with pytest.raises(ValueError, match="discriminator's input shape"):
        ts.HingeGAN(g, d, latent_dim=4)


def test_models_must_be_keras_models():
    _, d = nets()
    with pytest.raises(TypeError, match="generator"):
        ts.LSGAN(lambda z: z, d, latent_dim=4)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_critic": 0}, "n_critic"), ({"real_label": 1.5}, "real_label"), ({"label_noise": -0.1}, "label_noise"),
    ({"techniques": ["gp"]}, "techniques"), ({"seed": 1.5}, "seed")])
def test_bad_options(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ts.MinimaxGAN(*nets(), latent_dim=4, **kwargs)


def test_family_specific_options():
    with pytest.raises(ValueError, match="clip_value"):
        ts.WGAN(*nets(), latent_dim=4, clip_value=0)
    with pytest.raises(ValueError, match="weight"):
        ts.WGANGP(*nets(), latent_dim=4, penalty_weight=-1)
    with pytest.raises(TypeError, match="fake_target"):
        ts.LSGAN(*nets(), latent_dim=4, fake_target="zero")


def test_missing_or_wrong_optimizers():
    gan = ts.NonSaturatingGAN(*nets(), latent_dim=4)
    with pytest.raises(ValueError, match="g_optimizer"):
        gan.compile(d_optimizer=keras.optimizers.SGD())
    with pytest.raises(TypeError, match="d_optimizer"):
        gan.compile(d_optimizer="adam", g_optimizer=keras.optimizers.SGD())
    opt = keras.optimizers.SGD()
    with pytest.raises(ValueError, match="distinct"):
        gan.compile(d_optimizer=opt, g_optimizer=opt)
    with pytest.raises(ValueError, match="loss"):
        gan.compile(d_optimizer=keras.optimizers.SGD(), g_optimizer=keras.optimizers.SGD(), loss="mse")


def test_uint8_images_rejected_with_a_hint():
    gan = compiled(ts.NonSaturatingGAN(*image_nets(), latent_dim=4))
    with pytest.raises(ValueError, match="127.5"):
        gan.fit(np.zeros((8, 28, 28, 1), np.uint8), epochs=1, verbose=0)


def test_images_outside_the_generator_range_rejected():
    gan = compiled(ts.NonSaturatingGAN(*image_nets(), latent_dim=4))
    images = np.random.RandomState(0).uniform(0, 255, (8, 28, 28, 1)).astype(np.float32)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        gan.fit(images, epochs=1, verbose=0)


@pytest.mark.parametrize("shape", [(8, 28, 28), (8, 28, 28, 3), (8, 32, 32, 1)])
def test_wrong_image_rank_or_channels_rejected(shape):
    import tensorflow as tf
    gan = compiled(ts.NonSaturatingGAN(*image_nets(), latent_dim=4))
    with pytest.raises(ValueError, match="generator produces"):
        gan.fit(tf.data.Dataset.from_tensor_slices(np.zeros(shape, np.float32)).batch(4), epochs=1, verbose=0)


def test_generate_arguments():
    gan = ts.NonSaturatingGAN(*nets(), latent_dim=4)
    with pytest.raises(ValueError, match="exactly one"):
        gan.generate()
    with pytest.raises(ValueError, match="latent_dim"):
        gan.generate(z=np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match="num"):
        gan.generate(-1)


def test_an_unbatched_dataset_is_refused_with_a_hint():
    import tensorflow as tf
    gan = compiled(ts.NonSaturatingGAN(*image_nets(), latent_dim=4))
    with pytest.raises(ValueError, match=r"not batched.*\.batch"):
        gan.fit(tf.data.Dataset.from_tensor_slices(np.zeros((8, 28, 28, 1), np.float32)), epochs=1, verbose=0)


def test_fit_before_compile_is_a_clear_error():
    gan = ts.NonSaturatingGAN(*nets(), latent_dim=4)
    with pytest.raises(ValueError, match=r"compile\(d_optimizer"):
        gan.fit(np.zeros((8, 2), np.float32), epochs=1, verbose=0)


class Broken(ts.techniques.Technique):
    """A discriminator term that is NaN from the first step on."""

    default_name = "broken_term"

    def discriminator_term(self, gan, ctx):
        import tensorflow as tf
        return tf.fill(tf.shape(ctx.real_logits), float("nan"))


def test_a_non_finite_term_stops_training_and_is_named():
    """The guard names the technique's term, not the d_loss it makes NaN; Keras' TerminateOnNaN stops too."""
    x = np.random.RandomState(0).normal(size=(40, 2)).astype(np.float32)
    for callback in (ts.callbacks.TerminateOnNonFinite(), keras.callbacks.TerminateOnNaN()):
        gan = compiled(ts.NonSaturatingGAN(*nets(), latent_dim=4, techniques=[Broken()]))
        history = gan.fit(x, batch_size=8, epochs=2, verbose=0, callbacks=[callback])
        assert int(gan.g_optimizer.iterations.numpy()) == 1  # stopped after the first step
        assert np.isnan(history.history["loss"][-1])
    guard = ts.callbacks.TerminateOnNonFinite(raise_error=True)
    gan = compiled(ts.NonSaturatingGAN(*nets(), latent_dim=4, techniques=[Broken()]))
    with pytest.raises(RuntimeError, match="step 1: broken_term is nan"):
        gan.fit(x, batch_size=8, epochs=1, verbose=0, callbacks=[guard])
    assert guard.stopped[:2] == (1, "broken_term")


def test_loss_is_the_sum_of_the_players_losses():
    gan = compiled(ts.LSGAN(*nets(), latent_dim=4))
    logs = gan.train_step(np.zeros((8, 2), np.float32))
    np.testing.assert_allclose(float(logs["loss"]), float(logs["d_loss"]) + float(logs["g_loss"]), rtol=1e-6)


def test_labels_given_to_an_unconditional_family_are_refused():
    import tensorflow as tf
    gan = compiled(ts.NonSaturatingGAN(*image_nets(), latent_dim=4))
    data = tf.data.Dataset.from_tensor_slices((np.zeros((8, 28, 28, 1), np.float32), np.zeros(8, np.int32)))
    with pytest.raises(ValueError, match=r"unconditional.*with_labels=False"):
        gan.fit(data.batch(4), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"unconditional"):  # also when the batch is only seen at trace time
        gan.train_step((tf.zeros((4, 28, 28, 1)), tf.zeros(4, tf.int32)))


def test_a_net_with_a_label_input_needs_a_conditional_family():
    z, y = keras.Input((4,)), keras.Input((1,), dtype="int32")
    h = keras.layers.Concatenate()([z, keras.layers.CategoryEncoding(3)(y)])
    g = keras.Model([z, y], keras.layers.Dense(2)(h))
    _, d = nets()
    with pytest.raises(ValueError, match=r"generator takes 2 inputs.*conditional family"):
        ts.NonSaturatingGAN(g, d, latent_dim=4)
