# Reference values for pds.evaluate.randomized from R's estimatr (and AER::ivreg).
# Run from this folder:  Rscript make_randomized_reference.R
# Writes trial_individual.csv, trial_cluster.csv (data, simulated here with a fixed
# seed) and randomized_reference.csv (one row per case: estimate, std_error, df).
suppressPackageStartupMessages({library(estimatr); library(AER)})
set.seed(20261205)

# individually randomized: 5 blocks of 40 students (20 treated each), and 100 pairs
n <- 200
ind <- data.frame(block = rep(1:5, each = 40), pair = rep(1:100, each = 2))
ind$z <- unlist(lapply(1:5, function(b) sample(rep(0:1, 20))))
ind$z_pair <- as.vector(replicate(100, sample(0:1)))
ind$x <- rnorm(n)
ind$y <- 1 + 0.3 * ind$z + 0.2 * ind$z_pair + 0.8 * ind$x + 0.4 * ind$block + rnorm(n) * (1 + 0.5 * ind$z)
ind$t <- ifelse(ind$z == 1, rbinom(n, 1, 0.7), rbinom(n, 1, 0.1))

# cluster randomized: 6 blocks of 8 teachers (4 treated), 3-12 students each; and 24 pairs
sizes <- sample(3:12, 48, replace = TRUE)
cl <- data.frame(teacher = rep(1:48, sizes))
cl$block <- (cl$teacher - 1) %/% 8 + 1
cl$pair <- (cl$teacher - 1) %/% 2 + 1
zt <- unlist(lapply(1:6, function(b) sample(rep(0:1, 4))))
zp <- as.vector(replicate(24, sample(0:1)))
cl$z <- zt[cl$teacher]
cl$z_pair <- zp[cl$teacher]
cl$x <- rnorm(nrow(cl))
u <- rnorm(48)
cl$y <- 2 + 0.5 * cl$z + 0.3 * cl$z_pair + 0.6 * cl$x + u[cl$teacher] + 0.3 * cl$block + rnorm(nrow(cl))
cl$t <- ifelse(cl$z == 1, rbinom(nrow(cl), 1, 0.8), 0)

write.csv(ind, "trial_individual.csv", row.names = FALSE)
write.csv(cl, "trial_cluster.csv", row.names = FALSE)

row <- function(case, fit, term) {
  s <- summary(fit)$coefficients
  data.frame(case = case, estimate = unname(coef(fit)[term]), std_error = unname(fit$std.error[term]),
             df = unname(fit$df[term]))
}
out <- rbind(
  row("dim_standard", difference_in_means(y ~ z, data = ind), "z"),
  row("dim_blocked", difference_in_means(y ~ z, blocks = block, data = ind), "z"),
  row("dim_pairs", difference_in_means(y ~ z_pair, blocks = pair, data = ind), "z_pair"),
  row("dim_clustered", difference_in_means(y ~ z, clusters = teacher, data = cl), "z"),
  row("dim_blocked_clustered", difference_in_means(y ~ z, blocks = block, clusters = teacher, data = cl), "z"),
  row("dim_pairs_clustered", difference_in_means(y ~ z_pair, blocks = pair, clusters = teacher, data = cl), "z_pair"),
  row("lm_hc2_blocks_covariate", lm_robust(y ~ z + x + factor(block), data = ind, se_type = "HC2"), "z"),
  row("lm_cr2_blocks_covariate", lm_robust(y ~ z + x + factor(block), clusters = teacher, data = cl, se_type = "CR2"), "z"),
  row("iv_hc1_blocks_covariate", iv_robust(y ~ t + x + factor(block) | z + x + factor(block), data = ind, se_type = "HC1"), "t"),
  row("iv_stata_blocks_covariate", iv_robust(y ~ t + x + factor(block) | z + x + factor(block), clusters = teacher, data = cl, se_type = "stata"), "t")
)
# AER::ivreg agrees on the 2SLS point estimate (a second implementation)
aer <- coef(ivreg(y ~ t + x + factor(block) | z + x + factor(block), data = cl))["t"]
stopifnot(abs(aer - out$estimate[out$case == "iv_stata_blocks_covariate"]) < 1e-10)
write.csv(out, "randomized_reference.csv", row.names = FALSE)
print(out, digits = 12)

# Effect sizes of the individually randomized comparison (y by z, two arms of 100):
# Hedges' g and its large-sample variance from metafor::escalc (measure "SMD", vtype "LS",
# the WWC v5.0 formula), the WWC improvement index 100 * (pnorm(g) - 0.5).
suppressPackageStartupMessages(library(metafor))
a <- ind[ind$z == 1, "y"]; b <- ind[ind$z == 0, "y"]
es <- escalc("SMD", m1i = mean(a), sd1i = sd(a), n1i = length(a), m2i = mean(b), sd2i = sd(b),
             n2i = length(b), vtype = "LS")
N <- length(a) + length(b)
wwc_g <- (1 - 3 / (4 * N - 9)) * (mean(a) - mean(b)) / sqrt(((length(a) - 1) * var(a) + (length(b) - 1) * var(b)) / (N - 2))
es_out <- data.frame(quantity = c("escalc_g", "escalc_se", "wwc_g", "wwc_se", "improvement_index"),
                     value = c(es$yi, sqrt(es$vi), wwc_g,
                               sqrt(N / (length(a) * length(b)) + wwc_g^2 / (2 * N)),
                               100 * (pnorm(wwc_g) - 0.5)))
write.csv(es_out, "effect_size_reference.csv", row.names = FALSE)
print(es_out, digits = 12)
