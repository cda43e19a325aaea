"""Helpers for running the family-parametrized tests with the conditional families (ConditionalGAN, ACGAN):
toy nets made conditional without renaming their layers, labels, and the families' extra arguments."""
import keras
import numpy as np

import tfgan_stable as ts

NUM_CLASSES = 3


def is_conditional(family):
    """Whether the family (short name) trains on (images, labels)."""
    return ts.get_family(family).conditional


def family_kwargs(family):
    """The constructor arguments a family needs besides the nets and latent_dim."""
    return {"num_classes": NUM_CLASSES} if is_conditional(family) else {}


def labels_for(n, num_classes=NUM_CLASSES):
    """Balanced int32 labels 0, 1, ..., num_classes - 1, 0, 1, ... of length n."""
    return (np.arange(n) % num_classes).astype(np.int32)


def conditional_nets(family, g, d, num_classes=NUM_CLASSES):
    """(g, d) for `family`: unchanged for an unconditional family; otherwise copies of their layers (same
    configurations: names, sizes, activations, dtype policies; fresh weights) in functional models that take labels.

    G(z, y) = g(z + E_G[y]) with a learned label embedding E_G. ConditionalGAN: D(x, y) = d(x) + E_D[y] (a learned
    per-class offset of the logit). ACGAN: D(x) = [d(x), class logits] with a class head "class_logits" on the features of d's last layer.
    """
    if not is_conditional(family):
        return g, d
    z, y = keras.Input(g.inputs[0].shape[1:], name="z"), keras.Input((), dtype="int32", name="labels")
    h = keras.layers.Add(name="z_plus_label")([z, keras.layers.Embedding(num_classes, z.shape[-1])(y)])
    for layer in _copies(g):
        h = layer(h)
    generator = keras.Model([z, y], h)
    x = keras.Input(d.inputs[0].shape[1:], name="x")
    h = features = x
    for layer in _copies(d):
        features, h = h, layer(h)
    if family == "acgan":  # the class head on the features the logit reads, as `nets.add_head` builds it
        head = keras.layers.Dense(num_classes, dtype="float32", name="class_logits")(features)
        return generator, keras.Model(x, [h, head])
    offset = keras.layers.Embedding(num_classes, 1, dtype="float32")(y)
    return generator, keras.Model([x, y], keras.layers.Add(dtype="float32", name="logit_plus_label")([h, offset]))


def _copies(net):
    """Fresh layers with the configurations of `net`'s layers (a layer object belongs to one graph: reading the
    output of a shared layer by name would find its first graph's)."""
    return [type(layer).from_config(layer.get_config()) for layer in net.layers]
