"""The GAN base model: the training-step skeleton that every loss family shares."""
import inspect

import keras
import numpy as np
import tensorflow as tf

from tfgan_stable import sampling
from tfgan_stable.data.resumable import FollowTrainingStep
from tfgan_stable.distribute import StepNoise, is_multi_worker, synced_step_function
from tfgan_stable.layers.packing import packing_degree
from tfgan_stable.layers.spectral_normalization import advance_power_iteration, step_driven_power_iteration
from tfgan_stable.techniques.base import Technique, UpdateContext

# Independent random streams of one step; each is folded into the model's seed with the step counter.
_STREAM_D, _STREAM_G, _STREAM_EVAL = 1, 2, 3

#: Compute dtypes the step supports; variables must be float32 (Keras' "mixed_float16"/"mixed_bfloat16").
_COMPUTE_DTYPES = ("float32", "float16", "bfloat16")
#: The dtype of everything the step computes outside the nets: samples, logits, losses, penalties, terms.
_STEP_DTYPE = tf.float32


def _check_model(model, name):
    if not isinstance(model, keras.Model):
        raise TypeError(f"`{name}` must be a keras.Model, got {type(model).__name__}")
    if not model.built or not model.inputs:
        raise ValueError(f"`{name}` must be a built model with known inputs (e.g. a functional keras.Model)")


def _inner(optimizer):
    """The optimizer a `LossScaleOptimizer` wraps, or `optimizer` itself."""
    return optimizer.inner_optimizer if isinstance(optimizer, keras.optimizers.LossScaleOptimizer) else optimizer


