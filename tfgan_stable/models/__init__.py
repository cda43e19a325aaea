"""GAN models: the base step skeleton and one subclass per loss family."""
from tfgan_stable.models.base import GAN
from tfgan_stable.models.cross_entropy import DRAGAN, MinimaxGAN, NonSaturatingGAN
from tfgan_stable.models.least_squares import LSGAN
from tfgan_stable.models.wasserstein import WGAN, WGANGP, HingeGAN

__all__ = ["GAN", "MinimaxGAN", "NonSaturatingGAN", "DRAGAN", "LSGAN", "WGAN", "WGANGP", "HingeGAN"]
