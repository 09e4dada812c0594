"""Personalised recommendations: the top-N items per active user from implicit-feedback
collaborative filtering (`ml/conf/recommendations.yml`).

config (settings) → interactions (weighted, decayed user x item rows from the marts) → models
(implicit ALS, item-kNN) → lists (scores, cold start, rules, reasons) → write
(`ml.user_recommendations`, `marts.recommendations_latest`); training (evaluation against the
baselines and the oracle) → registry (`recommender`) → report. `pipeline` holds the entry points
for Airflow and `python -m ml recommend...`.
"""
