"""The benchmarks' shared configuration parsing (benchmarks/_common.py)."""
import sys
import os

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks"))
import _common  # noqa: E402


def test_config_items_split_into_techniques_family_options_and_settings():
    techniques, family_kwargs, settings = _common.parse_config(
        "R1(gamma=2.0)+real_label=0.9+d_learning_rate=0.0004+lr_decay_to=0.0")
    assert [type(t).__name__ for t in techniques] == ["R1"] and techniques[0].gamma == 2.0
    assert family_kwargs == {"real_label": 0.9}
    assert settings == {"d_learning_rate": 0.0004, "lr_decay_to": 0.0}


def test_adam_rate_follows_ttur_and_the_linear_decay():
    optimizer = _common.adam({"g_learning_rate": 1e-3, "lr_decay_to": 0.25}, "g", 2e-4, updates=100)
    schedule = optimizer.learning_rate if callable(optimizer.learning_rate) else optimizer._learning_rate
    # η_t = η − (1 − f)·η·t / updates with η = 1e-3, f = 0.25
    for t in (0, 40, 100, 150):
        assert float(schedule(t)) == pytest.approx(1e-3 - 0.75e-3 * min(t, 100) / 100, rel=1e-6)
    assert float(_common.adam({"d_learning_rate": 4e-4}, "g", 2e-4, updates=10).learning_rate) == pytest.approx(2e-4)


@pytest.mark.parametrize("family", ["wgan", "wgan_gp"])
def test_rate_settings_are_refused_for_the_families_with_paper_optimizers(family):
    with pytest.raises(ValueError, match="d_learning_rate.*only to Adam-trained"):
        _common.train_dcgan(family, None, (28, 28, 1), steps=1, seed=0, config="d_learning_rate=0.001")


def test_unknown_technique_is_named():
    with pytest.raises(ValueError, match="unknown technique 'Nope'"):
        _common.parse_config("Nope(x=1)")
