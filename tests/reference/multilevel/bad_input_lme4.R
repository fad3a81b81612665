## What lme4 decides on the bad inputs of issue 12, and its fit of a shifted response.
## Run from the repository root:
##   Rscript tests/reference/multilevel/bad_input_lme4.R
## Writes tests/reference/multilevel/bad_input_lme4.json (read by
## tests/multilevel/test_multilevel_bad_input.py, which never needs R).
## Data: lme4's sleepstudy, plus columns added here (all deterministic):
##   one = "a" (a grouping factor with one level), half = Subject split in 2 groups,
##   const = 2 (a constant covariate), flat = 3 (a constant response).
suppressPackageStartupMessages({ library(lme4); library(jsonlite) })
out <- "tests/reference/multilevel/bad_input_lme4.json"
d <- sleepstudy
d$one <- factor("a")
d$half <- factor(as.integer(d$Subject) %% 2)
d$const <- 2
d$flat <- 3
tight <- lmerControl(optimizer = "nloptwrap",
                     optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-12, xtol_rel = 0,
                                    ftol_rel = 0, maxeval = 1e5))
decide <- function(formula, data = d) {
  warns <- character(0); msgs <- character(0)
  fit <- tryCatch(withCallingHandlers(lmer(formula, data, control = tight),
                                      warning = function(w) {
                                        warns <<- c(warns, conditionMessage(w))
                                        invokeRestart("muffleWarning")
                                      },
                                      message = function(m) {
                                        msgs <<- c(msgs, conditionMessage(m))
                                        invokeRestart("muffleMessage")
                                      }),
                  error = function(e) conditionMessage(e))
  if (is.character(fit)) return(list(decision = "error", message = fit))
  v <- as.data.frame(VarCorr(fit))
  list(decision = "fit", warnings = warns, messages = msgs, singular = isSingular(fit),
       fixef = unname(fixef(fit)), terms = names(fixef(fit)),
       se = tryCatch(unname(sqrt(diag(as.matrix(vcov(fit))))), error = function(e) NA),
       sdcor = v$sdcor)
}
d_inf <- d; d_inf$Reaction[5] <- Inf
d_infx <- d; d_infx$Days[7] <- Inf
res <- list(
  one_level_group = decide(Reaction ~ Days + (1 | one)),
  constant_response = decide(flat ~ Days + (1 | Subject)),
  constant_slope = decide(Reaction ~ Days + (const | Subject)),
  constant_slope_no_intercept = decide(Reaction ~ Days + (0 + const | Subject)),
  two_level_group = decide(Reaction ~ Days + (1 | half)),
  inf_response = decide(Reaction ~ Days + (1 | Subject), d_inf),
  inf_covariate = decide(Reaction ~ Days + (1 | Subject), d_infx),
  base = decide(Reaction ~ Days + (Days | Subject)),
  shift_1e8 = decide(I(Reaction + 1e8) ~ Days + (Days | Subject)),
  shift_1e12 = decide(I(Reaction + 1e12) ~ Days + (Days | Subject))
)
res$lme4_version <- as.character(packageVersion("lme4"))
writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE), out)
