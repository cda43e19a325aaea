"""Class-conditional GAN families: the conditional GAN and the auxiliary-classifier GAN.

Both train on batches (images, labels) with integer class labels. In every update the fakes take the labels
of the real examples of the same update: G(z_i, y_i) is paired with the real example (x_i, y_i), so the
classes of the fakes are distributed as the data's, and a penalty that interpolates between real and fake
examples (WGAN-GP, DRAGAN) mixes two examples of the same class.
"""
import keras
import numpy as np
import tensorflow as tf

from tfgan_stable.layers.packing import packing_degree
from tfgan_stable.models.cross_entropy import NonSaturatingGAN
from tfgan_stable.techniques.auxiliary import AuxiliaryClassifier


def check_num_classes(num_classes):
    """`num_classes` as an int, or a ValueError if it is not an integer >= 1."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"`num_classes` must be a positive integer (the number of classes), got {num_classes!r}")
    return int(num_classes)


def check_labels(labels, count, num_classes):
    """Integer class labels of shape [n] or [n, 1] as int32 [n]; a ValueError for anything else.

    Checks the dtype (integer) and rank statically; the values (in [0, num_classes)) and the count (n equal to
    `count`'s first dimension) eagerly with a ValueError, or in a graph with `tf.debugging` assertions (an
    InvalidArgumentError when the step runs; a step compiled whole with XLA, `compile(jit_compile=True)` on one
    device, drops these assertions, so there only the first batch is checked).

    Args:
      labels: the labels (tensor or array).
      count: a tensor whose first dimension is the expected number of labels (the images, or z).
      num_classes: the number of classes.
    """
    labels = tf.convert_to_tensor(labels)
    if not labels.dtype.is_integer:
        raise ValueError(f"`labels` must be integer class ids in [0, {num_classes}), got dtype {labels.dtype.name}; "
                         f"convert float labels with tf.cast(labels, tf.int32) only if they hold whole numbers")
    rank = labels.shape.rank
    if rank not in (1, 2) or (rank == 2 and labels.shape[1] not in (None, 1)):
        raise ValueError(f"`labels` must have shape [batch] or [batch, 1] (one class id per example), got "
                         f"{tuple(labels.shape)}")
    labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
    n, expected = labels.shape[0], tf.convert_to_tensor(count).shape[0]
    if n is not None and expected is not None and n != expected:
        raise ValueError(f"`labels` has {n} entries for {expected} examples (images or latent vectors): give one "
                         f"label per example")
    if tf.executing_eagerly():
        values = labels.numpy()
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f"`labels` must be class ids in [0, {num_classes}) (num_classes={num_classes}), got "
                             f"values in [{values.min()}, {values.max()}]")
        return labels
    checks = [
        tf.debugging.assert_greater_equal(labels, 0, message=f"`labels` must be class ids in [0, {num_classes})"),
        tf.debugging.assert_less(labels, num_classes, message=f"`labels` must be class ids in [0, {num_classes})"),
        tf.debugging.assert_equal(tf.shape(labels)[0], tf.shape(count)[0],
                                  message="`labels` must hold one label per example"),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(labels)


def _check_label_input(net, name):
    """A net's second input must take class ids, shape (None,) or (None, 1)."""
    shape = tuple(net.inputs[1].shape)
    if len(shape) not in (1, 2) or (len(shape) == 2 and shape[1] != 1):
        raise ValueError(f"the {name}'s second input (the labels) must have shape (None,) or (None, 1), one class id "
                         f"per example, e.g. keras.Input((), dtype='int32', name='labels'); got {shape}")


def _check_inputs(net, name, count, what):
    if isinstance(net, keras.Model) and net.inputs is not None and len(net.inputs) != count:
        raise ValueError(f"the {name} must take {count} input{'s' if count > 1 else ''} ({what}), it takes "
                         f"{len(net.inputs)}")


