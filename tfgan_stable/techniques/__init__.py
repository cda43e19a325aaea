"""Composable stabilisation techniques: penalties, input transforms, buffers, weight averaging.

Each one plugs into any GAN family through `techniques=[...]` (see `Technique` for the hooks):

- `GradientPenalty` (WGAN-GP), `DRAGANPenalty`, `R1`, `R2`: gradient penalties on D.
- `InstanceNoise`: Gaussian noise on D's inputs, annealed to 0.
- `FeatureMatching`: G matches the mean of a D feature.
- `HistoricalAveraging`: a penalty towards the average of past weights.
- `OrthogonalRegularization`: BigGAN's off-diagonal orthogonality penalty.
- `EMA`: an exponential moving average of G, used for sampling and export.
- `ExperienceReplay`: part of D's fakes come from a buffer of past fakes.
- `Unrolled`: G's loss against D after k look-ahead updates.
- `TopK`: G learns only from the k fakes D rates as most realistic.
- `DiffAugment`: the same differentiable augmentation on D's real and fake inputs.
- `PullingAway`: EBGAN's term that spreads D's codes of the fakes apart.
- `MutualInformation`: InfoGAN's term, a head Q on D recovers G's latent codes (built into `InfoGAN`).
- `AuxiliaryClassifier`: ACGAN's class cross-entropy terms, read from a class head of D.

Label smoothing, soft and flipped labels are options of the cross-entropy families (`MinimaxGAN`).

TTUR (Heusel et al. 2017) needs no technique: give the two optimizers different learning rates.
"""
from tfgan_stable.techniques.augment import DiffAugment
from tfgan_stable.techniques.auxiliary import AuxiliaryClassifier
from tfgan_stable.techniques.averaging import EMA, HistoricalAveraging
from tfgan_stable.techniques.base import Technique, UpdateContext
from tfgan_stable.techniques.feature_matching import FeatureMatching
from tfgan_stable.techniques.mutual_information import MutualInformation
from tfgan_stable.techniques.noise import InstanceNoise
from tfgan_stable.techniques.penalties import R1, R2, DRAGANPenalty, GradientPenalty
from tfgan_stable.techniques.pulling_away import PullingAway
from tfgan_stable.techniques.regularizers import OrthogonalRegularization
from tfgan_stable.techniques.replay import ExperienceReplay
from tfgan_stable.techniques.top_k import TopK
from tfgan_stable.techniques.unrolled import Unrolled

__all__ = ["Technique", "UpdateContext", "GradientPenalty", "DRAGANPenalty", "R1", "R2", "InstanceNoise",
           "FeatureMatching", "HistoricalAveraging", "OrthogonalRegularization", "EMA", "ExperienceReplay",
           "Unrolled", "TopK", "DiffAugment", "PullingAway", "MutualInformation", "AuxiliaryClassifier"]
