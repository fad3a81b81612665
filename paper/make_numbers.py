"""Fill the manuscript from what the notebooks recorded and render it.

Run by ``pdstats reproduce`` after the notebooks (or by hand with ``PDSTATS_OUTPUT`` set):
writes ``$PDSTATS_OUTPUT/paper/numbers.json`` (all numbers), ``manuscript.md``
(``paper/manuscript.md`` with numbers, tables and figures filled in) and the
self-contained ``manuscript.html``; see :mod:`pdstats.report.paper`. A number, table or
figure the manuscript shows that no notebook produced stops the build.
"""

from __future__ import annotations

from pathlib import Path

from pdstats.report.paper import build_paper


def main() -> None:
    paths = build_paper(Path(__file__).parent / "manuscript.md")
    print(f"[paper] {paths['markdown'].parent}: numbers.json, manuscript.md, manuscript.html")


if __name__ == "__main__":
    main()
