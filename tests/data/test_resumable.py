"""tfgan_stable.data.resumable: per-epoch orders keyed by (seed, epoch), and a position that a resumed fit sets."""
import numpy as np
import pytest
import tensorflow as tf

from tfgan_stable import data

X = np.arange(20, dtype=np.float32).reshape(20, 1)  # example i is the value i


def passes(ds, n):
    """The example values of n successive iterations (Keras epochs), one list of batches each."""
    return [[b[:, 0].tolist() for b in ds.as_numpy_iterator()] for _ in range(n)]


def test_each_iteration_is_one_epoch_in_an_order_keyed_by_seed_and_epoch():
    ds = data.resumable(X, batch_size=4, seed=3)
    assert int(ds.cardinality()) == 5 and ds.data_position.batches_per_epoch == 5
    epochs = passes(ds, 3)
    for epoch in epochs:  # every example once per epoch
        assert sorted(sum(epoch, [])) == list(range(20))
    assert epochs[0] != epochs[1] != epochs[2]
    tf.random.set_seed(123)  # TF's global seed plays no part
    assert passes(data.resumable(X, batch_size=4, seed=3), 3) == epochs
    assert passes(data.resumable(X, batch_size=4, seed=4), 1)[0] != epochs[0]
    assert passes(data.resumable(X, batch_size=4, shuffle=False), 2) == [[[4.0 * b + i for i in range(4)]
                                                                         for b in range(5)]] * 2


def test_seek_resumes_inside_an_epoch_and_then_reads_whole_epochs():
    epochs = passes(data.resumable(X, batch_size=4, seed=3), 3)
    ds = data.resumable(X, batch_size=4, seed=3)
    ds.data_position.seek(7)  # batch 2 of epoch 1
    resumed = passes(ds, 2)
    assert resumed == [epochs[1][2:], epochs[2]]
    assert ds.data_position.next_batch == 15
    ds.data_position.seek(10)  # an epoch boundary: a whole epoch
    assert passes(ds, 1) == [epochs[2]]


def test_tuples_keep_examples_together_and_prepare_runs_per_example():
    labels = np.arange(20, dtype=np.int32) * 10
    ds = data.resumable((X, labels), batch_size=5, seed=1, prepare=lambda x, y: (2.0 * x, y + 1))
    for x, y in ds.as_numpy_iterator():
        np.testing.assert_array_equal(y, x[:, 0] / 2 * 10 + 1)


def test_a_dataset_source_and_a_partial_last_batch():
    source = tf.data.Dataset.from_tensor_slices(X)
    ds = data.resumable(source, batch_size=8, seed=2, drop_remainder=False)
    assert int(ds.cardinality()) == 3
    sizes = [[len(b) for b in epoch] for epoch in passes(ds, 2)]
    assert sizes == [[8, 8, 4], [8, 8, 4]]
    same = data.resumable(X, batch_size=8, seed=2, drop_remainder=False)
    assert passes(same, 2) == passes(data.resumable(source, batch_size=8, seed=2, drop_remainder=False), 2)


@pytest.mark.parametrize("kwargs, message", [
    (dict(examples=X, batch_size=0), "`batch_size` must be a positive integer"),
    (dict(examples=X, batch_size=4, seed=1.5), "`seed` must be an integer"),
    (dict(examples=X, batch_size=32), "`batch_size`=32 is larger than the 20 examples"),
    (dict(examples=(X, np.zeros(3)), batch_size=4), "one common first"),
    (dict(examples=tf.data.Dataset.range(5).repeat(), batch_size=4), "finite tf.data.Dataset of known size"),
    (dict(examples=X, batch_size=4, prepare="decode"), "`prepare` must be a function"),
])
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.resumable(**kwargs)


def test_seek_needs_a_non_negative_step():
    with pytest.raises(ValueError, match="`step` must be a non-negative integer"):
        data.resumable(X, batch_size=4).data_position.seek(-1)
    with pytest.raises(ValueError, match="`batches_per_epoch` must be a positive integer"):
        data.DataPosition(0)
