"""Buy-till-you-die models fitted by maximum likelihood with scipy: BG/NBD for the number of
purchases (Fader, Hardie & Lee 2005, "Counting your customers the easy way") and Gamma-Gamma for
the spend per purchase (Fader, Hardie & Lee 2005b, "RFM and CLV"; Fader & Hardie 2013).

Inputs per customer, in one time unit (the platform uses days): `x` repeat purchases (purchase
periods after the first), `t_x` the time from the first to the last purchase, `T` the time from
the first purchase to the end of observation. Parameters are fitted on their logarithms with
L-BFGS-B and analytic gradients; identical (x, t_x, T) rows are fitted once with a weight.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaincinv, digamma, expit, gammaln, hyp2f1

LOG_BOUNDS = (np.log(1e-6), np.log(1e6))  # every parameter stays in [1e-6, 1e6]
NEAR_ONE = 1e-4  # E[X(t)] has a removable singularity at a = 1
QUADRATURE_ABOVE = 50.0  # r - (a + b - 1) above this: E[X(t)] by quadrature, not by 2F1
QUADRATURE_NODES = 128


@dataclass(frozen=True)
class BetaGeoParams:
    """BG/NBD: purchase rate ~ Gamma(shape r, rate alpha), drop-out p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> BetaGeoParams:
        return cls(**{k: float(data[k]) for k in ("r", "alpha", "a", "b")})


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma: spend per purchase ~ Gamma(shape p, rate nu), nu ~ Gamma(shape q, rate v)."""

    p: float
    q: float
    v: float

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> GammaGammaParams:
        return cls(**{k: float(data[k]) for k in ("p", "q", "v")})

    @property
    def mean_spend(self) -> float:
        """The population's expected spend per purchase (needs q > 1)."""
        return self.p * self.v / (self.q - 1) if self.q > 1 else float("inf")


def _arrays(*values) -> list[np.ndarray]:
    return [np.asarray(v, dtype="float64") for v in values]


def check_summary(x, t_x, T) -> None:
    """Raise ValueError unless x >= 0 and 0 <= t_x <= T, with t_x > 0 where x > 0."""
    x, t_x, T = _arrays(x, t_x, T)
    problems = []
    if not (np.isfinite(x).all() and np.isfinite(t_x).all() and np.isfinite(T).all()):
        problems.append("missing or infinite values")
    elif (x < 0).any() or (t_x < 0).any():
        problems.append("negative frequency or recency")
    elif (t_x > T).any():
        problems.append(f"recency above T in {int((t_x > T).sum())} rows")
    elif ((x > 0) & (t_x <= 0)).any():
        problems.append("repeat purchases with recency 0")
    if problems:
        raise ValueError(
            "BG/NBD inputs are inconsistent (" + "; ".join(problems) + "): x = repeat purchase "
            "periods >= 0, 0 <= t_x <= T, t_x > 0 when x > 0. Check the lifetime purchase "
            "columns of marts.fct_user_features_daily."
        )


# --- BG/NBD --------------------------------------------------------------------------------


def bgnbd_log_likelihood(params: BetaGeoParams, x, t_x, T) -> np.ndarray:
    """Log-likelihood of each customer's (x, t_x, T) under BG/NBD (FHL 2005, eq. 6)."""
    x, t_x, T = _arrays(x, t_x, T)
    return _bgnbd_ll_and_grad(np.array(_values(params)), x, t_x, T)[0]


def _values(params: BetaGeoParams) -> tuple[float, float, float, float]:
    return params.r, params.alpha, params.a, params.b


