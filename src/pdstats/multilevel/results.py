"""Results of a linear mixed-model fit (:class:`LMMResult`)."""

from __future__ import annotations

import dataclasses
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from formulaic import model_matrix
from scipy import stats

from pdstats.errors import ConvergenceError, ModelSpecificationError
from pdstats.results import ResultsBase, SampleLog, add_ci, check_level

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from pdstats.multilevel.bootstrap import BootstrapResult
    from pdstats.multilevel.deviance import Solution
    from pdstats.multilevel.model import LMM
    from pdstats.multilevel.optimize import OptimizationResult

__all__ = ["LMMResult"]


class LMMResult(ResultsBase):
    """A fitted linear mixed model.

    Attributes
    ----------
    estimates : pandas.DataFrame
        The fixed effects, long and tidy (the result contract): term, estimate,
        std_error, df, statistic (t, or z with ``ddf="z"``), p_value, ci_lower, ci_upper
        (95%); df are Satterthwaite unless the fit chose otherwise.
    fe : pandas.DataFrame
        Alias of ``estimates`` indexed by term (``fit.fe.loc["year", "estimate"]``).
    varcomp : pandas.DataFrame
        Variance components: group, term1, term2, estimate (variance or covariance),
        sd (for variances) and corr (for covariances); the residual is group ``Residual``.
    loglike, deviance, aic, bic : float
        Log-likelihood (REML log-likelihood for REML fits), ``-2 loglike``, and the
        information criteria with ``n_params`` parameters.
    theta : numpy.ndarray
        Relative covariance factor parameters (lme4's ``getME(fit, "theta")``).
    sigma : float
        Residual standard deviation (1 for known-variance models).
    singular, converged : bool
        Singular-fit and convergence flags.
    sample_log : SampleLog
        Rows in, dropped by reason, used.
    """

    title = "Linear mixed model"

    def __init__(
        self,
        model: LMM,
        solution: Solution,
        reml: bool,
        ddf: str,
        optimization: OptimizationResult,
        converged: bool,
        convergence_message: str,
        singular: bool,
    ) -> None:
        self._model = model
        self._design = model.design
        self._evaluator = model.evaluator
        self._sol = solution
        self.reml = reml
        self.ddf = ddf
        self.optimization = optimization
        self.converged = converged
        self.convergence_message = convergence_message
        self.singular = singular
        self.formula = model.formula
        self.theta = solution.theta.copy()
        self.sigma = float(np.sqrt(self._evaluator.sigma2(solution, reml)))
        self.deviance = self._evaluator.objective(solution, reml)
        self.loglike = -0.5 * self.deviance
        d = self._design
        self.n_params = d.p + len(self.theta) + (0 if d.sigma_known else 1)
        self.aic = self.deviance + 2 * self.n_params
        self.bic = self.deviance + np.log(d.n) * self.n_params
        self.nobs = d.n
        self.fixed_names = list(d.fixed_names)
        self.sample_log: SampleLog = d.sample_log
        self.title = f"Linear mixed model fit by {'REML' if reml else 'maximum likelihood'}"

    # ------------------------------------------------------------------ fixed effects
    @property
    def params(self) -> pd.Series:
        """Fixed-effect estimates."""
        return pd.Series(self._sol.beta, index=pd.Index(self.fixed_names, name="term"),
                         name="estimate")

    @property
    def vcov(self) -> pd.DataFrame:
        """Model-based covariance matrix of the fixed effects."""
        R = self._sol.RXinv
        return pd.DataFrame(self.sigma**2 * (R @ R.T), index=self.fixed_names,
                            columns=self.fixed_names)

    @property
    def std_errors(self) -> pd.Series:
        """Model-based standard errors of the fixed effects."""
        return pd.Series(np.sqrt(np.diag(self.vcov.to_numpy())), index=self.params.index,
                         name="std_error")

    @cached_property
    def _satterthwaite(self) -> np.ndarray:
        from pdstats.multilevel.inference import satterthwaite_df

        return satterthwaite_df(self)

    @cached_property
    def _kenward_roger(self) -> tuple[np.ndarray, np.ndarray]:
        from pdstats.multilevel.inference import kenward_roger

        return kenward_roger(self)

    def fixed_effects(self, ddf: str | None = None, level: float = 0.95) -> pd.DataFrame:
        """Fixed-effects table with the chosen denominator degrees of freedom.

        Parameters
        ----------
        ddf : {"satterthwaite", "kenward-roger", "residual", "z"}, optional
            Default: the ``ddf`` chosen at fit time.
        level : float
            Confidence level of the intervals.

        Returns
        -------
        pandas.DataFrame
            estimate, std_error, df, statistic, p_value, ci_lower, ci_upper indexed by term.
        """
        level = check_level(level)
        ddf = (ddf or self.ddf).lower()
        est = self._sol.beta
        se = self.std_errors.to_numpy()
        if ddf == "satterthwaite":
            df = self._satterthwaite
        elif ddf == "kenward-roger":
            vc, df = self._kenward_roger
            se = np.sqrt(np.diag(vc))
        elif ddf == "residual":
            df = np.full(len(est), float(self.nobs - len(est)))
        elif ddf == "z":
            df = np.full(len(est), np.inf)
        else:
            raise ModelSpecificationError(
                f"ddf={ddf!r}; choose satterthwaite, kenward-roger, residual or z"
            )
        if not np.all(np.isfinite(se) & (se > 0)):
            raise ConvergenceError(
                f"lmm {self.formula!r}: the {ddf} covariance of the fixed effects is not "
                f"positive definite for this fit ({self.nobs} rows); use ddf='satterthwaite' "
                "or simplify the model")
        return _coef_table(est, se, df, self.fixed_names, level)

    @cached_property
    def _fixed_table(self) -> pd.DataFrame:
        return self.fixed_effects()

    @property
    def estimates(self) -> pd.DataFrame:
        """Fixed effects, one row per term, with the fit's denominator df (a copy)."""
        return self._fixed_table.reset_index()

    @property
    def fe(self) -> pd.DataFrame:
        """Alias of :attr:`estimates` indexed by term (see :meth:`fixed_effects`)."""
        return self._fixed_table.copy()

    def cr2(self, cluster: object = None, level: float = 0.95) -> pd.DataFrame:
        """Fixed effects with cluster-robust CR2 standard errors and Bell-McCaffrey df.

        ``cluster`` is any column of the data the model was fitted to (a grouping factor
        or a coarser level, e.g. districts above schools) or one value per row used;
        default the coarsest grouping factor. See :func:`pdstats.inference.mixed.lmm_cr2`
        (clubSandwich's estimator, computed without n_g x n_g matrices).
        """
        from pdstats.inference.mixed import lmm_cr2

        vc, df = lmm_cr2(self, cluster=cluster)
        return _coef_table(self._sol.beta, np.sqrt(np.diag(vc)), df, self.fixed_names, level)

    # ------------------------------------------------------------------ random part
    @property
    def varcomp(self) -> pd.DataFrame:
        """Tidy variance components (lme4's ``as.data.frame(VarCorr(fit))`` layout)."""
        rows = []
        s2 = self.sigma**2
        seen: dict[str, int] = {}
        for t, T in zip(self._design.terms, self._sol.factors, strict=True):
            S = s2 * (T @ T.T)
            sd = np.sqrt(np.diag(S))
            # lme4 names repeated grouping factors g, g.1, g.2, ... (e.g. from (x || g))
            group = t.group if t.group not in seen else f"{t.group}.{seen[t.group]}"
            seen[t.group] = seen.get(t.group, 0) + 1
            for a in range(t.k):
                rows.append((group, t.names[a], None, S[a, a], sd[a], np.nan))
            for a in range(t.k):
                for b in range(a + 1, t.k):
                    corr = S[a, b] / (sd[a] * sd[b]) if sd[a] > 0 and sd[b] > 0 else np.nan
                    rows.append((group, t.names[a], t.names[b], S[a, b], np.nan, corr))
        if not self._design.sigma_known:
            rows.append(("Residual", None, None, s2, self.sigma, np.nan))
        return pd.DataFrame(rows, columns=["group", "term1", "term2", "estimate", "sd", "corr"])

    def varcomp_ci(
        self, method: str = "profile", level: float = 0.95, n_boot: int = 500,
        random_state: int | np.random.Generator | None = None, progress: bool = True,
    ) -> pd.DataFrame:
        """Variance components with confidence intervals.

        Parameters
        ----------
        method : {"profile", "bootstrap"}
            ``"profile"``: profile-likelihood intervals of the SDs, correlations and
            residual SD (lme4's ``confint(method = "profile")``, see
            :func:`~pdstats.multilevel.profile.profile_varpar`); the variance intervals
            are the squared SD intervals, and covariances (not profiled) get no interval.
            ``"bootstrap"``: parametric-bootstrap percentile intervals of all four
            (see :meth:`bootstrap`).
        level : float
            Confidence level.
        n_boot, random_state, progress
            Bootstrap settings (``method="bootstrap"`` only).

        Returns
        -------
        pandas.DataFrame
            The :attr:`varcomp` rows with ``ci_lower``, ``ci_upper`` (variance or
            covariance) and ``sdcor``, ``sdcor_lower``, ``sdcor_upper`` (SD or correlation).

        Examples
        --------
        >>> import pdstats as pds
        >>> from pdstats.data.datasets import load_rdataset
        >>> dye = load_rdataset("lme4", "Dyestuff")
        >>> ci = pds.lmm("Yield ~ 1 + (1 | Batch)", dye).varcomp_ci(method="profile")
        >>> ci[["sdcor_lower", "sdcor_upper"]].round(1).to_numpy().tolist()
        [[12.2, 84.1], [38.2, 67.7]]
        """
        level = check_level(level)
        vc = self.varcomp
        out = vc[["group", "term1", "term2", "estimate"]].copy()
        is_var = vc["term2"].isna().to_numpy()
        out["sdcor"] = np.where(is_var, vc["sd"], vc["corr"])
        if method == "profile":
            from pdstats.multilevel.profile import profile_varpar

            prof = profile_varpar(self, level=level)
            key = ["group", "term1", "term2"]
            m = out[key].astype(str).merge(
                prof[[*key, "ci_lower", "ci_upper"]].astype({k: str for k in key}),
                on=key, how="left",
            )
            out["sdcor_lower"] = m["ci_lower"].to_numpy(dtype=float)
            out["sdcor_upper"] = m["ci_upper"].to_numpy(dtype=float)
            out["ci_lower"] = np.where(is_var, out["sdcor_lower"] ** 2, np.nan)
            out["ci_upper"] = np.where(is_var, out["sdcor_upper"] ** 2, np.nan)
        elif method == "bootstrap":
            from pdstats.multilevel.bootstrap import _labels

            tab = self.bootstrap(n_boot=n_boot, random_state=random_state, progress=progress,
                                 level=level).table
            est_names, sdcor_names = _labels(self)
            out["ci_lower"] = tab.loc[est_names, "ci_lower"].to_numpy()
            out["ci_upper"] = tab.loc[est_names, "ci_upper"].to_numpy()
            out["sdcor_lower"] = tab.loc[sdcor_names, "ci_lower"].to_numpy()
            out["sdcor_upper"] = tab.loc[sdcor_names, "ci_upper"].to_numpy()
        else:
            raise ModelSpecificationError(f"method={method!r}; use 'profile' or 'bootstrap'")
        return out[["group", "term1", "term2", "estimate", "ci_lower", "ci_upper",
                    "sdcor", "sdcor_lower", "sdcor_upper"]]

    def ranef(self, condvar: bool = True) -> pd.DataFrame:
        """Conditional modes of the random effects with their conditional SDs.

        Returns
        -------
        pandas.DataFrame
            group, term, level, mode and (with ``condvar``) sd, as lme4's
            ``as.data.frame(ranef(fit, condVar = TRUE))``.
        """
        cov = self._evaluator.conditional_u_cov(self._sol) if condvar else None
        frames = []
        s2 = self.sigma**2
        for i, (t, T) in enumerate(zip(self._design.terms, self._sol.factors, strict=True)):
            b = self._sol.b[i]
            for a in range(t.k):
                f = pd.DataFrame({"group": t.group, "term": t.names[a],
                                  "level": np.asarray(t.levels), "mode": b[:, a]})
                if cov is not None:
                    var = s2 * np.einsum("j,ljk,k->l", T[a], cov[i], T[a])
                    f["sd"] = np.sqrt(np.maximum(var, 0.0))
                frames.append(f)
        return pd.concat(frames, ignore_index=True)

    def icc(self) -> pd.DataFrame:
        """Intraclass correlations from the random intercepts (at covariate value 0).

        ``share`` is each grouping factor's intercept variance over the total
        (intercept variances plus residual); ``icc`` (nested designs) adds the shares of
        this factor and every coarser one it is nested in: the correlation of two
        observations in the same group.
        """
        vc = self.varcomp
        ints = vc[(vc.term1 == "Intercept") & vc.term2.isna()]
        total = ints["estimate"].sum() + (0.0 if self._design.sigma_known else self.sigma**2)
        if self._design.sigma_known:
            total = ints["estimate"].sum()
        out = pd.DataFrame({"group": ints["group"].to_numpy(),
                            "variance": ints["estimate"].to_numpy()})
        out["share"] = out["variance"] / total
        if self._evaluator.nested:
            out["icc"] = out["share"][::-1].cumsum()[::-1].to_numpy()
        else:
            out["icc"] = out["share"]
        return out

    def reliability(self) -> pd.DataFrame:
        """HLM-style reliabilities of the group-level coefficients.

        For group ``j`` of a grouping factor and coefficient ``q``:
        ``lambda_qj = tau_qq / (tau_qq + v_qqj)`` with ``v_j`` the sampling covariance of
        the group's own GLS coefficient estimate given the variance of everything below
        it (``sigma^2 (X_j'X_j)^{-1}`` in a two-level model, as in Raudenbush & Bryk
        2002, eq. 3.58).  Groups whose coefficients are not estimable alone are skipped.

        Returns
        -------
        pandas.DataFrame
            group, term, reliability (mean over groups) and n_groups used.
        """
        from pdstats.multilevel.covariance import reliability_table

        return reliability_table(self)

    # ------------------------------------------------------------------ predictions
    def predict(self, newdata: pd.DataFrame | None = None, include_random: bool = True) -> np.ndarray:
        """Predictions; conditional on the random effects unless ``include_random=False``.

        Levels not seen in the fit get random effects of zero.
        """
        d = self._design
        if newdata is None:
            X = d.X
            out = X @ self._sol.beta
            if include_random:
                for t, b in zip(d.terms, self._sol.b, strict=True):
                    out = out + np.einsum("nk,nk->n", t.Xr, b[t.codes])
            return out
        X = np.asarray(model_matrix(d.extra["fixed_spec"], newdata), dtype=float)
        out = X @ self._sol.beta
        if include_random:
            for t, b in zip(d.terms, self._sol.b, strict=True):
                spec, mspec = t.spec
                Xr = np.asarray(model_matrix(mspec, newdata), dtype=float)
                if len(spec.group) == 1:
                    labels = newdata[spec.group[0]].astype(str)
                else:
                    keys = newdata[list(spec.group)].astype(str)
                    labels = keys.iloc[:, 0].str.cat(
                        [keys.iloc[:, j] for j in range(1, keys.shape[1])], sep=":"
                    )
                pos = pd.Index(t.levels).get_indexer(np.asarray(labels))
                bb = np.where(pos[:, None] >= 0, b[np.maximum(pos, 0)], 0.0)
                out = out + np.einsum("nk,nk->n", Xr, bb)
        return out

    @property
    def fitted(self) -> np.ndarray:
        """Conditional fitted values of the rows used."""
        return self.predict()

    @property
    def resid(self) -> np.ndarray:
        """Conditional residuals ``y - fitted``."""
        return self._design.y - self.predict()

    # ------------------------------------------------------------------ refits, tests
    def refit_ml(self) -> LMMResult:
        """The same model refitted by maximum likelihood."""
        return self._model.fit(reml=False, ddf=self.ddf, start=self.theta)

    def lrtest(self, restricted: LMMResult) -> pd.DataFrame:
        """Likelihood-ratio test of ``restricted`` against this (larger) model."""
        from pdstats.multilevel.inference import lrtest

        return lrtest(restricted, self)

    def bootstrap(
        self, n_boot: int = 500, random_state: int | np.random.Generator | None = None,
        progress: bool = True, level: float = 0.95, backend: str = "local", client: Any = None,
    ) -> BootstrapResult:
        """Parametric bootstrap of fixed effects and variance components.

        See :func:`pdstats.multilevel.bootstrap.parametric_bootstrap` (``backend="dask"``
        refits the replicates on a dask cluster).
        """
        from pdstats.multilevel.bootstrap import parametric_bootstrap

        return parametric_bootstrap(self, n_boot=n_boot, random_state=random_state,
                                    progress=progress, level=level, backend=backend, client=client)

    def with_response(self, y: np.ndarray) -> LMMResult:
        """Refit the same design to a new response vector (used by the bootstrap)."""
        design = dataclasses.replace(self._design, y=np.asarray(y, dtype=float))
        model = type(self._model).from_design(self._model.formula, self._model.parsed, design)
        return model.fit(reml=self.reml, ddf=self.ddf, start=self.theta, on_nonconvergence="warn")

    # ------------------------------------------------------------------ display
    def __repr__(self) -> str:
        return self.summary()

    def _info(self) -> dict[str, object]:
        d = self._design
        info: dict[str, object] = {
            "Formula": self.formula,
            "Method": "REML" if self.reml else "ML",
            "Observations": d.n,
        }
        for t in d.terms:
            info[f"Groups: {t.group}"] = t.nlev
        info["Log-likelihood"] = f"{self.loglike:.3f}"
        info["AIC / BIC"] = f"{self.aic:.2f} / {self.bic:.2f}"
        info["Fixed-effect df"] = self.ddf
        if d.sigma_known:
            info["Residual variance"] = "known (V-known model)"
        if self.singular:
            info["Warning"] = "singular fit"
        if not self.converged:
            info["Convergence"] = self.convergence_message
        return info

    def _summary_blocks(self) -> list[tuple[str, pd.DataFrame]]:
        return [("Fixed effects", self.fe), ("Variance components", self.varcomp)]

    def plot(self, ax: Axes | None = None) -> Axes:
        """Coefficient plot of the fixed effects with their 95% confidence intervals."""
        from pdstats.figures.estimates import coefplot

        return coefplot(self.estimates, ax=ax, title=self.formula)


def _coef_table(est: np.ndarray, se: np.ndarray, df: np.ndarray, names: list[str],
                level: float) -> pd.DataFrame:
    """Coefficient table indexed by term: t (or z) statistic, p-value and interval from ``df``."""
    df = np.asarray(df, dtype=float)
    stat = est / se
    finite = np.isfinite(df) & (df > 0)
    p = 2.0 * np.where(finite, stats.t.sf(np.abs(stat), np.where(finite, df, 1.0)),
                       stats.norm.sf(np.abs(stat)))
    table = pd.DataFrame({"estimate": est, "std_error": se, "df": df, "statistic": stat,
                          "p_value": p}, index=pd.Index(names, name="term"))
    return add_ci(table, level)
