"""axe-core in the browser tests: inject the npm package's axe.min.js into a Playwright page and list
the serious and critical WCAG 2.x A/AA violations, with what a failing assertion needs to be useful
(the rule, its help text and link, and each element's selector and HTML).

axe is read from static/node_modules (``cd static && npm install``): a test dependency, never served
to buyers. The site's Content-Security-Policy forbids inline script, so axe goes in through
``page.evaluate`` (the DevTools protocol, which the policy does not govern), not a script tag."""
from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

AXE_JS = Path(__file__).resolve().parents[2] / "static" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")

_RUN = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html, impact: n.impact,
                             summary: n.failureSummary}))
  }));
}"""


@cache
def axe_source() -> str:
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `cd static && npm install` (axe-core is a dev dependency)")
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page, *, impacts=BLOCKING) -> list[dict]:
    """Run axe on the page as it is now (WCAG 2.0/2.1/2.2 A and AA rules); the violations whose impact
    is in ``impacts``, each with only the nodes of that impact."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())  # defines window.axe in this document
    found = []
    for violation in page.evaluate(_RUN, WCAG_TAGS):
        nodes = [n for n in violation["nodes"] if (n["impact"] or violation["impact"]) in impacts]
        if nodes:
            found.append({**violation, "nodes": nodes})
    return found


def describe(where: str, violations: list[dict]) -> list[str]:
    """One line per violating element: where, rule, impact, help, selector and HTML (shortened)."""
    lines = []
    for v in violations:
        for node in v["nodes"]:
            html = " ".join(node["html"].split())
            lines.append(f"{where}: {v['id']} ({node['impact'] or v['impact']}) {v['help']} "
                         f"| {node['target']} | {html[:200]}")
    return lines


@pytest.fixture
def axe():
    """``axe(page)``: the page's serious and critical WCAG A/AA violations (a list, empty when clean)."""
    return axe_violations
