## Reference values for pds.evaluate.twfe: two-way fixed effects with cluster-robust SEs.
## Sources: base R lm (dummy-variable TWFE), clubSandwich::coef_test (CR2, Satterthwaite
## df), sandwich::vcovCL (type "HC1": CR1 with Stata's G/(G-1) (n-1)/(n-k) factor).
## The panel is simulated here (staggered adoption, 24 units x 6 years in 6 states) and
## written beside the values. Run from the repository root:
##   Rscript tests/reference/evaluate/make_reference.R
suppressMessages({library(clubSandwich); library(sandwich); library(jsonlite)})
out_dir <- "tests/reference/evaluate"
set.seed(20261204)
n_units <- 24; years <- 2001:2006
g_unit <- rep(c(0, 2003, 2004, 2005), each = 6)
state_unit <- rep(1:6, times = 4)
d <- expand.grid(year = years, id = 1:n_units)[, c("id", "year")]
d$state <- state_unit[d$id]
d$g <- g_unit[d$id]
d$d <- as.integer(d$g > 0 & d$year >= d$g)
a <- rnorm(n_units); s <- rnorm(6, sd = 0.5)
d$y <- a[d$id] + s[d$state] + 0.3 * (d$year - 2000) + d$d * (1 + 0.5 * pmax(d$year - d$g, 0)) +
  rnorm(nrow(d))
write.csv(d, file.path(out_dir, "twfe_panel.csv"), row.names = FALSE)

fit <- lm(y ~ d + factor(id) + factor(year), data = d)
one <- function(cluster, name) {
  ct <- coef_test(fit, vcov = "CR2", cluster = cluster, test = "Satterthwaite", coefs = "d")
  v1 <- vcovCL(fit, cluster = cluster, type = "HC1")
  list(cluster = name, estimate = unname(coef(fit)["d"]), se_cr2 = ct$SE, df_cr2 = ct$df_Satt,
       p_cr2 = ct$p_Satt, se_cr1 = sqrt(v1["d", "d"]))
}
res <- list(by_id = one(d$id, "id"), by_state = one(d$state, "state"),
            source = "R lm + clubSandwich coef_test(CR2, Satterthwaite) + sandwich vcovCL(HC1)")
write_json(res, file.path(out_dir, "twfe_reference.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
