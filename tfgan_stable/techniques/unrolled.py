"""Unrolled GANs: the generator's loss is taken against the discriminator after k look-ahead updates."""
import keras
import numpy as np
import tensorflow as tf

from tfgan_stable.techniques.base import Technique


def _sqrt(v):
    """√v for v ≥ 0 whose derivative at v = 0 is 0 instead of ∞.

    Adam's second moment v is exactly 0 for a weight whose gradient has been 0 on every step so far (a
    maxout piece never selected, a dead ReLU unit). Differentiating the look-ahead through √v there gives
    ∞ · 0 = NaN in G's gradient. On the first step v = (1 − β₂) g², so √v = √(1 − β₂) · |g|: a kink at
    g = 0 like |x|, where TensorFlow's gradient of tf.abs is sign(0) = 0. Taking 0 here is the same
    subgradient choice. The value is √v unchanged.
    """
    positive = v > 0
    return tf.where(positive, tf.sqrt(tf.where(positive, v, tf.ones_like(v))), tf.zeros_like(v))


class _FunctionalRule:
    """The update rule of a Keras optimizer on tensors: (weights, grads, slots, iteration) -> new ones.

    Keras' `Optimizer.stateless_apply` is not available with the TensorFlow backend, so the rules of the
    optimizers GANs use are restated here, operation for operation as in Keras 3 (`update_step` of
    `keras.optimizers.SGD`, `Adam`, `RMSprop`), together with the generic parts of `Optimizer.apply`:
    gradient clipping (`clipnorm`, `global_clipnorm`, `clipvalue`), decoupled weight decay, learning-rate
    schedules evaluated at each look-ahead iteration, and variable constraints.
    """

    def __init__(self, optimizer, variables):
        self.opt, self.variables = optimizer, list(variables)
        kind = type(optimizer)
        if kind not in (keras.optimizers.SGD, keras.optimizers.Adam, keras.optimizers.RMSprop):
            raise ValueError(f"Unrolled: `d_optimizer` must be keras.optimizers.SGD, Adam or RMSprop (their "
                             f"update rules are applied functionally in the look-ahead), got {kind.__name__}")
        if optimizer.gradient_accumulation_steps:
            raise ValueError("Unrolled: `d_optimizer` with gradient_accumulation_steps is not supported")
        if kind is keras.optimizers.Adam and optimizer.amsgrad:
            raise ValueError("Unrolled: `d_optimizer` Adam(amsgrad=True) is not supported")
        self.kind = kind

    def _slot(self, slots, variable):
        return [tf.convert_to_tensor(s[self.opt._get_variable_index(variable)]) for s in slots]

    def initial_state(self):
        """The optimizer's current slot values, one tuple per variable (copied: the real ones stay)."""
        opt = self.opt
        if self.kind is keras.optimizers.SGD:
            slots = [opt.momentums] if opt.momentum != 0 else []
        elif self.kind is keras.optimizers.Adam:
            slots = [opt._momentums, opt._velocities]
        else:
            slots = [opt._velocities] + ([opt._momentums] if opt.momentum > 0 else []) + (
                [opt._average_gradients] if opt.centered else [])
        return [self._slot(slots, v) for v in self.variables]

    def learning_rate(self, iteration):
        schedule = self.opt._learning_rate
        if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
            return schedule(iteration)
        return self.opt._get_current_learning_rate()

    def apply(self, weights, grads, state, iteration):
        """One update from optimizer iteration `iteration` (int tensor); returns (weights, state)."""
        opt = self.opt
        grads = opt._clip_gradients(list(grads))
        lr_value = self.learning_rate(iteration)
        new_weights, new_state = [], []
        for variable, w, g, s in zip(self.variables, weights, grads, state):
            lr = tf.cast(lr_value, w.dtype)
            g = tf.cast(g, w.dtype)
            if opt.weight_decay is not None and opt._use_weight_decay(variable):
                w = w - w * tf.cast(opt.weight_decay, w.dtype) * lr
            w, s = getattr(self, "_" + self.kind.__name__.lower())(w, g, list(s), lr, iteration)
            if variable.constraint is not None:
                w = variable.constraint(w)
            new_weights.append(w)
            new_state.append(s)
        return new_weights, new_state

    def _sgd(self, w, g, s, lr, iteration):
        opt = self.opt
        if opt.momentum == 0:
            return w - g * lr, s
        momentum = tf.cast(opt.momentum, w.dtype)
        m = s[0] * momentum - g * lr
        w = w + (m * momentum - g * lr if opt.nesterov else m)
        return w, [m]

    def _adam(self, w, g, s, lr, iteration):
        opt = self.opt
        m, v = s
        step = tf.cast(iteration + 1, w.dtype)
        beta_1, beta_2 = tf.cast(opt.beta_1, w.dtype), tf.cast(opt.beta_2, w.dtype)
        alpha = lr * tf.sqrt(1 - tf.pow(beta_2, step)) / (1 - tf.pow(beta_1, step))
        m = m + (g - m) * (1 - beta_1)
        v = v + (tf.square(g) - v) * (1 - beta_2)
        return w - (m * alpha) / (_sqrt(v) + opt.epsilon), [m, v]

    def _rmsprop(self, w, g, s, lr, iteration):
        opt = self.opt
        rho = opt.rho
        velocity = rho * s[0] + (1 - rho) * tf.square(g)
        new = [velocity]
        momentum = s[1] if opt.momentum > 0 else None
        if opt.centered:
            average = rho * s[-1] + (1 - rho) * g
            denominator = velocity - tf.square(average) + opt.epsilon
        else:
            denominator = velocity + opt.epsilon
        increment = lr * g / tf.sqrt(denominator)
        if momentum is not None:
            momentum = opt.momentum * momentum + increment
            w = w - momentum
            new.append(momentum)
        else:
            w = w - increment
        if opt.centered:
            new.append(average)
        return w, new


