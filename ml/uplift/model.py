"""The trained coupon uplift model and its artifact (gzip-compressed JSON, never pickle)."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.features import FeatureSpec
from ml.uplift.derived import uplift_matrix
from ml.uplift.learners import Effects, Learner

ARTIFACT_FORMAT = "aimass.coupon-uplift-model/1"


@dataclass
class UpliftModel:
    """The chosen learner, the feature contract, the coupon values it was trained on, and the
    numbers that turn an effect into money: revenue per conversion and, per value, the share of
    converting coupon holders who redeem."""

    learner: Learner
    spec: FeatureSpec
    values: tuple[float, ...]
    order_value: float
    redeem_share: dict[float, float] = field(default_factory=dict)

    def effects(self, frame: pd.DataFrame, values: tuple[float, ...] | None = None) -> Effects:
        """Purchase probability with and without each coupon value, for a feature frame (the
        columns of the feature marts; the derived rates are added here)."""
        return self.learner.effects(uplift_matrix(frame, self.spec), values or self.values)

    def redemption_probability(self, effects: Effects) -> np.ndarray:
        """P(coupon redeemed) per user and value: P(buy | coupon) × redeem share of buyers."""
        shares = np.array([self.redeem_share.get(float(v), 1.0) for v in effects.values])
        return effects.p_treated * shares[None, :]

    def to_artifact(self) -> bytes:
        payload = {
            "format": ARTIFACT_FORMAT,
            "learner": self.learner.to_dict(),
            "feature_spec": self.spec.to_dict(),
            "values": list(self.values),
            "order_value": self.order_value,
            "redeem_share": {str(k): v for k, v in sorted(self.redeem_share.items())},
        }
        return gzip.compress(json.dumps(payload, sort_keys=True).encode(), mtime=0)

    @classmethod
    def from_artifact(cls, artifact: bytes) -> UpliftModel:
        try:
            payload = json.loads(gzip.decompress(artifact))
        except (OSError, ValueError) as exc:
            raise ValueError(f"The artifact is not a readable {ARTIFACT_FORMAT}: {exc}") from exc
        if payload.get("format") != ARTIFACT_FORMAT:
            raise ValueError(
                f"Model artifact format {payload.get('format')!r} is not {ARTIFACT_FORMAT!r}; "
                "retrain the coupon uplift model with this version of the code."
            )
        return cls(
            learner=Learner.from_dict(payload["learner"]),
            spec=FeatureSpec.from_dict(payload["feature_spec"]),
            values=tuple(float(v) for v in payload["values"]),
            order_value=float(payload["order_value"]),
            redeem_share={float(k): float(v) for k, v in payload["redeem_share"].items()},
        )
