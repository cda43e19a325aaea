"""FID, KID, IS and mode coverage against closed forms, scipy and hand computations."""
import numpy as np
import pytest
import scipy.linalg

from tfgan_stable import metrics


def random_spd(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_frechet_distance_closed_form_for_diagonal_covariances():
    rng = np.random.RandomState(0)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    a, b = rng.uniform(0.1, 3, 6), rng.uniform(0.1, 3, 6)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert metrics.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-12)
    sigma = random_spd(rng, 6)
    assert abs(metrics.frechet_distance(mu1, sigma, mu1, sigma)) < 1e-10


def test_frechet_distance_agrees_with_scipy_sqrtm():
    rng = np.random.RandomState(1)
    for d in (2, 16, 64):
        mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
        s1, s2 = random_spd(rng, d), random_spd(rng, d)
        covmean = scipy.linalg.sqrtm(s1 @ s2).real
        reference = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)
        assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(reference, abs=1e-6)


def test_running_statistics_equal_the_batch_statistics():
    x = np.random.RandomState(2).normal(size=(1000, 5)) * [1, 2, 3, 4, 5] + 7
    stats = metrics.RunningStatistics()
    for chunk in np.array_split(x, 7):
        stats.update(chunk)
    np.testing.assert_allclose(stats.mean, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(stats.covariance, np.cov(x, rowvar=False), rtol=1e-9)
    assert metrics.frechet_distance_of(x, x) == pytest.approx(0.0, abs=1e-9)


def test_kid_equals_a_hand_computation_on_one_subset():
    rng = np.random.RandomState(3)
    x, y = rng.normal(size=(6, 3)), rng.normal(1.0, 1.0, size=(6, 3))
    k = lambda a, b: (a @ b / 3 + 1) ** 3  # noqa: E731
    m = 6
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / m ** 2
    mean, std = metrics.kernel_inception_distance(x, y, num_subsets=3, subset_size=6)
    assert mean == pytest.approx(xx + yy - 2 * xy, rel=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_kid_is_unbiased_on_one_distribution_and_positive_between_two():
    rng = np.random.RandomState(4)
    x, y = rng.normal(size=(2000, 8)), rng.normal(size=(2000, 8))
    mean, std = metrics.kernel_inception_distance(x, y, num_subsets=50, subset_size=200)
    # Same law: the mean over 50 subsets is 0 up to its standard error (subsets overlap, so allow 4 SE).
    assert abs(mean) < 4 * std / np.sqrt(50)
    shifted, _ = metrics.kernel_inception_distance(x, y + 0.5, num_subsets=50, subset_size=200)
    assert shifted > 20 * std / np.sqrt(50)


def test_inception_score_by_hand():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5], [0.6, 0.4]])
    marginal = probs.mean(0)
    kl = np.sum(probs * np.log(probs / marginal), axis=1)
    mean, std = metrics.inception_score(probs, splits=1)
    assert mean == pytest.approx(np.exp(kl.mean()), rel=1e-12) and std == 0.0
    assert metrics.inception_score(np.eye(10)[np.arange(100) % 10], splits=2)[0] == pytest.approx(10.0)
    assert metrics.inception_score(np.full((50, 10), 0.1), splits=5)[0] == pytest.approx(1.0)


def grid_mixture(n, rng, modes=None):
    centers = np.array([(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)], np.float64)
    k = rng.randint(0, 25, n) if modes is None else np.full(n, modes)
    return centers, centers[k] + 0.05 * rng.normal(size=(n, 2))


def test_mode_coverage_on_the_true_mixture_and_on_one_mode():
    rng = np.random.RandomState(5)
    centers, samples = grid_mixture(2500, rng)
    result = metrics.mode_coverage(samples, centers, std=0.05)
    ceiling = 1 - np.exp(-4.5)  # mass of a 2-D Gaussian within 3σ
    assert result["modes"] == 25
    # binomial standard error at n = 2500 is 0.0021; 5 of them cannot flake with this fixed seed
    assert abs(result["high_quality"] - ceiling) < 5 * np.sqrt(ceiling * (1 - ceiling) / 2500)
    assert result["reverse_kl"] < 0.05
    _, collapsed = grid_mixture(2500, rng, modes=7)
    single = metrics.mode_coverage(collapsed, centers, std=0.05)
    assert single["modes"] == 1 and single["reverse_kl"] == pytest.approx(np.log(25))


@pytest.mark.parametrize("call, match", [
    (lambda: metrics.frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4)), "dimensions differ"),
    (lambda: metrics.frechet_distance(np.zeros(3), np.eye(2), np.zeros(3), np.eye(3)), "sigma1"),
    (lambda: metrics.RunningStatistics().update(np.zeros((3, 8))).covariance, "more than 8 samples"),
    (lambda: metrics.kernel_inception_distance(np.zeros((5, 3)), np.zeros((5, 4))), "dimensions differ"),
    (lambda: metrics.inception_score(np.full((4, 3), 2.0)), "probabilities"),
    (lambda: metrics.mode_coverage(np.zeros((4, 3)), np.zeros((2, 2)), 0.1), "samples"),
])
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()
