## Multiple-membership reference for pdstats.multilevel (issue 20), computed with lme4.
## lme4 has no multiple-membership syntax, so the model is built by hand: lFormula() sets
## up y ~ x + (1 | student) + (1 | t1) with the teacher factor's levels set to the union
## of both id columns, and the teacher rows of Zt are then replaced by the membership
## weights (Zt[teacher, row] = w1 * [t1 == teacher] + w2 * [t2 == teacher]).  The
## profiled deviance from mkLmerDevfun() is minimized with lme4's optimizeLmer() and the
## result assembled with mkMerMod() (Bates et al. 2015, JSS 67(1), section 5).
## Run from the repository root:
##   Rscript tests/reference/multilevel/make_mm_reference.R
## Writes mm_small.csv (the data) and mm_small_reml.json / mm_small_ml.json.
suppressPackageStartupMessages({library(lme4); library(jsonlite); library(Matrix)})
out_dir <- "tests/reference/multilevel"
set.seed(20)
n_students <- 150; n_years <- 3; n_teachers <- 30
student <- rep(seq_len(n_students), each = n_years)
n <- length(student)
t1 <- sample.int(n_teachers, n, replace = TRUE)
mover <- runif(n) < 0.3
t2 <- ifelse(mover, sample.int(n_teachers, n, replace = TRUE), NA)
t2[mover & t2 == t1] <- (t1[mover & t2 == t1] %% n_teachers) + 1
w1 <- ifelse(mover, round(runif(n, 0.2, 0.8), 3), 1)
w2 <- ifelse(mover, 1 - w1, NA)
x <- round(rnorm(n), 4)
b_student <- rnorm(n_students, sd = 0.8); b_teacher <- rnorm(n_teachers, sd = 0.5)
y <- 1 + 0.3 * x + b_student[student] + w1 * b_teacher[t1] +
  ifelse(mover, w2 * b_teacher[ifelse(is.na(t2), 1, t2)], 0) + rnorm(n)
d <- data.frame(y = round(y, 6), x = x, student = student, t1 = t1, t2 = t2, w1 = w1, w2 = w2)
write.csv(d, file.path(out_dir, "mm_small.csv"), row.names = FALSE, na = "")

fit_mm <- function(data, reml) {
  lev <- as.character(sort(unique(c(data$t1, data$t2[!is.na(data$t2)]))))
  data$teacher <- factor(data$t1, levels = lev)
  data$student <- factor(data$student)
  lf <- lFormula(y ~ x + (1 | student) + (1 | teacher), data = data, REML = reml)
  # the teacher term's rows of Zt
  fl <- names(lf$reTrms$flist)
  cnms <- lf$reTrms$Gp
  k <- which(names(lf$reTrms$cnms) == "teacher")
  rows <- (lf$reTrms$Gp[k] + 1):lf$reTrms$Gp[k + 1]
  W <- sparseMatrix(i = match(as.character(data$t1), lev), j = seq_len(nrow(data)),
                    x = data$w1, dims = c(length(lev), nrow(data)))
  m2 <- !is.na(data$t2)
  W <- W + sparseMatrix(i = match(as.character(data$t2[m2]), lev), j = which(m2),
                        x = data$w2[m2], dims = c(length(lev), nrow(data)))
  Zt <- lf$reTrms$Zt
  Zt[rows, ] <- W
  lf$reTrms$Zt <- drop0(Zt)
  devfun <- do.call(mkLmerDevfun, lf)
  opt <- optimizeLmer(devfun, optimizer = "nloptwrap",
                      control = list(xtol_abs = 1e-12, ftol_abs = 1e-12, xtol_rel = 0,
                                     ftol_rel = 0, maxeval = 1e5))
  mkMerMod(environment(devfun), opt, lf$reTrms, fr = lf$fr)
}

for (reml in c(TRUE, FALSE)) {
  fit <- fit_mm(d, reml)
  ll <- logLik(fit)
  v <- as.data.frame(VarCorr(fit))
  re <- as.data.frame(ranef(fit, condVar = TRUE))
  s <- summary(fit)$coefficients
  out <- list(
    name = if (reml) "mm_small_reml" else "mm_small_ml",
    formula = "y ~ x + (1 | student) + (1 | mm(t1 + t2, w1 + w2))",
    reml = reml, n = nobs(fit), theta = unname(getME(fit, "theta")),
    theta_names = names(getME(fit, "theta")),
    sigma = sigma(fit), loglik = as.numeric(ll),
    fe = list(term = rownames(s), estimate = unname(s[, "Estimate"]),
              std_error = unname(s[, "Std. Error"])),
    varcomp = list(group = v$grp, vcov = v$vcov, sdcor = v$sdcor),
    ranef = list(group = as.character(re$grpvar), level = as.character(re$grp),
                 mode = re$condval, sd = re$condsd),
    lme4_version = as.character(packageVersion("lme4"))
  )
  write_json(out, file.path(out_dir, paste0(out$name, ".json")), digits = NA,
             auto_unbox = TRUE, pretty = TRUE)
}
