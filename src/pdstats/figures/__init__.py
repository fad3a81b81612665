"""pdstats.figures: report figures drawn with seaborn/matplotlib, one function per figure."""

from pdstats.figures.estimates import caterpillar, coefplot
from pdstats.figures.practices import (
    YEAR1_FIGURES,
    plot_item_scalability,
    plot_practice_index,
    plot_self_assessment,
    plot_stage_matrix,
    plot_year1_figure,
    save_year1_figures,
)

__all__ = [
    "caterpillar",
    "coefplot",
    "YEAR1_FIGURES",
    "plot_item_scalability",
    "plot_practice_index",
    "plot_self_assessment",
    "plot_stage_matrix",
    "plot_year1_figure",
    "save_year1_figures",
]
