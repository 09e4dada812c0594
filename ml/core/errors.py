"""The two ways a model run stops before training: data not there yet, or settings wrong."""


class NotEnoughDataError(ValueError):
    """Too little (or not yet mature) data to train or score: retry once more has arrived."""


class ConfigError(ValueError):
    """The settings cannot give a sound model: fix the YAML or the overrides."""
