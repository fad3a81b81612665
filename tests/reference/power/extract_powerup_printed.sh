#!/bin/sh
# Print the MDES blocks PowerUpR's authors published in the rendered CRAN vignettes, the
# source of powerup_published.csv. Needs git and the CRAN mirror of PowerUpR:
#   git clone https://github.com/cran/PowerUpR && cd PowerUpR && sh <this dir>/extract_powerup_printed.sh
# (version 0.2.3: inst/doc/cross_checks.html; version 1.1.0:
#  inst/doc/three_level_cluster_randomized_trial.html)
set -e
for spec in 5651ba00c505d42913ec496b26b21e62a90dfd8e:inst/doc/cross_checks.html \
            ac7e9ab:inst/doc/three_level_cluster_randomized_trial.html; do
  echo "== $spec"
  git show "$spec" | sed 's/<[^>]*>//g' | grep -E "mdes\.|MDES is|^## +[0-9.]+ 95% CI|Degrees of freedom|Standardized standard error"
done
