# Reference values for pds.vam.sgp: quantreg::rq (method "br", the SGP package's default)
# on B-spline bases of two priors, with the SGP package's knot/boundary rules.
# Run from this folder:  Rscript sgp_rq.R
# Writes: sgp_knots.csv, sgp_rq_coefficients.csv, sgp_rq_sgp.csv, sgp_versions.txt
suppressPackageStartupMessages({library(quantreg); library(splines)})
d <- read.csv("sgp_data.csv")
kb <- function(x) list(knots = round(as.vector(quantile(x, probs = c(0.2, 0.4, 0.6, 0.8))), 3),
                       boundaries = round(as.vector(extendrange(x, f = 0.1)), 3))
k1 <- kb(d$prior1); k2 <- kb(d$prior2)
write.csv(data.frame(prior = rep(c("prior1", "prior2"), each = 6),
                     kind = rep(c(rep("knot", 4), "lower", "upper"), 2),
                     value = c(k1$knots, k1$boundaries, k2$knots, k2$boundaries)),
          "sgp_knots.csv", row.names = FALSE)
taus <- (1:100 - 0.5) / 100
fit <- rq(score ~ bs(prior1, knots = k1$knots, Boundary.knots = k1$boundaries) +
            bs(prior2, knots = k2$knots, Boundary.knots = k2$boundaries),
          tau = taus, data = d, method = "br")
cf <- coef(fit)
out <- data.frame(term = c("(Intercept)", paste0("bs(prior1)[", 1:7, "]"),
                           paste0("bs(prior2)[", 1:7, "]")), cf, check.names = FALSE)
names(out) <- c("term", sprintf("%.3f", taus))
write.csv(out, "sgp_rq_coefficients.csv", row.names = FALSE)
X <- cbind(1, bs(d$prior1, knots = k1$knots, Boundary.knots = k1$boundaries),
           bs(d$prior2, knots = k2$knots, Boundary.knots = k2$boundaries))
pred <- round(t(apply(X %*% cf, 1, sort)), 5)
s <- apply(cbind(pred < d$score, FALSE), 1, function(x) which.min(x) - 1)
s[s == 0] <- 1; s[s == 100] <- 99
write.csv(data.frame(sgp = as.integer(s)), "sgp_rq_sgp.csv", row.names = FALSE)
writeLines(c(R.version.string, paste("quantreg", packageVersion("quantreg")),
             paste("splines", packageVersion("splines"))), "sgp_versions.txt")
