"""tfgan_stable.layers: Keras layers for GANs that are correct under tf.distribute and export as SavedModels.

- `SpectralNormalization`: wraps Dense/Conv*/Embedding; W/σ(W) on the fly, persistent power iteration.
- `VirtualBatchNormalization` with `set_reference_batch` and the `RefreshReferenceBatch` callback.
- `MinibatchDiscrimination`, `MinibatchStdDev`: batch-level features for the discriminator.
- `Pack`: PacGAN packing, the discriminator judges m samples at once.
- `PixelNormalization`, `SelfAttention`, `ConditionalBatchNormalization`.
- `GrowingOutput`, `GrowingInput`: the fade-in points of progressively growing nets (`nets.progressive_*`).

State updated while training (SN's u, the reference and moving statistics) lives in sync-on-read
variables assigned per replica: legal inside the XLA-compiled nested `tf.function` of a multi-replica GAN
step, identical on all replicas whenever every replica computes the same value, and checkpointed as the
value itself (the mean of identical copies).
"""
from tfgan_stable.layers.attention import SelfAttention
from tfgan_stable.layers.minibatch import MinibatchDiscrimination, MinibatchStdDev
from tfgan_stable.layers.normalization import ConditionalBatchNormalization, PixelNormalization
from tfgan_stable.layers.packing import Pack
from tfgan_stable.layers.progressive import GrowingInput, GrowingOutput, growth_at, set_growth
from tfgan_stable.layers.spectral_normalization import SpectralNormalization
from tfgan_stable.layers.virtual_batch_normalization import (
    RefreshReferenceBatch, VirtualBatchNormalization, set_reference_batch)

__all__ = [
    "ConditionalBatchNormalization", "GrowingInput", "GrowingOutput", "MinibatchDiscrimination", "MinibatchStdDev",
    "Pack", "PixelNormalization",
    "RefreshReferenceBatch", "SelfAttention", "SpectralNormalization", "VirtualBatchNormalization",
    "growth_at", "set_growth", "set_reference_batch",
]
