"""AI Mass models. `ml.core` is what every model shares (registry, promotion rule, settings
loader, feature frames, reports, the lifecycle); `ml.propensity`, `ml.uplift` and `ml.recommend`
are the models, peers over it. Command line: `python -m ml`. See `ml/README.md`."""
