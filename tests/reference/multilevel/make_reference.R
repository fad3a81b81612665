## Reference values for pdstats.multilevel, computed with R's lme4 / lmerTest /
## pbkrtest / clubSandwich / nlme.  Run from the repository root:
##   Rscript tests/reference/multilevel/make_reference.R
## Writes one JSON file per model into tests/reference/multilevel/.
## The tests read those files and never need R.
suppressPackageStartupMessages({
  library(lme4); library(lmerTest); library(pbkrtest); library(clubSandwich)
  library(mlmRev); library(nlme); library(jsonlite)
})
out_dir <- "tests/reference/multilevel"
tight <- lmerControl(optimizer = "nloptwrap",
                     optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-12, xtol_rel = 0,
                                    ftol_rel = 0, maxeval = 1e5),
                     check.conv.singular = "ignore")

fe_table <- function(fit, kr = FALSE) {
  s <- summary(fit, ddf = "Satterthwaite")$coefficients
  res <- data.frame(term = rownames(s), estimate = s[, "Estimate"],
                    std_error = s[, "Std. Error"], df = s[, "df"],
                    t = s[, "t value"], p = s[, "Pr(>|t|)"])
  if (kr) {
    k <- summary(fit, ddf = "Kenward-Roger")$coefficients
    res$std_error_kr <- k[, "Std. Error"]; res$df_kr <- k[, "df"]; res$p_kr <- k[, "Pr(>|t|)"]
  }
  rownames(res) <- NULL
  res
}
vc_table <- function(fit) {
  v <- as.data.frame(VarCorr(fit))
  data.frame(group = v$grp, term1 = v$var1, term2 = v$var2, vcov = v$vcov, sdcor = v$sdcor)
}
ranef_table <- function(fit) {
  r <- as.data.frame(ranef(fit, condVar = TRUE))
  data.frame(group = r$grpvar, term = r$term, level = as.character(r$grp),
             mode = r$condval, sd = r$condsd)
}
save_fit <- function(name, fit, data, kr = FALSE, cr2_cluster = NULL, ranef = FALSE,
                     fitted = FALSE, extra = list()) {
  ll <- logLik(fit)
  out <- list(
    name = name, formula = deparse(formula(fit), width.cutoff = 500L),
    reml = isREML(fit), n = nobs(fit), theta = unname(getME(fit, "theta")),
    sigma = sigma(fit), loglik = as.numeric(ll), df_model = attr(ll, "df"),
    deviance = if (isREML(fit)) unname(getME(fit, "devcomp")$cmp["REML"]) else deviance(fit),
    aic = AIC(fit), bic = BIC(fit), singular = isSingular(fit),
    fe = fe_table(fit, kr = kr), varcomp = vc_table(fit),
    vcov_fe = unname(as.matrix(vcov(fit))),
    lme4_version = as.character(packageVersion("lme4")),
    lmerTest_version = as.character(packageVersion("lmerTest"))
  )
  ## agreement of the tight-tolerance fit with lme4's default optimizer settings
  default_fit <- update(fit, control = lmerControl(check.conv.singular = "ignore"))
  out$default_max_abs_diff_fixef <- max(abs(fixef(default_fit) - fixef(fit)))
  out$default_max_abs_diff_theta <- max(abs(getME(default_fit, "theta") - getME(fit, "theta")))
  if (!is.null(cr2_cluster)) {
    ct <- coef_test(fit, vcov = "CR2", cluster = data[[cr2_cluster]], test = "Satterthwaite")
    out$cr2 <- data.frame(term = names(fixef(fit)), estimate = ct$beta, std_error = ct$SE,
                          df = ct$df_Satt, p = ct$p_Satt)
    out$cr2_cluster <- cr2_cluster
  }
  if (ranef) out$ranef <- ranef_table(fit)
  if (fitted) out$fitted <- unname(fitted(fit))
  out <- c(out, extra)
  writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, dataframe = "columns", pretty = TRUE),
             file.path(out_dir, paste0(name, ".json")))
  cat("wrote", name, "\n")
  invisible(fit)
}

## ---- mlmRev/egsingle (Chicago growth; HLM manual / Bryk & Raudenbush) ----
eg <- mlmRev::egsingle
eg$black <- as.numeric(as.character(eg$black))
eg$hispanic <- as.numeric(as.character(eg$hispanic))
eg_uncond <- lmer(math ~ year + (year | childid) + (year | schoolid), data = eg, REML = TRUE,
                  control = tight)
save_fit("egsingle_uncond_reml", eg_uncond, eg, cr2_cluster = "schoolid",
         extra = list(check_sum_math = sum(eg$math)))
eg_cond <- lmer(math ~ year * (black + hispanic + lowinc) + (year | childid) + (year | schoolid),
                data = eg, REML = FALSE, control = tight)
save_fit("egsingle_cond_ml", eg_cond, eg)
eg_cond_small <- lmer(math ~ year * (black + hispanic) + (year | childid) + (year | schoolid),
                      data = eg, REML = FALSE, control = tight)
