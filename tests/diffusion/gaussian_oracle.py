"""The Gaussian toy problem behind the oracle tests of every sampler.

x0 ~ N(mu, Sigma) over a (K=2, L=4) window, flattened as k * L + l. Given the cond
entries, the target entries follow N(mu_c, Sigma_c), and the exact eps-predictor for
x_t = a x0 + s eps is s (a^2 Sigma_c + s^2 I)^{-1} (x_t - a mu_c): samplers driven by
it can be checked against known laws.
"""

import math
from statistics import NormalDist

import numpy as np
import torch

ORACLE_K, ORACLE_L, N_DRAWS = 2, 4, 4000
FALSE_ALARM = 1e-4  # probability that a correct sampler fails one oracle check


def gaussian_problem():
    """``(cond, given, mu_c, sigma_c)``: the cond entries (flat bool mask), their
    values, and the mean and covariance of the targets given them."""
    lags = np.abs(np.subtract.outer(np.arange(ORACLE_L), np.arange(ORACLE_L)))
    sigma = np.kron([[1.0, 0.6], [0.6, 0.8]], 0.7**lags)  # (K*L, K*L), SPD
    mu = np.array([0.5, 0.2, -0.1, 0.3, -0.4, 0.0, 0.6, 1.0])
    cond = np.zeros(ORACLE_K * ORACLE_L, dtype=bool)
    cond[[0, 1, 4]] = True  # the first two steps of variable 0, the first of 1
    given = np.array([1.2, 0.9, -1.0])
    c, tg = np.flatnonzero(cond), np.flatnonzero(~cond)
    gain = sigma[np.ix_(tg, c)] @ np.linalg.inv(sigma[np.ix_(c, c)])
    mu_c = mu[tg] + gain @ (given - mu[c])
    sigma_c = sigma[np.ix_(tg, tg)] - gain @ sigma[np.ix_(c, tg)]
    return cond, given, mu_c, sigma_c


def conditioning(cond, given, n=N_DRAWS):
    """``x_cond`` and ``cond_mask`` of shape (n, K, L), n draws in the batch."""
    x_cond = torch.zeros(n, ORACLE_K * ORACLE_L)
    x_cond[:, torch.from_numpy(cond)] = torch.tensor(given).float()
    x_cond = x_cond.reshape(n, ORACLE_K, ORACLE_L)
    cond_mask = torch.from_numpy(cond).reshape(1, ORACLE_K, ORACLE_L)
    return x_cond, cond_mask.expand(n, -1, -1)


def z_scores(samples, mean, cov):
    """Standardised errors of the sample mean and second moments after whitening.

    If samples ~ N(mean, cov), y = chol(cov)^{-1} (x - mean) ~ N(0, I): each
    sqrt(n) * mean(y_i) is N(0, 1) and each entry of y^T y / n - I has standard
    error sqrt(2 / n) on the diagonal, sqrt(1 / n) off it (CLT, n = 4000).
    """
    n, d = samples.shape
    y = np.linalg.solve(np.linalg.cholesky(cov), (samples - mean).T).T
    z_mean = math.sqrt(n) * y.mean(axis=0)
    se = np.where(np.eye(d, dtype=bool), math.sqrt(2 / n), math.sqrt(1 / n))
    z_cov = ((y.T @ y / n - np.eye(d)) / se)[np.triu_indices(d)]
    return np.abs(z_mean).max(), np.abs(z_cov).max()


def threshold(d):
    """Two-sided normal quantile, Bonferroni over the d + d(d+1)/2 statistics."""
    return NormalDist().inv_cdf(1 - FALSE_ALARM / (2 * (d + d * (d + 1) // 2)))
