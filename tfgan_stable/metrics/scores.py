"""Classifier-based scores of generated samples."""
import numpy as np


def inception_score(probs, splits=10):
    """Inception Score (Salimans et al. 2016): IS = exp(E_x KL(p(y|x) ‖ p(y))).

    p(y) is the mean of p(y|x) over the samples of a split; the score is computed on each of `splits`
    equal consecutive parts and their mean and standard deviation are returned. It ranges from 1 (every
    sample gets the same prediction) to the number of classes (confident and evenly spread predictions).
    With the Inception network's logits it is the paper's IS; with another classifier (e.g. the MNIST
    classifier) it is that classifier's score and is not comparable to published IS values.

    Args:
      probs: class probabilities p(y|x), shape [n, classes], rows summing to 1.
      splits: number of parts (each must hold at least one sample).

    Returns:
      (mean, standard deviation) over the splits.
    """
    probs = np.asarray(probs, np.float64)
    if probs.ndim != 2:
        raise ValueError(f"`probs` must have shape [n, classes], got {probs.shape}")
    if np.any(probs < 0) or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("`probs` must be probabilities (non-negative rows summing to 1); apply softmax to logits")
    if isinstance(splits, bool) or not isinstance(splits, (int, np.integer)) or not 1 <= splits <= probs.shape[0]:
        raise ValueError(f"`splits` must be an integer in [1, {probs.shape[0]}] (the number of samples), got {splits!r}")
    scores = []
    for part in np.array_split(probs, splits):
        marginal = part.mean(axis=0, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.where(part > 0, part * (np.log(part) - np.log(marginal)), 0.0).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))