def _refuse_packing(discriminator, family):
    if isinstance(discriminator, keras.Model) and discriminator.inputs and packing_degree(discriminator) > 1:
        raise ValueError(f"{family} does not support a packed discriminator (layers.Pack, PacGAN): a pack of m "
                         f"samples would need one condition for m examples of different classes. Build the "
                         f"discriminator with packing=1")


class _Conditional:
    """What both conditional families share: the number of classes, label checks, labels shaped for each net."""

    conditional = True

    def prepare_labels(self, labels, images):
        """Checks a batch's labels (integer class ids in [0, num_classes), one per image; see `check_labels`)
        and returns them as int32 [batch]."""
        return check_labels(labels, images, self.num_classes)

    def _for_net(self, net, labels):
        return labels[:, None] if labels is not None and len(net.inputs[1].shape) == 2 else labels

    def generator_inputs(self, z, labels):
        return [z, self._for_net(self.generator, labels)]

    def discriminator_inputs(self, samples, labels):
        if not self.discriminator_takes_labels:
            return samples
        return [samples, self._for_net(self.discriminator, labels)]


@keras.saving.register_keras_serializable(package="tfgan_stable")
class ConditionalGAN(_Conditional, NonSaturatingGAN):
    """Conditional GAN (Mirza & Osindero 2014, "Conditional generative adversarial nets").

    Both players see the class y: the generator maps (z, y) to a sample and the discriminator scores a pair
    (x, y), min_G max_D E log D(x, y) + E log(1 − D(G(z, y), y)). Trained with the non-saturating losses of
    `NonSaturatingGAN`: L_D = −log D(x, y) − log(1 − D(G(z, y), y)), L_G = −log D(G(z, y), y), so label
    smoothing, soft and flipped targets (`real_label`, ...) apply as there. How the nets take y is theirs
    (see `nets.conditional_dcgan_discriminator`: label channels or a projection discriminator).

    Training batches are (images, labels), labels integer class ids in [0, num_classes) of shape [batch] or
    [batch, 1]. The fakes of an update take the labels of that update's real examples, so the fake class
    distribution is the data's. Checked: eagerly on the first batch of `fit` (ValueError), and in every
    step with `tf.debugging` assertions. A packed discriminator (`layers.Pack`) is refused.

    Args:
      generator: a built `keras.Model` with inputs [z [batch, latent_dim], labels [batch] or [batch, 1]].
      discriminator: a built `keras.Model` with inputs [samples, labels], returning logits [batch] or
        [batch, 1].
      latent_dim: size of z.
      num_classes: number of classes (positive int).
      **kwargs: see `NonSaturatingGAN` and `tfgan_stable.GAN`.
    """

    def __init__(self, generator, discriminator, latent_dim, num_classes, **kwargs):
        self.num_classes = check_num_classes(num_classes)
        _check_inputs(generator, "generator", 2, "z and labels")
        _check_inputs(discriminator, "discriminator", 2, "samples and labels")
        _refuse_packing(discriminator, "ConditionalGAN")
        super().__init__(generator, discriminator, latent_dim, **kwargs)
        _check_label_input(generator, "generator")
        _check_label_input(discriminator, "discriminator")

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


