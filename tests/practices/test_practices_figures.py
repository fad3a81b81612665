"""Year-1 figures: drawn from recomputed tables, with counts on the bars."""

import matplotlib.pyplot as plt
import pytest

import pdstats as pds
from pdstats.figures import YEAR1_FIGURES, plot_year1_figure, save_year1_figures


@pytest.fixture(scope="module")
def tables():
    return pds.practices.year1_tables(pds.practices.reconstruct_year1(0))


@pytest.mark.parametrize("fig", ["Table 3.1.2", "Figure 3.5.1", "Figure 4.2", "Figure 3.1.1"])
def test_bar_labels_are_the_counts(tables, fig):
    ax = plot_year1_figure(tables, fig)
    labels = [lab.get_text() for lab in ax.texts if lab.get_text().isdigit()]
    assert [int(v) for v in labels] == tables[fig]["value"].astype(int).tolist()
    assert ax.get_title(loc="left").startswith(fig)
    plt.close(ax.figure)


def test_stage_matrix_heatmap_annotations(tables):
    ax = plot_year1_figure(tables, "Table 6.1")
    nums = sorted(int(t.get_text()) for t in ax.texts if t.get_text().isdigit())
    assert nums == sorted(tables["Table 6.1"]["value"].astype(int).tolist())
    heads = [t.get_text() for t in ax.texts if not t.get_text().isdigit()][:-1]  # last: note
    assert heads == list(dict.fromkeys(pds.practices.stage_matrix()["group_label"]))
    plt.close(ax.figure)


def test_save_all(tables, tmp_path):
    paths = save_year1_figures(tables, tmp_path)
    assert len(paths) == len(YEAR1_FIGURES) == 10
    assert all(p.stat().st_size > 5000 for p in paths)
    with pytest.raises(ValueError):
        plot_year1_figure(tables, "Figure 9.9")


def test_results_plots():
    d = pds.practices.reconstruct_year1(0)
    r = d["practice_ratings"]
    ax = pds.practices.score(r, method="pcm").plot()
    assert len(ax.get_yticklabels()) == 28
    ax2 = pds.practices.score(r, method="index").plot()
    assert ax2.get_title(loc="left").startswith("Practice scores")
    sc = pds.practices.scalability(r, n_boot=10, progress=False)
    ax3 = sc.plot()
    assert len(ax3.get_yticklabels()) == 47
    plt.close("all")
