"""Distances between feature distributions: Fréchet distance (FID) and kernel distance (KID), with streaming statistics.

All computations are in float64 numpy. The features come from any feature network (a `keras.Model`
mapping images to vectors); which network defines which "FID".
"""
import numpy as np


def _matrix_sqrt_psd(matrix):
    """Symmetric square root of a symmetric positive semi-definite matrix (negative round-off eigenvalues → 0)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def _check_statistics(mu, sigma, name):
    mu = np.asarray(mu, np.float64)
    sigma = np.asarray(sigma, np.float64)
    if mu.ndim != 1:
        raise ValueError(f"`mu{name}` must be a vector [d], got shape {mu.shape}")
    if sigma.shape != (mu.shape[0], mu.shape[0]):
        raise ValueError(f"`sigma{name}` must be a [d, d] covariance matching `mu{name}` (d = {mu.shape[0]}), got "
                         f"shape {sigma.shape}")
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(sigma))):
        raise ValueError(f"`mu{name}` and `sigma{name}` must be finite")
    return mu, sigma


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Fréchet (2-Wasserstein) distance between N(μ₁, Σ₁) and N(μ₂, Σ₂) (Heusel et al. 2017, FID).

    d² = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2·tr (Σ₁^½ Σ₂ Σ₁^½)^½.

    The last trace is computed from the eigenvalues of the symmetric PSD matrix Σ₁^½ Σ₂ Σ₁^½ (the same
    eigenvalues as Σ₁Σ₂), so no complex square root appears; eigenvalues below 0 from round-off are
    clipped to 0. Float64 throughout.

    Args:
      mu1, sigma1: mean [d] and covariance [d, d] of the first distribution (e.g. generated features).
      mu2, sigma2: the same for the second (e.g. real features).

    Returns:
      The squared distance d² as a Python float (≥ 0 up to round-off); this is the number reported as FID.
    """
    mu1, sigma1 = _check_statistics(mu1, sigma1, "1")
    mu2, sigma2 = _check_statistics(mu2, sigma2, "2")
    if mu1.shape != mu2.shape:
        raise ValueError(f"feature dimensions differ: `mu1` has {mu1.shape[0]}, `mu2` has {mu2.shape[0]}")
    root1 = _matrix_sqrt_psd(sigma1)
    middle = root1 @ sigma2 @ root1
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    trace_sqrt = float(np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None))))
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)


class RunningStatistics:
    """Mean and covariance of feature vectors accumulated batch by batch in float64.

    Keeps n, Σx and Σxxᵀ, so 50k samples never sit in memory at once; `covariance` is the unbiased
    (n − 1) estimate. Use two of these (real, generated) and `frechet_distance`.

    Args:
      dim: feature dimension d (taken from the first batch when None).
    """

    def __init__(self, dim=None):
        self.dim = dim
        self.count = 0
        self._sum = None
        self._outer = None

    def update(self, features):
        """Adds a batch of features [n, d]."""
        features = np.asarray(features, np.float64)
        if features.ndim != 2:
            raise ValueError(f"`features` must have shape [n, d], got {features.shape}")
        if self.dim is None:
            self.dim = features.shape[1]
        if features.shape[1] != self.dim:
            raise ValueError(f"`features` has dimension {features.shape[1]} but earlier batches had {self.dim}")
        if self._sum is None:
            self._sum = np.zeros(self.dim)
            self._outer = np.zeros((self.dim, self.dim))
        self.count += features.shape[0]
        self._sum += features.sum(axis=0)
        self._outer += features.T @ features
        return self

    @property
    def mean(self):
        if not self.count:
            raise ValueError("no features were added")
        return self._sum / self.count

    @property
    def covariance(self):
        if self.count <= self.dim:
            raise ValueError(f"a covariance of {self.dim}-d features needs more than {self.dim} samples, got "
                             f"{self.count}")
        mean = self.mean
        return (self._outer - self.count * np.outer(mean, mean)) / (self.count - 1)


def frechet_distance_of(features1, features2):
    """FID between two sets of features [n, d] (or two `RunningStatistics`)."""
    stats = [f if isinstance(f, RunningStatistics) else RunningStatistics().update(f) for f in (features1, features2)]
    if stats[0].dim != stats[1].dim:
        raise ValueError(f"feature dimensions differ: {stats[0].dim} vs {stats[1].dim}")
    return frechet_distance(stats[0].mean, stats[0].covariance, stats[1].mean, stats[1].covariance)


def _polynomial_kernel(a, b):
    return (a @ b.T / a.shape[1] + 1.0) ** 3


def _mmd2_unbiased(x, y):
    m = x.shape[0]
    k_xx, k_yy, k_xy = _polynomial_kernel(x, x), _polynomial_kernel(y, y), _polynomial_kernel(x, y)
    off_diagonal = m * (m - 1)
    return ((k_xx.sum() - np.trace(k_xx)) / off_diagonal + (k_yy.sum() - np.trace(k_yy)) / off_diagonal
            - 2.0 * k_xy.mean())


def kernel_inception_distance(features1, features2, num_subsets=100, subset_size=1000, seed=0):
    """Kernel distance (Bińkowski et al. 2018, KID): unbiased MMD² with the cubic kernel k(x, y) = (xᵀy/d + 1)³.

    For each of `num_subsets` random subsets of m = min(`subset_size`, n₁, n₂) samples from each set,
    MMD²ᵤ = Σ_{i≠j} k(xᵢ, xⱼ)/(m(m−1)) + Σ_{i≠j} k(yᵢ, yⱼ)/(m(m−1)) − 2 Σ_{i,j} k(xᵢ, yⱼ)/m².
    Being unbiased, its expectation is 0 when both sets come from one distribution (single values can be
    negative).

    Args:
      features1, features2: arrays [n₁, d] and [n₂, d].
      num_subsets: number of subsets averaged.
      subset_size: samples per subset and per set.
      seed: seed of the subset choice.

    Returns:
      (mean, standard deviation) of MMD²ᵤ over the subsets.
    """
    x = np.asarray(features1, np.float64)
    y = np.asarray(features2, np.float64)
    if x.ndim != 2 or y.ndim != 2:
        raise ValueError(f"features must have shape [n, d], got {x.shape} and {y.shape}")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"feature dimensions differ: {x.shape[1]} vs {y.shape[1]}")
    for name, value, least in (("num_subsets", num_subsets, 1), ("subset_size", subset_size, 2)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"`{name}` must be an integer >= {least}, got {value!r}")
    m = min(subset_size, x.shape[0], y.shape[0])
    if m < 2:
        raise ValueError(f"KID needs at least 2 samples in each set, got {x.shape[0]} and {y.shape[0]}")
    rng = np.random.RandomState(seed)
    values = [_mmd2_unbiased(x[rng.choice(x.shape[0], m, replace=False)], y[rng.choice(y.shape[0], m, replace=False)])
              for _ in range(num_subsets)]
    return float(np.mean(values)), float(np.std(values))