@keras.saving.register_keras_serializable(package="tfgan_stable")
class Unrolled(Technique):
    """Unrolled GAN (Metz et al. 2017, "Unrolled generative adversarial networks").

    The generator minimises its loss against the discriminator that k more updates would produce:
    with θ_D⁰ = D's current weights and

        θ_D^{i+1} = U(θ_D^i, ∇_θ L_D(θ_D^i; x, G(z))),   i = 0 … k − 1,

    where U is the D optimizer's own update rule (with copies of its current slots: momenta, Adam
    moments, the step count for bias correction and schedules) and L_D the family's discriminator loss,
    G minimises L_G(G(z); D_{θ_D^k}). The look-ahead is computed functionally
    (`discriminator.stateless_call`): D's weights and optimizer state are untouched, and D's own update
    is the ordinary one.

    Gradient: with `backprop_through_unroll=True` (the paper's choice and the default) G's gradient
    includes the path through the look-ahead, dL_G/dθ_G = ∂L_G/∂θ_G + ∂L_G/∂θ_D^k · dθ_D^k/dθ_G, which
    needs second derivatives of D's loss (k + 1 D forward-backward passes and their differentiation per G
    update). With False, θ_D^k is a constant and G simply trains against the look-ahead D (cheaper; the
    paper's ablation shows it helps less).

    What the look-ahead updates see: the generator update's real batch and its fakes, after the input
    transforms of the other techniques (`ctx.real_input`, `ctx.fake_input`), the same data in every
    look-ahead step (Metz et al.'s code also unrolls on fixed batches). Their loss is the family's
    `discriminator_loss` with `noise=None`, i.e. without the family's random label tricks (for the
    cross-entropy families: targets `real_label` and 0, no soft ranges or flips; a look-ahead is meant to
    anticipate D's systematic response, not one noisy draw), plus D's regularisation losses. The other
    techniques' discriminator terms (e.g. WGAN-GP's penalty, which would need third derivatives) and
    post-update hooks (WGAN's weight clipping) are left out. Each step's gradient is that of the
    global-batch mean loss (summed over the replicas with an all-reduce, whose gradient is again an
    all-reduce), so one device and N replicas compute the same look-ahead and the same G update.

    Supported D optimizers: `keras.optimizers.SGD`, `Adam`, `RMSprop` (Keras' `stateless_apply` is not
    available with TensorFlow, so their rules are restated in `_FunctionalRule`; tested against Keras),
    also inside a `keras.optimizers.LossScaleOptimizer` (mixed precision): the look-ahead's D loss is then
    scaled by D's current loss scale, and its gradients divided by it, as in D's own update.
    Under a multi-replica strategy the all-reduce cannot run inside the XLA-compiled loss function:
    use `jit_compile=False` there.

    Args:
      steps: k, the number of look-ahead D updates (the paper uses 1 to 10; 5 is typical).
      backprop_through_unroll: differentiate G's loss through the look-ahead updates.

    Example:
      ```python
      gan = tfgan_stable.NonSaturatingGAN(g, d, latent_dim=64, techniques=[Unrolled(steps=5)])
      ```
    """

    default_name = "unrolled"
    #: The look-ahead all-reduces D's gradients inside G's loss: no XLA under a multi-replica strategy.
    needs_cross_replica_gradients = True

    def __init__(self, steps=5, backprop_through_unroll=True, **kwargs):
        super().__init__(**kwargs)
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
            raise ValueError(f"`steps` must be a positive integer, got {steps!r}")
        if not isinstance(backprop_through_unroll, bool):
            raise ValueError(f"`backprop_through_unroll` must be True or False, got {backprop_through_unroll!r}")
        self.steps = int(steps)
        self.backprop_through_unroll = backprop_through_unroll

    @staticmethod
    def _call(gan, weights, non_trainable, samples, labels):
        discriminator = gan.discriminator
        inputs = [samples, labels] if len(discriminator.inputs) > 1 and labels is not None else samples
        outputs, _, losses = discriminator.stateless_call(weights, non_trainable, inputs, training=True,
                                                          return_losses=True)
        # The family's scores from D's outputs (a D with a second head, ACGAN/InfoGAN, returns a list), in
        # float32 whatever D computes in (mixed precision), as in `GAN.discriminate`.
        return gan.discriminator_scores(outputs, samples), [tf.cast(l, tf.float32) for l in losses]

    def unrolled_weights(self, gan, real, fake, labels=None, global_batch=None, local_batch=None):
        """D's trainable weights after `steps` look-ahead updates on (real, fake), as tensors.

        `global_batch` / `local_batch`: examples in the global and in this replica's batch (default:
        the batch of `real`, one replica).
        """
        replica = tf.distribute.get_replica_context()
        replicas = 1 if replica is None else replica.num_replicas_in_sync
        if replicas > 1 and getattr(gan, "jit", False):
            raise ValueError("Unrolled under a multi-replica strategy needs `jit_compile=False`: its look-ahead "
                             "sums D's gradients over the replicas, which cannot run inside the XLA-compiled "
                             "loss function")
        discriminator, optimizer = gan.discriminator, gan.d_optimizer
        # D's own loss scale (mixed precision: float16 backpropagation through D), 1 without one; the rule
        # is that of the optimizer a LossScaleOptimizer wraps.
        scale = tf.cast(optimizer.scale_loss(tf.constant(1.0)), tf.float32)
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            optimizer = optimizer.inner_optimizer
        rule = _FunctionalRule(optimizer, discriminator.trainable_variables)
        local_batch = tf.shape(real)[0] if local_batch is None else local_batch
        global_batch = local_batch if global_batch is None else global_batch
        if not self.backprop_through_unroll:
            fake = tf.stop_gradient(fake)
        weights = [tf.convert_to_tensor(v) for v in discriminator.trainable_variables]
        non_trainable = [tf.convert_to_tensor(v) for v in discriminator.non_trainable_variables]
        state = rule.initial_state()
        iteration = tf.convert_to_tensor(optimizer.iterations)
        for i in range(self.steps):
            with tf.GradientTape() as tape:
                tape.watch(weights)
                real_logits, losses = self._call(gan, weights, non_trainable, real, labels)
                fake_logits, _ = self._call(gan, weights, non_trainable, fake, labels)
                per_example = gan.discriminator_loss(real_logits, fake_logits, iteration + i, None)
                count = tf.maximum(global_batch * tf.shape(per_example)[0] // tf.maximum(local_batch, 1), 1)
                loss = tf.reduce_sum(per_example) / tf.cast(count, per_example.dtype)
                if losses:
                    loss += tf.add_n(losses) / replicas
                scaled = loss * scale
            grads = tape.gradient(scaled, weights)
            grads = [tf.zeros_like(w) if g is None else g / tf.cast(scale, g.dtype) for w, g in zip(weights, grads)]
            if replicas > 1:
                grads = replica.all_reduce(tf.distribute.ReduceOp.SUM, grads)
            weights, state = rule.apply(weights, grads, state, iteration + i)
        if not self.backprop_through_unroll:
            weights = [tf.stop_gradient(w) for w in weights]
        return weights

    def lookahead_discriminator(self, gan, ctx):
        if ctx.player != "generator":
            return None
        weights = self.unrolled_weights(gan, ctx.real_input, ctx.fake_input, ctx.labels, ctx.global_batch,
                                        ctx.local_batch)
        non_trainable = [tf.convert_to_tensor(v) for v in gan.discriminator.non_trainable_variables]

        def discriminate(samples, labels=None):
            return self._call(gan, weights, non_trainable, samples, labels)[0]

        return discriminate

    def get_config(self):
        return {**super().get_config(), "steps": self.steps,
                "backprop_through_unroll": self.backprop_through_unroll}
