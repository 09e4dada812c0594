"""A self-contained HTML report per model version (inline SVG charts), stored in the registry."""

from __future__ import annotations

from html import escape
from pathlib import Path

import pandas as pd

from ml.evaluate import BASELINE_LABELS
from ml.monitoring import load_monitoring
from ml.registry import RegisteredModel, get_model, set_report
from ml.svg import bar_chart, line_chart

METRIC_ROWS = (
    ("roc_auc", "ROC AUC", "{:.4f}"),
    ("pr_auc", "PR AUC", "{:.4f}"),
    ("log_loss", "Log loss", "{:.4f}"),
    ("brier", "Brier score", "{:.4f}"),
    ("lift_top10", "Lift, top 10%", "{:.2f}"),
    ("capture_top10", "Purchasers captured, top 10%", "{:.1%}"),
    ("lift_top20", "Lift, top 20%", "{:.2f}"),
    ("capture_top20", "Purchasers captured, top 20%", "{:.1%}"),
    ("base_rate", "Purchase rate (test window)", "{:.2%}"),
    ("mean_predicted", "Mean predicted probability", "{:.2%}"),
    ("calibration_in_the_large", "Mean predicted − purchase rate", "{:+.2%}"),
    ("distinct_scores", "Distinct scores", "{:,}"),
    ("largest_tie_share", "Largest group of equal scores", "{:.1%}"),
    ("tied_decile_boundaries", "Decile boundaries inside a tie (of 9)", "{:,}"),
    ("rows", "Users × as-of dates", "{:,}"),
)
STYLE = """
body{font-family:sans-serif;margin:24px;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:8px 0 20px}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;font-size:13px}
th{background:#f3f3f3} td:first-child,th:first-child{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:16px}
.verdict{padding:10px;border-left:4px solid #1f77b4;background:#f5f9ff}
.warn{background:#fff4d6}.fail{background:#ffd9d9}
"""


def _fmt(value, pattern: str) -> str:
    if value is None:
        return "–"
    try:
        return pattern.format(value)
    except (TypeError, ValueError):
        return escape(str(value))


