"""Helpers that make per-step state and randomness identical on one device and on N replicas."""
import zlib

import keras
import tensorflow as tf

from tfgan_stable import sampling


def update_variables(variables, update_fn, *values):
    """Assigns `update_fn(v, *values_i)` to every variable v = variables[i], the same way on every replica.

    Runs the assignment in cross-replica context (`merge_call` + `extended.update`), the way optimizers
    apply gradients, so it is legal for mirrored variables and identical on all devices (as long as the
    values are). Call it from the replica function of a train step (not inside a nested `tf.function`)
    or outside any strategy.

    Args:
      variables: Keras or TF variables.
      update_fn: maps the per-device `tf.Variable` (and its values) to its new value.
      *values: optional lists aligned with `variables` (tensors or variables, e.g. a model's weights).
    """
    def unwrap(v):
        return v.value if isinstance(v, keras.Variable) else v

    variables = [unwrap(v) for v in variables]
    if not variables:
        return
    values = [[unwrap(v) for v in column] for column in values]

    def merge_fn(strategy, tf_variables, *columns):
        for i, var in enumerate(tf_variables):
            strategy.extended.update(var, lambda v, *a: v.assign(update_fn(v, *a)),
                                     args=tuple(column[i] for column in columns), group=False)

    tf.__internal__.distribute.interim.maybe_merge_call(merge_fn, tf.distribute.get_strategy(), variables, *values)


class StepNoise:
    """Randomness for one step that does not depend on how the global batch is split over replicas.

    Each draw gives this replica's rows of what one stateless draw for the whole global batch would hold
    (`sampling.uniform_rows`: only these rows are computed), so one device and N replicas see the same
    numbers for the same example, and no replica does another's work.
    `named(purpose)` gives the source of one purpose (z, a family's labels, a technique): its seed is the
    step's seed folded with the purpose's name, so what one purpose draws does not depend on what or in
    which order the others draw.

    Args:
      seed: shape-[2] stateless seed for this step and purpose.
      local_batch: this replica's batch size (scalar int32 tensor).
      global_batch: the sum of all replicas' batch sizes.
      offset: index of this replica's first example in the global batch.
    """

    def __init__(self, seed, local_batch, global_batch, offset):
        self.seed = sampling.as_seed(seed)
        self.local_batch = local_batch
        self.global_batch = global_batch
        self.offset = offset
        self._draws = 0

    @classmethod
    def for_replica(cls, seed, local_batch):
        """Builds the noise source of this replica from its batch size.

        A static (Python int) batch size means every replica holds that many examples (a dataset batched
        with `drop_remainder=True` and a global batch divisible by the replicas): this replica's rows are
        then rid·b … rid·b + b − 1 of a global batch of N·b, known without any collective, and every draw
        has a static shape, as a TPU compilation needs. A dynamic size (uneven or final partial batches)
        all-gathers the replicas' sizes instead.
        """
        ctx = tf.distribute.get_replica_context()
        replicas = 1 if ctx is None else ctx.num_replicas_in_sync
        if isinstance(local_batch, int):
            rid = 0 if replicas == 1 else tf.cast(ctx.replica_id_in_sync_group, tf.int32)
            return cls(seed, local_batch, replicas * local_batch, rid * local_batch)
        local_batch = tf.cast(local_batch, tf.int32)
        if replicas == 1:
            return cls(seed, local_batch, local_batch, tf.constant(0, tf.int32))
        sizes = ctx.all_gather(tf.reshape(local_batch, [1]), axis=0)
        rid = tf.cast(ctx.replica_id_in_sync_group, tf.int32)
        offset = tf.reduce_sum(sizes[:rid])
        return cls(seed, local_batch, tf.reduce_sum(sizes), offset)

    def named(self, purpose):
        """The noise source of one purpose (a string): same batch layout, a seed of its own."""
        key = zlib.crc32(purpose.encode("utf-8")) & 0x7FFFFFFF
        return StepNoise(sampling.fold_in(self.seed, key), self.local_batch, self.global_batch, self.offset)

    def _next_seed(self):
        self._draws += 1
        return sampling.fold_in(self.seed, self._draws)

    def _uniform(self, shape):
        return sampling.uniform_rows(self.local_batch, shape, self.offset, self._next_seed())

    def normal(self, shape=()):
        """Standard-normal values of shape [local_batch, *shape]."""
        return tf.math.ndtri(self._uniform(shape))

    def uniform(self, shape=()):
        """U[0, 1) values of shape [local_batch, *shape]."""
        return self._uniform(shape)

    def latent(self, latent_dim):
        """z ~ N(0, I) of shape [local_batch, latent_dim]: the rows `GAN.generate` would draw for this seed."""
        return sampling.truncated_normal_from_uniform(self._uniform([latent_dim]))



