"""A trained propensity model (LightGBM booster + calibrator + feature spec + the BG/NBD fit its
derived feature uses) and its artifact.

The artifact is gzip-compressed JSON holding the LightGBM model text, the calibrator's numbers,
the feature spec and the BG/NBD parameters: loading it never executes code (no pickle). Training
and scoring prepare every frame through `PropensityModel.prepare`, so the derived column is the
training-time transform everywhere.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from ml.bgnbd import BgnbdFit, with_feature
from ml.calibration import Calibrator, calibrator_from_dict
from ml.features import FeatureSpec, prepare_matrix

ARTIFACT_FORMAT = "aimass.propensity-model/2"
READABLE_FORMATS = ("aimass.propensity-model/1", ARTIFACT_FORMAT)  # /1: no BG/NBD feature


@dataclass
class PropensityModel:
    """Everything needed to score: the booster, the calibrator and the feature contract."""

    booster: lgb.Booster
    calibrator: Calibrator
    spec: FeatureSpec
    feature_profiles: dict = field(default_factory=dict)
    score_profile: dict = field(default_factory=dict)
    bgnbd: BgnbdFit | None = None  # set when the model uses bgnbd_expected_purchases

    @property
    def model_string(self) -> str:
        return self.booster.model_to_string()

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame with the model's derived columns (BG/NBD expected purchases)."""
        return with_feature(frame, self.bgnbd)

    def matrix(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model matrix of a feature frame (derived columns added, checked against the
        spec)."""
        return prepare_matrix(self.prepare(frame), self.spec)

    def raw_scores(self, matrix: pd.DataFrame) -> np.ndarray:
        """Log-odds margins of the booster."""
        return np.asarray(self.booster.predict(matrix, raw_score=True), dtype="float64")

    def probabilities(self, matrix: pd.DataFrame) -> np.ndarray:
        """Calibrated purchase probabilities."""
        return self.calibrator(self.raw_scores(matrix), matrix)

    def contributions(self, matrix: pd.DataFrame) -> np.ndarray:
        """SHAP contributions per feature (columns in spec order) plus the base value (last
        column); each row sums to the raw score."""
        return np.asarray(self.booster.predict(matrix, pred_contrib=True), dtype="float64")

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probabilities for a feature frame (checked against the spec)."""
        return self.probabilities(self.matrix(frame))

    def feature_importance(self) -> list[dict]:
        """Total gain per feature, largest first (a list: JSON objects lose key order)."""
        gains = self.booster.feature_importance(importance_type="gain")
        pairs = sorted(zip(self.spec.features, gains, strict=True), key=lambda kv: -kv[1])
        return [{"feature": name, "gain": float(gain)} for name, gain in pairs]

    def to_artifact(self) -> bytes:
        payload = {
            "format": ARTIFACT_FORMAT,
            "lightgbm_model": self.model_string,
            "calibrator": self.calibrator.to_dict(),
            "feature_spec": self.spec.to_dict(),
            "feature_profiles": self.feature_profiles,
            "score_profile": self.score_profile,
            "bgnbd": None if self.bgnbd is None else self.bgnbd.to_dict(),
        }
        data = json.dumps(payload, sort_keys=True).encode()
        return gzip.compress(data, mtime=0)

    @classmethod
    def from_artifact(cls, artifact: bytes) -> PropensityModel:
        try:
            payload = json.loads(gzip.decompress(artifact))
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"The model artifact is not a readable {ARTIFACT_FORMAT}: {exc}"
            ) from exc
        if payload.get("format") not in READABLE_FORMATS:
            raise ValueError(
                f"Model artifact format {payload.get('format')!r} is not {ARTIFACT_FORMAT!r}; "
                "retrain the model with this version of the code."
            )
        return cls(
            booster=lgb.Booster(model_str=payload["lightgbm_model"]),
            calibrator=calibrator_from_dict(payload["calibrator"]),
            spec=FeatureSpec.from_dict(payload["feature_spec"]),
            feature_profiles=payload.get("feature_profiles", {}),
            score_profile=payload.get("score_profile", {}),
            bgnbd=BgnbdFit.from_dict(payload["bgnbd"]) if payload.get("bgnbd") else None,
        )


def artifact_sha256(artifact: bytes) -> str:
    return hashlib.sha256(artifact).hexdigest()
