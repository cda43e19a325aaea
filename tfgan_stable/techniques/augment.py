"""Differentiable augmentation of everything the discriminator sees (DiffAugment)."""
import keras
import tensorflow as tf

from tfgan_stable.techniques.base import Technique

POLICIES = ("color", "translation", "cutout")


def _parse_policy(policy):
    if not isinstance(policy, str):
        raise ValueError(f"`policy` must be a comma-separated string of {', '.join(POLICIES)}, got {policy!r}")
    parts = [p.strip() for p in policy.split(",") if p.strip()]
    unknown = [p for p in parts if p not in POLICIES]
    if unknown or len(set(parts)) != len(parts):
        raise ValueError(f"`policy` must list distinct augmentations among {', '.join(POLICIES)} (comma-separated), "
                         f"got {policy!r}")
    return tuple(parts)


def _ratio(value, name, upper):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= upper:
        raise ValueError(f"`{name}` must be a number in [0, {upper:g}], got {value!r}")
    return float(value)


def _integers(u, low, high):
    """Uniform draws u in [0, 1) -> integers in [low, high], uniformly."""
    k = tf.cast(tf.floor(u * (high - low + 1)), tf.int32) + low
    return tf.minimum(k, high)


def translate(images, shifts):
    """Shifts each image by whole pixels, filling with zeros: out[i, h, w] = x[i, h + s_i0, w + s_i1] (0 outside)."""
    _, height, width, _ = images.shape
    pad_h, pad_w = height, width  # a shift of at most the image size always lands in the padding
    padded = tf.pad(images, [[0, 0], [pad_h, pad_h], [pad_w, pad_w], [0, 0]])
    rows = tf.range(height)[None, :] + shifts[:, 0:1] + pad_h                      # [n, H]
    cols = tf.range(width)[None, :] + shifts[:, 1:2] + pad_w                       # [n, W]
    out = tf.gather(padded, rows, axis=1, batch_dims=1)                              # [n, H, W + 2pw, C]
    return tf.gather(out, cols, axis=2, batch_dims=1)                                # [n, H, W, C]


def cut_out(images, corners, size):
    """Zeros a size[0] × size[1] rectangle whose top-left pixel is `corners[i]` (it may extend past the edges)."""
    _, height, width, _ = images.shape
    rows = tf.range(height)[None, :]
    cols = tf.range(width)[None, :]
    in_rows = (rows >= corners[:, 0:1]) & (rows < corners[:, 0:1] + size[0])        # [n, H]
    in_cols = (cols >= corners[:, 1:2]) & (cols < corners[:, 1:2] + size[1])        # [n, W]
    inside = in_rows[:, :, None] & in_cols[:, None, :]
    return images * tf.cast(~inside, images.dtype)[..., None]