save_fit("egsingle_cond_small_ml", eg_cond_small, eg)
a <- anova(eg_cond_small, eg_cond)
writeLines(toJSON(list(chisq = a$Chisq[2], df = a$Df[2], p = a[["Pr(>Chisq)"]][2]),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(out_dir, "egsingle_lrt.json"))
eg_nested <- lmer(math ~ year + (1 | schoolid / childid), data = eg, REML = TRUE, control = tight)
save_fit("egsingle_nested_intercepts_reml", eg_nested, eg)

## ---- mlmRev/Hsb82 (Raudenbush & Bryk 2002, Tables 4.2-4.5) ----
hsb <- mlmRev::Hsb82
hsb$school <- factor(as.character(hsb$school))
hsb$sector <- as.numeric(hsb$sector == "Catholic")
hlm_reliability <- function(fit, data, group, terms) {
  ## HLM's reliability of the OLS coefficients: tau_qq / (tau_qq + v_qqj), averaged over j,
  ## with v_j = sigma^2 (X_j' X_j)^{-1}.
  tau <- VarCorr(fit)[[group]]
  s2 <- sigma(fit)^2
  X <- model.matrix(as.formula(paste("~", paste(terms, collapse = "+"))), data)
  if (length(terms) == 1 && terms == "1") X <- X[, 1, drop = FALSE]
  rel <- sapply(split(seq_len(nrow(data)), data[[group]]), function(idx) {
    v <- s2 * solve(crossprod(X[idx, , drop = FALSE]))
    diag(tau) / (diag(tau) + diag(v))
  })
  if (is.null(dim(rel))) mean(rel) else rowMeans(rel)
}
h42 <- lmer(mAch ~ 1 + (1 | school), data = hsb, REML = TRUE, control = tight)
save_fit("hsb82_table4_2_reml", h42, hsb, kr = TRUE, cr2_cluster = "school",
         extra = list(reliability = hlm_reliability(h42, hsb, "school", "1")))
h43 <- lmer(mAch ~ meanses + (1 | school), data = hsb, REML = TRUE, control = tight)
save_fit("hsb82_table4_3_reml", h43, hsb, kr = TRUE,
         extra = list(reliability = hlm_reliability(h43, hsb, "school", "1")))
h44 <- lmer(mAch ~ cses + (cses | school), data = hsb, REML = TRUE, control = tight)
save_fit("hsb82_table4_4_reml", h44, hsb, kr = TRUE, cr2_cluster = "school", ranef = TRUE,
         extra = list(reliability = hlm_reliability(h44, hsb, "school", "cses")))
h45 <- lmer(mAch ~ meanses + sector + cses + meanses:cses + sector:cses + (cses | school),
            data = hsb, REML = TRUE, control = tight)
save_fit("hsb82_table4_5_reml", h45, hsb, kr = TRUE, cr2_cluster = "school",
         extra = list(reliability = hlm_reliability(h45, hsb, "school", "cses")))

## ---- lme4/sleepstudy ----
ss <- lme4::sleepstudy
s1 <- lmer(Reaction ~ Days + (Days | Subject), data = ss, REML = TRUE, control = tight)
save_fit("sleepstudy_reml", s1, ss, kr = TRUE, cr2_cluster = "Subject", ranef = TRUE,
         fitted = TRUE)
s2 <- lmer(Reaction ~ Days + (Days | Subject), data = ss, REML = FALSE, control = tight)
save_fit("sleepstudy_ml", s2, ss, kr = FALSE)
s3 <- lmer(Reaction ~ Days + (1 | Subject) + (0 + Days | Subject), data = ss, REML = TRUE,
           control = tight)
save_fit("sleepstudy_uncorrelated_reml", s3, ss, kr = TRUE)
ss$w <- 1 + (ss$Days %% 3)
s4 <- lmer(Reaction ~ Days + (Days | Subject), data = ss, REML = TRUE, weights = w,
           control = tight)
save_fit("sleepstudy_weights_reml", s4, ss)
s5 <- lmer(Reaction ~ Days + (Days | Subject), data = ss, REML = FALSE, weights = w,
           control = tight)
save_fit("sleepstudy_weights_ml", s5, ss)

## ---- crossed design: lme4/Penicillin ----
pen <- lme4::Penicillin
p1 <- lmer(diameter ~ 1 + (1 | plate) + (1 | sample), data = pen, REML = TRUE, control = tight)
save_fit("penicillin_crossed_reml", p1, pen, kr = TRUE, ranef = TRUE)
p2 <- lmer(diameter ~ 1 + (1 | plate) + (1 | sample), data = pen, REML = FALSE, control = tight)
save_fit("penicillin_crossed_ml", p2, pen)

## ---- V-known: school means of Hsb82 with their sampling variances ----
## Two independent references: nlme with sigma fixed at 1 (varFixed), and a direct
## marginal-likelihood computation (one-dimensional optimize() over tau^2, GLS for beta,
## SE = sqrt(diag((X' V^-1 X)^-1))).  nlme's reported SEs carry an extra N/(N-p) factor
## under REML with fixed sigma, so the SEs are taken from the direct computation.
agg <- do.call(rbind, lapply(split(hsb, hsb$school), function(d) data.frame(
  school = d$school[1], ybar = mean(d$mAch), v = var(d$mAch) / nrow(d),
  meanses = d$meanses[1], sector = d$sector[1])))
Xa <- cbind(1, agg$meanses, agg$sector)
direct_vknown <- function(reml) {
  crit <- function(tau2) {
    w <- 1 / (agg$v + tau2)
    XtWX <- crossprod(Xa, w * Xa)
    beta <- solve(XtWX, crossprod(Xa, w * agg$ybar))
    r <- agg$ybar - Xa %*% beta
    dev <- sum(log(agg$v + tau2)) + sum(w * r^2) + nrow(Xa) * log(2 * pi)
    if (reml) dev <- dev + c(determinant(XtWX)$modulus) - ncol(Xa) * log(2 * pi)
    list(dev = dev, beta = beta, se = sqrt(diag(solve(XtWX))))
  }
  opt <- optimize(function(t) crit(t)$dev, c(0, 50), tol = 1e-12)
  out <- crit(opt$minimum)
  list(tau2 = opt$minimum, loglik = -out$dev / 2, estimate = c(out$beta), std_error = out$se)
}
for (meth in c("REML", "ML")) {
  vk <- lme(ybar ~ meanses + sector, random = ~ 1 | school, data = agg, method = meth,
            weights = varFixed(~ v), control = lmeControl(sigma = 1, opt = "optim",
                                                          msMaxIter = 1000))
  tt <- summary(vk)$tTable
  dv <- direct_vknown(meth == "REML")
  out <- list(name = paste0("vknown_", tolower(meth)), reml = meth == "REML",
              n = nrow(agg), loglik = dv$loglik, tau2 = dv$tau2,
              fe = data.frame(term = rownames(tt), estimate = dv$estimate,
                              std_error = dv$std_error),
              nlme = list(tau2 = as.numeric(VarCorr(vk)[1, "Variance"]),
                          estimate = unname(tt[, "Value"]), std_error = unname(tt[, "Std.Error"]),
                          loglik = as.numeric(logLik(vk))),
              data = agg[, c("school", "ybar", "v", "meanses", "sector")])
  writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, dataframe = "columns", pretty = TRUE),
             file.path(out_dir, paste0("vknown_", tolower(meth), ".json")))
  cat("wrote vknown", meth, "\n")
}

