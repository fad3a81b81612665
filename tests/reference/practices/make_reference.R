# Reference values for pdstats.practices (Rasch / PCM by CML, alpha, one-factor omega).
# Run from the repository root after make_inputs.py:
#   Rscript tests/reference/practices/make_reference.R
# Needs R >= 4 with eRm (>= 1.0) and psych. Outputs CSV files next to this script.
# Last regenerated 2026-12-01 from Debian packages r-base-core 4.2.2.20221110-2,
# r-cran-erm 1.0-2-1+b1, r-cran-psych 2.2.9-1 (versions.txt); rerunning make_inputs.py and
# this script reproduces every committed file byte for byte.
suppressMessages({library(eRm); library(psych)})
dir <- "tests/reference/practices"
fit_one <- function(name, model) {
  X <- as.matrix(read.csv(file.path(dir, paste0("input_", name, ".csv"))))
  m <- if (model == "RM") RM(X) else PCM(X)
  items <- data.frame(param = names(m$betapar), beta = unname(m$betapar),
                      se = unname(m$se.beta))
  write.csv(items, file.path(dir, paste0("erm_", name, "_items.csv")), row.names = FALSE)
  pp <- person.parameter(m)
  raw <- rowSums(X)
  th <- coef(pp)  # ML estimates (extreme raw scores are spline-interpolated by eRm)
  se <- pp$se.theta[[1]]
  persons <- data.frame(person = seq_len(nrow(X)), raw_score = raw,
                        theta = unname(th[paste0("P", seq_len(nrow(X)))]),
                        se = unname(se[paste0("P", seq_len(nrow(X)))]))
  write.csv(persons, file.path(dir, paste0("erm_", name, "_persons.csv")), row.names = FALSE)
  cat(name, model, "cond. loglik", m$loglik, "\n")
  data.frame(data = name, model = model, loglik = m$loglik, npar = m$npar)
}
fits <- rbind(fit_one("cells", "RM"), fit_one("counts", "PCM"), fit_one("sim_pcm", "PCM"))
write.csv(fits, file.path(dir, "erm_fits.csv"), row.names = FALSE)

# internal consistency of the 12 practice scores: Cronbach's alpha and one-factor omega
C <- as.matrix(read.csv(file.path(dir, "input_counts.csv")))
a <- psych::alpha(C, warnings = FALSE, check.keys = FALSE)
f <- psych::fa(C, nfactors = 1, fm = "ml")
lam <- as.numeric(f$loadings)
psi <- as.numeric(f$uniquenesses)
omega <- sum(lam)^2 / (sum(lam)^2 + sum(psi))
S <- as.matrix(read.csv(file.path(dir, "input_sim_pcm.csv")))
a2 <- psych::alpha(S, warnings = FALSE)
f2 <- psych::fa(S, nfactors = 1, fm = "ml")
lam2 <- as.numeric(f2$loadings); psi2 <- as.numeric(f2$uniquenesses)
rel <- data.frame(data = c("counts", "sim_pcm"),
                  alpha = c(a$total$raw_alpha, a2$total$raw_alpha),
                  omega_total = c(omega, sum(lam2)^2 / (sum(lam2)^2 + sum(psi2))))
write.csv(rel, file.path(dir, "psych_reliability.csv"), row.names = FALSE)
writeLines(c(R.version.string, paste("eRm", packageVersion("eRm")),
             paste("psych", packageVersion("psych"))), file.path(dir, "versions.txt"))

# Real data: LSAT section 6 (Bock & Lieberman 1970; psych::lsat6), dichotomous Rasch model
data(bock, package = "psych")
L <- as.matrix(lsat6)
rl <- RM(L)
write.csv(data.frame(param = names(rl$betapar), beta = unname(rl$betapar), se = unname(rl$se.beta)),
          file.path(dir, "erm_lsat6_items.csv"), row.names = FALSE)
ppl <- person.parameter(rl)
tt <- ppl$pred.list  # not used; raw-score table below
raw <- rowSums(L)
keep <- raw > 0 & raw < ncol(L)
th <- coef(ppl)[paste0("P", which(keep))]
se <- ppl$se.theta[[1]][paste0("P", which(keep))]
tab <- unique(data.frame(raw_score = raw[keep], theta = unname(th), se = unname(se)))
write.csv(tab[order(tab$raw_score), ], file.path(dir, "erm_lsat6_persons.csv"), row.names = FALSE)
write.csv(data.frame(loglik = rl$loglik), file.path(dir, "erm_lsat6_fit.csv"), row.names = FALSE)

# Real data: bfi conscientiousness items (C4, C5 reversed), complete cases
B <- psych::bfi[, c("C1", "C2", "C3", "C4", "C5")]
B$C4 <- 7 - B$C4; B$C5 <- 7 - B$C5
B <- B[complete.cases(B), ]
ab <- psych::alpha(B, warnings = FALSE)
fb <- psych::fa(B, nfactors = 1, fm = "ml")
lb <- as.numeric(fb$loadings); pb <- as.numeric(fb$uniquenesses)
write.csv(data.frame(n = nrow(B), alpha = ab$total$raw_alpha,
                     omega_total = sum(lb)^2 / (sum(lb)^2 + sum(pb))),
          file.path(dir, "psych_bfi_conscientiousness.csv"), row.names = FALSE)
