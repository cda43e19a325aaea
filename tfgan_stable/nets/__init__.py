"""Ready-made generator and discriminator builders (functional `keras.Model`s).

MLPs for the 2-D toy mixtures (PacGAN's nets), DCGAN convnets for 28x28, 32x32 and 64x64 images, SNGAN/BigGAN-style
ResNets and a multi-scale discriminator, the x2 upsampling choice (`upsample`), a second output head for a
discriminator (ACGAN's classifier, InfoGAN's Q network), autoencoder discriminators (EBGAN, BEGAN) for images
and the toys, class-conditional versions of the MLPs and DCGAN nets (label embedding, conditional batch norm,
concat or projection discriminators), and progressively growing nets (Karras et al. 2018).
"""
from tfgan_stable.nets.dcgan import SUPPORTED_SIZES, dcgan_discriminator, dcgan_generator
from tfgan_stable.nets.mlp import mlp_discriminator, mlp_generator
from tfgan_stable.nets.heads import add_head
from tfgan_stable.nets.autoencoder import autoencoder_discriminator, mlp_autoencoder
from tfgan_stable.nets.progressive import progressive_discriminator, progressive_generator
from tfgan_stable.nets.resnet import UPSAMPLING, resnet_discriminator, resnet_generator, upsample
from tfgan_stable.nets.multiscale import multiscale_discriminator
from tfgan_stable.nets.conditional import (conditional_dcgan_discriminator, conditional_dcgan_generator,
                                           conditional_mlp_discriminator, conditional_mlp_generator)