@keras.saving.register_keras_serializable(package="tfgan_stable")
class ACGAN(_Conditional, NonSaturatingGAN):
    """Auxiliary-classifier GAN (Odena, Olah & Shlens 2017, "Conditional image synthesis with auxiliary
    classifier GANs").

    The generator maps (z, c) to a sample; the discriminator sees the sample only and has two outputs: the
    source logit s(x) (real or fake) and class logits q(x) over the `num_classes` classes (build it with
    `nets.add_head(discriminator, num_classes, "class_logits")`). The paper's objectives are
    L_S = E log P(S = real | x) + E log P(S = fake | G(z, c)) and L_C = E log P(C = y | x) + E log P(C = c | G(z, c));
    D maximises L_S + L_C and G maximises L_C − L_S. So the fake examples' class term is part of D's loss
    too (the paper's §3: "D is trained to maximize L_S + L_C"), which is what this class minimises:

      L_D = −log σ(s(x)) − log(1 − σ(s(G(z, c)))) + w·(CE(q(x), y) + CE(q(G(z, c)), c)),
      L_G = −log σ(s(G(z, c))) + w·CE(q(G(z, c)), c),

    per example, with CE the softmax cross-entropy, w = `class_weight`, and G's source term in the
    non-saturating form (as the paper's code and most implementations use). The class terms are the builtin
    technique `techniques.AuxiliaryClassifier` and are logged as d_/g_auxiliary_classifier; D's first output
    gives the logged d_real / d_fake and is what techniques (penalties, unrolling) see as D's score.

    With `classify_fakes=False` (not the paper's form), D's class term is w·CE(q(x), y) alone: D's class
    head then learns the classes from real data only, so it cannot learn to recognise G's own marks for a
    class, and G's class term asks for fakes that a classifier of real data assigns to c.

    Training batches are (images, labels) as for `ConditionalGAN`; the fakes take the labels of the real
    examples of the same update (c = y), so the fake class distribution is the data's. A packed
    discriminator is refused.

    Args:
      generator: a built `keras.Model` with inputs [z [batch, latent_dim], labels [batch] or [batch, 1]].
      discriminator: a built `keras.Model` with one input (samples) and two outputs [source logit [batch, 1],
        class logits [batch, num_classes]]; the class output is the layer named `class_head`.
      latent_dim: size of z.
      num_classes: number of classes (positive int).
      class_weight: w, the weight of the class terms (>= 0; 1 in the paper).
      class_head: name of the discriminator layer that outputs the class logits.
      classify_fakes: True (the paper) for D's class term on real and fake examples, False for real ones only.
      **kwargs: see `NonSaturatingGAN` and `tfgan_stable.GAN`.
    """

    def __init__(self, generator, discriminator, latent_dim, num_classes, class_weight=1.0,
                 class_head="class_logits", classify_fakes=True, **kwargs):
        self.num_classes = check_num_classes(num_classes)
        if isinstance(class_weight, bool) or not isinstance(class_weight, (int, float)) or not class_weight >= 0:
            raise ValueError(f"`class_weight` must be a non-negative number, got {class_weight!r}")
        self.class_weight = float(class_weight)
        if not isinstance(class_head, str) or not class_head:
            raise ValueError(f"`class_head` must be the name of the discriminator's class-logits layer, "
                             f"got {class_head!r}")
        self.class_head = class_head
        self.classify_fakes = classify_fakes  # checked by AuxiliaryClassifier, built in __init__
        _check_inputs(generator, "generator", 2, "z and labels")
        _check_inputs(discriminator, "discriminator", 1, "the samples; ACGAN's discriminator predicts the class")
        if isinstance(discriminator, keras.Model) and discriminator.outputs is not None:
            if len(discriminator.outputs) != 2:
                raise ValueError(f"ACGAN's discriminator must have two outputs [source logit, class logits], it has "
                                 f"{len(discriminator.outputs)}: add the class head with "
                                 f"nets.add_head(discriminator, {num_classes}, {class_head!r})")
            names = [layer.name for layer in discriminator.layers]
            if class_head not in names:
                raise ValueError(f"`class_head`={class_head!r} is not a layer of the discriminator; its layers are "
                                 f"{names}")
            width = discriminator.get_layer(class_head).output.shape[-1]
            if width != self.num_classes:
                raise ValueError(f"the discriminator's class head {class_head!r} has {width} outputs, but "
                                 f"num_classes={self.num_classes}")
        _refuse_packing(discriminator, "ACGAN")
        super().__init__(generator, discriminator, latent_dim, **kwargs)
        _check_label_input(generator, "generator")

    def builtin_techniques(self):
        return [AuxiliaryClassifier(layer=self.class_head, weight=self.class_weight,
                                    classify_fakes=self.classify_fakes)]

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "class_weight": self.class_weight,
                "class_head": self.class_head, "classify_fakes": self.classify_fakes}
