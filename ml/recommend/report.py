"""The HTML report of a recommender version (same format and helpers as the propensity report),
stored in `ml.model_registry.report_html`."""

from __future__ import annotations

from html import escape

from ml.recommend.training import BASELINE_LABELS
from ml.registry import RegisteredModel, get_model, set_report
from ml.report import STYLE, _fmt, _table
from ml.svg import bar_chart, line_chart

METRIC_ROWS = (
    ("ndcg@10", "NDCG@10", "{:.4f}"),
    ("recall@20", "Recall@20", "{:.4f}"),
    ("recall@10", "Recall@10", "{:.4f}"),
    ("precision@10", "Precision@10", "{:.4f}"),
    ("map@10", "MAP@10", "{:.4f}"),
    ("ndcg@20", "NDCG@20", "{:.4f}"),
    ("precision@20", "Precision@20", "{:.4f}"),
    ("coverage", "Catalogue coverage", "{:.1%}"),
    ("novelty", "Novelty (bits)", "{:.2f}"),
    ("users", "Users evaluated", "{:,}"),
)


def compared(metrics: dict) -> dict[str, dict]:
    """This model, the champion's settings (if different) and the baselines, in display order."""
    out = {"this model": metrics.get("model") or {}}
    champion = metrics.get("champion") or {}
    if champion.get("metrics") and not champion.get("same_settings"):
        out[f"champion {champion.get('model_version')}"] = champion["metrics"]
    for name, label in BASELINE_LABELS.items():
        if (metrics.get("baselines") or {}).get(name):
            out[label] = metrics["baselines"][name]
    return out


def popularity_statement(metrics: dict) -> str:
    """A plain sentence: does the model beat both popularity baselines on NDCG@10 and
    recall@20?"""
    model = metrics.get("model") or {}
    base = metrics.get("baselines") or {}
    lost = [
        f"{BASELINE_LABELS[name]} on {metric} ({base[name][metric]:.4f} vs {model[metric]:.4f})"
        for name in ("popularity", "category_popularity")
        if base.get(name)
        for metric in ("ndcg@10", "recall@20")
        if model.get(metric, 0.0) <= base[name].get(metric, 0.0)
    ]
    if lost:
        return "The model does NOT beat popularity: it is behind or level with " + "; ".join(lost)
    return (
        "The model beats both popularity baselines on NDCG@10 and recall@20 "
        f"(NDCG@10 {model.get('ndcg@10', 0):.4f} vs global {base['popularity']['ndcg@10']:.4f} "
        f"and favourite-category {base['category_popularity']['ndcg@10']:.4f})."
        if base.get("popularity") and base.get("category_popularity")
        else "No popularity baseline was evaluated."
    )


def render_report(record: RegisteredModel) -> str:
    m = record.metrics
    methods = compared(m)
    rows = [
        [escape(label)] + [_fmt(v.get(key), pattern) for v in methods.values()]
        for key, label, pattern in METRIC_ROWS
    ]
    w = m.get("window") or {}
    oracle = (m.get("baselines") or {}).get("oracle") or {}
    oracle_text = ""
    if oracle.get("ndcg@10"):
        share = (m.get("model") or {}).get("ndcg@10", 0) / oracle["ndcg@10"]
        oracle_text = (
            f"<p>The model's NDCG@10 is {share:.1%} of the oracle's. The oracle ranks by taste "
            "alone (category weight x item appeal); it does not know a user's price sensitivity, "
            "today's stock, or that users come back to items they already looked at, all of "
            "which the test window counts.</p>"
        )
    ks = sorted({int(key.split("@")[1]) for key in (m.get("model") or {}) if "@" in key})
    charts = [
        bar_chart(
            list(methods),
            [v.get("ndcg@10", 0.0) for v in methods.values()],
            title="NDCG@10 on the test window",
            x_label="NDCG@10",
        ),
        line_chart(
            [(label, ks, [v.get(f"recall@{k}") for k in ks]) for label, v in methods.items()],
            title="Recall by list length",
            x_label="k",
            y_label="recall@k",
            x_range=(min(ks), max(ks)) if ks else (0, 1),
        ),
    ]
    params = record.params or {}
    title = f"{record.model_name} {record.model_version}"
    body = (
        f"<h1>Recommender {escape(title)}</h1>"
        f"<p>Status <b>{escape(record.status)}</b> · trained {record.trained_at:%Y-%m-%d %H:%M} "
        f"UTC on interactions before {record.training_cutoff} · algorithm "
        f"{escape(str(params.get('model', {}).get('algorithm')))}</p>"
        f"<p class='verdict'>{escape(popularity_statement(m))}<br>"
        f"{escape(record.decision_reason or '')}</p>"
        "<h2>Evaluation window</h2>"
        + _table(
            ["train from", "test from", "test to", "users", "train interactions", "items"],
            [
                [
                    str(w.get("train_start")),
                    str(w.get("split")),
                    str(w.get("test_end")),
                    _fmt(w.get("users"), "{:,}"),
                    _fmt(w.get("train_interactions"), "{:,}"),
                    _fmt(w.get("eligible_items"), "{:,}"),
                ]
            ],
        )
        + "<h2>Test window metrics</h2>"
        + _table(["metric", *methods], rows)
        + oracle_text
        + "<h2>Charts</h2><div class='charts'>"
        + "".join(charts)
        + "</div><h2>Settings</h2><pre>"
        + escape(str(params))
        + "</pre>"
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def build_report(conn, model_name: str, model_version: str) -> str:
    record = get_model(conn, model_name, model_version, with_artifact=False)
    html = render_report(record)
    set_report(conn, model_name, model_version, html)
    return html
