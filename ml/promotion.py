"""The rule every ML job follows before its model reaches a system: beat the best baseline clearly.

A model is measured out of time beside its baselines on the same units (customers for churn
and recommendations, products for demand). It *wins* only if it is better than the best
baseline by more than the uncertainty of that difference; otherwise the best baseline itself
is what the job ships that night (BG/NBD scores churn, AutoETS forecasts demand, personal
frequency recommends products), and the run records which won and by how much. A job may name
the baselines it prefers to ship (`preferred`): the model is still measured against the best of
all of them, but when it loses, the best preferred baseline ships unless another beats it as the
model must, by more than its uncertainty (churn prefers BG/NBD's scores to recency, one of the
three numbers BG/NBD's model of the same purchases reads).

The uncertainty is measured with a paired bootstrap over the units: the same resamples score
the model and every baseline, so what they share (an easy week, a hard customer) cancels out.
`UNCERTAINTY_Z` standard errors of the difference is the bar: 1.645, a one-sided 95% bound, so a
model that is truly no better than the baseline passes about one time in twenty.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

BOOTSTRAP_SAMPLES = 200
BOOTSTRAP_SEED = 20_260_101
UNCERTAINTY_Z = 1.645
MODEL = "model"


@dataclass(frozen=True)
class GateResult:
    """What a model's out-of-time evaluation says against its baselines."""

    metric: str
    higher_is_better: bool
    model: float
    best_baseline: str
    baseline: float
    margin: float  # how much better the model is than the best baseline (negative: worse)
    uncertainty: float  # UNCERTAINTY_Z bootstrap standard errors of that margin
    units: int  # customers, products or users the evaluation counted
    challenger: str = MODEL  # what is measured against the baselines, in words
    fallback: str = ""  # the baseline that ships if the model loses (empty, as in older runs: the best one)

    @property
    def model_wins(self) -> bool:
        return self.margin > self.uncertainty

    @property
    def winner(self) -> str:
        """`model`, or the name of the baseline that ships instead."""
        return MODEL if self.model_wins else self.fallback or self.best_baseline

    def as_dict(self) -> dict[str, float | str | bool | int | None]:
        """JSON-ready (an unmeasurable uncertainty, infinite here, is None there)."""
        values = {**asdict(self), "model_wins": self.model_wins, "winner": self.winner}
        return {key: None if isinstance(value, float) and not math.isfinite(value) else value
                for key, value in values.items()}

    def sentence(self) -> str:
        """One line for a log, a run summary or the model-runs table."""
        versus = (f"{self.metric} {self.model:.3f} against {self.best_baseline} {self.baseline:.3f} "
                  f"(margin {self.margin:+.3f}, uncertainty ±{self.uncertainty:.3f}, {self.units} units)")
        if self.model_wins:
            return f"{self.challenger} wins: {versus}"
        if self.winner != self.best_baseline:
            return (f"{self.winner} ships, {self.challenger} did not beat the best baseline by more than its "
                    f"uncertainty, nor did {self.best_baseline} beat {self.winner} by more than its own: {versus}")
        return f"{self.best_baseline} wins, {self.challenger} did not beat it by more than its uncertainty: {versus}"


def bootstrap_indices(units: int, samples: int = BOOTSTRAP_SAMPLES, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """`samples` resamples (with replacement) of `units` row numbers, shape (samples, units)."""
    return np.random.default_rng(seed).integers(0, units, size=(samples, units))


def gate(
    metric: str,
    model: float,
    baselines: dict[str, float],
    resampled: Callable[[str, np.ndarray], float],
    units: int,
    *,
    higher_is_better: bool = True,
    samples: int = BOOTSTRAP_SAMPLES,
    challenger: str = MODEL,
    preferred: tuple[str, ...] | None = None,
) -> GateResult:
    """Compare `model` with the best of `baselines` on `metric`.

    `resampled(name, rows)` recomputes the metric of `name` (`MODEL` or a baseline) on the
    evaluation units `rows` (one bootstrap resample); it is called with the same resamples for
    the model and the best baseline. `preferred` (default: every baseline) are the baselines that
    ship in the model's place unless another beats the best of them as the model must, by more
    than its uncertainty; the result's `fallback` is the one that ships.
    """
    if not baselines:
        raise ValueError("a model is only measured against baselines: none were given")
    candidates = [name for name in baselines if preferred is None or name in preferred]
    if not candidates:
        raise ValueError(f"none of the preferred baselines {preferred} is among the baselines {sorted(baselines)}")
    sign = 1.0 if higher_is_better else -1.0

    def best_of(names):
        return max(names, key=lambda name: (sign * baselines[name], name))

    best, fallback = best_of(baselines), best_of(candidates)
    margin = sign * (model - baselines[best])
    if units < 2:
        return GateResult(metric, higher_is_better, model, best, baselines[best], margin, float("inf"), units,
                          challenger, fallback)
    resamples = bootstrap_indices(units, samples)

    def uncertainty(first: str, second: str) -> float:
        """UNCERTAINTY_Z standard errors of `first`'s advantage over `second` across the resamples."""
        differences = [sign * (resampled(first, rows) - resampled(second, rows)) for rows in resamples]
        finite = np.asarray([value for value in differences if np.isfinite(value)])
        return UNCERTAINTY_Z * float(finite.std(ddof=1)) if len(finite) > 1 else float("inf")

    if fallback != best and sign * (baselines[best] - baselines[fallback]) > uncertainty(best, fallback):
        fallback = best
    return GateResult(metric, higher_is_better, model, best, baselines[best], margin, uncertainty(MODEL, best), units,
                      challenger, fallback)
