## Reference values for pdstats.inference (CR2 SEs + Bell-McCaffrey df, HTZ Wald tests).
## Sources: clubSandwich (coef_test, Wald_test test = "HTZ"), estimatr (lm_robust
## se_type = "CR2"/"HC2"), metafor (rma.mv), lme4. Run from the repository root:
##   Rscript tests/reference/inference/make_reference.R
suppressMessages({
  library(clubSandwich); library(estimatr); library(metafor); library(lme4)
  library(AER); library(jsonlite); library(mlmRev)
})
out_dir <- "tests/reference/inference"

cs_table <- function(fit, cluster) {
  ct <- coef_test(fit, vcov = "CR2", cluster = cluster, test = "Satterthwaite")
  data.frame(term = ct$Coef, estimate = ct$beta, std_error = ct$SE, df = ct$df_Satt,
             p_value = ct$p_Satt)
}
htz <- function(fit, cluster, idx) {
  w <- Wald_test(fit, constraints = constrain_zero(idx), vcov = "CR2", cluster = cluster,
                 test = "HTZ")
  list(terms = idx, Fstat = w$Fstat, df_num = w$df_num, df_denom = w$df_denom, p_value = w$p_val)
}
er_table <- function(fit) {
  s <- summary(fit)$coefficients
  data.frame(term = rownames(s), estimate = s[, "Estimate"], std_error = s[, "Std. Error"],
             df = s[, "DF"], p_value = s[, "Pr(>|t|)"])
}
save <- function(name, x) {
  write_json(x, file.path(out_dir, paste0(name, ".json")), digits = NA, auto_unbox = TRUE,
             pretty = TRUE)
}

## ---- OLS / WLS with few clusters: California schools (AER::CASchools) --------------
data("CASchools", package = "AER")
ca <- CASchools
ca$str <- ca$students / ca$teachers
for (min_n in c(10, 20)) {
  keep <- names(which(table(ca$county) >= min_n))
  d <- droplevels(ca[ca$county %in% keep, ])
  ## weights scaled to mean 1: clubSandwich's matrix_power() zeroes eigenvalues below an
  ## absolute 1e-12, which with raw enrolments (mean ~3000) drops a direction of Omega in
  ## the 3-constraint HTZ test of the 10-school subset (F 101 on 8.5 df instead of 80.9 on
  ## 3.66); CR2 itself is invariant to the scale of the weights.
  d$w <- d$students / mean(d$students)
  f <- read ~ str + english + lunch
  ols <- lm(f, data = d)
  wls <- lm(f, data = d, weights = w)
  e_ols <- lm_robust(f, data = d, clusters = county, se_type = "CR2")
  e_wls <- lm_robust(f, data = d, clusters = county, se_type = "CR2", weights = w)
  save(paste0("caschools_min", min_n), list(
    source = paste0("AER::CASchools, counties with >= ", min_n, " schools; read ~ str + english + lunch; cluster county"),
    min_schools = min_n, n = nrow(d), n_clusters = nlevels(d$county),
    ols = list(clubsandwich = cs_table(ols, d$county), estimatr = er_table(e_ols),
               wald = list(htz(ols, d$county, 3:4), htz(ols, d$county, 2:4))),
    wls = list(clubsandwich = cs_table(wls, d$county), estimatr = er_table(e_wls),
               wald = list(htz(wls, d$county, 3:4), htz(wls, d$county, 2:4)))
  ))
}
## HC2 (each row its own cluster) on the same 20-school subset
e_hc2 <- lm_robust(read ~ str + english + lunch, data = d, se_type = "HC2")
save("caschools_hc2", list(source = "AER::CASchools counties with >= 20 schools; HC2",
                           estimatr = er_table(e_hc2)))

## ---- Meta-regression with known sampling variances (metafor::dat.konstantopoulos2011) --
dat <- dat.konstantopoulos2011
dat$year_c <- dat$year - 1990
ctl <- list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14, maxit = 10000)
m_nested <- rma.mv(yi, vi, mods = ~ year_c, random = ~ 1 | district/school, data = dat,
                   method = "REML", control = ctl)
m_school <- rma.mv(yi, vi, mods = ~ year_c, random = ~ 1 | study, data = dat,
                   method = "REML", control = ctl)
save("konstantopoulos_meta", list(
  source = "metafor::dat.konstantopoulos2011; rma.mv(yi, vi, mods = ~ I(year - 1990), REML); clubSandwich CR2 clustered by district",
  data = dat[, c("district", "school", "study", "year", "yi", "vi")],
  nested = list(sigma2 = m_nested$sigma2, clubsandwich = cs_table(m_nested, dat$district),
                wald = list(htz(m_nested, dat$district, 1:2))),
  school_only = list(sigma2 = m_school$sigma2, clubsandwich = cs_table(m_school, dat$district),
                     wald = list(htz(m_school, dat$district, 1:2)))
))

## ---- Mixed model clustered above its highest random-effect level (lme4, mlmRev::egsingle)
data("egsingle", package = "mlmRev")
eg <- egsingle
eg$fem <- as.numeric(eg$female == "Female")
fit_child <- lmer(math ~ year + fem + (1 | childid), data = eg, REML = TRUE)
save("egsingle_child_by_school", list(
  source = "mlmRev::egsingle; lmer(math ~ year + fem + (1 | childid), REML), fem = (female == Female); CR2 clustered by schoolid (above childid)",
  theta = unname(getME(fit_child, "theta")), sigma = sigma(fit_child),
  clubsandwich = cs_table(fit_child, eg$schoolid),
  wald = list(htz(fit_child, eg$schoolid, 2:3))
))
cat("written to", out_dir, "\n")
