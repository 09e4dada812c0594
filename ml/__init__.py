"""Purchase-propensity model: point-in-time features from the marts, LightGBM training on time
windows, evaluation against baselines, a model registry with champion/challenger promotion,
scoring with reasons, monitoring and reports. Entry points: `ml.pipeline` and `python -m ml`.

Modules: config, windows, features, guards, train, calibration, model, evaluate, baselines,
registry, score, reasons, drift, monitoring, report, svg, pipeline.
"""
