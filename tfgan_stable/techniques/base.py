"""The interface every stabilisation technique implements, and the context the step hands to it."""
import keras


def check_non_negative(value, name):
    """`value` as a float, or a ValueError naming `name` if it is not a number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"`{name}` must be a non-negative number, got {value!r}")
    return float(value)


class UpdateContext:
    """What one update of one player has computed so far; the step fills it in as it goes.

    Attributes (tensors are this replica's):
      player: "discriminator" or "generator".
      step: the player's optimizer step (scalar int tensor).
      train_step: completed training steps, i.e. generator updates (the same in both players' updates).
      real, labels: the update's real batch (labels None for unconditional data).
      z: the update's latent batch.
      fake: G(z) (a constant for the discriminator's update).
      real_input, fake_input: what D saw, after the techniques' input transforms.
      real_logits, fake_logits: D's outputs on them ([batch] or [packs]).
      real_features, fake_features: {layer name: output} for the layers techniques asked for.
      draws: {purpose: draws} of this update (see `Technique.draw`).
      global_batch, local_batch: examples in the global and in this replica's batch.
    """

    def __init__(self, player, step, train_step, real, labels, draws, global_batch, local_batch):
        self.player, self.step, self.train_step, self.real, self.labels = player, step, train_step, real, labels
        self.draws, self.global_batch, self.local_batch = draws, global_batch, local_batch
        self.z = draws["z"]
        self.fake = self.real_input = self.fake_input = None
        self.real_logits = self.fake_logits = None
        self.real_features, self.fake_features = {}, {}


class Technique(keras.layers.Layer):
    """A stabiliser that plugs into any `tfgan_stable.GAN` family; each hook has a neutral default.

    A technique is a Keras layer, so the variables it creates in `attach` are tracked by the GAN:
    `.keras` files, `save_weights`, checkpoints and `BackupAndRestore` keep them. For every update of a
    player the GAN step calls, in this order:

    1. `draw(noise, real, player)` in the replica function: the technique's randomness, from a
       `distribute.StepNoise` of its own (keyed by its name), for the whole global batch.
    2. `transform_discriminator_input(samples, which, ctx)` for D's real and fake inputs (`which` is
       "real" or "fake"): what D sees (instance noise, augmentation, replayed fakes).
    3. `discriminator_term(gan, ctx)` or `generator_term(gan, ctx)` inside the loss (possibly
       XLA-compiled): a per-example ([batch] or [packs]) or scalar loss term, or None. With
       `replaces_generator_loss = True` the generator term replaces the family's generator loss;
       otherwise `reweight_generator_loss(per_example, ctx)` may first reweight the family's per-example
       generator loss (top-k updates).
    4. `after_discriminator_update(gan, ctx)` / `after_generator_update(gan, ctx)` after the optimizer
       update, in the replica function: state updates (use `distribute.update_variables` for
       variables that must stay identical on every replica). `ctx.fake` holds the update's fakes.

    Besides: `attach(gan)` once, when the GAN is built (inside its strategy scope): create state there.
    `feature_layers`: names of D layers whose outputs the terms read from `ctx.real_features` /
    `ctx.fake_features`. `sampling_generator(gan)`: a generator that `GAN.generate`, export and the
    callbacks use instead of the trained one (EMA). `lookahead_discriminator(gan, ctx)`: a function
    samples → logits that the generator's loss uses instead of D (unrolled GANs).

    The mean of a term is logged under `log_name(player)`. Subclasses give a `default_name` and the
    formula and paper in their docstring, and list their constructor arguments in `get_config`.
    """

    default_name = "technique"
    #: Names of discriminator layers whose outputs this technique reads.
    feature_layers = ()
    #: Whether `generator_term` replaces the family's generator loss instead of adding to it.
    replaces_generator_loss = False
    #: Whether `generator_term` reads D's outputs on the real batch (`ctx.real_features`); the generator's
    #: update runs D on real data only if the family or a technique asks for it.
    generator_reads_real = False
    #: Whether a term all-reduces over the replicas inside the gradient computation (no XLA under a
    #: multi-replica strategy then; `GAN.compile` checks).
    needs_cross_replica_gradients = False

    def __init__(self, name=None, **kwargs):
        super().__init__(name=name or self.default_name, **kwargs)

    @property
    def term_players(self):
        """The players whose loss this technique adds a term to (by default: whose term hook it overrides)."""
        return tuple(player for player, hook in (("discriminator", "discriminator_term"),
                                                 ("generator", "generator_term"))
                     if getattr(type(self), hook) is not getattr(Technique, hook))

    def log_name(self, player):
        """The name the mean of the term of `player` is logged under: the technique's, prefixed with
        d_/g_ when it has terms for both players."""
        return self.name if len(self.term_players) < 2 else f"{player[0]}_{self.name}"

    def attach(self, gan):
        """Creates the technique's state once the GAN is built (inside its strategy scope)."""
        self.built = True

    def draw(self, noise, real, player):
        """Randomness for one update of `player` from a `StepNoise`; returns a nest or None."""
        return None

    def transform_discriminator_input(self, samples, which, ctx):
        """What D sees instead of `samples` (`which` is "real" or "fake")."""
        return samples

    def discriminator_term(self, gan, ctx):
        """An extra discriminator loss term (per-example or scalar), or None."""
        return None

    def generator_term(self, gan, ctx):
        """An extra generator loss term (per-example or scalar), or None."""
        return None

    def reweight_generator_loss(self, per_example, ctx):
        """The family's per-example generator loss as this technique weights it (by default unchanged)."""
        return per_example

    def lookahead_discriminator(self, gan, ctx):
        """A function (samples, labels) → logits for the generator's loss instead of D, or None."""
        return None

    def after_discriminator_update(self, gan, ctx):
        """Updates state after each discriminator update."""

    def after_generator_update(self, gan, ctx):
        """Updates state after each generator update."""

    def sampling_generator(self, gan):
        """A generator for `generate`/export/callbacks instead of `gan.generator`, or None."""
        return None

    def call(self, inputs):  # a technique is not called as a layer; its hooks are
        raise TypeError(f"{type(self).__name__} is a GAN technique: pass it to a GAN's `techniques`")

    def get_config(self):
        """Constructor arguments (subclasses add theirs), for `keras.saving.serialize_keras_object`."""
        return {"name": self.name}


PLAYERS = ("generator", "discriminator", "both")


def check_player(player):
    """`player` if it is "generator", "discriminator" or "both"; else a ValueError."""
    if player not in PLAYERS:
        raise ValueError(f"`player` must be one of {PLAYERS}, got {player!r}")
    return player


def player_model(gan, player):
    """The net of `player` ("generator" or "discriminator")."""
    return gan.generator if player == "generator" else gan.discriminator


class PlayerTechnique(Technique):
    """A technique whose terms apply to the players chosen by its `player` argument."""

    @property
    def term_players(self):
        return ("discriminator", "generator") if self.player == "both" else (self.player,)
