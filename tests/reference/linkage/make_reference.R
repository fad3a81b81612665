## Reference values for the district model of pds.linkage (V-known meta-regression).
## Source: metafor::rma.mv (REML; known sampling variances var_growth; fixed effects for
## state x year x grade cells, the practice index and pay-for-performance; random
## intercepts for district and district-by-year), then clubSandwich::coef_test with CR2
## clustered by district and Satterthwaite (Bell-McCaffrey) df.
## Data: district_panel.csv, written by make_panel.py from the default simulated world.
## Run from the repository root:  Rscript tests/reference/linkage/make_reference.R
suppressMessages({library(metafor); library(clubSandwich); library(jsonlite)})
dir <- "tests/reference/linkage"
d <- read.csv(file.path(dir, "district_panel.csv"), colClasses = c(district_id = "character"))
ctl <- list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14, maxit = 10000)
fit <- rma.mv(growth, var_growth, mods = ~ factor(cell) + practice_index + p4p,
              random = list(~ 1 | district_id, ~ 1 | district_year), data = d,
              method = "REML", control = ctl)
ct <- coef_test(fit, vcov = "CR2", cluster = d$district_id, test = "Satterthwaite")
keep <- ct$Coef %in% c("practice_index", "p4p")
out <- list(
  source = paste("metafor", packageVersion("metafor"), "rma.mv REML + clubSandwich",
                 packageVersion("clubSandwich"), "coef_test CR2 by district_id, Satterthwaite df"),
  sigma2 = fit$sigma2,
  terms = data.frame(term = ct$Coef[keep], estimate = ct$beta[keep], std_error = ct$SE[keep],
                     df = ct$df_Satt[keep], p_value = ct$p_Satt[keep]))
write_json(out, file.path(dir, "district_model.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
