"""BG/NBD and Gamma-Gamma by maximum likelihood: the published CDNOW estimates, the same numbers
as an independent implementation (lifetimes), parameters recovered from the simulated process,
and conditional expectations that match what the process does next."""

from __future__ import annotations

import time

import numpy as np
import pytest
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.datasets import load_cdnow_summary, load_cdnow_summary_data_with_monetary_value
from scipy.optimize import check_grad

from ml import btyd
from ml.btyd import BetaGeoParams, GammaGammaParams

# Fader, Hardie & Lee (2005), the BG/NBD fit of the 2,357 CDNOW customers (weeks)
CDNOW_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW_LOG_LIKELIHOOD = -9582.4
# Fader & Hardie (2013), the Gamma-Gamma fit of the CDNOW repeat buyers' mean spend
CDNOW_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
DAYS = BetaGeoParams(r=0.6, alpha=25.0, a=0.8, b=3.0)  # a shop measured in days


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary(index_col=[0])


def test_cdnow_fit_reproduces_the_published_parameters(cdnow):
    params = btyd.fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    for name, published in CDNOW_BGNBD.items():
        assert getattr(params, name) == pytest.approx(published, abs=6e-4), name
    ll = btyd.bgnbd_log_likelihood(params, cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert ll.sum() == pytest.approx(CDNOW_LOG_LIKELIHOOD, abs=0.05)


def test_cdnow_predictions_equal_lifetimes(cdnow):
    x, t_x, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    reference = BetaGeoFitter().fit(x, t_x, T)
    params = BetaGeoParams.from_dict(reference.params_.to_dict())
    for t in (1, 39, 104):
        ours = btyd.expected_purchases(params, t, x, t_x, T)
        theirs = reference.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T)
        np.testing.assert_allclose(ours, theirs.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(
        btyd.probability_alive(params, x, t_x, T),
        reference.conditional_probability_alive(x, t_x, T),
        rtol=1e-12,
    )


def test_cdnow_gamma_gamma_reproduces_the_published_fit_and_lifetimes():
    data = load_cdnow_summary_data_with_monetary_value()
    buyers = data[data["frequency"] > 0]
    params = btyd.fit_gamma_gamma(buyers["frequency"], buyers["monetary_value"])
    for name, published in CDNOW_GAMMA_GAMMA.items():
        assert getattr(params, name) == pytest.approx(published, abs=0.01), name
    reference = GammaGammaFitter().fit(buyers["frequency"], buyers["monetary_value"])
    theirs = reference.conditional_expected_average_profit(
        buyers["frequency"], buyers["monetary_value"]
    )
    ours = btyd.expected_spend(params, buyers["frequency"], buyers["monetary_value"])
    np.testing.assert_allclose(ours, theirs.to_numpy(), rtol=1e-5)
    assert btyd.expected_spend(params, [0], [0])[0] == pytest.approx(params.mean_spend)


def test_analytic_gradients_match_finite_differences(cdnow):
    x, t_x, T = (cdnow[c].to_numpy("float64") for c in ("frequency", "recency", "T"))

    def bgnbd(theta):
        return btyd._bgnbd_ll_and_grad(theta, x, t_x, T)[0].sum()

    def bgnbd_grad(theta):
        return btyd._bgnbd_ll_and_grad(theta, x, t_x, T)[1].sum(axis=1)

    theta = np.array([0.3, 5.0, 0.9, 2.0])
    assert check_grad(bgnbd, bgnbd_grad, theta) < 1e-4 * np.abs(bgnbd_grad(theta)).max()
    m = 10 + 5 * np.arange(1, len(x) + 1) % 37
    n = np.maximum(x, 1)

    def gg(theta):
        return btyd._gamma_gamma_ll_and_grad(theta, n, m)[0].sum()

    def gg_grad(theta):
        return btyd._gamma_gamma_ll_and_grad(theta, n, m)[1].sum(axis=1)

    theta = np.array([4.0, 3.0, 20.0])
    assert check_grad(gg, gg_grad, theta) < 1e-4 * np.abs(gg_grad(theta)).max()


def simulate_bgnbd(params: BetaGeoParams, T: np.ndarray, horizon: float, seed: int) -> dict:
    """Run the BG/NBD story per customer from the first purchase at 0 to T + horizon: purchases
    at rate lambda ~ Gamma(r, alpha); after each repeat purchase the customer leaves with
    p ~ Beta(a, b). Returns the calibration summary, the purchases in (T, T + horizon] and
    whether the customer was still active at T."""
    rng = np.random.default_rng(seed)
    n = len(T)
    rate = rng.gamma(params.r, 1 / params.alpha, n)
    drop = rng.beta(params.a, params.b, n)
    now = np.zeros(n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    future = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    alive_at_T = np.ones(n, dtype=bool)
    going = np.ones(n, dtype=bool)
    while going.any():
        idx = np.flatnonzero(going)
        now[idx] += rng.exponential(1 / rate[idx])
        past_end = now[idx] > T[idx] + horizon
        going[idx[past_end]] = False
        idx = idx[~past_end]
        before = now[idx] <= T[idx]
        x[idx[before]] += 1
        t_x[idx[before]] = now[idx[before]]
        future[idx[~before]] += 1
        leaves = rng.random(len(idx)) < drop[idx]
        alive[idx[leaves]] = False
        going[idx[leaves]] = False
        alive_at_T[idx[leaves & before]] = False
    return {"x": x, "t_x": t_x, "T": T, "future": future, "alive_at_T": alive_at_T}


@pytest.fixture(scope="module")
def simulated():
    rng = np.random.default_rng(3)
    T = rng.integers(30, 400, 60_000).astype("float64")  # customers acquired over a year
    return simulate_bgnbd(DAYS, T, horizon=30.0, seed=4)


def test_fit_recovers_the_parameters_of_simulated_customers(simulated):
    fitted = btyd.fit_bgnbd(simulated["x"], simulated["t_x"], simulated["T"])
    for name in ("r", "alpha", "a", "b"):
        assert getattr(fitted, name) == pytest.approx(getattr(DAYS, name), rel=0.15), name
    args = (simulated["x"], simulated["t_x"], simulated["T"])
    assert (
        btyd.bgnbd_log_likelihood(fitted, *args).sum()
        >= btyd.bgnbd_log_likelihood(DAYS, *args).sum()
    )


def test_conditional_expectation_matches_what_the_process_does_next(simulated):
    """E[E[X(t) | x, t_x, T] | group] = E[X(t) | group] for groups made from the observed data:
    the mean prediction equals the mean of the simulated future in every group."""
    s = simulated
    predicted = btyd.expected_purchases(DAYS, 30.0, s["x"], s["t_x"], s["T"])
    alive = btyd.probability_alive(DAYS, s["x"], s["t_x"], s["T"])
    groups = np.minimum(s["x"], 6) * 2 + (s["T"] - s["t_x"] > 60)  # frequency x recency gap
    for g in np.unique(groups):
        mask = groups == g
        if mask.sum() < 300:
            continue
        se = s["future"][mask].std() / np.sqrt(mask.sum())
        assert abs(predicted[mask].mean() - s["future"][mask].mean()) < 4 * se + 1e-3, g
        alive_se = np.sqrt(alive[mask].mean() * (1 - alive[mask].mean()) / mask.sum())
        assert abs(alive[mask].mean() - s["alive_at_T"][mask].mean()) < 4 * alive_se + 1e-3, g


def test_a_new_customer_expects_the_population_mean():
    """x = t_x = T = 0 is a customer just acquired: the unconditional E[X(t)]."""
    sim = simulate_bgnbd(DAYS, np.zeros(200_000), horizon=60.0, seed=9)
    expected = btyd.expected_purchases(DAYS, 60.0, [0.0], [0.0], [0.0])[0]
    se = sim["future"].std() / np.sqrt(len(sim["future"]))
    assert abs(expected - sim["future"].mean()) < 4 * se


def test_gamma_gamma_recovers_simulated_spend_parameters():
    truth = GammaGammaParams(p=4.0, q=3.0, v=30.0)
    rng = np.random.default_rng(5)
    n = 40_000
    purchases = rng.integers(1, 12, n)
    nu = rng.gamma(truth.q, 1 / truth.v, n)
    spend = np.array([rng.gamma(truth.p, 1 / nu[i], k).mean() for i, k in enumerate(purchases)])
    fitted = btyd.fit_gamma_gamma(purchases, spend)
    for name in ("p", "q", "v"):
        assert getattr(fitted, name) == pytest.approx(getattr(truth, name), rel=0.1), name


def test_one_hundred_thousand_customers_fit_in_seconds():
    rng = np.random.default_rng(11)
    T = rng.integers(1, 730, 100_000).astype("float64")
    sim = simulate_bgnbd(DAYS, T, horizon=0.0, seed=12)
    t_x = np.ceil(sim["t_x"])  # day resolution, as the feature mart has it
    started = time.perf_counter()
    fitted = btyd.fit_bgnbd(sim["x"], np.minimum(t_x, T), T)
    seconds = time.perf_counter() - started
    assert fitted.r == pytest.approx(DAYS.r, rel=0.2)
    assert seconds < 10, seconds


def test_bad_inputs_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="recency above T in 1 rows"):
        btyd.fit_bgnbd([1, 0, 2], [5, 0, 9], [4, 3, 10])
    with pytest.raises(ValueError, match="repeat purchases with recency 0"):
        btyd.fit_bgnbd([1, 0], [0, 0], [4, 3])
    with pytest.raises(ValueError, match="missing or infinite"):
        btyd.fit_bgnbd([1, np.nan], [1, 0], [4, 3])
    with pytest.raises(ValueError, match="at least two customers"):
        btyd.fit_bgnbd([1], [1], [4])
    with pytest.raises(ValueError, match="horizon must be >= 0"):
        btyd.expected_purchases(DAYS, -1, [0], [0], [1])
    with pytest.raises(ValueError, match="expected spend is infinite"):
        btyd.expected_spend(GammaGammaParams(p=1, q=0.9, v=1), [1], [10])
    assert BetaGeoParams.from_dict(DAYS.to_dict()) == DAYS


def test_quadrature_equals_the_closed_form_and_covers_a_nearly_poisson_shop(cdnow):
    """Where the hypergeometric series is unreliable (r far above a + b: customers who buy at
    one steady rate and never leave), E[X(t)] is integrated numerically instead."""
    x, t_x, T = (cdnow[c].to_numpy("float64") for c in ("frequency", "recency", "T"))
    for params in (
        BetaGeoParams(**CDNOW_BGNBD),
        BetaGeoParams(r=4.3, alpha=73.0, a=2e-6, b=3900.0),  # almost nobody leaves
        BetaGeoParams(r=0.6, alpha=25.0, a=3.0, b=1.2),  # most leave soon
    ):
        alive = btyd.probability_alive(params, x, t_x, T)
        for t in (1, 39, 104):
            closed = btyd.expected_purchases(params, t, x, t_x, T)
            integrated = alive * btyd._alive_expectation_by_quadrature(params, t, x, T)
            np.testing.assert_allclose(integrated, closed, rtol=1e-5)
    steady = BetaGeoParams(r=54_000.0, alpha=1e6, a=0.0006, b=790.0)
    x, T = np.array([0.0, 3.0, 10.0]), np.array([5.0, 20.0, 35.0])
    expected = btyd.expected_purchases(steady, 7, x, np.array([0.0, 10.0, 30.0]), T)
    poisson = (steady.r + x) / (steady.alpha + T) * 7  # the posterior rate times the horizon
    np.testing.assert_allclose(expected, poisson, rtol=1e-4)
