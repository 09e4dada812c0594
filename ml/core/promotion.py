"""The promotion rule shared by every model: beat the baselines, stay level with the champion."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """How a model's candidate is judged: on `metric` (higher is better), shown as `label`.

    `margin`: how far below the champion (same window) a candidate may be and still be promoted.
    `baseline_margin`: how far above a baseline it must be. `noise_z` > 0: a baseline it trails by
    no more than `noise_z` standard errors (`<metric>_difference_se`) does not count as a loss.
    `must_beat`: the baselines that count (None: every one but the oracle)."""

    metric: str
    label: str
    margin: float
    baseline_margin: float = 0.0
    noise_z: float = 0.0
    must_beat: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Decision:
    promoted: bool
    status: str  # registry status before promotion: candidate or rejected
    reason: str


def compared_baselines(baselines: dict[str, dict | None], rule: Rule) -> dict[str, dict]:
    """The baselines the rule compares with: evaluated, with the metric, the oracle excluded."""
    return {
        name: metrics
        for name, metrics in baselines.items()
        if name != "oracle"
        and metrics
        and metrics.get(rule.metric) is not None
        and (rule.must_beat is None or name in rule.must_beat)
    }


def baselines_not_beaten(
    candidate: dict, baselines: dict[str, dict | None], rule: Rule
) -> list[str]:
    """Names of the compared baselines the candidate does not exceed by `baseline_margin` (beyond
    `noise_z` standard errors of the difference, when set)."""
    value = candidate[rule.metric]
    return [
        name
        for name, metrics in compared_baselines(baselines, rule).items()
        if value
        <= metrics[rule.metric]
        + rule.baseline_margin
        - rule.noise_z * metrics.get(f"{rule.metric}_difference_se", 0.0)
    ]


def _standing(value: float, compared: dict[str, dict], rule: Rule) -> str:
    ahead = [
        f"{n} {m[rule.metric]:.4f}"
        for n, m in compared.items()
        if value > m[rule.metric] + rule.baseline_margin
    ]
    level = [
        f"{n} {m[rule.metric]:.4f}"
        for n, m in compared.items()
        if value <= m[rule.metric] + rule.baseline_margin
    ]
    return "; ".join(
        ([f"beats {', '.join(ahead)}"] if ahead else [])
        + ([f"is level with {', '.join(level)} (within noise)"] if level else [])
    )


def decide(
    candidate: dict, baselines: dict[str, dict | None], champion: dict | None, rule: Rule
) -> Decision:
    """Promote when the candidate beats every compared baseline and, if there is a champion
    section (`{"metrics": ..., "error": ...}` on the same window), is at most `margin` below it.
    A candidate that loses to a baseline is rejected; one that only trails the champion stays a
    candidate."""
    value = candidate[rule.metric]
    failed = baselines_not_beaten(candidate, baselines, rule)
    if failed:
        detail = ", ".join(f"{n} {baselines[n][rule.metric]:.4f}" for n in failed)
        beyond = f" by more than {rule.noise_z} standard errors" if rule.noise_z else ""
        reason = (
            f"Rejected: {rule.label} {value:.4f} does not beat the baseline(s) {detail}{beyond}."
        )
        return Decision(False, "rejected", _with_champion_error(reason, champion))
    standing = _standing(value, compared_baselines(baselines, rule), rule)
    champion_metrics = (champion or {}).get("metrics")
    if champion_metrics is None:
        first = "first champion" if champion is None else "the champion could not be compared"
        reason = f"Promoted: {first}; {rule.label} {value:.4f} {standing or 'has no baseline to compare'}."
        return Decision(True, "candidate", _with_champion_error(reason, champion))
    best = champion_metrics[rule.metric]
    if value >= best - rule.margin:
        return Decision(
            True,
            "candidate",
            (
                f"Promoted: {rule.label} {value:.4f} vs champion {best:.4f} on the same test window "
                f"(allowed margin {rule.margin}); {standing or 'no baseline to compare'}."
            ),
        )
    return Decision(
        False,
        "candidate",
        (
            f"Kept as candidate: {rule.label} {value:.4f} is more than {rule.margin} below the "
            f"champion's {best:.4f} on the same test window."
        ),
    )


def _with_champion_error(reason: str, champion: dict | None) -> str:
    if champion and champion.get("metrics") is None and champion.get("error"):
        return f"{reason} The champion could not score this window: {champion['error']}"
    return reason
