"""Raking: checked against an independent implementation, margins, the cap and honest failure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import weightipy

from services.surveys.weighting import WeightingError, kish, rake

MARGINS = {"age_band": [120.0, 180.0, 260.0, 240.0, 200.0],
           "gender": [510.0, 490.0],
           "ethnicity": [700.0, 120.0, 90.0, 60.0, 30.0]}


def skewed_sample(size: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Respondents who over-represent the old, women and the majority group, as panels do."""
    rng = np.random.default_rng(seed)
    return {"age_band": rng.choice(5, size, p=[0.05, 0.10, 0.20, 0.30, 0.35]),
            "gender": rng.choice(2, size, p=[0.62, 0.38]),
            "ethnicity": rng.choice(5, size, p=[0.82, 0.07, 0.05, 0.04, 0.02])}


def weightipy_weights(codes: dict[str, np.ndarray]) -> np.ndarray:
    scheme = weightipy.Rim("check", max_iterations=10_000, convcrit=1e-15)
    scheme.set_targets(targets=[
        {dimension: {k: 100.0 * v / sum(values) for k, v in enumerate(values)}}
        for dimension, values in MARGINS.items()])
    weighted = weightipy.weight_dataframe(pd.DataFrame(codes), scheme, weight_column="w")
    weights = weighted["w"].to_numpy()
    return weights / weights.mean()


def weighted_shares(codes, weights, dimension) -> np.ndarray:
    reached = np.bincount(codes[dimension], weights=weights, minlength=len(MARGINS[dimension]))
    return reached / reached.sum()


def test_weights_match_weightipy_to_1e_9():
    codes = skewed_sample(3000)
    ours = rake(codes, MARGINS, cap=None, tolerance=1e-13)
    assert ours.converged
    assert np.max(np.abs(ours.weights - weightipy_weights(codes))) < 1e-9


def test_raked_weights_hit_every_margin_within_the_cap():
    codes = skewed_sample(5000)
    result = rake(codes, MARGINS)  # default: cap 5 x the mean, tolerance 1e-6
    assert result.converged and result.failing == [] and result.advice is None
    for dimension, targets in MARGINS.items():
        expected = np.array(targets) / sum(targets)
        np.testing.assert_allclose(weighted_shares(codes, result.weights, dimension), expected,
                                   rtol=1e-6)
    assert result.weights.mean() == pytest.approx(1.0)
    assert result.max_weight <= 5.0 + 1e-9
    assert result.min_weight == pytest.approx(result.weights.min())


def test_an_infeasible_cap_is_reported_naming_the_margin_that_fails():
    rng = np.random.default_rng(3)
    # Men are 3% of respondents but half the population: they need weights near 17.
    codes = {"gender": (rng.random(2000) < 0.03).astype(int),
             "age_band": rng.choice(5, 2000)}
    result = rake(codes, {"gender": [50, 50], "age_band": MARGINS["age_band"]},
                  labels={"gender": ["female", "male"]}, cap=5.0)
    assert not result.converged
    assert result.iterations == 1000
    assert result.max_relative_error > 0.5
    worst = result.failing[0]
    assert (worst.dimension, worst.category) in {("gender", "male"), ("gender", "female")}
    assert "gender = " in result.advice and "raise the cap" in result.advice
    assert "collapse" in result.advice
    assert result.max_weight <= 5.0 * 1.0001


def test_a_category_without_respondents_is_reported_with_advice_to_collapse():
    codes = {"ethnicity": np.array([0, 0, 1, 1, 2, 3] * 20)}
    result = rake(codes, {"ethnicity": MARGINS["ethnicity"]},
                  labels={"ethnicity": ["white", "asian", "black", "mixed", "other"]})
    assert not result.converged
    assert result.failing[0].category == "other" and result.failing[0].achieved_share == 0
    assert "No respondent is in ethnicity = other" in result.advice


def test_design_effect_and_effective_sample_size_follow_kish():
    # Kish (1965), Survey Sampling, 11.7: deff = n * sum(w^2) / (sum w)^2 = 1 + CV^2.
    weights = np.array([1.0] * 50 + [3.0] * 50)
    deff, effective = kish(weights)
    assert deff == pytest.approx(100 * (50 + 450) / 200**2)  # 1.25
    assert effective == pytest.approx(80.0)
    result = rake(skewed_sample(2000), MARGINS)
    assert result.design_effect == pytest.approx(kish(result.weights)[0])
    assert result.effective_sample_size == pytest.approx(2000 / result.design_effect)


def test_a_code_outside_its_margin_is_refused():
    with pytest.raises(WeightingError, match="gender"):
        rake({"gender": np.array([0, 1, 2])}, {"gender": [1, 1]})


def test_respondents_in_a_category_the_margin_lacks_are_left_out_of_that_margin_only():
    rng = np.random.default_rng(11)
    codes = skewed_sample(2000)
    # 40 respondents of another gender (code 2): the census margin has women and men only.
    codes["gender"][rng.choice(2000, 40, replace=False)] = 2
    margins = {**MARGINS, "gender": [510.0, 490.0, 0.0]}
    result = rake(codes, margins, labels={"gender": ["female", "male", "other"]})
    assert result.converged and result.advice is None
    [outside] = result.outside
    assert (outside.dimension, outside.category, outside.respondents) == ("gender", "other", 40)
    assert result.summary()["outside_margins"] == [
        {"dimension": "gender", "category": "other", "respondents": 40}]
    inside = codes["gender"] != 2
    women = result.weights[inside & (codes["gender"] == 0)].sum()
    assert women / result.weights[inside].sum() == pytest.approx(0.51, rel=1e-6)
    # The other margins hold over everyone, those outside the gender margin included.
    for dimension in ("age_band", "ethnicity"):
        expected = np.array(MARGINS[dimension]) / sum(MARGINS[dimension])
        np.testing.assert_allclose(weighted_shares(codes, result.weights, dimension), expected,
                                   rtol=1e-6)
    assert (result.weights[~inside] > 0).all()
