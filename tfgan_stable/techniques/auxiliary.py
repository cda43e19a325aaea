"""An auxiliary classifier on the discriminator: class cross-entropy terms for both players (ACGAN)."""
import keras
import tensorflow as tf

from tfgan_stable.techniques.base import Technique, check_non_negative


def class_cross_entropy(logits, labels):
    """Per-example softmax cross-entropy −log softmax(logits)[label], shape [batch], in float32."""
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.cast(labels, tf.int32),
                                                          logits=tf.cast(logits, tf.float32))


@keras.saving.register_keras_serializable(package="tfgan_stable")
class AuxiliaryClassifier(Technique):
    """The class terms of ACGAN (Odena, Olah & Shlens 2017), read from a class-logits layer of D.

    With q(x) the output of the discriminator layer `layer` (class logits), y the real examples' labels and
    c = y the labels the update's fakes were generated with, per example:

      discriminator term: w·(CE(q(x), y) + CE(q(G(z, c)), c)), or w·CE(q(x), y) without `classify_fakes`,
      generator term:     w·CE(q(G(z, c)), c),

    CE(q, k) = −log softmax(q)_k. D learns to classify real (and fake) examples; G learns to make fakes that
    D classifies as their class. (The paper's D maximises L_S + L_C, whose L_C holds both the real and the
    fake term; see `ACGAN`.) With the fake term, D's class head can learn whatever marks G gives each class,
    and G need not draw the class; without it the head is a classifier of real data only, which G must
    satisfy. Logged as d_/g_ plus the technique's name. The logits are read on what D sees (after input
    transforms such as `DiffAugment`). Needs a conditional family (`ACGAN` adds it itself).

    Args:
      layer: the name of the discriminator layer that outputs the class logits [batch, num_classes].
      weight: w (>= 0).
      classify_fakes: whether D's term holds the fake examples' class cross-entropy (the paper's form, True)
        or only the real examples' (False).
    """

    default_name = "auxiliary_classifier"

    def __init__(self, layer="class_logits", weight=1.0, classify_fakes=True, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(classify_fakes, bool):
            raise TypeError(f"`classify_fakes` must be True or False, got {classify_fakes!r}")
        self.classify_fakes = classify_fakes
        if not isinstance(layer, str) or not layer:
            raise ValueError(f"`layer` must be the name of the discriminator's class-logits layer, got {layer!r}")
        self.layer_name = layer
        self.weight = check_non_negative(weight, "weight")
        self.feature_layers = (layer,)

    def attach(self, gan):
        if not gan.conditional:
            raise ValueError(f"{type(self).__name__} needs labelled batches: use it with a conditional family "
                             f"(ACGAN, ConditionalGAN), not {type(gan).__name__}")
        super().attach(gan)

    def discriminator_term(self, gan, ctx):
        term = class_cross_entropy(ctx.real_features[self.layer_name], ctx.labels)
        if self.classify_fakes:
            term += class_cross_entropy(ctx.fake_features[self.layer_name], ctx.labels)
        return self.weight * term

    def generator_term(self, gan, ctx):
        return self.weight * class_cross_entropy(ctx.fake_features[self.layer_name], ctx.labels)

    def get_config(self):
        return {**super().get_config(), "layer": self.layer_name, "weight": self.weight,
                "classify_fakes": self.classify_fakes}
