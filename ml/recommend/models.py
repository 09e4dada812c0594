"""Collaborative-filtering models on the decayed interaction matrix (the `implicit` library).

- `als`: implicit ALS (Hu, Koren & Volinsky). Only the item factors are kept; a user's factors
  are folded in from their current interactions whenever lists are made, so the history since
  training counts without a refit.
- `item_knn`: implicit's cosine item-item neighbours; a user's score for an item is the
  similarity-weighted sum of their interactions.

The artifact is an `.npz` (arrays and JSON metadata, no pickle).
"""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from ml.recommend.config import ModelConfig


def _als_class():
    """implicit's CPU ALS (built only inside `threadpool_limits(blas_threads)`, which is what its
    OpenBLAS check asks for)."""
    from implicit.cpu.als import AlternatingLeastSquares

    return AlternatingLeastSquares


@dataclass
class RecommenderModel:
    """A fitted model over a fixed item order (`item_ids`)."""

    algorithm: str
    item_ids: np.ndarray
    params: dict
    item_factors: np.ndarray | None = None
    similarity: sp.csr_matrix | None = None
    _als: object = field(default=None, repr=False, compare=False)

    @classmethod
    def fit(cls, weights: sp.csr_matrix, item_ids: np.ndarray, config: ModelConfig):
        """Fit `config.algorithm` on a users x items matrix of decayed weights."""
        params = {
            "algorithm": config.algorithm,
            "factors": config.factors,
            "regularization": config.regularization,
            "alpha": config.alpha,
            "iterations": config.iterations,
            "neighbours": config.neighbours,
            "random_state": config.random_state,
            "num_threads": config.num_threads,
            "blas_threads": config.blas_threads,
        }
        matrix = sp.csr_matrix(weights, dtype=np.float32)
        with threadpool_limits(config.blas_threads, "blas"):
            if config.algorithm == "als":
                als = _als_class()(
                    factors=config.factors,
                    regularization=config.regularization,
                    alpha=config.alpha,
                    iterations=config.iterations,
                    random_state=config.random_state,
                    num_threads=config.num_threads,
                    calculate_training_loss=False,
                )
                als.fit(matrix, show_progress=False)
                return cls(
                    "als",
                    np.asarray(item_ids, dtype=object),
                    params,
                    item_factors=np.asarray(als.item_factors, dtype=np.float32),
                )
            if config.algorithm == "item_knn":
                from implicit.nearest_neighbours import CosineRecommender

                knn = CosineRecommender(K=config.neighbours, num_threads=config.num_threads)
                with warnings.catch_warnings():  # implicit converts its own COO normalisation
                    warnings.simplefilter("ignore")
                    knn.fit(matrix, show_progress=False)
                similarity = sp.csr_matrix(knn.similarity, dtype=np.float32)
                return cls(
                    "item_knn", np.asarray(item_ids, dtype=object), params, similarity=similarity
                )
        raise ValueError(f"Unknown algorithm {config.algorithm!r}; use als or item_knn.")

    def _fold_in(self):
        if self._als is None:
            als = _als_class()(
                factors=self.item_factors.shape[1],
                regularization=self.params["regularization"],
                alpha=self.params["alpha"],
                num_threads=self.params["num_threads"],
            )
            als.item_factors = self.item_factors
            self._als = als
        return self._als

    def score(self, rows: sp.csr_matrix) -> np.ndarray:
        """Scores (users x model items) for users given as weight rows over `item_ids`."""
        rows = sp.csr_matrix(rows, dtype=np.float32)
        with threadpool_limits(self.params.get("blas_threads", 1), "blas"):
            if self.algorithm == "als":
                users = self._fold_in().recalculate_user(np.arange(rows.shape[0]), rows)
                return np.asarray(users, dtype=np.float32) @ self.item_factors.T
            return np.asarray((rows @ self.similarity).todense(), dtype=np.float32)

    def history_similarity(self, recommended: np.ndarray, history: np.ndarray) -> np.ndarray:
        """users x recommended x history similarities, for reasons: cosine of ALS item factors,
        or the item-kNN similarity (indices over `item_ids`)."""
        if self.algorithm == "als":
            norms = np.linalg.norm(self.item_factors, axis=1) + 1e-12
            unit = self.item_factors / norms[:, None]
            return np.einsum("bnd,bmd->bnm", unit[recommended], unit[history])
        b, n = recommended.shape
        m = history.shape[1]
        rec = np.repeat(recommended[:, :, None], m, axis=2).ravel()
        hist = np.repeat(history[:, None, :], n, axis=1).ravel()
        return np.asarray(self.similarity[hist, rec]).reshape(b, n, m)

    def to_artifact(self) -> bytes:
        buffer = io.BytesIO()
        arrays = {
            "meta": np.frombuffer(
                json.dumps({"algorithm": self.algorithm, "params": self.params}).encode(),
                dtype=np.uint8,
            ),
            "item_ids": np.asarray(self.item_ids, dtype=str),
        }
        if self.item_factors is not None:
            arrays["item_factors"] = self.item_factors
        if self.similarity is not None:
            s = self.similarity.tocsr()
            arrays.update(sim_data=s.data, sim_indices=s.indices, sim_indptr=s.indptr)
        # a fixed timestamp per member: the same model gives the same bytes (and version id)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, array in arrays.items():
                member = zipfile.ZipInfo(f"{name}.npy", date_time=(2000, 1, 1, 0, 0, 0))
                with archive.open(member, "w") as out:
                    np.lib.format.write_array(out, np.asarray(array), allow_pickle=False)
        return buffer.getvalue()

    @classmethod
    def from_artifact(cls, blob: bytes) -> RecommenderModel:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes().decode())
            item_ids = data["item_ids"].astype(object)
            factors = data["item_factors"] if "item_factors" in data else None
            similarity = None
            if "sim_data" in data:
                n = len(item_ids)
                similarity = sp.csr_matrix(
                    (data["sim_data"], data["sim_indices"], data["sim_indptr"]), shape=(n, n)
                )
        return cls(meta["algorithm"], item_ids, meta["params"], factors, similarity)