def global_mean(values, axis=None):
    """Mean of this replica's `values` [local_batch, ...] taken over the GLOBAL batch; differentiable.

    `axis=None` averages every element (a scalar); `axis=0` averages over the examples (shape
    values.shape[1:], e.g. a per-feature mean). Under a multi-replica strategy the sums and counts are
    all-reduced; the gradient of an all-reduce is the all-reduce of the gradient, so inside a loss the
    summed replica gradients equal the single-device gradient (such a loss cannot be XLA-compiled per
    replica: see `needs_cross_replica_gradients` of `GAN` and `Technique`).
    """
    values = tf.convert_to_tensor(values)
    if axis is None:
        total, count = tf.reduce_sum(values), tf.size(values)
    elif axis == 0:
        total, count = tf.reduce_sum(values, axis=0), tf.shape(values)[0]
    else:
        raise ValueError(f"`axis` must be None (all elements) or 0 (over the examples), got {axis!r}")
    count = tf.cast(count, values.dtype)
    ctx = tf.distribute.get_replica_context()
    if ctx is not None and ctx.num_replicas_in_sync > 1:
        total, count = ctx.all_reduce(tf.distribute.ReduceOp.SUM, [total, count])
    return total / count


def is_multi_worker(strategy):
    """Whether `strategy` synchronises replicas in several worker processes (`MultiWorkerMirroredStrategy`
    with a cluster of two or more workers in `TF_CONFIG`): more replicas in sync than this worker's devices."""
    return (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
            and strategy.num_replicas_in_sync > len(strategy.extended.worker_devices))


def synced_step_function(strategy, step_fn, steps_per_execution=1, run_eagerly=False):
    """A Keras train or test function for a step whose outputs are already the same on every replica.

    Keras 3's `fit` and `evaluate` run `strategy.run(step)` and then reduce each output over the replicas;
    under a multi-worker `MultiWorkerMirroredStrategy` that reduction is `strategy.reduce("MEAN", v, axis=0)`,
    which fails for the scalar logs of every model ("Invalid reduction dimension 0 for input with 0
    dimensions"). A GAN's step logs global values (summed over the replicas inside the step), so no
    reduction is needed: this function returns this worker's first replica's outputs. Like Keras' own, it
    runs `steps_per_execution` steps per call and lets the iterator's `OutOfRangeError` end the epoch.

    Args:
      strategy: the `tf.distribute.Strategy` the model was built under.
      step_fn: the model's `train_step` or `test_step` (one batch -> dict of scalar logs).
      steps_per_execution: steps per call (`compile(steps_per_execution=...)`).
      run_eagerly: run without `tf.function` (`compile(run_eagerly=True)`).

    Returns:
      A function of a (distributed) iterator, or of a Python iterable of batches (`train_on_batch`), that
      returns the logs of the last step it ran.
    """
    steps_per_execution = int(steps_per_execution)
    if steps_per_execution < 1:
        raise ValueError(f"`steps_per_execution` must be a positive integer, got {steps_per_execution}")

    def one_step(data):
        outputs = strategy.run(step_fn, args=(data,))
        return tf.nest.map_structure(lambda v: strategy.experimental_local_results(v)[0], outputs)

    def steps(iterator):
        outputs = one_step(iterator.get_next())  # an exhausted iterator raises OutOfRangeError: the epoch ends
        if steps_per_execution == 1:
            return outputs

        def body(i, outputs, exhausted):
            # All workers agree on has_value (the distributed iterator syncs it), so none waits in a collective.
            optional = iterator.get_next_as_optional()
            outputs = tf.cond(optional.has_value(), lambda: one_step(optional.get_value()), lambda: outputs)
            return i + 1, outputs, tf.logical_not(optional.has_value())

        _, outputs, _ = tf.while_loop(lambda i, _, exhausted: tf.logical_and(i < steps_per_execution,
                                                                            tf.logical_not(exhausted)),
                                      body, (tf.constant(1), outputs, tf.constant(False)))
        return outputs

    # Traced as written, like Keras' own step functions (no AutoGraph rewriting). `steps` traces the step
    # itself rather than calling a nested tf.function of it: one traced step called both before and inside
    # the while loop failed under MirroredStrategy with an unfed int32 placeholder.
    run_steps = steps if run_eagerly else tf.function(steps, reduce_retracing=True, autograph=False)
    run_one = one_step if run_eagerly else tf.function(one_step, reduce_retracing=True, autograph=False)

    def function(iterator):
        if isinstance(iterator, (tf.data.Iterator, tf.distribute.DistributedIterator)):
            return run_steps(iterator)
        outputs = None
        for _, data in zip(range(steps_per_execution), iterator):  # train_on_batch: a generator of batches
            outputs = run_one(data)
        return outputs

    return function
