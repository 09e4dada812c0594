"""The coupon uplift model's HTML report (Qini curves, learners, baselines, policy values) in
the propensity report's format, and the Qini chart as a standalone SVG."""

from __future__ import annotations

from html import escape
from pathlib import Path

from ml.registry import RegisteredModel, get_model, set_report
from ml.report import STYLE, _fmt, _table
from ml.svg import line_chart

LABELS = {
    "t_learner": "T-learner",
    "x_learner": "X-learner",
    "s_learner": "S-learner",
    "random": "random targeting",
    "everyone": "target everyone",
    "propensity": "purchase propensity",
    "oracle": "simulator oracle",
}
METRIC_ROWS = (
    ("qini", "Qini coefficient", "{:.4f}"),
    ("qini_true", "Qini on the true effects (oracle = 1)", "{:.3f}"),
    ("auuc", "AUUC", "{:.4f}"),
    ("uplift_at_10", "Uplift, top 10%", "{:+.2%}"),
    ("uplift_at_30", "Uplift, top 30%", "{:+.2%}"),
    ("validation_qini", "Validation Qini", "{:.4f}"),
)


def _compared(metrics: dict) -> dict[str, dict]:
    """The chosen learner, the other learners, the champion, then the baselines."""
    chosen = metrics.get("learner")
    out = {f"model ({LABELS.get(chosen, chosen)})": metrics.get("model") or {}}
    for kind, m in (metrics.get("learners") or {}).items():
        if kind != chosen:
            out[LABELS.get(kind, kind)] = m
    champion = metrics.get("champion") or {}
    if champion.get("metrics"):
        out[f"champion {champion.get('model_version')}"] = champion["metrics"]
    for name in ("propensity", "random", "everyone", "oracle"):
        m = (metrics.get("baselines") or {}).get(name)
        if m:
            out[LABELS[name]] = m
    return out


def qini_chart(metrics: dict, *, title: str = "Qini curve (held-out campaigns)") -> str:
    """SVG: incremental buyers against the share of users targeted, per ranking."""
    chosen = metrics.get("learner")
    series = []
    for label, m in _compared(metrics).items():
        curve = m.get("qini_curve")
        if not curve or label.startswith(("target everyone",)):
            continue
        if label in (LABELS.get(k) for k in (metrics.get("learners") or {}) if k != chosen):
            continue
        series.append((label, curve["share"], curve["incremental"]))
    return line_chart(
        series,
        title=title,
        x_label="share of users targeted (ranked by the score)",
        y_label="incremental buyers (Qini)",
        diagonal=False,
    )


def _policy_section(metrics: dict) -> str:
    policies = metrics.get("policy_values") or {}
    rows = []
    for name in ("model", "oracle", "propensity", "random", "everyone", "no_coupon"):
        p = policies.get(name)
        if not p:
            continue
        label = {"model": "uplift model", "no_coupon": "no coupon"}.get(name, LABELS.get(name))
        rows.append(
            [
                escape(label or name),
                f"{p['coupons']:,}",
                _fmt(p.get("net_value_per_user"), "{:.4f}"),
                _fmt(p.get("gain_per_1000_users"), "{:+.1f}"),
            ]
        )
    return (
        "<h2>Policy value (inverse propensity weighting on the held-out campaigns)</h2>"
        "<p>Each targeted policy may send coupons to the same share of users; the uplift "
        "model and the oracle send only where the expected net value is positive. Net value = "
        "revenue × margin − redeemed coupon value − sending cost.</p>"
        + _table(["policy", "coupons", "net value per user", "gain per 1,000 users"], rows)
    )


def render_uplift_report(record: RegisteredModel) -> str:
    m = record.metrics
    compared = _compared(m)
    rows = [
        [escape(label)] + [_fmt(c.get(key), pattern) for c in compared.values()]
        for key, label, pattern in METRIC_ROWS
    ]
    ratio = m.get("qini_vs_oracle")
    ratio_text = (
        f"<p>The model's Qini is {ratio:.1%} of the simulator oracle's.</p>"
        if ratio is not None
        else ""
    )
    campaigns = [
        [
            escape(c["split"]),
            escape(c["campaign"]),
            str(c["offer_date"]),
            f"{c['users']:,}",
            f"{c['treated']:,}",
            _fmt(c.get("conversion_treated"), "{:.2%}"),
            _fmt(c.get("conversion_control"), "{:.2%}"),
        ]
        for c in m.get("campaigns") or []
    ]
    by_value = [
        [f"{v}", _fmt(q.get("model"), "{:.4f}"), _fmt(q.get("oracle"), "{:.4f}")]
        for v, q in (m.get("qini_by_value") or {}).items()
    ]
    title = f"{record.model_name} {record.model_version}"
    body = (
        f"<h1>Coupon uplift model {escape(title)}</h1>"
        f"<p>Status <b>{escape(record.status)}</b> · trained {record.trained_at:%Y-%m-%d %H:%M} "
        f"UTC · outcome: a purchase within {record.label_horizon_days} days of the offer · "
        f"coupon values {', '.join(f'{v:g}' for v in m.get('coupon_values', []))} · revenue "
        f"per conversion {_fmt(m.get('order_value'), '{:.2f}')}</p>"
        f"<p class='verdict'>{escape(record.verdict or '')}<br>"
        f"{escape(record.decision_reason or '')}</p>"
        "<h2>Randomized campaigns</h2>"
        + _table(
            [
                "split",
                "campaign",
                "offer date",
                "users",
                "treated",
                "buy rate treated",
                "buy rate control",
            ],
            campaigns,
        )
        + "<h2>Held-out campaign: uplift metrics</h2>"
        + _table(["metric", *compared], rows)
        + ratio_text
        + "<div class='charts'>"
        + qini_chart(m)
        + "</div>"
        + "<h2>Qini per coupon value (control vs. that value)</h2>"
        + _table(["coupon value", "model", "oracle"], by_value)
        + _policy_section(m)
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def build_uplift_report(conn, model_name: str, model_version: str) -> str:
    record = get_model(conn, model_name, model_version, with_artifact=False)
    html = render_uplift_report(record)
    set_report(conn, model_name, model_version, html)
    return html


def write_qini_svg(conn, model_name: str, model_version: str, path: str | Path) -> Path:
    """The Qini chart of a registered version as an SVG file (for docs)."""
    record = get_model(conn, model_name, model_version, with_artifact=False)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    svg = qini_chart(record.metrics, title=f"Qini curve, held-out campaigns ({model_version})")
    path.write_text(svg + "\n", encoding="utf-8")
    return path