@keras.saving.register_keras_serializable(package="tfgan_stable")
class DiffAugment(Technique):
    """Differentiable augmentation (Zhao et al. 2020, "Differentiable augmentation for data-efficient GAN training").

    Both real and generated images are augmented by the same kind of random, differentiable transform T
    before D sees them, in the discriminator's AND the generator's updates: L_D uses D(T(x)) and
    D(T(G(z))), L_G uses D(T(G(z))). Augmenting only the reals would teach G to produce augmented-looking
    images; augmenting the fakes only in D's update would leave G's gradient for an unaugmented input D
    never trained on. Since T is differentiable, G's gradient flows through it. This is what lets GANs
    train on a few hundred or thousand images without D memorising them.

    Policies, applied in the order given, each with parameters drawn per image (independently for the
    real and the fake batch, from the step's stateless noise):

    - "color": brightness x + b with b ~ U(−0.5, 0.5); saturation μ_c + s·(x − μ_c) with μ_c the
      per-pixel mean over channels and s ~ U(0, 2); contrast μ + c·(x − μ) with μ the image mean and
      c ~ U(0.5, 1.5).
    - "translation": shift by integers (t_h, t_w), each uniform in [−⌊r·H⌋, ⌊r·H⌋] (resp. W),
      r = `translation_ratio` = 1/8, filling with zeros.
    - "cutout": zero a ⌊q·H⌋ × ⌊q·W⌋ square (q = `cutout_ratio` = 1/2) centred at a uniform pixel
      (the square may extend past the border), as in the authors' code.

    Images [n, H, W, C] only. With a packed discriminator (`layers.Pack`) every image of a pack is
    augmented on its own.

    Args:
      policy: comma-separated augmentations among "color", "translation", "cutout" (the paper's
        default for limited data is all three).
      translation_ratio: r, the largest shift as a fraction of the image size, in [0, 1].
      cutout_ratio: q, the side of the cut-out square as a fraction of the image size, in [0, 1].

    Example:
      ```python
      gan = tfgan_stable.WGANGP(g, d, latent_dim=128, techniques=[DiffAugment("color,translation,cutout")])
      ```
    """

    default_name = "diff_augment"

    def __init__(self, policy="color,translation,cutout", translation_ratio=0.125, cutout_ratio=0.5, **kwargs):
        super().__init__(**kwargs)
        self.policy = ",".join(_parse_policy(policy))
        self.translation_ratio = _ratio(translation_ratio, "translation_ratio", 1.0)
        self.cutout_ratio = _ratio(cutout_ratio, "cutout_ratio", 1.0)
        self.image_size = None

    @property
    def policies(self):
        return tuple(p for p in self.policy.split(",") if p)

    def attach(self, gan):
        shape = tuple(gan.generator.outputs[0].shape)
        if len(shape) != 4 or any(d is None for d in shape[1:]):
            raise ValueError(f"DiffAugment augments images [n, H, W, C], but the `generator` produces samples of "
                             f"shape {shape}")
        self.image_size = shape[1:3]
        super().attach(gan)

    def _max_shift(self):
        return [int(s * self.translation_ratio) for s in self.image_size]

    def _cutout_size(self):
        return [int(s * self.cutout_ratio) for s in self.image_size]

    def _draw_one(self, noise):
        # One draw of all the uniforms of a batch (one draw is much cheaper to trace than seven).
        names = [n for p in self.policies for n in {"color": ("brightness", "saturation", "contrast"),
                                                     "translation": ("shift_h", "shift_w"),
                                                     "cutout": ("centre_h", "centre_w")}[p]]
        u = dict(zip(names, tf.unstack(noise.uniform([len(names)]), axis=1)))
        params = {}
        if "color" in self.policies:
            for name, low, scale in (("brightness", -0.5, 1.0), ("saturation", 0.0, 2.0), ("contrast", 0.5, 1.0)):
                params[name] = tf.reshape(low + scale * u[name], [-1, 1, 1, 1])
        if "translation" in self.policies:
            params["shift"] = tf.stack([_integers(u[f"shift_{a}"], -s, s)
                                        for a, s in zip("hw", self._max_shift())], 1)
        if "cutout" in self.policies:
            # The centre is uniform over the pixels (plus one more position for an even-sized square, as in
            # the authors' code); the square spans [centre - size // 2, centre - size // 2 + size).
            params["corner"] = tf.stack([_integers(u[f"centre_{a}"], 0, n - c % 2) - c // 2
                                         for a, n, c in zip("hw", self.image_size, self._cutout_size())], 1)
        return params

    def draw(self, noise, real, player):
        return {"real": self._draw_one(noise), "fake": self._draw_one(noise)}

    def augment(self, images, params):
        """T(images) with the drawn parameters `params` (one set per image)."""
        x = images
        for policy in self.policies:
            if policy == "color":
                x = x + tf.cast(params["brightness"], x.dtype)
                mean = tf.reduce_mean(x, axis=3, keepdims=True)
                x = (x - mean) * tf.cast(params["saturation"], x.dtype) + mean
                mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
                x = (x - mean) * tf.cast(params["contrast"], x.dtype) + mean
            elif policy == "translation":
                x = translate(x, params["shift"])
            else:
                x = cut_out(x, params["corner"], self._cutout_size())
        return x

    def transform_discriminator_input(self, samples, which, ctx):
        return self.augment(samples, ctx.draws[self.name][which])

    def get_config(self):
        return {**super().get_config(), "policy": self.policy, "translation_ratio": self.translation_ratio,
                "cutout_ratio": self.cutout_ratio}
