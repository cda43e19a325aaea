"""Building any family of `ts.FAMILIES` from the plain test nets of the tests that run every family.

Most families take a generator of z and a one-output discriminator as they are. InfoGAN needs codes in z and a
Q head on D: `make_gan` gives it both around the given nets, so the shared tests exercise its step too.
"""
import keras

import tfgan_stable as ts

#: The InfoGAN codes of the shared tests: one 2-way categorical code and one continuous code (3 columns of z).
INFOGAN_CODES = {"categorical_codes": (2,), "continuous_codes": 1}


def make_gan(family, generator, discriminator, latent_dim, **kwargs):
    """`ts.get_family(family)(generator, discriminator, latent_dim, **kwargs)`; for InfoGAN the generator reads
    z = [noise (latent_dim), codes] through a linear layer to its latent_dim inputs, and D gets a Q head."""
    if family != "infogan":
        return ts.get_family(family)(generator, discriminator, latent_dim=latent_dim, **kwargs)
    width = sum(INFOGAN_CODES["categorical_codes"]) + INFOGAN_CODES["continuous_codes"]
    z = keras.Input((latent_dim + width,))
    coded = keras.Model(z, generator(keras.layers.Dense(latent_dim, name="codes_in")(z)), name="coded_generator")
    with_q = ts.nets.add_head(discriminator, width, "q")
    return ts.InfoGAN(coded, with_q, latent_dim=latent_dim + width, **INFOGAN_CODES, **kwargs)
