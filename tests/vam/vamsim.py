"""A minimal known-truth world for the value-added tests.

Teachers' effects drift as a stationary AR(1) over years; each teacher teaches
``classes`` classes a year, each class gets a shock; students' scores are
``beta * true_prior + effect + class shock + noise``; the observed prior may carry
measurement error, and students may be sorted to teachers on their true prior.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def simulate_va(n_teachers=300, years=(2001, 2002, 2003, 2004), classes=2, class_size=20,
                sd_teacher=0.2, rho=0.8, sd_class=0.1, sd_student=0.6, beta=0.7,
                reliability=1.0, sorting=0.0, random_state=0):
    rng = np.random.default_rng(random_state)
    T = len(years)
    mu = np.empty((n_teachers, T))
    mu[:, 0] = rng.normal(0, sd_teacher, n_teachers)
    for t in range(1, T):
        mu[:, t] = rho * mu[:, t - 1] + np.sqrt(1 - rho**2) * rng.normal(0, sd_teacher, n_teachers)
    n_cls = n_teachers * T * classes
    teacher = np.repeat(np.arange(n_teachers), T * classes * class_size)
    t_idx = np.tile(np.repeat(np.arange(T), classes * class_size), n_teachers)
    cls = np.repeat(np.arange(n_cls), class_size)
    n = len(teacher)
    true_prior = rng.normal(size=n) + sorting * mu[teacher, t_idx] / sd_teacher
    shock = rng.normal(0, sd_class, n_cls)
    y = beta * true_prior + mu[teacher, t_idx] + shock[cls] + rng.normal(0, sd_student, n)
    var_x = true_prior.var()
    err_sd = np.sqrt(var_x * (1 - reliability) / reliability) if reliability < 1 else 0.0
    prior = true_prior + rng.normal(0, 1, n) * err_sd
    df = pd.DataFrame({"teacher": teacher, "year": np.asarray(years)[t_idx],
                       "classroom": cls % classes, "prior": prior, "score": y,
                       "true_prior": true_prior})
    truth = pd.DataFrame({"teacher": np.repeat(np.arange(n_teachers), T),
                          "year": np.tile(np.asarray(years), n_teachers), "effect": mu.ravel()})
    return df, truth
