"""The feedback pages' exporter and steps: no hidden-test source in feedback, no tracebacks that quote
it, math as MathML (no script, no network); and the templates of the feedback and of the formgrader.

The feedback's template settings belong to `KitFeedbackExporter` (nbgrader's GenerateFeedback uses it,
nbgrader_config.py), not to every HTMLExporter: the formgrader renders its grading pages with an
HTMLExporter of its own and nbgrader's formgrade template.
"""
from __future__ import annotations

import html
import os
import re
from typing import Any

import bleach  # type: ignore[import-untyped]
import nbgrader
from nbconvert.exporters import HTMLExporter
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import GetGrades, NbGraderPreprocessor
from traitlets import Unicode

from ..judge.hidden import BEGIN, END

NBGRADER_TEMPLATES = os.path.join(os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader", "templates")
KIT_TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
#: where the templates are found: the kit's (grader/reports/templates/<name>) first, which extend
#: nbgrader's own and replace nbconvert's MathJax macro
FEEDBACK_TEMPLATE_DIRS = [KIT_TEMPLATES, NBGRADER_TEMPLATES]
FEEDBACK_TEMPLATE = ("feedback", "kit_feedback.html.j2")
#: the formgrader's grading page (its template name, "formgrade", is set by the formgrader)
FORMGRADE_TEMPLATE = "kit_formgrade.html.j2"

#: MathML elements and attributes kept in the feedback's math (everything else is removed)
MATHML_TAGS = ["math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "mfrac",
               "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mstyle", "mpadded",
               "mphantom", "menclose", "mmultiscripts", "mprescripts", "none", "semantics"]
MATHML_ATTRIBUTES = ["display", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace", "linethickness",
                     "accent", "accentunder", "movablelimits", "columnalign", "rowalign", "displaystyle",
                     "scriptlevel", "width", "height", "depth", "xmlns", "form", "largeop", "symmetric", "minsize",
                     "maxsize", "columnspacing", "rowspacing", "columnlines", "rowlines", "frame", "notation",
                     "mathsize"]
#: $$display$$, \[display\], $inline$ (not $ followed or preceded by a space, not an escaped \$)
MATH = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|(?<![\\$\w])\$(?![\s$])(.+?)(?<![\s\\])\$(?!\w)", re.S)
#: parts of the HTML where a $ is not math: code, and tags themselves
VERBATIM = re.compile(r"(<pre\b.*?</pre>|<code\b.*?</code>|<[^>]*>)", re.S | re.I)


#: what students' markdown may use in the feedback and the formgrader; any other tag is shown as text
MARKDOWN_TAGS = ["a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3",
                 "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup",
                 "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul"]
MARKDOWN_ATTRIBUTES = {"*": ["class", "id", "title"], "a": ["href", "title"], "img": ["src", "alt", "title", "width",
                                                                                    "height"],
                       "td": ["align", "colspan", "rowspan"], "th": ["align", "colspan", "rowspan"]}


def safe_html(markup: str) -> str:
    """Students' markdown rendered as HTML, sanitised: the usual markdown tags stay; scripts, event handlers,
    styles and javascript: links do not (other tags show as text). nbconvert's clean_html allows too
    little (it shows every paragraph and heading tag as text)."""
    return str(bleach.clean(str(markup), tags=MARKDOWN_TAGS, attributes=MARKDOWN_ATTRIBUTES,
                            protocols=["http", "https", "mailto", "data"]))


def _mathml(latex: str, display: bool) -> str | None:
    from latex2mathml.converter import convert

    try:
        markup = convert(latex, display="block" if display else "inline")
    except Exception:  # LaTeX the converter does not know: the text stays as it was
        return None
    # latex2mathml copies \text{...} and \href targets as they are: keep MathML only
    return str(bleach.clean(markup, tags=MATHML_TAGS, attributes={t: MATHML_ATTRIBUTES for t in MATHML_TAGS},
                            strip=True))


def math_to_mathml(markup: str) -> str:
    """Sanitised HTML with its $...$, $$...$$ and \\[...\\] math turned into MathML (outside code)."""
    def convert(match: re.Match[str]) -> str:
        display = match.group(3) is None
        latex = html.unescape(match.group(1) or match.group(2) or match.group(3) or "")
        return _mathml(latex, display) or match.group(0)

    parts = VERBATIM.split(str(markup))
    return "".join(part if i % 2 else MATH.sub(convert, part) for i, part in enumerate(parts))


#: the filters the kit's templates use (nbgrader_config.py adds them to every HTMLExporter)
TEMPLATE_FILTERS = {"safe_html": safe_html, "math_to_mathml": math_to_mathml}


class KitFeedbackExporter(HTMLExporter):
    """The HTML exporter of the feedback pages: its own section of the configuration (template settings),
    and the kit's template filters."""

    def default_filters(self) -> Any:
        yield from super().default_filters()
        yield from TEMPLATE_FILTERS.items()


class KitGetGrades(GetGrades):
    """nbgrader's GetGrades (each graded cell's score and comment from the gradebook into the feedback), with
    a written answer that awaits a TA's grade scored None rather than 0 (nbgrader's Grade.score is 0 when
    there is neither an automatic nor a manual score): the feedback says "awaiting manual grading", as
    grades.csv does (grader.reports.grades.WrittenScore)."""

    def _get_score(self, cell: NotebookNode, resources: dict[str, Any]) -> None:
        super()._get_score(cell, resources)
        grade = self.gradebook.find_grade(cell.metadata["nbgrader"]["grade_id"], self.notebook_id,
                                          self.assignment_id, self.student_id)
        if grade.needs_manual_grade and grade.manual_score is None:
            cell.metadata.nbgrader["score"] = None


class HideHiddenTests(NbGraderPreprocessor):
    """Remove hidden-test source from feedback; keep what the checks printed.

    Hidden regions become a one-line placeholder. Tracebacks of errors in test cells quote
    source lines, so they are cut to the exception's name and message.
    """

    begin = Unicode(BEGIN, help="marker line of a hidden region's start").tag(config=True)
    end = Unicode(END, help="marker line of a hidden region's end").tag(config=True)
    placeholder = Unicode("# Hidden tests ran here; their results are in the output below.",
                          help="what stands in for a hidden region").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: dict[str, Any],
                        index: int) -> tuple[NotebookNode, dict[str, Any]]:
        if cell.cell_type != "code" or not utils.is_grade(cell):
            return cell, resources
        lines, hidden = [], False
        for line in cell.source.splitlines():
            if self.begin in line:
                hidden = True
                lines.append(line[: len(line) - len(line.lstrip())] + self.placeholder)
            elif self.end in line:
                hidden = False
            elif not hidden:
                lines.append(line)
        cell.source = "\n".join(lines)
        for output in cell.outputs:
            if output.output_type == "error":
                output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