## ---- three-level growth small enough for Kenward-Roger: egsingle, first 12 schools ----
eg_sub_ids <- head(sort(unique(as.character(eg$schoolid))), 12)
egs <- droplevels(eg[as.character(eg$schoolid) %in% eg_sub_ids, ])
eg_sub <- lmer(math ~ year + (year | childid) + (year | schoolid), data = egs, REML = TRUE,
               control = tight)
save_fit("egsingle_sub12_uncond_reml", eg_sub, egs, kr = TRUE, cr2_cluster = "schoolid",
         ranef = TRUE, extra = list(schools = eg_sub_ids))

## ---- singular fit: lme4/Dyestuff2 (between-batch variance estimated at 0) ----
dy2 <- lme4::Dyestuff2
d2 <- lmer(Yield ~ 1 + (1 | Batch), data = dy2, REML = TRUE, control = tight)
save_fit("dyestuff2_singular_reml", d2, dy2)

## ---- profile-likelihood intervals of the variance parameters (SDs, correlations, sigma) ----
## confint(method = "profile") on lme4's sd/cor scale (devfun2, REML criterion for REML fits).
profile_fits <- list(sleepstudy_reml = s1, sleepstudy_ml = s2, hsb82_table4_4_reml = h44,
                     penicillin_crossed_reml = p1, egsingle_uncond_reml = eg_uncond)
prof <- lapply(names(profile_fits), function(nm) {
  ci <- confint(profile_fits[[nm]], parm = "theta_", method = "profile", oldNames = FALSE,
                level = 0.95)
  data.frame(parameter = rownames(ci), lower = unname(ci[, 1]), upper = unname(ci[, 2]))
})
names(prof) <- names(profile_fits)
writeLines(toJSON(c(prof, list(lme4_version = as.character(packageVersion("lme4")))),
                  digits = NA, auto_unbox = TRUE, dataframe = "columns", pretty = TRUE),
           file.path(out_dir, "profile_ci.json"))
cat("wrote profile_ci\n")

## ---- intraclass correlations from VarCorr (nested random intercepts) ----
vc_n <- as.data.frame(VarCorr(eg_nested))
tot <- sum(vc_n$vcov)
share <- setNames(vc_n$vcov / tot, vc_n$grp)
writeLines(toJSON(list(group = c("childid:schoolid", "schoolid"),
                       share = unname(share[c("childid:schoolid", "schoolid")]),
                       icc = unname(c(share["childid:schoolid"] + share["schoolid"],
                                      share["schoolid"]))),
                  digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(out_dir, "egsingle_nested_icc.json"))
cat("wrote icc\n")
