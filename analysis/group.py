"""Group statistics: drug vs vehicle comparisons with effect sizes, and the predictor analysis.

Comparison design is chosen from the data: when subjects appear in both conditions the test is
paired on those subjects (paired t-test and Wilcoxon signed-rank; effect size Cohen's dz = mean
difference / SD of differences); otherwise the groups are independent (Welch t-test and
Mann-Whitney U; effect size Hedges' g). The confidence interval of the difference (drug minus
control) is a percentile bootstrap (pairs resampled when paired, each group resampled otherwise).

Predictor analysis (Hauglund 2025): the clearance metric regressed on each candidate predictor
alone (ordinary least squares); predictors ranked by R^2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ConditionComparison",
    "PredictorFit",
    "compare_conditions",
    "flatten_metrics",
    "hedges_g",
    "rank_predictors",
]


@dataclass(frozen=True)
class ConditionComparison:
    """One metric compared between a control and a treatment condition.

    Attributes
    ----------
    metric : str
    control, treatment : str
        Condition names.
    design : str
        ``"paired"`` or ``"independent"``.
    n_control, n_treatment : int
        Sessions (independent) or pairs (paired, both equal).
    mean_control, mean_treatment : float
    difference : float
        Treatment minus control (mean of paired differences when paired).
    ci_low, ci_high : float
        Bootstrap confidence interval of ``difference``.
    test : str
        Parametric test used.
    statistic, p_value : float
        Its result.
    rank_test : str
        Non-parametric test used.
    rank_p_value : float
    effect_size_name : str
        ``"cohen_dz"`` or ``"hedges_g"``.
    effect_size : float
    """

    metric: str
    control: str
    treatment: str
    design: str
    n_control: int
    n_treatment: int
    mean_control: float
    mean_treatment: float
    difference: float
    ci_low: float
    ci_high: float
    test: str
    statistic: float
    p_value: float
    rank_test: str
    rank_p_value: float
    effect_size_name: str
    effect_size: float


@dataclass(frozen=True)
class PredictorFit:
    """Single-predictor least-squares fit of the outcome.

    Attributes
    ----------
    predictor : str
    n : int
    r_squared, slope, intercept, p_value : float
    rank : int
        1 = best (highest R^2).
    """

    predictor: str
    n: int
    r_squared: float
    slope: float
    intercept: float
    p_value: float
    rank: int


def hedges_g(*, control: NDArray[np.floating], treatment: NDArray[np.floating]) -> float:
    """Hedges' g (bias-corrected standardised mean difference, treatment minus control).

    Parameters
    ----------
    control, treatment : ndarray

    Returns
    -------
    float
    """
    a = np.asarray(control, dtype=np.float64)
    b = np.asarray(treatment, dtype=np.float64)
    n1, n2 = a.size, b.size
    if n1 < 2 or n2 < 2:
        return float("nan")
    pooled = math.sqrt(((n1 - 1) * a.var(ddof=1) + (n2 - 1) * b.var(ddof=1)) / (n1 + n2 - 2))
    if pooled == 0:
        return float("nan")
    correction = 1.0 - 3.0 / (4.0 * (n1 + n2) - 9.0)
    return float((b.mean() - a.mean()) / pooled * correction)


def _bootstrap_ci(
    *,
    control: NDArray[np.float64],
    treatment: NDArray[np.float64],
    paired: bool,
    n_bootstrap: int,
    confidence: float,
    seed: int,
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    if paired:
        differences = treatment - control
        picks = rng.integers(0, differences.size, size=(n_bootstrap, differences.size))
        samples = differences[picks].mean(axis=1)
    else:
        a = control[rng.integers(0, control.size, size=(n_bootstrap, control.size))].mean(axis=1)
        b = treatment[rng.integers(0, treatment.size, size=(n_bootstrap, treatment.size))].mean(axis=1)
        samples = b - a
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(samples, [alpha, 1.0 - alpha])
    return float(low), float(high)


def compare_conditions(
    *,
    rows: Sequence[Mapping[str, Any]],
    metric: str,
    control: str,
    treatment: str,
    n_bootstrap: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> ConditionComparison | None:
    """Compare one metric between two conditions across sessions.

    Parameters
    ----------
    rows : sequence of mapping
        One per session, with ``"subject"``, ``"condition"`` and the metric.
    metric : str
        Column compared.
    control, treatment : str
        Condition names.
    n_bootstrap, confidence, seed
        Bootstrap settings.

    Returns
    -------
    ConditionComparison or None
        None when either condition has fewer than 2 finite values (or fewer than 2 pairs).
    """
    from scipy import stats  # imported here: the statistics library takes most of a second to load

    def finite(row: Mapping[str, Any]) -> bool:
        value = row.get(metric)
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

    by_condition: dict[str, dict[str, list[float]]] = {control: {}, treatment: {}}
    for row in rows:
        if row.get("condition") in by_condition and finite(row):
            by_condition[row["condition"]].setdefault(str(row.get("subject")), []).append(float(row[metric]))
    shared = sorted(set(by_condition[control]) & set(by_condition[treatment]))
    paired = len(shared) >= 2
    if paired:
        a = np.array([np.mean(by_condition[control][s]) for s in shared])
        b = np.array([np.mean(by_condition[treatment][s]) for s in shared])
        differences = b - a
        t = stats.ttest_rel(b, a)
        try:
            rank_p = float(stats.wilcoxon(differences).pvalue) if np.any(differences != 0) else 1.0
        except ValueError:
            rank_p = float("nan")
        sd = differences.std(ddof=1)
        effect = float(differences.mean() / sd) if sd > 0 else float("nan")
        test, rank_test, effect_name, design = "paired t-test", "Wilcoxon signed-rank", "cohen_dz", "paired"
    else:
        a = np.array([v for values in by_condition[control].values() for v in values])
        b = np.array([v for values in by_condition[treatment].values() for v in values])
        if a.size < 2 or b.size < 2:
            return None
        t = stats.ttest_ind(b, a, equal_var=False)
        rank_p = float(stats.mannwhitneyu(b, a, alternative="two-sided").pvalue)
        effect = hedges_g(control=a, treatment=b)
        test, rank_test, effect_name, design = "Welch t-test", "Mann-Whitney U", "hedges_g", "independent"
    low, high = _bootstrap_ci(
        control=a, treatment=b, paired=paired, n_bootstrap=n_bootstrap, confidence=confidence, seed=seed
    )
    return ConditionComparison(
        metric=metric,
        control=control,
        treatment=treatment,
        design=design,
        n_control=int(a.size),
        n_treatment=int(b.size),
        mean_control=float(a.mean()),
        mean_treatment=float(b.mean()),
        difference=float(b.mean() - a.mean()),
        ci_low=low,
        ci_high=high,
        test=test,
        statistic=float(t.statistic),
        p_value=float(t.pvalue),
        rank_test=rank_test,
        rank_p_value=rank_p,
        effect_size_name=effect_name,
        effect_size=effect,
    )


def rank_predictors(
    *, outcome: NDArray[np.floating], predictors: Mapping[str, NDArray[np.floating]]
) -> list[PredictorFit]:
    """Regress the outcome on each predictor alone; rank by R^2 (best first).

    Sessions where the outcome or that predictor is not finite are left out of that fit.

    Parameters
    ----------
    outcome : ndarray
        Clearance metric per session.
    predictors : mapping of str to ndarray
        Candidate predictors per session (same order).

    Returns
    -------
    list of PredictorFit
        Predictors with fewer than 3 usable sessions or no variance get NaN and rank last.
    """
    from scipy import stats  # imported here: the statistics library takes most of a second to load

    outcome = np.asarray(outcome, dtype=np.float64)
    fits = []
    for name, values in predictors.items():
        x = np.asarray(values, dtype=np.float64)
        usable = np.isfinite(x) & np.isfinite(outcome)
        if usable.sum() >= 3 and np.ptp(x[usable]) > 0:
            result = stats.linregress(x[usable], outcome[usable])
            fit = (result.rvalue**2, result.slope, result.intercept, result.pvalue)
            fits.append((name, int(usable.sum()), *fit))
        else:
            nan = float("nan")
            fits.append((name, int(usable.sum()), nan, nan, nan, nan))
    order = sorted(fits, key=lambda fit: -fit[2] if np.isfinite(fit[2]) else np.inf)
    return [
        PredictorFit(name, n, float(r2), float(slope), float(intercept), float(p), rank)
        for rank, (name, n, r2, slope, intercept, p) in enumerate(order, start=1)
    ]


def flatten_metrics(*, metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float | str | None]:
    """Flatten nested metrics to dotted keys, keeping scalars only (lists and arrays are dropped).

    Parameters
    ----------
    metrics : mapping
        Nested metrics (``metrics.json`` ``"metrics"`` section).
    prefix : str
        Key prefix.

    Returns
    -------
    dict
    """
    flat: dict[str, float | str | None] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_metrics(metrics=value, prefix=f"{name}."))
        elif isinstance(value, bool):
            flat[name] = float(value)
        elif isinstance(value, (int, float)) or value is None:
            flat[name] = value
        elif isinstance(value, str):
            flat[name] = value
    return flat