def _bgnbd_ll_and_grad(theta, x, t_x, T, x_levels=None):
    """Per-row log-likelihood and its gradient with respect to (r, alpha, a, b).

    The special functions depend on x alone: they are evaluated once per distinct x
    (`x_levels`: `np.unique(x, return_inverse=True)`, computed here when not given)."""
    r, alpha, a, b = theta
    levels, at = np.unique(x, return_inverse=True) if x_levels is None else x_levels
    repeat = x > 0
    lm = np.where(levels > 0, levels, 1.0)  # keeps b + x - 1 > 0 where the term is masked out

    def per_x(values):
        return values[at]

    lg_ab = gammaln(a + b)
    lg_abx = per_x(gammaln(a + b + levels))
    a1 = per_x(gammaln(r + levels)) - gammaln(r) + r * np.log(alpha)
    beta_ab = gammaln(a) + gammaln(b) - lg_ab
    term1 = gammaln(a) + per_x(gammaln(b + levels)) - lg_abx - beta_ab
    term1 = term1 - (r + x) * np.log(alpha + T)
    term2 = gammaln(a + 1) + per_x(gammaln(b + lm - 1)) - lg_abx - beta_ab
    term2 = np.where(repeat, term2 - (r + x) * np.log(alpha + t_x), -np.inf)
    ll = a1 + np.logaddexp(term1, term2)
    w2 = np.where(repeat, expit(term2 - term1), 0.0)
    w1 = 1.0 - w2
    d_ab = digamma(a + b)
    dg_abx = per_x(digamma(a + b + levels))
    log_at, log_atx = np.log(alpha + T), np.log(alpha + t_x)
    d_r = per_x(digamma(r + levels)) - digamma(r) + np.log(alpha)
    d_r = d_r - w1 * log_at - w2 * log_atx
    d_alpha = r / alpha - (r + x) * (w1 / (alpha + T) + w2 / (alpha + t_x))
    d_a = d_ab - dg_abx + w2 * (digamma(a + 1) - digamma(a))
    d_b = d_ab - dg_abx - digamma(b)
    d_b = d_b + w1 * per_x(digamma(b + levels)) + w2 * per_x(digamma(b + lm - 1))
    return ll, np.stack([d_r, d_alpha, d_a, d_b])


def _collapse(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Unique rows of the given columns and how often each occurs."""
    frame = pd.DataFrame({str(i): c for i, c in enumerate(columns)})
    counts = frame.value_counts(sort=False).reset_index(name="n")
    return [counts[str(i)].to_numpy("float64") for i in range(len(columns))], counts["n"].to_numpy(
        "float64"
    )


def _fit(neg_ll_and_grad, start: np.ndarray, what: str) -> np.ndarray:
    result = minimize(
        neg_ll_and_grad,
        np.log(start),
        jac=True,
        method="L-BFGS-B",
        bounds=[LOG_BOUNDS] * len(start),
        options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
    )
    if not np.isfinite(result.fun):
        raise ValueError(f"The {what} fit did not converge ({result.message}); check its inputs.")
    return np.exp(result.x)


def fit_bgnbd(x, t_x, T) -> BetaGeoParams:
    """Maximum-likelihood BG/NBD parameters for customers with summaries (x, t_x, T)."""
    x, t_x, T = _arrays(x, t_x, T)
    if len(x) < 2:
        raise ValueError("BG/NBD needs at least two customers with a purchase to fit.")
    check_summary(x, t_x, T)
    (x, t_x, T), weight = _collapse(x, t_x, T)
    total = weight.sum()
    x_levels = np.unique(x, return_inverse=True)

    def objective(log_theta):
        theta = np.exp(log_theta)
        ll, grad = _bgnbd_ll_and_grad(theta, x, t_x, T, x_levels)
        return -(weight @ ll) / total, -(grad @ weight) * theta / total

    start = np.array([1.0, max(float(np.average(T, weights=weight)), 1.0), 1.0, 1.0])
    return BetaGeoParams(*(float(v) for v in _fit(objective, start, "BG/NBD")))


def probability_alive(params: BetaGeoParams, x, t_x, T) -> np.ndarray:
    """P(the customer is still active at T | x, t_x, T) (FHL 2005, eq. 11)."""
    x, t_x, T = _arrays(x, t_x, T)
    r, alpha, a, b = _values(params)
    repeat = x > 0
    log_odds_dead = (
        np.log(a)
        - np.log(np.where(repeat, b + x - 1, 1.0))
        + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    )
    return np.where(repeat, expit(-log_odds_dead), 1.0)


def expected_purchases(params: BetaGeoParams, t: float, x, t_x, T) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T] (FHL 2005, eq. 10).

    The hypergeometric term is taken after Euler's transformation, 2F1(r+x, b+x; a+b+x-1; z)
    (1-z)^(r+x) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z), whose parameters stay small for
    frequent buyers, so the series neither overflows nor loses its digits.
    """
    if t < 0:
        raise ValueError(f"The prediction horizon must be >= 0 days, got {t}.")
    x, t_x, T = _arrays(x, t_x, T)
    r, alpha, a, b = _values(params)
    if abs(a - 1.0) < NEAR_ONE:
        a = 1.0 + NEAR_ONE
    z = t / (alpha + T + t)
    alive = probability_alive(params, x, t_x, T)
    with np.errstate(all="ignore"):
        series = hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        bracket = -np.expm1((a - 1) * np.log1p(-z) + np.log(series))
        expected = (a + b + x - 1) / (a - 1) * bracket * alive
    # a large negative first parameter (r far above a + b: a nearly homogeneous Poisson shop)
    # makes the series unreliable; there the expectation is integrated numerically
    unreliable = ~np.isfinite(expected) | (expected < 0) | (r - (a + b - 1) > QUADRATURE_ABOVE)
    if unreliable.any():
        expected[unreliable] = alive[unreliable] * _alive_expectation_by_quadrature(
            params, t, x[unreliable], T[unreliable]
        )
    if not np.isfinite(expected).all():
        raise ValueError(
            f"BG/NBD expectation is not finite for {int((~np.isfinite(expected)).sum())} "
            f"customers with parameters {params}; refit on more customers."
        )
    return np.maximum(expected, 0.0)


def _alive_expectation_by_quadrature(params: BetaGeoParams, t: float, x, T) -> np.ndarray:
    """E[purchases in (T, T + t] | alive at T, x, T] by numerical integration.

    Given the history and being alive, lambda ~ Gamma(r + x, alpha + T) and p ~ Beta(a, b + x)
    independently, and a customer with (lambda, p) expects (1 - exp(-lambda p t)) / p purchases;
    the Gamma average is closed, g(p) = (1 - (1 + p t / (alpha + T))^-(r + x)) / p, a bounded
    smooth function, and the Beta average is integrated over its quantiles with Gauss-Legendre
    nodes (any a and b, however small or large).
    """
    r, alpha, a, b = _values(params)
    nodes, weights = np.polynomial.legendre.leggauss(QUADRATURE_NODES)
    q, w = (nodes + 1) / 2, weights / 2
    out = np.empty(len(x))
    for level in np.unique(x):
        rows = x == level
        p = betaincinv(a, b + level, q)
        scaled = np.asarray(T[rows], dtype="float64")
        scaled = t / (alpha + scaled)
        with np.errstate(divide="ignore", invalid="ignore"):
            values = -np.expm1(-(r + level) * np.log1p(np.outer(scaled, p))) / p
        limit = np.outer((r + level) * scaled, np.ones_like(p))  # g(0) = (r + x) t / (alpha + T)
        out[rows] = np.where(p > 0, values, limit) @ w
    return out


# --- Gamma-Gamma ---------------------------------------------------------------------------


def _gamma_gamma_ll_and_grad(theta, x, m):
    p, q, v = theta
    px = p * x
    ll = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(x * m + v)
    )
    d_p = x * (digamma(px + q) - digamma(px) + np.log(m) + np.log(x) - np.log(x * m + v))
    d_q = digamma(px + q) - digamma(q) + np.log(v) - np.log(x * m + v)
    d_v = q / v - (px + q) / (x * m + v)
    return ll, np.stack([d_p, d_q, d_v])


