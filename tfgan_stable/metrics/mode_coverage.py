"""Mode coverage of mixtures of Gaussians: the 2-D ring and grid benchmarks of VEEGAN and PacGAN."""
import numpy as np


def mode_coverage(samples, centers, std, num_std=3.0):
    """Counts the modes a generator covers (Srivastava et al. 2017, VEEGAN; Lin et al. 2018, PacGAN protocol).

    Each sample is assigned to its nearest mode centre; it is high quality if it lies within `num_std`·σ
    of that centre. A mode is covered if it has at least one high-quality sample. The reverse KL compares
    the histogram p of high-quality samples over modes with the uniform distribution over the K modes:
    KL(p ‖ U) = Σ_k p_k log(K·p_k) (0 for perfect balance, log K for a single mode). The protocol draws
    2,500 samples. In 2-D, a 3σ disc holds 1 − e^(−4.5) ≈ 98.9% of a Gaussian: the ceiling of the
    high-quality fraction for perfect samples.

    Args:
      samples: generated points [n, d].
      centers: mode centres [K, d].
      std: the modes' standard deviation σ.
      num_std: the high-quality radius in units of σ.

    Returns:
      dict with "modes" (covered count), "num_modes" (K), "high_quality" (fraction of samples),
      "reverse_kl" (nan if no sample is high quality) and "counts" (high-quality samples per mode).
    """
    samples = np.asarray(samples, np.float64)
    centers = np.asarray(centers, np.float64)
    if centers.ndim != 2 or centers.shape[0] < 1:
        raise ValueError(f"`centers` must have shape [K, d], got {centers.shape}")
    if samples.ndim != 2 or samples.shape[1] != centers.shape[1] or samples.shape[0] == 0:
        raise ValueError(f"`samples` must have shape [n >= 1, {centers.shape[1]}] (the centres' dimension), "
                         f"got {samples.shape}")
    if not std > 0 or not num_std > 0:
        raise ValueError(f"`std` and `num_std` must be positive, got {std!r} and {num_std!r}")
    squared = ((samples[:, None, :] - centers[None, :, :]) ** 2).sum(axis=-1)
    nearest = squared.argmin(axis=1)
    good = np.sqrt(squared.min(axis=1)) <= num_std * std
    counts = np.bincount(nearest[good], minlength=centers.shape[0])
    reverse_kl = float("nan")
    if counts.sum():
        p = counts / counts.sum()
        reverse_kl = float(np.sum(p[p > 0] * np.log(p[p > 0] * centers.shape[0])))
    return {"modes": int((counts > 0).sum()), "num_modes": int(centers.shape[0]), "high_quality": float(good.mean()),
            "reverse_kl": reverse_kl, "counts": counts}


def stacked_mnist_coverage(images, classifier=None):
    """Modes covered and KL(p_gen ‖ uniform) on stacked MNIST (VEEGAN / PacGAN protocol: 26,000 samples).

    Each channel of each image is classified by the MNIST classifier; the three digits give one of 1,000
    modes. A mode is covered if at least one sample falls in it; KL = Σ_m p_m log(1000·p_m).

    Args:
      images: generated images [n, 28, 28, 3] in [-1, 1].
      classifier: the MNIST classifier (default: the shipped one).

    Returns:
      dict with "modes", "kl" and "counts" (samples per mode, [1000]).
    """
    from tfgan_stable.metrics.classifier import classify, mnist_classifier

    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != (28, 28, 3):
        raise ValueError(f"`images` must have shape [n, 28, 28, 3] (three stacked digits), got {images.shape}")
    classifier = classifier or mnist_classifier()
    digits = [classify(classifier, images[..., c:c + 1])[1].argmax(axis=1) for c in range(3)]
    modes = 100 * digits[0] + 10 * digits[1] + digits[2]
    counts = np.bincount(modes, minlength=1000)
    p = counts / counts.sum()
    return {"modes": int((counts > 0).sum()), "kl": float(np.sum(p[p > 0] * np.log(1000 * p[p > 0]))),
            "counts": counts}
