"""Batches whose order is a function of the training step, so that an interrupted `fit` resumes exactly.

Keras' `BackupAndRestore(save_freq=N)` restores the weights, the optimizers (hence the step counters and
the GAN's noise) and the epoch number, but not the position inside the epoch: the resumed `fit` starts
the interrupted epoch again from its first batch, and a `tf.data` shuffle that reshuffles each epoch
starts again from its first order. The datasets made here fix the data side:

* the order of data epoch e is a stateless permutation keyed by (seed, e);
* where a pass starts is a `DataPosition`: the global index of the next batch. `GAN.fit` sets it to the
  generator's step counter when training begins (after `BackupAndRestore` has restored it), so the
  resumed run reads batch s mod S of data epoch s // S at step s (S batches per epoch), as the
  uninterrupted run does;
* every iteration of the dataset (one Keras epoch) ends at the end of the current data epoch, so the
  first epoch of a resumed run holds only the batches that were not trained on yet, and the later epochs
  are whole; the dataset's cardinality stays S, so Keras keeps counting whole epochs.
"""
import warnings

import keras
import numpy as np
import tensorflow as tf

_RAN_OUT = r"Your input ran out of data"


class DataPosition:
    """Where the next pass of a `resumable` dataset starts: a global batch index.

    Batch index s is batch s mod `batches_per_epoch` of data epoch s // `batches_per_epoch`. Each new
    iteration of the dataset claims the rest of the data epoch that holds the index and moves the index to
    the start of the next data epoch, so without `seek` successive iterations are successive epochs (as a
    reshuffling `tf.data` pipeline behaves). `GAN.fit` calls `seek(step)` with the generator's optimizer
    step when training begins, which ties the data order to the step counter that `BackupAndRestore`
    restores. The index lives in two CPU variables that the dataset's functions read and update.

    Args:
      batches_per_epoch: number of batches in one data epoch (positive int).
    """

    def __init__(self, batches_per_epoch):
        if isinstance(batches_per_epoch, bool) or not isinstance(batches_per_epoch, (int, np.integer)) \
                or batches_per_epoch <= 0:
            raise ValueError(f"`batches_per_epoch` must be a positive integer, got {batches_per_epoch!r}")
        self.batches_per_epoch = int(batches_per_epoch)
        with tf.init_scope(), tf.device("/cpu:0"):
            self._next = tf.Variable(0, dtype=tf.int64, trainable=False, name="next_batch")
            # True while a pass that started inside an epoch runs: the pass after it must end the iteration.
            self._partial = tf.Variable(False, trainable=False, name="partial_pass")

    @property
    def next_batch(self):
        """The global batch index the next iteration of the dataset starts at (an int)."""
        return int(self._next.numpy())

    def seek(self, step):
        """Makes the next iteration start at global batch `step` (e.g. the restored training step)."""
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
            raise ValueError(f"`step` must be a non-negative integer, got {step!r}")
        self._next.assign(int(step))
        self._partial.assign(False)

    def claim(self):
        """TF: the index a new pass starts at, or -1 for the empty pass that ends a partial epoch.

        A pass runs to the end of its data epoch. The dataset repeats passes and takes
        `batches_per_epoch` batches, so a pass that started at batch k > 0 of its epoch is followed, in the
        same iteration, by one more pass, which must be empty to end the iteration there.
        """
        start = self._next.read_value()
        partial = self._partial.read_value()
        with tf.control_dependencies([start, partial]):
            inside = start % self.batches_per_epoch > 0
            set_partial = self._partial.assign(tf.logical_and(tf.logical_not(partial), inside))
            next_epoch = (start // self.batches_per_epoch + 1) * self.batches_per_epoch
            set_next = self._next.assign(tf.where(partial, start, next_epoch))
        with tf.control_dependencies([set_partial, set_next]):
            return tf.where(partial, tf.constant(-1, tf.int64), tf.identity(start))


def _as_tensors(examples):
    """A nest of tensors with a common first dimension, or a finite dataset of single examples."""
    if isinstance(examples, tf.data.Dataset):
        n = int(examples.cardinality())
        if n < 0:
            raise ValueError("`examples` must be a finite tf.data.Dataset of known size (its cardinality is "
                             "unknown or infinite); e.g. use dataset.apply(tf.data.experimental."
                             "assert_cardinality(n)) or pass arrays")
        return examples, n
    try:
        tensors = tf.nest.map_structure(tf.convert_to_tensor, examples)
    except (TypeError, ValueError) as error:
        raise ValueError(f"`examples` must be arrays (or a tuple/dict of arrays) or a tf.data.Dataset, got "
                         f"{type(examples).__name__}") from error
    sizes = {int(t.shape[0]) if t.shape.rank else None for t in tf.nest.flatten(tensors)}
    if len(sizes) != 1 or None in sizes:
        raise ValueError(f"`examples` must be arrays with one common first (example) dimension, got sizes "
                         f"{sorted(s for s in sizes if s is not None)} and scalars={None in sizes}")
    return tensors, sizes.pop()


def resumable(examples, batch_size, seed=0, shuffle=True, drop_remainder=True, prepare=None):
    """A batched `tf.data.Dataset` whose order follows the training step, for exact resumption.

    Data epoch e is the examples in a stateless random order keyed by (`seed`, e) (the stored order
    without `shuffle`), cut into consecutive batches. Global batch s is batch s mod S of epoch s // S,
    S = the batches per epoch. One iteration of the dataset runs from its `DataPosition` to the end of
    that data epoch; `GAN.fit` moves the position to the generator's step when training begins. So a
    `fit` interrupted mid-epoch and resumed with `keras.callbacks.BackupAndRestore(save_freq=N)` reads,
    from the restored step on, exactly the batches the uninterrupted run reads (its first epoch is the
    rest of the interrupted one), and trains to the same weights bit for bit.

    The order does not depend on TF's global seed. The examples of one epoch are held in memory while
    it is read (the whole split, as a full shuffle buffer would; encoded records are small).

    Args:
      examples: arrays with a common first dimension (an array, or a tuple/dict of them), or a finite
        `tf.data.Dataset` of single examples of fixed shape (e.g. encoded TFDS records).
      batch_size: positive int.
      seed: int seed of the per-epoch orders.
      shuffle: shuffle each epoch; otherwise every epoch has the stored order.
      drop_remainder: drop the last partial batch of each epoch.
      prepare: optional function applied to each example after ordering (e.g. decoding and scaling),
        run in parallel.

    Returns:
      A `tf.data.Dataset` of batches, of cardinality S, with a `data_position` attribute (`DataPosition`).

    Example:
      ```python
      data = tfgan_stable.data.resumable(points, batch_size=64, seed=1)
      gan.fit(data, epochs=20, callbacks=[keras.callbacks.BackupAndRestore("backup/", save_freq=500)])
      ```
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"`seed` must be an integer, got {seed!r}")
    if prepare is not None and not callable(prepare):
        raise ValueError(f"`prepare` must be a function or None, got {prepare!r}")
    source, n = _as_tensors(examples)
    batch_size = int(batch_size)
    per_epoch = n // batch_size if drop_remainder else -(-n // batch_size)
    if per_epoch == 0:
        raise ValueError(f"`batch_size`={batch_size} is larger than the {n} examples and drop_remainder=True: "
                         f"an epoch would hold no batch")
    position = DataPosition(per_epoch)
    seed = tf.constant(int(seed), tf.int64)

    def select(indices):
        if isinstance(source, tf.data.Dataset):  # the whole split as one element, then the chosen rows
            read = tf.where(tf.size(indices) > 0, tf.constant(n, tf.int64), 0)  # nothing for an empty pass
            return source.take(read).batch(n).flat_map(lambda every: tf.data.Dataset.from_tensor_slices(
                tf.nest.map_structure(lambda t: tf.gather(t, indices), every)))
        return tf.data.Dataset.from_tensor_slices(tf.nest.map_structure(lambda t: tf.gather(t, indices), source))

    def one_pass(_):
        start = position.claim()
        epoch = tf.maximum(start, 0) // per_epoch
        skip = tf.where(start < 0, tf.constant(n, tf.int64), start % per_epoch * batch_size)
        order = tf.range(n, dtype=tf.int64)
        if shuffle:
            order = tf.random.experimental.stateless_shuffle(order, seed=tf.stack([seed, epoch]))
        ds = select(order[skip:])
        if prepare is not None:
            ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
        return ds.batch(batch_size, drop_remainder=drop_remainder)

    ds = tf.data.Dataset.range(1).flat_map(one_pass).repeat().take(per_epoch).prefetch(tf.data.AUTOTUNE)
    ds.data_position = position
    return ds


class FollowTrainingStep(keras.callbacks.Callback):
    """Aligns the data and the epoch counter with the restored step when training begins (`GAN.fit` adds it).

    It runs after the user's callbacks, so after `BackupAndRestore` has restored the weights, the
    optimizers and the epoch. With a `resumable` dataset it moves the data position to the generator's
    step s and, if a backup was restored, sets the epoch to s // S (a backup written at the last batch of
    an epoch records that epoch as unfinished). For other data a restore in the middle of an epoch
    cannot skip the trained batches; it warns.

    Args:
      position: the `DataPosition` of the training data, or None.
    """

    def __init__(self, position=None):
        super().__init__()
        self.position = position
        self._quiet = None

    def on_train_begin(self, logs=None):
        step = int(self.model.g_optimizer.iterations.numpy())
        restored = getattr(self.model, "_initial_epoch", None)
        if self.position is not None:
            self.position.seek(step)
            if restored is not None:
                self.model._initial_epoch = step // self.position.batches_per_epoch
            if step % self.position.batches_per_epoch:
                # The first epoch ends early by design; Keras would call that running out of data.
                warnings.filterwarnings("ignore", message=_RAN_OUT)
                self._quiet = warnings.filters[0]
        elif restored is not None and self.params.get("steps") and step != restored * self.params["steps"]:
            warnings.warn(f"a backup was restored at step {step}, inside epoch {restored}; this training data "
                          f"cannot skip the batches already trained on, so the epoch starts again from its "
                          f"first batch. Use tfgan_stable.data.load or tfgan_stable.data.resumable for an "
                          f"exact resumption.", stacklevel=2)

    def _stop_quiet(self):
        if self._quiet is not None:
            if self._quiet in warnings.filters:
                warnings.filters.remove(self._quiet)
                warnings._filters_mutated()
            self._quiet = None

    def on_epoch_end(self, epoch, logs=None):
        self._stop_quiet()

    def on_train_end(self, logs=None):
        self._stop_quiet()
