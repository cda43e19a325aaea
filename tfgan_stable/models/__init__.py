"""GAN models: the base step skeleton and one subclass per loss family."""
from tfgan_stable.models.base import GAN
from tfgan_stable.models.conditional import ACGAN, ConditionalGAN
from tfgan_stable.models.cross_entropy import DRAGAN, MinimaxGAN, NonSaturatingGAN
from tfgan_stable.models.energy import BEGAN, EBGAN, EnergyGAN
from tfgan_stable.models.infogan import InfoGAN
from tfgan_stable.models.least_squares import LSGAN
from tfgan_stable.models.relativistic import RaHingeGAN, RaLSGAN, RaSGAN, RelativisticAverageGAN, RelativisticGAN
from tfgan_stable.models.wasserstein import WGAN, WGANGP, HingeGAN

#: Short names of the loss families, as used by the example scripts and benchmarks.
FAMILIES = {"minimax": MinimaxGAN, "ns": NonSaturatingGAN, "lsgan": LSGAN, "wgan": WGAN, "wgan_gp": WGANGP,
            "dragan": DRAGAN, "hinge": HingeGAN}
FAMILIES.update({"ebgan": EBGAN, "began": BEGAN})  # autoencoder (energy) discriminators
FAMILIES["infogan"] = InfoGAN  # latent codes recovered by a Q head
FAMILIES.update({"rsgan": RelativisticGAN, "rasgan": RaSGAN, "ralsgan": RaLSGAN, "rahinge": RaHingeGAN})  # relativistic
FAMILIES.update({"cgan": ConditionalGAN, "acgan": ACGAN})  # conditional: batches are (images, labels)


def get_family(name):
    """The GAN class for a short family name (see `FAMILIES`)."""
    if name not in FAMILIES:
        raise ValueError(f"unknown GAN family {name!r}; expected one of {sorted(FAMILIES)}")
    return FAMILIES[name]


__all__ = ["GAN", "MinimaxGAN", "NonSaturatingGAN", "DRAGAN", "LSGAN", "WGAN", "WGANGP", "HingeGAN",
           "FAMILIES", "get_family"]
__all__ += ["EnergyGAN", "EBGAN", "BEGAN", "InfoGAN", "ConditionalGAN", "ACGAN",
            "RelativisticGAN", "RelativisticAverageGAN", "RaSGAN", "RaLSGAN", "RaHingeGAN"]
