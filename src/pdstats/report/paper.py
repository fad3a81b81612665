"""The paper: fill ``paper/manuscript.md`` from the run's outputs and render it to HTML.

The template holds four kinds of generated content:

* ``{{section.name}}`` - a number a notebook recorded (:func:`~pdstats.report.record_numbers`);
* ``{{table:name}}`` - the markdown of ``<output>/tables/<name>.md`` (:meth:`EstimatesTable.write`);
* ``{{figure:name|caption}}`` - the figure ``<output>/figures/<name>.png`` (:func:`save_figure`);
* ``<!-- if section -->`` ... ``<!-- endif -->`` - a block shown only when the numbers
  section ``section`` was recorded without a ``missing`` entry. Otherwise the block is
  replaced by one line saying what the store lacked (the ``missing`` text the notebook
  recorded) or that the section was not run.

:func:`build_paper` writes ``<output>/paper/numbers.json``, ``manuscript.md`` and
``manuscript.html``; the HTML is self-contained (figures embedded as base64 PNG, styles
inline) and rendered with mistune (installed with Jupyter's nbconvert), pure Python.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

from pdstats.errors import ReproduceError
from pdstats.report.numbers import collect_numbers, fill_placeholders
from pdstats.report.output import output_dir

__all__ = ["build_paper", "fill_blocks", "render_html"]

_BLOCK = re.compile(r"<!--\s*if\s+([a-z0-9_]+)\s*-->(.*?)<!--\s*endif\s*-->", re.S)
_TABLE = re.compile(r"\{\{\s*table:([a-z0-9_]+)\s*\}\}")
_FIGURE = re.compile(r"\{\{\s*figure:([a-z0-9_]+)\s*(?:\|([^}]*))?\}\}")
_IMG = re.compile(r"!\[([^\]]*)\]\(\.\./figures/([a-z0-9_]+)\.png\)")
_STYLE = """body{font-family:Georgia,serif;max-width:52rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#222}
h1,h2,h3{font-family:Helvetica,Arial,sans-serif}img{max-width:100%}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}th,td{padding:.2rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{border-bottom:1px solid #444}
table{border-top:2px solid #444;border-bottom:2px solid #444}blockquote{color:#555;border-left:3px solid #ccc;
margin-left:0;padding-left:1rem}"""


def fill_blocks(text: str, numbers: dict[str, dict[str, object]]) -> str:
    """Keep ``<!-- if s -->`` blocks whose section ran completely; explain the others.

    Examples
    --------
    >>> from pdstats.report.paper import fill_blocks
    >>> t = "<!-- if y2 -->growth {{y2.g}}<!-- endif -->"
    >>> fill_blocks(t, {"y2": {"g": 1.5}})
    'growth {{y2.g}}'
    >>> fill_blocks(t, {"y2": {"missing": "student_scores has no rows"}})
    '> *Not available for this study: student_scores has no rows.*'
    >>> fill_blocks(t, {})
    '> *Not available for this study: section y2 was not run.*'
    """
    def sub(m: re.Match[str]) -> str:
        section = numbers.get(m.group(1))
        if section is not None and "missing" not in section:
            return m.group(2)
        why = section["missing"] if section is not None else f"section {m.group(1)} was not run"
        return f"> *Not available for this study: {why}.*"

    return _BLOCK.sub(sub, text)


def _insert_outputs(text: str, out: Path) -> str:
    def table(m: re.Match[str]) -> str:
        path = out / "tables" / f"{m.group(1)}.md"
        if not path.is_file():
            raise ReproduceError(f"the paper shows table {m.group(1)!r} but no notebook wrote {path}")
        return path.read_text(encoding="utf-8").strip()

    def figure(m: re.Match[str]) -> str:
        name, caption = m.group(1), (m.group(2) or m.group(1)).strip()
        if not (out / "figures" / f"{name}.png").is_file():
            raise ReproduceError(f"the paper shows figure {name!r} but no notebook saved it")
        return f"![{caption}](../figures/{name}.png)"

    return _FIGURE.sub(figure, _TABLE.sub(table, text))


def render_html(markdown_text: str, figures: Path, title: str = "pdstats study") -> str:
    """Self-contained HTML of a filled manuscript: figures embedded, styles inline.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from pdstats.report.paper import render_html
    >>> page = render_html("# T\\n\\n| a | b |\\n|---|---|\\n| 1 | 2 |\\n", pathlib.Path(tempfile.mkdtemp()))
    >>> "<table>" in page and "<h1>T</h1>" in page
    True
    """
    import mistune

    def embed(m: re.Match[str]) -> str:
        data = base64.b64encode((figures / f"{m.group(2)}.png").read_bytes()).decode("ascii")
        return f"![{m.group(1)}](data:image/png;base64,{data})"

    body = mistune.create_markdown(plugins=["table"], escape=False)(_IMG.sub(embed, markdown_text))
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}'
            f"</title>\n<style>\n{_STYLE}\n</style>\n</head>\n<body>\n{body}</body>\n</html>\n")


def build_paper(template: Path, out: Path | None = None) -> dict[str, Path]:
    """Numbers, filled manuscript and its HTML rendering under ``<out>/paper/``.

    Raises
    ------
    ReproduceError
        A table or figure the template shows was not written.
    PdstatsError
        A number the template quotes (outside a block of a missing section) was not recorded.
    """
    out = out or output_dir()
    numbers = collect_numbers(out)
    target = out / "paper"
    target.mkdir(parents=True, exist_ok=True)
    paths = {"numbers": target / "numbers.json", "markdown": target / "manuscript.md",
             "html": target / "manuscript.html"}  # fmt: skip
    paths["numbers"].write_text(json.dumps(numbers, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    text = fill_placeholders(_insert_outputs(fill_blocks(template.read_text(encoding="utf-8"), numbers), out),
                             numbers)  # fmt: skip
    paths["markdown"].write_text(text, encoding="utf-8", newline="\n")
    heading = next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")), "pdstats study")
    paths["html"].write_text(render_html(text, out / "figures", heading), encoding="utf-8", newline="\n")
    return paths