def _with_loss_scale(optimizer, name):
    """`optimizer` wrapped in a dynamic `LossScaleOptimizer`, unless it scales its loss already (a
    `LossScaleOptimizer`, or a static `loss_scale_factor`)."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer) or optimizer.loss_scale_factor is not None:
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer, name=name)


class GAN(keras.Model):
    """Base class of all GAN families: owns the step order, randomness, loss reduction and distribution.

    One `train_step` makes `n_critic` = k discriminator updates, then one generator update, as in
    Algorithm 1 of WGAN and WGAN-GP: the dataset's batch holds the real data of the whole step, k·B
    examples, and each critic update takes its own B of them (examples i, i + k, i + 2k, ... for update
    i), with fresh z; the generator update draws B z. With `reuse_real_batch=True` every critic update
    sees the whole batch instead. Each side's loss is the family's per-example loss plus the techniques'
    terms, reduced ONCE over the global batch with `tf.nn.compute_average_loss` (scalar regularisers with
    `tf.nn.scale_regularization_loss`), so a step on N replicas equals the step on one device with the
    same global batch. All randomness (z and any technique's noise) is one stateless draw for the whole
    global batch from a seed made of (`seed`, stream, optimizer step, purpose), of which each replica
    computes only its own rows: replicas get different z, and the run is reproducible. Spectral normalisation
    (`layers.SpectralNormalization`) advances its power iteration once per update of its net, so the
    real and fake halves of one loss share one σ̂. Logged values are global-batch means; the
    discriminator's are averaged over the k updates.

    Mixed precision ("mixed_float16", "mixed_bfloat16"): the nets compute in half precision, everything
    else in the step (samples, logits, losses, penalties, technique terms) in float32, and each player's
    loss is scaled by its own optimizer's loss scale (see `compile`).

    With `compile(jit_compile=True)` on one replica the whole step is compiled with XLA. Under a
    multi-replica strategy, where Keras' own whole-step `jit_compile` fails, each side's loss-and-gradient
    computation is compiled (`tf.function(jit_compile=True)`) and the optimizer update runs outside it.

    Subclasses (one per loss family) implement `discriminator_loss` and `generator_loss`, returning
    per-example losses (see `tfgan_stable.losses`).

    Args:
      generator: a built `keras.Model` mapping z of shape [batch, latent_dim] to samples in [-1, 1].
      discriminator: a built `keras.Model` mapping samples to logits of shape [batch] or [batch, 1]
        ([batch / m, 1] when it packs m samples per input, see `layers.Pack`).
      latent_dim: size of z; must match the generator's input.
      n_critic: discriminator updates per generator update; the batch must be a multiple of it.
      techniques: a list of `tfgan_stable.techniques.Technique` with distinct names.
      seed: integer seed of all the model's randomness.
      reuse_real_batch: give every critic update the whole batch instead of its own part.

    Example:
      ```python
      gan = tfgan_stable.NonSaturatingGAN(generator, discriminator, latent_dim=64)
      gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, 0.5), g_optimizer=keras.optimizers.Adam(2e-4, 0.5))
      gan.fit(dataset, epochs=10)
      ```
    """

    #: Names of the metrics this family logs besides d_loss and g_loss.
    family_metrics = ("d_real", "d_fake")
    #: Whether `generator_loss` needs D's output on real data (relativistic losses).
    generator_uses_real = False
    #: The discriminator normalisation the family's paper uses (`norm` of `nets.dcgan_discriminator`):
    #: batch norm by default; "layer" for gradient-penalty families, whose per-example penalty batch
    #: statistics would couple. The example scripts and benchmarks build D with it.
    discriminator_norm = "batch"
    #: Whether batches are (images, labels) and the labels condition the nets that take them (a generator
    #: with inputs [z, labels], a discriminator with inputs [samples, labels]; `ConditionalGAN`, `ACGAN`).
    #: An unconditional family refuses labelled batches and nets with a label input.
    conditional = False
    #: Whether the family's losses all-reduce over the replicas inside the gradient computation (batch
    #: means of the global batch, `distribute.global_mean`): no per-replica XLA then (`compile` checks).
    needs_cross_replica_gradients = False

    def __init__(self, generator, discriminator, latent_dim, n_critic=1, techniques=(), seed=0,
                 reuse_real_batch=False, **kwargs):
        super().__init__(**kwargs)
        _check_model(generator, "generator")
        _check_model(discriminator, "discriminator")
        if not isinstance(latent_dim, (int, np.integer)) or latent_dim <= 0:
            raise ValueError(f"`latent_dim` must be a positive integer, got {latent_dim!r}")
        g_in = tuple(generator.inputs[0].shape)
        if len(g_in) != 2 or g_in[-1] != latent_dim:
            raise ValueError(f"`latent_dim`={latent_dim} does not match the generator's input shape "
                             f"{tuple(g_in)}: expected (None, {latent_dim})")
        g_out, d_in = tuple(generator.outputs[0].shape), tuple(discriminator.inputs[0].shape)
        if len(g_out) != len(d_in) or any(a is not None and b is not None and a != b
                                          for a, b in zip(g_out[1:], d_in[1:])):
            raise ValueError(f"the generator's output shape {tuple(g_out)} does not match the "
                             f"discriminator's input shape {tuple(d_in)}")
        for name, net in (("generator", generator), ("discriminator", discriminator)):
            inputs = len(net.inputs)
            if inputs > 2 or (inputs == 2 and not self.conditional):
                raise ValueError(
                    f"the {name} takes {inputs} inputs, but {type(self).__name__} feeds it one (the "
                    f"{'latent z' if name == 'generator' else 'samples'})" + (
                        ": a conditional family (ConditionalGAN, ACGAN) feeds [x, labels] to a net with two "
                        "inputs" if inputs == 2 else ""))
        #: Whether each net takes the labels as a second input.
        self.generator_takes_labels = len(generator.inputs) == 2
        self.discriminator_takes_labels = len(discriminator.inputs) == 2
        if not isinstance(n_critic, (int, np.integer)) or n_critic < 1:
            raise ValueError(f"`n_critic` must be an integer >= 1, got {n_critic!r}")
        techniques = list(techniques)
        self.user_techniques = list(techniques)
        techniques = self.builtin_techniques() + techniques
        for t in techniques:
            if not isinstance(t, Technique):
                raise TypeError(f"`techniques` must hold tfgan_stable.techniques.Technique objects, got "
                                f"{type(t).__name__}")
        names = [t.name for t in techniques]
        if len(set(names)) != len(names) or {"z", "family", "labels"} & set(names):
            raise ValueError(f"`techniques` must have distinct names other than 'z', 'family' and 'labels' (they "
                             f"key the logs and the noise), got {names}")
        if not isinstance(seed, (int, np.integer)):
            raise TypeError(f"`seed` must be an integer, got {seed!r}")
        if not isinstance(reuse_real_batch, bool):
            raise TypeError(f"`reuse_real_batch` must be True or False, got {reuse_real_batch!r}")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim)
        self.n_critic = int(n_critic)
        self.techniques = techniques
        self.seed = int(seed)
        self.reuse_real_batch = reuse_real_batch
        #: m, the samples per discriminator input (`layers.Pack`); noise that belongs to a pack uses it.
        self.packing = packing_degree(discriminator)
        for t in techniques:
            t.attach(self)
        # Not tracked by Keras: the feature model only re-uses D's layers, which are tracked through D.
        names, model = self._feature_extractor(techniques)
        object.__setattr__(self, "_feature_layers", names)
        object.__setattr__(self, "_feature_model", model)
        names = ["d_loss", "g_loss", "loss", *self.family_metrics]
        names += [t.log_name(p) for t in techniques for p in t.term_players]
        self._trackers = {n: keras.metrics.Mean(name=n) for n in names}
        self._data_checked = False
        self.built = True

    def _feature_extractor(self, techniques):
        """A model sharing D's layers that also returns the outputs of the layers techniques read."""
        names = list(dict.fromkeys(name for t in techniques for name in t.feature_layers))
        if not names:
            return (), None
        known = [layer.name for layer in self.discriminator.layers]
        for name in names:
            if name not in known:
                raise ValueError(f"feature layer {name!r} (asked for by a technique) is not a layer of the "
                                 f"discriminator; its layers are {known}")
        outputs = [self.discriminator.get_layer(name).output for name in names]
        model = keras.Model(self.discriminator.inputs, [self.discriminator.outputs[0], *outputs],
                            name=f"{self.discriminator.name}_features")
        return tuple(names), model

    # ------------------------------------------------------------------ family interface
    def builtin_techniques(self):
        """Techniques that are part of the family itself (e.g. WGAN-GP's penalty); they run first."""
        return []

    def discriminator_loss(self, real_logits, fake_logits, step, noise):
        """Per-example discriminator loss of the family, shape [batch]."""
        raise NotImplementedError

    def generator_loss(self, fake_logits, real_logits, step):
        """Per-example generator loss of the family, shape [batch]."""
        raise NotImplementedError

    def sample_latent(self, noise):
        """The generator's input z for one update, drawn from the update's `StepNoise` ("z" purpose):
        N(0, I) of size `latent_dim`, the same rows `generate` draws for a seed. InfoGAN adds its codes."""
        return noise.latent(self.latent_dim)

    def discriminator_scores(self, outputs, samples):
        """D's per-example (per-pack with `layers.Pack`) scores, shape [batch], in float32, from its outputs.

        The scores are what the family's losses call logits: D's first output, flattened (further outputs,
        e.g. ACGAN's class logits, are read as features by techniques). Autoencoder families (EBGAN,
        BEGAN) score a sample by the reconstruction error of `samples`.
        """
        first = outputs[0] if isinstance(outputs, (list, tuple)) else outputs
        return tf.cast(tf.reshape(first, [-1]), _STEP_DTYPE)

    def prepare_labels(self, labels, images):
        """A conditional family's check and conversion of a batch's labels (called once per batch)."""
        return labels

    def discriminator_noise(self, noise, real):
        """Randomness the family's discriminator loss needs (e.g. noisy labels), drawn from a `StepNoise`."""
        return None

    def discriminator_metrics(self, real_logits, fake_logits, step):
        """Values logged after a discriminator update (names in `family_metrics`): per-example tensors,
        logged as their global-batch mean, or scalars."""
        return {"d_real": real_logits, "d_fake": fake_logits}

    def after_discriminator_step(self):
        """Family-specific update after each discriminator step (e.g. WGAN's weight clipping)."""

    def after_train_step(self, logs):
        """Family-specific update at the end of each `train_step` (e.g. BEGAN's k_t), from `logs`: the
        step's logged values, global-batch means (discriminator values averaged over its n_critic
        updates), the same on every replica. Update variables with `distribute.update_variables`.
        Returns the logs, to which the family may add values it computes from them."""
        return logs

    # ------------------------------------------------------------------ Keras API
    def compile(self, d_optimizer=None, g_optimizer=None, jit_compile=False, auto_scale_loss=True, **kwargs):
        """Configures training.

        Mixed precision: each player's loss is multiplied by its own optimizer's `scale_loss` before
        differentiation (the optimizer divides the gradients by the same scale). When the generator, the
        discriminator or the GAN computes in float16 (policy "mixed_float16") and `auto_scale_loss` is
        True, a plain optimizer is wrapped here in a `keras.optimizers.LossScaleOptimizer` (dynamic loss
        scaling, as `keras.Model.compile` does for its `optimizer`); `gan.d_optimizer` / `gan.g_optimizer`
        are then the wrappers and the given optimizers their `inner_optimizer`. An optimizer that is
        already a `LossScaleOptimizer`, or has a static `loss_scale_factor`, is used as given, under any
        policy. bfloat16 ("mixed_bfloat16") has float32's exponent range and needs no scaling.

        Args:
          d_optimizer: `keras.optimizers.Optimizer` for the discriminator.
          g_optimizer: `keras.optimizers.Optimizer` for the generator (a different learning rate gives TTUR).
          jit_compile: compile each side's loss-and-gradient computation with XLA.
          auto_scale_loss: under float16 compute, wrap plain optimizers in a `LossScaleOptimizer`.
          **kwargs: passed to `keras.Model.compile` (e.g. `steps_per_execution`).
        """
        for name, opt in (("d_optimizer", d_optimizer), ("g_optimizer", g_optimizer)):
            if opt is None:
                raise ValueError(f"`{name}` is required, e.g. keras.optimizers.Adam(2e-4, beta_1=0.5)")
            if not isinstance(opt, keras.optimizers.Optimizer):
                raise TypeError(f"`{name}` must be a keras.optimizers.Optimizer, got {type(opt).__name__}")
        if d_optimizer is g_optimizer or _inner(d_optimizer) is _inner(g_optimizer):
            raise ValueError("`d_optimizer` and `g_optimizer` must be two distinct optimizer objects")
        if not isinstance(auto_scale_loss, bool):
            raise ValueError(f"`auto_scale_loss` must be True or False, got {auto_scale_loss!r}")
        if self._check_precision() and auto_scale_loss:
            d_optimizer = _with_loss_scale(d_optimizer, "d_loss_scale_optimizer")
            g_optimizer = _with_loss_scale(g_optimizer, "g_loss_scale_optimizer")
        for key in ("optimizer", "loss"):
            if kwargs.get(key) is not None:
                raise ValueError(f"`{key}` is not used by a GAN: pass d_optimizer and g_optimizer; the loss is "
                                 f"the family's ({type(self).__name__})")
        kwargs.pop("optimizer", None)
        self.jit = bool(jit_compile)
        replicated = self.distribute_strategy.num_replicas_in_sync > 1
        if self.jit and replicated:
            synced = [l.name for m in (self.generator, self.discriminator) for l in m._flatten_layers()
                      if getattr(l, "synchronized", False)]
            if synced:
                raise ValueError(f"`jit_compile=True` under a multi-replica strategy cannot run synchronized "
                                 f"batch normalization (layers {synced}): its cross-replica all-reduce cannot "
                                 f"be compiled into the XLA step. Use jit_compile=False, or per-replica "
                                 f"BatchNormalization(synchronized=False)")
            cross = [t.name for t in self.techniques if t.needs_cross_replica_gradients]
            cross += [type(self).__name__] if self.needs_cross_replica_gradients else []
            if cross:
                raise ValueError(f"`jit_compile=True` under a multi-replica strategy cannot run "
                                 f"{cross}: their losses sum over the replicas inside the gradient computation, "
                                 f"which cannot be compiled into the XLA step. Use jit_compile=False")
        # One replica: XLA compiles the whole step, optimizer updates included (fewest kernel launches).
        # Several replicas: Keras' whole-step XLA fails on the cross-replica update, so only each side's
        # loss-and-gradient function is compiled and the optimizer update runs outside it.
        # auto_scale_loss=False: the loss scaling of both players is decided above, not by Keras.
        super().compile(optimizer=g_optimizer, jit_compile=self.jit and not replicated, auto_scale_loss=False,
                        **kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        # Under a strategy the optimizer slots must be created here, inside strategy.scope().
        d_optimizer.build(self.discriminator.trainable_variables)
        g_optimizer.build(self.generator.trainable_variables)
        wrap = (lambda f: tf.function(f, jit_compile=True)) if self.jit and replicated else (lambda f: f)
        self._d_grads = wrap(self._discriminator_gradients)
        self._g_grads = wrap(self._generator_gradients)

    def _check_precision(self):
        """Checks the dtype policies of the GAN and its nets; returns whether any of them computes in float16.

        Supported: float32 variables with float32, float16 or bfloat16 computation ("float32",
        "mixed_float16", "mixed_bfloat16"). float16/bfloat16 variables ("float16", "bfloat16" policies)
        are not: optimizer slots, penalties and averaged weights would lose their precision.
        """
        hint = ("use keras.mixed_precision.set_global_policy('mixed_float16') or 'mixed_bfloat16' (float32 "
                "variables, half-precision computation) before building the nets and the GAN")
        policy = self.dtype_policy
        if policy.variable_dtype != "float32" or policy.compute_dtype not in _COMPUTE_DTYPES:
            raise ValueError(f"the GAN's dtype policy {policy.name!r} is not supported (variables "
                             f"{policy.variable_dtype}, computation {policy.compute_dtype}): {hint}")
        float16 = policy.compute_dtype == "float16"
        for name, net in (("generator", self.generator), ("discriminator", self.discriminator)):
            wrong = [v.path for v in net.trainable_variables if v.dtype != "float32"]
            if wrong:
                raise ValueError(f"`{name}` has trainable variables that are not float32 ({wrong[:3]}): "
                                 f"mixed precision keeps variables in float32; {hint}")
            for layer in net._flatten_layers():
                if layer.compute_dtype not in _COMPUTE_DTYPES:
                    raise ValueError(f"`{name}` layer {layer.name!r} computes in {layer.compute_dtype}; supported "
                                     f"are {', '.join(_COMPUTE_DTYPES)}")
                float16 |= layer.compute_dtype == "float16"
        return float16

    def get_compile_config(self):
        """The `compile` arguments that a `.keras` file stores: both optimizers, XLA, steps per execution."""
        if not getattr(self, "compiled", False):
            return None
        return {"d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
                "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
                "jit_compile": self.jit, "steps_per_execution": self.steps_per_execution}

    def compile_from_config(self, config):
        """Compiles the model again from `get_compile_config()` (used by `keras.models.load_model`)."""
        self.compile(d_optimizer=keras.saving.deserialize_keras_object(config["d_optimizer"]),
                     g_optimizer=keras.saving.deserialize_keras_object(config["g_optimizer"]),
                     jit_compile=config["jit_compile"],
                     steps_per_execution=config.get("steps_per_execution", 1))  # absent in older files

    @property
    def metrics(self):
        return list(self._trackers.values())

    def call(self, inputs, training=False):
        """Generates samples: G(inputs) in training, the `sampler` in inference. `inputs` is z, or for a
        generator that takes labels (conditional families) the list [z, labels]."""
        if self.generator_takes_labels:
            if not (isinstance(inputs, (list, tuple)) and len(inputs) == 2):
                raise ValueError(f"{type(self).__name__}'s generator takes [z, labels]: call the model on a list "
                                 f"[z, labels], or use generate(labels=...)")
            inputs = self.generator_inputs(*inputs)
        return self.generator(inputs, training=True) if training else self.sampler(inputs, training=False)

    @property
    def sampler(self):
        """The generator that `generate`, `export_generator` and the callbacks use.

        A technique may supply one (`techniques.EMA`: the averaged generator); otherwise `generator`.
        """
        for t in reversed(self.techniques):
            generator = t.sampling_generator(self)
            if generator is not None:
                return generator
        return self.generator

    def discriminate(self, samples, labels=None, training=False):
        """D's scores (logits) for `samples`, shape [batch], in float32 whatever D computes in; `labels` go to
        a discriminator that takes them (see `discriminator_scores`)."""
        outputs = self.discriminator(self.discriminator_inputs(samples, labels), training=training)
        return self.discriminator_scores(outputs, samples)

    def discriminator_inputs(self, samples, labels):
        """What the discriminator is called with: `samples`, or [samples, labels] when it takes labels."""
        return [samples, labels] if self.discriminator_takes_labels else samples

    def generator_inputs(self, z, labels):
        """What the generator is called with: `z`, or [z, labels] when it takes labels."""
        return [z, labels] if self.generator_takes_labels else z

    # ------------------------------------------------------------------ training
    def fit(self, x=None, *args, **kwargs):
        """`keras.Model.fit`, after checking the first batch (rank, shape, dtype, size; images in [-1, 1]).

        It adds one callback after the given ones (`data.resumable.FollowTrainingStep`): when training
        begins, after `BackupAndRestore` has restored a backup, it moves the position of a
        `tfgan_stable.data.load` / `data.resumable` dataset to the restored step, so that a run
        interrupted mid-epoch resumes bit-identically (see `tfgan_stable.data.resumable`).
        """
        if not getattr(self, "compiled", False):
            raise ValueError(f"call compile(d_optimizer=..., g_optimizer=...) on the {type(self).__name__} "
                             f"before fit")
        arguments = inspect.signature(keras.Model.fit).bind(self, x, *args, **kwargs).arguments
        arguments.pop("self")
        self._check_training_data(x, arguments.get("batch_size"), arguments.get("y"))
        follow = FollowTrainingStep(getattr(x, "data_position", None))
        callbacks = arguments.get("callbacks")
        if isinstance(callbacks, keras.callbacks.CallbackList):
            callbacks.append(follow)
        else:
            arguments["callbacks"] = [*(callbacks or ()), follow]
        return super().fit(**arguments)

    def make_train_function(self, force=False):
        """Keras' train function; with several workers (`MultiWorkerMirroredStrategy`), where Keras 3's fails
        for any model, one that takes the step's logs (already global) without reducing them
        (`distribute.synced_step_function`)."""
        if not is_multi_worker(self.distribute_strategy):
            return super().make_train_function(force)
        if force or self.train_function is None:
            self.train_function = synced_step_function(self.distribute_strategy, self.train_step,
                                                       self.steps_per_execution, self.run_eagerly)
        return self.train_function

    def make_test_function(self, force=False):
        """Keras' test function, or with several workers the GAN's own (see `make_train_function`)."""
        if not is_multi_worker(self.distribute_strategy):
            return super().make_test_function(force)
        if force or self.test_function is None:
            self.test_function = synced_step_function(self.distribute_strategy, self.test_step,
                                                       self.steps_per_execution, self.run_eagerly)
        return self.test_function

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Keras' build from a first batch; skipped with several workers, where Keras all-reduces that batch
        with `strategy.reduce`, which takes no nest, so an (images, labels) batch fails. The GAN is built at
        construction and its optimizers in `compile`: there is nothing to build."""
        if not is_multi_worker(self.distribute_strategy):
            super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def _check_training_data(self, x, batch_size=None, y=None):
        if self._data_checked or x is None:
            return
        if isinstance(x, tf.data.Dataset):
            first = next(iter(x.take(1)))
        elif isinstance(x, (np.ndarray, tf.Tensor)):
            first = x[:batch_size or 32]  # fit's default batch size
            if y is not None:  # fit(images, labels)
                first = (first, y[:batch_size or 32])
        else:  # generators, PyDatasets, distributed datasets: checked at trace time only
            return
        images = first[0] if isinstance(first, (tuple, list)) else first
        self._check_images(images)
        labels = first[1] if isinstance(first, (tuple, list)) and len(first) == 2 else None
        self._check_labels_present(labels)
        if labels is not None:  # eagerly: a conditional family's checks raise ValueError here
            self.prepare_labels(tf.convert_to_tensor(labels), tf.convert_to_tensor(images))
        values = np.asarray(images)
        lo, hi = float(values.min()), float(values.max())
        if values.ndim == 4 and (lo < -1.0 - 1e-3 or hi > 1.0 + 1e-3):  # images; 2-D toy points are unbounded
            raise ValueError(f"training images must be scaled to [-1, 1] (the generator's range), but the "
                             f"first batch spans [{lo:g}, {hi:g}]; for uint8 pixels use x / 127.5 - 1")
        self._check_batch_size(len(values))
        self._data_checked = True

    def _check_batch_size(self, batch):
        """The batch must split evenly over replicas, critic updates (unless reused) and packs."""
        replicas = self.distribute_strategy.num_replicas_in_sync
        parts = 1 if self.reuse_real_batch else self.n_critic
        unit = replicas * parts * self.packing
        if batch % unit == 0:
            return
        reasons = []
        if parts > 1:
            reasons.append(f"n_critic={self.n_critic}: each train_step splits the batch into {parts} disjoint "
                           f"critic batches (pass reuse_real_batch=True to give every critic update the "
                           f"whole batch)")
        if self.packing > 1:
            reasons.append(f"the discriminator packs {self.packing} samples per input (layers.Pack)")
        if replicas > 1:
            reasons.append(f"{replicas} replicas share the batch")
        raise ValueError(f"the training batch of {batch} examples must be a multiple of {unit}: "
                         + "; ".join(reasons) + f". Batch the dataset with a multiple of {unit} "
                         f"(and drop_remainder=True)")

    def _check_images(self, images):
        expected = tuple(self.generator.outputs[0].shape)
        shape = tuple(images.shape)
        if len(shape) == len(expected) - 1 and all(a is None or b is None or a == b
                                                     for a, b in zip(shape, expected[1:])):
            raise ValueError(f"training elements have shape {shape}, one sample of the generator's "
                             f"{tuple(expected)}: the dataset is not batched; use dataset.batch(batch_size)")
        if not tf.as_dtype(images.dtype).is_floating:
            raise ValueError(f"training images must be floating point in [-1, 1], got dtype "
                             f"{tf.as_dtype(images.dtype).name}; for uint8 pixels use tf.cast(x, tf.float32) / 127.5 - 1")
        if len(shape) != len(expected) or any(
                a is not None and b is not None and a != b for a, b in zip(shape[1:], expected[1:])):
            raise ValueError(f"training batch has shape {tuple(shape)} but the generator produces "
                             f"{tuple(expected)}: the data must have the generator's sample shape")

    def _check_labels_present(self, labels):
        name = type(self).__name__
        if labels is None and self.conditional:
            raise ValueError(f"{name} is conditional: the training batches must be (images, labels) with integer "
                             f"class labels, e.g. tfgan_stable.data.load(..., with_labels=True)")
        if labels is not None and not self.conditional:
            raise ValueError(f"the training batches are (images, labels), but {name} is unconditional and does "
                             f"not use labels: give images only (tfgan_stable.data.load(..., with_labels=False), "
                             f"or dataset.map(lambda x, y: x)), or train a conditional family (ConditionalGAN, "
                             f"ACGAN)")

    def _unpack(self, data):
        if isinstance(data, (tuple, list)):
            if len(data) > 2:
                raise ValueError(f"a training batch is `images` or `(images, labels)`, got {len(data)} parts")
            images = data[0]
            labels = data[1] if len(data) == 2 else None
        else:
            images, labels = data, None
        images = tf.convert_to_tensor(images)
        self._check_images(images)
        self._check_labels_present(labels)
        if labels is not None:
            labels = self.prepare_labels(labels, images)
        # Samples are float32 in the step (interpolations, noise, augmentation, penalties); each net casts
        # its inputs to its own compute dtype.
        return tf.cast(images, _STEP_DTYPE), labels

    def _critic_batches(self, real, labels):
        """The (real, labels) of each critic update: the batch's k disjoint strided parts, or the batch k times.

        Part i holds examples i, i + k, i + 2k, ... of this replica's batch. With a per-replica batch that
        is a multiple of k, the parts over all replicas are the single device's parts, in the same order.
        """
        k = self.n_critic
        if k == 1 or self.reuse_real_batch:
            return [(real, labels)] * k
        tf.debugging.assert_equal(
            tf.shape(real)[0] % k, 0,
            message=f"n_critic={k}: a (per-replica) batch that is not a multiple of {k} cannot be split into "
                    f"{k} critic batches; batch the dataset with drop_remainder=True")

        def split(t):
            if t is None:
                return [None] * k
            t = tf.convert_to_tensor(t)
            dims = [d if d is not None else tf.shape(t)[i + 1] for i, d in enumerate(t.shape[1:])]
            parts = tf.reshape(t, [-1, k, *dims])
            return [parts[:, i] for i in range(k)]

        return list(zip(split(real), split(labels)))

    def _step_seed(self, stream, step):
        return sampling.fold_in(sampling.fold_in(self.seed, stream), step)

    def _noise(self, stream, step, real):
        """The step's noise source for `stream`; `.named(purpose)` gives each purpose its own draws."""
        static = real.shape[0]  # static when the dataset is batched with drop_remainder=True
        return StepNoise.for_replica(self._step_seed(stream, step), static if static is not None else tf.shape(real)[0])

    @staticmethod
    def _count(values, global_batch, local_batch):
        """How many values like `values` the global batch holds: global_batch · len(values) / local_batch.

        A packed discriminator (`layers.Pack`) gives one value per m samples, so its values count the
        global number of packs. A replica with an empty batch counts 1 (its sums are 0 anyway).
        """
        n = tf.shape(values)[0]
        return tf.maximum(global_batch * n // tf.maximum(local_batch, 1), 1)

    def _log_share(self, values, global_batch, local_batch):
        """This replica's share of a logged value: summed over the replicas it is the global-batch mean.

        Per-example values give sum / (global count); a scalar (the same on every replica) gives
        value / replicas. An empty replica contributes 0, never NaN.
        """
        values = tf.cast(values, tf.float32)
        if values.shape.rank == 0:
            return values / tf.distribute.get_replica_context().num_replicas_in_sync
        return tf.reduce_sum(values) / tf.cast(self._count(values, global_batch, local_batch), tf.float32)

    @staticmethod
    def _sum_over_replicas(shares):
        """Adds up the replicas' shares (one all-reduce), so every replica logs the global value."""
        ctx = tf.distribute.get_replica_context()
        if ctx is None or ctx.num_replicas_in_sync == 1:
            return shares
        return ctx.all_reduce(tf.distribute.ReduceOp.SUM, shares)

    @staticmethod
    def _with_total(logs):
        """Adds `loss` = d_loss + g_loss, for Keras callbacks that watch `loss` (TerminateOnNaN, EarlyStopping).

        No player minimises it; it is there so that a non-finite loss of either player shows in `loss`.
        """
        return {**logs, "loss": logs["d_loss"] + logs["g_loss"]}

    def _logged(self, values, global_batch, local_batch):
        return {name: self._log_share(v, global_batch, local_batch) for name, v in values.items()}

    def _reduce(self, player, per_example, terms, global_batch, local_batch, model):
        """Reduces one side's per-example loss and its techniques' terms once over the global batch.

        Per-example values are averaged over the global number of values (`_count`), scalar terms are
        scaled by `tf.nn.scale_regularization_loss`. Returns the loss to differentiate and this replica's
        shares of the logged values (d_loss or g_loss is the total loss).
        """
        name = "d_loss" if player == "discriminator" else "g_loss"
        per_example = tf.cast(per_example, _STEP_DTYPE)
        terms = [(t, None if term is None else tf.cast(term, _STEP_DTYPE)) for t, term in terms]

        def average(values):
            return tf.nn.compute_average_loss(values, global_batch_size=self._count(values, global_batch,
                                                                                    local_batch))

        loss = average(per_example)
        logged = {name: per_example}
        for technique, term in terms:
            if term is None:
                continue
            logged[technique.log_name(player)] = term
            loss += tf.nn.scale_regularization_loss(term) if term.shape.rank == 0 else average(term)
        if model.losses:
            loss += tf.nn.scale_regularization_loss(tf.add_n([tf.cast(l, _STEP_DTYPE) for l in model.losses]))
        shares = self._logged(logged, global_batch, local_batch)
        shares[name] = tf.add_n(list(shares.values()))
        return loss, shares

    def _draws(self, noise, real, player):
        """All randomness of one update, by purpose: z, the family's (D only), each technique's."""
        draws = {"z": self.sample_latent(noise.named("z"))}
        if player == "discriminator":
            draws["family"] = self.discriminator_noise(noise.named("family"), real)
        for t in self.techniques:
            draws[t.name] = t.draw(noise.named(t.name), real, player)
        return draws

    def _judge(self, ctx, real=True):
        """D on what it sees: the techniques' transforms of real and fake, then logits and features."""
        ctx.real_input, ctx.fake_input = ctx.real, ctx.fake
        for t in self.techniques:
            ctx.real_input = t.transform_discriminator_input(ctx.real_input, "real", ctx)
            ctx.fake_input = t.transform_discriminator_input(ctx.fake_input, "fake", ctx)
        lookahead = [f for f in (t.lookahead_discriminator(self, ctx) for t in self.techniques) if f is not None]
        ctx.fake_logits, ctx.fake_features = self._discriminate_features(ctx.fake_input, ctx.labels)
        if real:
            ctx.real_logits, ctx.real_features = self._discriminate_features(ctx.real_input, ctx.labels)
        if lookahead:  # the generator's loss against a look-ahead D (unrolled GANs)
            ctx.fake_logits = lookahead[-1](ctx.fake_input, ctx.labels)
            ctx.real_logits = lookahead[-1](ctx.real_input, ctx.labels) if real else None

    def _discriminate_features(self, samples, labels):
        if self._feature_model is None:
            return self.discriminate(samples, labels, training=True), {}
        outputs, *features = self._feature_model(self.discriminator_inputs(samples, labels), training=True)
        return (self.discriminator_scores(outputs, samples),
                {name: tf.cast(f, _STEP_DTYPE) for name, f in zip(self._feature_layers, features)})

    def _generate(self, z, labels):
        """G(z) (with a conditional G, G(z, labels)) in training mode, as float32 samples (G may compute in
        float16 or bfloat16). Fakes take the labels of the real examples of the same update."""
        return tf.cast(self.generator(self.generator_inputs(z, labels), training=True), _STEP_DTYPE)

    def _apply(self, optimizer, grads, variables):
        """`optimizer.apply_gradients`, with the replicas agreeing on a loss-scale skip.

        A `LossScaleOptimizer` skips an update whose gradients are not finite and halves its scale; under a
        strategy it decides from the first replica's (not yet all-reduced) gradients. So that every
        replica, and the single device with the same global batch, take the same decision, a non-finite
        gradient on any replica makes the gradients of all replicas non-finite (one scalar all-reduce).
        """
        ctx = tf.distribute.get_replica_context()
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer) and ctx is not None \
                and ctx.num_replicas_in_sync > 1:
            present = [g for g in grads if g is not None]
            finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in present])
            bad = ctx.all_reduce(tf.distribute.ReduceOp.SUM, 1.0 - tf.cast(finite, tf.float32))
            poison = tf.where(bad > 0, float("nan"), 0.0)
            grads = [None if g is None else g + tf.cast(poison, g.dtype) for g in grads]
        optimizer.apply_gradients(zip(grads, variables))

    def _context(self, player, step, real, labels, draws, global_batch):
        return UpdateContext(player, step, self.g_optimizer.iterations, real, labels, draws, global_batch,
                             tf.shape(real)[0])

    def _discriminator_gradients(self, real, labels, draws, global_batch, step):
        advance_power_iteration(self.discriminator)  # one power iteration per D update, before its loss
        ctx = self._context("discriminator", step, real, labels, draws, global_batch)
        ctx.fake = tf.stop_gradient(self._generate(ctx.z, ctx.labels))
        with tf.GradientTape() as tape:
            self._judge(ctx)
            per_example = self.discriminator_loss(ctx.real_logits, ctx.fake_logits, step, draws["family"])
            terms = [(t, t.discriminator_term(self, ctx)) for t in self.techniques]
            loss, logs = self._reduce("discriminator", per_example, terms, global_batch, ctx.local_batch,
                                      self.discriminator)
            loss = self.d_optimizer.scale_loss(loss)  # the loss scale (mixed precision), or the loss itself
        grads = tape.gradient(loss, self.discriminator.trainable_variables)
        logs.update(self._logged(self.discriminator_metrics(ctx.real_logits, ctx.fake_logits, step), global_batch,
                                 ctx.local_batch))
        return grads, logs, ctx.fake

    def _generator_gradients(self, real, labels, draws, global_batch, step):
        advance_power_iteration(self.generator)  # one power iteration per G update
        ctx = self._context("generator", step, real, labels, draws, global_batch)
        with tf.GradientTape() as tape:
            ctx.fake = self._generate(ctx.z, ctx.labels)
            self._judge(ctx, real=self.generator_uses_real or any(t.generator_reads_real for t in self.techniques))
            if any(t.replaces_generator_loss for t in self.techniques):
                per_example = tf.zeros_like(ctx.fake_logits)
            else:
                per_example = self.generator_loss(ctx.fake_logits, ctx.real_logits, step)
                for t in self.techniques:
                    per_example = t.reweight_generator_loss(per_example, ctx)
            terms = [(t, t.generator_term(self, ctx)) for t in self.techniques]
            loss, logs = self._reduce("generator", per_example, terms, global_batch, ctx.local_batch, self.generator)
            loss = self.g_optimizer.scale_loss(loss)  # the loss scale (mixed precision), or the loss itself
        return tape.gradient(loss, self.generator.trainable_variables), logs, ctx.fake

    def _update(self, player, real, labels):
        """One update of `player`: noise from its optimizer step, gradients, the optimizer step, then hooks."""
        discriminator = player == "discriminator"
        optimizer = self.d_optimizer if discriminator else self.g_optimizer
        model = self.discriminator if discriminator else self.generator
        step = tf.convert_to_tensor(optimizer.iterations)
        noise = self._noise(_STREAM_D if discriminator else _STREAM_G, step, real)
        draws = self._draws(noise, real, player)
        gradients = self._d_grads if discriminator else self._g_grads
        grads, logs, fake = gradients(real, labels, draws, noise.global_batch, step)
        self._apply(optimizer, grads, model.trainable_variables)
        if discriminator:
            self.after_discriminator_step()
        ctx = self._context(player, step, real, labels, draws, noise.global_batch)
        ctx.fake = fake
        for t in self.techniques:
            (t.after_discriminator_update if discriminator else t.after_generator_update)(self, ctx)
        return logs

    def train_step(self, data):
        """n_critic discriminator updates, each on its own part of the batch, then one generator update.

        The generator update draws as many z as one critic batch holds and sees the last critic batch's
        real data (relativistic losses). Logged discriminator values are means over the n_critic updates.
        """
        real, labels = self._unpack(data)
        # Keras' TF loop ends a dataset that runs out early (unknown length, or the rest of an epoch after
        # an exact resumption) with one more call whose get_next fails; the updates that do not read the
        # data, such as the optimizers' step counters, must not run in that call.
        with tf.control_dependencies([real]):
            return self._train_on(real, labels)

    def _train_on(self, real, labels):
        """The body of `train_step` on an unpacked batch (all of it depends on the batch being read)."""
        batches = self._critic_batches(real, labels)
        with step_driven_power_iteration(self.generator, self.discriminator):
            d_logs = [self._update("discriminator", *batch) for batch in batches]
            g_logs = self._update("generator", *batches[-1])
        logs = {name: tf.add_n([l[name] for l in d_logs]) / len(d_logs) for name in d_logs[0]}
        logs = self._with_total(self.after_train_step(self._sum_over_replicas({**logs, **g_logs})))
        for name, value in logs.items():
            self._trackers[name].update_state(value)
        return {name: m.result() for name, m in self._trackers.items()}

    def test_step(self, data):
        """Both players' family losses on a batch in inference mode, without updates (`evaluate`, validation).

        z comes from its own stream, so evaluating does not change the training noise. Technique terms
        (penalties) are training-time regularisers and are not part of the evaluated losses.
        """
        real, labels = self._unpack(data)
        step = tf.convert_to_tensor(self.g_optimizer.iterations)
        noise = self._noise(_STREAM_EVAL, step, real)
        fake = self.generator(self.generator_inputs(self.sample_latent(noise.named("z")), labels), training=False)
        real_logits = self.discriminate(real, labels, training=False)
        fake_logits = self.discriminate(fake, labels, training=False)
        family_noise = self.discriminator_noise(noise.named("family"), real)
        values = {"d_loss": self.discriminator_loss(real_logits, fake_logits, step, family_noise),
                  "g_loss": self.generator_loss(fake_logits, real_logits if self.generator_uses_real else None,
                                                step),
                  **self.discriminator_metrics(real_logits, fake_logits, step)}
        logs = self._with_total(self._sum_over_replicas(self._logged(values, noise.global_batch,
                                                                     tf.shape(real)[0])))
        for name, value in logs.items():
            self._trackers[name].update_state(value)
        return {name: self._trackers[name].result() for name in logs}

    # ------------------------------------------------------------------ sampling and export
    def generate(self, num=None, z=None, seed=0, truncation=None, batch_size=256, raw=False, labels=None,
                 keep=None):
        """Generates samples G(z) in inference mode, with the `sampler` (e.g. the EMA generator).

        A generator that takes labels (`ConditionalGAN`, `ACGAN`) needs `labels`, one class id per sample
        (checked by the family's `prepare_labels`); `num` may then be omitted (it is the number of labels).
        A generator without a label input refuses `labels`.

        Args:
          num: number of samples to draw (z ~ N(0, I) from `seed`); or give `z` instead.
          z: latent vectors [n, latent_dim].
          seed: integer seed for z; the same seed gives the same z as the exported `sample` signature.
          truncation: optional threshold of the truncation trick (see `sampling.latent_normal`).
          batch_size: samples per generator call.
          raw: use the trained `generator` even when a technique supplies an averaged one.
          labels: class ids [n] (or [n, 1]) for a generator that takes labels; sample i has class labels[i].
          keep: Jacobian-based truncation (Tanielian et al. 2020, "Learning disconnected manifolds: a no
            GAN's land"), a share in (0, 1]: ⌈num / keep⌉ latents are drawn from `seed` and the `num` whose
            samples move least with z (smallest ‖∂G(z)/∂z‖_F, `sampling.jacobian_norms`) are returned, in
            the order drawn. A continuous G that covers separated modes must stretch the thin regions of z
            between them; their samples, off the data, have the largest Jacobians. Needs `num`, not `z` or
            `labels`; costs latent_dim forward passes per sample. The exported signatures do not apply it.

        Returns:
          A tensor of samples.
        """
        if labels is not None and not self.generator_takes_labels:
            raise ValueError(f"`labels` were given, but the generator of {type(self).__name__} takes no labels")
        if labels is None and self.generator_takes_labels:
            raise ValueError(f"{type(self).__name__}'s generator takes labels: give `labels`, one class id per sample")
        if labels is not None and num is None and z is None:
            num = int(tf.convert_to_tensor(labels).shape[0])
        if (num is None) == (z is None):
            raise ValueError("give exactly one of `num` (number of samples) and `z` (latent vectors)")
        if keep is not None:
            if isinstance(keep, bool) or not isinstance(keep, (int, float)) or not 0 < keep <= 1:
                raise ValueError(f"`keep` must be a share in (0, 1], got {keep!r}")
            if num is None or labels is not None:
                raise ValueError("`keep` (Jacobian-based truncation) draws its own latents: give `num`, "
                                 "without `z` or `labels`")
            if keep == 1:  # every draw is kept: the plain sampler, without the Jacobians
                keep = None
        if z is None:
            if not isinstance(num, (int, np.integer)) or num <= 0:
                raise ValueError(f"`num` must be a positive integer, got {num!r}")
            draws = num if keep is None else int(np.ceil(num / keep))
            z = sampling.latent_normal(draws, self.latent_dim, seed, truncation)
        z = tf.convert_to_tensor(z, tf.float32)
        if z.shape.rank != 2 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"`z` must have shape [n, {self.latent_dim}] (latent_dim), got {tuple(z.shape)}")
        if labels is not None:
            labels = self.prepare_labels(labels, z)
        generator = self.generator if raw else self.sampler
        if keep is not None:
            def call(latents):
                return generator(self.generator_inputs(latents, None), training=False)

            parts = [sampling.jacobian_norms(call, z[i:i + batch_size]) for i in range(0, z.shape[0], batch_size)]
            samples, norms = (tf.concat(p, axis=0) for p in zip(*parts))
            chosen = np.sort(np.argsort(norms.numpy(), kind="stable")[:num])
            return tf.gather(samples, chosen)
        parts = [generator(self.generator_inputs(z[i:i + batch_size],
                                                 None if labels is None else labels[i:i + batch_size]),
                           training=False) for i in range(0, z.shape[0], batch_size)]
        return tf.concat(parts, axis=0)

    def export_generator(self, path, max_batch_size=None, raw=False):
        """Writes the `sampler` (or with `raw` the trained generator) as a SavedModel for TF Serving.

        See `tfgan_stable.export.export_generator`; `max_batch_size` caps the images per request.
        """
        from tfgan_stable import export
        return export.export_generator(self.generator if raw else self.sampler, path, latent_dim=self.latent_dim,
                                       max_batch_size=max_batch_size or export.DEFAULT_MAX_BATCH_SIZE)

    # ------------------------------------------------------------------ serialisation
    def get_config(self):
        """The constructor's arguments: both nets serialised, options, user techniques, name and dtype policy."""
        return {
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "latent_dim": self.latent_dim,
            "n_critic": self.n_critic,
            "techniques": [keras.saving.serialize_keras_object(t) for t in self.user_techniques],
            "seed": self.seed,
            "reuse_real_batch": self.reuse_real_batch,
            "name": self.name,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        config["techniques"] = [keras.saving.deserialize_keras_object(t) for t in config.get("techniques", [])]
        return cls(**config)