def gamma_gamma_log_likelihood(params: GammaGammaParams, x, m) -> np.ndarray:
    """Log-likelihood of each customer's mean spend `m` over `x` purchases."""
    x, m = _arrays(x, m)
    return _gamma_gamma_ll_and_grad(np.array([params.p, params.q, params.v]), x, m)[0]


def fit_gamma_gamma(x, m) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma parameters from purchases `x` (>= 1) and mean spend
    `m` (> 0) per customer."""
    x, m = _arrays(x, m)
    keep = (x >= 1) & (m > 0) & np.isfinite(m)
    if keep.sum() < 2:
        raise ValueError("Gamma-Gamma needs at least two customers with a paid purchase.")
    (x, m), weight = _collapse(x[keep], m[keep])
    total = weight.sum()

    def objective(log_theta):
        theta = np.exp(log_theta)
        ll, grad = _gamma_gamma_ll_and_grad(theta, x, m)
        return -(weight @ ll) / total, -(grad @ weight) * theta / total

    start = np.array([1.0, 2.0, float(np.average(m, weights=weight))])
    return GammaGammaParams(*(float(v) for v in _fit(objective, start, "Gamma-Gamma")))


def expected_spend(params: GammaGammaParams, x, m) -> np.ndarray:
    """E[spend per purchase | x purchases with mean m]; the population mean where x = 0."""
    x, m = _arrays(x, m)
    if params.q <= 1:
        raise ValueError(
            f"Gamma-Gamma q = {params.q:.3f} <= 1: the expected spend is infinite; the spend "
            "per purchase is too heavy-tailed for this model."
        )
    known = (x >= 1) & (m > 0) & np.isfinite(m)
    xs, ms = np.where(known, x, 1.0), np.where(known, m, 1.0)
    conditional = params.p * (params.v + xs * ms) / (params.p * xs + params.q - 1)
    return np.where(known, conditional, params.mean_spend)
