"""Building any family of `ts.FAMILIES` from the plain test nets of the tests that run every family.

Most families take a generator of z and a one-output discriminator as they are. InfoGAN needs codes in z and a
Q head on D: `make_gan` gives it both around the given nets. The conditional families (ConditionalGAN, ACGAN)
get nets that take labels (`tests.conditioning`). The autoencoder families (EBGAN, BEGAN) need a D
that reconstructs its input: `make_gan` replaces D by a small one of the same input shape. So the shared tests
exercise every family's step.
"""
import keras
import numpy as np

import tfgan_stable as ts
from tests.conditioning import conditional_nets, family_kwargs

#: The InfoGAN codes of the shared tests: one 2-way categorical code and one continuous code (3 columns of z).
INFOGAN_CODES = {"categorical_codes": (2,), "continuous_codes": 1}


def make_gan(family, generator, discriminator, latent_dim, **kwargs):
    """`ts.get_family(family)(generator, discriminator, latent_dim, **kwargs)`; for InfoGAN the generator reads
    z = [noise (latent_dim), codes] through a linear layer to its latent_dim inputs, and D gets a Q head."""
    if issubclass(ts.get_family(family), ts.EnergyGAN):
        discriminator = autoencoder_like(discriminator)
    generator, discriminator = conditional_nets(family, generator, discriminator)  # (conditional families)
    kwargs = {**family_kwargs(family), **kwargs}
    if family != "infogan":
        return ts.get_family(family)(generator, discriminator, latent_dim=latent_dim, **kwargs)
    width = sum(INFOGAN_CODES["categorical_codes"]) + INFOGAN_CODES["continuous_codes"]
    z = keras.Input((latent_dim + width,))
    coded = keras.Model(z, generator(keras.layers.Dense(latent_dim, name="codes_in")(z)), name="coded_generator")
    with_q = ts.nets.add_head(discriminator, width, "q")
    return ts.InfoGAN(coded, with_q, latent_dim=latent_dim + width, **INFOGAN_CODES, **kwargs)


def autoencoder_like(discriminator):
    """An autoencoder D for the inputs of `discriminator`: flatten -> Dense(8, tanh) named "hidden" (the layer
    the shared tests' feature matching reads) -> linear reconstruction of the input's shape."""
    shape = tuple(discriminator.inputs[0].shape[1:])
    return keras.Sequential([keras.Input(shape), keras.layers.Flatten(),
                             keras.layers.Dense(8, activation="tanh", name="hidden"),
                             keras.layers.Dense(int(np.prod(shape))), keras.layers.Reshape(shape)])
