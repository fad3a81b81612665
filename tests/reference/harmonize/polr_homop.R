# Reference values for pds.harmonize HOMOP (homoskedastic ordered probit, free cuts):
# MASS::polr(method = "probit") on the STAR grade-3 math school-level counts.
# Input: star_g3_math_counts.csv, made by pdstats.harmonize.recovery.coarsen_scores on
# mlmRev::star (grade 3, math, cuts at the pooled 20/50/80th percentiles), one row per school.
# Run from the repo root:  Rscript tests/reference/harmonize/polr_homop.R
# polr parameterization: P(Y <= k | school g) = pnorm(zeta_k - beta_g), beta of the first school = 0.
suppressPackageStartupMessages(library(MASS))
here <- "tests/reference/harmonize"
d <- read.csv(file.path(here, "star_g3_math_counts.csv"))
d$sch <- factor(d$sch, levels = unique(d$sch))
long <- do.call(rbind, lapply(1:4, function(k) {
  data.frame(sch = d$sch, level = k, w = d[[paste0("level_", k)]])
}))
long <- long[long$w > 0, ]
long$level <- factor(long$level, levels = 1:4, ordered = TRUE)
fit <- polr(level ~ sch, data = long, weights = w, method = "probit", Hess = TRUE,
            control = list(reltol = 1e-14, maxit = 5000))
v <- vcov(fit)
beta <- coef(fit)
out <- data.frame(
  term = c(names(beta), names(fit$zeta)),
  kind = c(rep("beta", length(beta)), rep("zeta", length(fit$zeta))),
  school = c(sub("^sch", "", names(beta)), rep(NA, length(fit$zeta))),
  estimate = c(beta, fit$zeta),
  se = sqrt(diag(v))[c(names(beta), names(fit$zeta))]
)
write.csv(out, file.path(here, "polr_homop_star_g3_math.csv"), row.names = FALSE)
writeLines(c(
  sprintf("R %s, MASS %s", paste(R.version$major, R.version$minor, sep = "."), packageVersion("MASS")),
  sprintf("loglik %.10f", as.numeric(logLik(fit))),
  sprintf("first school (baseline) %s", levels(d$sch)[1])
), file.path(here, "polr_homop_versions.txt"))