def _table(header: list[str], rows: list[list[str]], row_classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _compared(metrics: dict) -> dict[str, dict]:
    """Model, champion (same window) and baselines, in display order."""
    out = {"this model": metrics.get("model") or {}}
    champion = metrics.get("champion") or {}
    if champion.get("metrics"):
        out[f"champion {champion.get('model_version')}"] = champion["metrics"]
    baselines = metrics.get("baselines") or {}
    for name, label in BASELINE_LABELS.items():
        if (baselines.get(name) or {}).get("roc_auc") is not None:
            out[label] = baselines[name]
    return out


def _differences_section(metrics: dict) -> str:
    """The model's AUC minus each baseline's, with the standard error the promotion rule uses."""
    auc = (metrics.get("model") or {}).get("roc_auc")
    rows = []
    for name, label in BASELINE_LABELS.items():
        baseline = (metrics.get("baselines") or {}).get(name) or {}
        if auc is None or baseline.get("roc_auc") is None or name == "oracle":
            continue
        diff = auc - baseline["roc_auc"]
        se = baseline.get("roc_auc_difference_se")
        rows.append(
            [
                escape(label),
                f"{baseline['roc_auc']:.4f}",
                f"{diff:+.4f}",
                _fmt(se, "{:.4f}"),
                _fmt(diff / se if se else None, "{:+.2f}"),
            ]
        )
    if not rows:
        return ""
    header = ["baseline", "AUC", "model − baseline", "standard error (DeLong)", "in SEs"]
    return "<h2>Model against each baseline (test window)</h2>" + _table(header, rows)


def _bgnbd_section(metrics: dict) -> str:
    baseline = (metrics.get("baselines") or {}).get("bgnbd")
    if not baseline:
        return ""
    if baseline.get("unavailable"):
        return (
            "<h2>BG/NBD</h2><p>No BG/NBD baseline or feature for this version: "
            f"{escape(baseline['unavailable'])}.</p>"
        )
    fit = baseline.get("fit") or {}
    params = fit.get("params") or {}
    text = (
        f"<p>Fitted by maximum likelihood on the {fit.get('customers', 0):,} purchasers of "
        f"{escape(str(fit.get('fitted_on')))}, the last training date, in "
        f"{_fmt(fit.get('seconds'), '{:.2f}')} s: r = {_fmt(params.get('r'), '{:.4g}')}, "
        f"alpha = {_fmt(params.get('alpha'), '{:.4g}')} days, a = "
        f"{_fmt(params.get('a'), '{:.4g}')}, b = {_fmt(params.get('b'), '{:.4g}')}. Its score "
        f"is the expected number of purchase days in the {fit.get('horizon_days')}-day "
        f"horizon (mean on the test window {_fmt(baseline.get('mean_expected_purchases'), '{:.3f}')}"
        ").</p>"
    )
    spend = fit.get("gamma_gamma")
    if spend:
        text += (
            f"<p>Gamma-Gamma spend per purchase: p = {spend['p']:.4g}, q = {spend['q']:.4g}, "
            f"v = {spend['v']:.4g}."
        )
        evaluated = baseline.get("spend")
        if evaluated:
            text += (
                f" Expected revenue in the horizon on the test window "
                f"{evaluated['expected_revenue']:,.0f} against "
                f"{evaluated['observed_revenue']:,.0f} observed (Spearman "
                f"{evaluated['spearman']:.3f} per user)."
            )
        text += "</p>"
    elif fit.get("gamma_gamma_error"):
        text += f"<p>No Gamma-Gamma fit: {escape(fit['gamma_gamma_error'])}.</p>"
    return "<h2>BG/NBD</h2>" + text


def _metrics_section(metrics: dict) -> str:
    compared = _compared(metrics)
    rows = [
        [escape(label)] + [_fmt(m.get(key), pattern) for m in compared.values()]
        for key, label, pattern in METRIC_ROWS
    ]
    ratios = metrics.get("oracle_ratios") or {}
    text = ""
    if ratios.get("auc_ratio_to_oracle") is not None:
        text = (
            f"<p>Model AUC is {ratios['auc_ratio_to_oracle']:.1%} of the simulator oracle's AUC "
            f"({_fmt(ratios.get('auc_lift_ratio_to_oracle'), '{:.1%}')} of its lift above "
            "chance).</p>"
        )
    return "<h2>Test window metrics</h2>" + _table(["metric", *compared], rows) + text


def _charts_section(metrics: dict) -> str:
    compared = _compared(metrics)
    roc = [
        (label, m["roc_curve"]["fpr"], m["roc_curve"]["tpr"])
        for label, m in compared.items()
        if m.get("roc_curve")
    ]
    gains = [
        (label, m["gains_curve"]["share"], m["gains_curve"]["captured"])
        for label, m in compared.items()
        if m.get("gains_curve")
    ]
    model = metrics.get("model") or {}
    curve = model.get("calibration_curve") or []
    charts = [
        line_chart(
            roc,
            title="ROC curve",
            x_label="false positive rate",
            y_label="true positive rate",
            diagonal=True,
            y_range=(0, 1),
        ),
        line_chart(
            gains,
            title="Cumulative gains",
            x_label="share of users contacted",
            y_label="share of purchasers reached",
            diagonal=True,
            y_range=(0, 1),
        ),
    ]
    if curve:
        hi = max(max(c["mean_predicted"], c["observed_rate"]) for c in curve) * 1.05
        charts.append(
            line_chart(
                [
                    (
                        "model",
                        [c["mean_predicted"] for c in curve],
                        [c["observed_rate"] for c in curve],
                    )
                ],
                title="Calibration",
                x_label="mean predicted probability",
                y_label="observed purchase rate",
                x_range=(0, hi),
                y_range=(0, hi),
                diagonal=True,
            )
        )
    deciles = model.get("deciles") or []
    if deciles:
        charts.append(
            bar_chart(
                [f"decile {d['decile']}" for d in deciles],
                [d["purchase_rate"] for d in deciles],
                title="Purchase rate per decile",
                x_label="purchase rate in the label horizon",
            )
        )
    return "<h2>Charts</h2><div class='charts'>" + "".join(charts) + "</div>"


def _deciles_section(metrics: dict) -> str:
    deciles = (metrics.get("model") or {}).get("deciles") or []
    rows = [
        [
            str(d["decile"]),
            f"{d['users']:,}",
            f"{d['purchasers']:,}",
            f"{d['purchase_rate']:.2%}",
            f"{d['mean_score']:.4f}",
        ]
        for d in deciles
    ]
    header = ["decile (10 = highest)", "users", "purchasers", "purchase rate", "mean probability"]
    return "<h2>Deciles (test window)</h2>" + _table(header, rows)


def _features_section(metrics: dict, features: dict) -> str:
    top = (metrics.get("feature_importance") or [])[:20]
    chart = bar_chart(
        [item["feature"] for item in top],
        [item["gain"] for item in top],
        title="Feature importance (top 20)",
        x_label="total gain",
    )
    dropped = features.get("dropped") or {}
    dropped_html = ""
    if dropped:
        dropped_html = (
            "<p>Not used: "
            + ", ".join(f"{escape(k)} ({escape(v)})" for k, v in sorted(dropped.items()))
            + "</p>"
        )
    used = ", ".join(escape(f) for f in features.get("features", []))
    return (
        "<h2>Features</h2>"
        + chart
        + f"<p>Used ({len(features.get('features', []))}): {used}</p>"
        + dropped_html
    )


def _drift_section(monitoring: pd.DataFrame | None) -> str:
    if monitoring is None or monitoring.empty:
        return "<h2>Drift and realized performance</h2><p>No scoring run monitored yet.</p>"
    latest = monitoring.sort_values("metric_date").groupby("metric").tail(1)
    severity = latest["status"].map({"fail": 0, "warn": 1, "ok": 2})
    latest = latest.assign(severity=severity).sort_values(["severity", "metric"])
    rows = [
        [
            escape(r.metric),
            str(r.metric_date),
            _fmt(r.value, "{:.4f}"),
            escape(r.status),
            _fmt(r.warn_threshold, "{:g}"),
            _fmt(r.fail_threshold, "{:g}"),
        ]
        for r in latest.itertuples(index=False)
    ]
    classes = [r.status if r.status != "ok" else "" for r in latest.itertuples(index=False)]
    header = ["metric", "date", "value", "status", "warn at", "fail at"]
    return "<h2>Drift and realized performance (latest)</h2>" + _table(header, rows, classes)


def _sample_note(metrics: dict) -> str:
    sample = metrics.get("training_sample")
    if not sample:
        return ""
    return (
        f"<p>Trained on a fixed sample of {sample['fraction']:.1%} of the users of its "
        f"{sample['dates']} training dates (windows.max_train_rows; every date of a sampled "
        "user is kept, the evaluation windows are not sampled).</p>"
    )


def render_report(record: RegisteredModel, monitoring: pd.DataFrame | None = None) -> str:
    """The full HTML page for one registered version."""
    m = record.metrics
    windows = record.windows
    window_rows = [
        [
            name,
            windows[name]["start"],
            windows[name]["end"],
            str(len(windows[name]["dates"])),
            f"{(m.get('rows') or {}).get(name, 0):,}",
            f"{(m.get('positives') or {}).get(name, 0):,}",
        ]
        for name in ("train", "validation", "calibration", "test")
    ]
    title = f"{record.model_name} {record.model_version}"
    header = (
        f"<h1>Purchase propensity model {escape(title)}</h1>"
        f"<p>Status <b>{escape(record.status)}</b> · trained {record.trained_at:%Y-%m-%d %H:%M} "
        f"UTC on data before {record.training_cutoff} · label: at least one order within "
        f"{record.label_horizon_days} days of the as-of date · best iteration "
        f"{m.get('best_iteration')}</p>"
        + _sample_note(m)
        + f"<p class='verdict'>{escape(record.verdict or '')}<br>"
        f"{escape(record.decision_reason or '')}</p>"
        "<h2>Time windows (as-of dates)</h2>"
        + _table(["window", "first", "last", "dates", "rows", "purchasers"], window_rows)
    )
    body = (
        header
        + _metrics_section(m)
        + _differences_section(m)
        + _bgnbd_section(m)
        + _charts_section(m)
        + _deciles_section(m)
        + _features_section(m, record.features)
        + _drift_section(monitoring)
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def build_report(conn, model_name: str, model_version: str) -> str:
    """Render the report of a registered version with its monitoring and store it."""
    record = get_model(conn, model_name, model_version, with_artifact=False)
    html = render_report(record, load_monitoring(conn, model_name, model_version))
    set_report(conn, model_name, model_version, html)
    return html


def write_report(conn, model_name: str, model_version: str, path: str | Path) -> Path:
    """Refresh the stored report and write it to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build_report(conn, model_name, model_version), encoding="utf-8")
    return path
