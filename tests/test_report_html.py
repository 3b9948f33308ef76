"""The HTML report in a real headless browser: Debian's chromium driven by playwright
(its own browser downloads are never used).  The page is opened from disk with every
network request refused, its elements are checked, and a screenshot is read back
through a canvas to check that it is not blank.

Skipped with the reason where chromium or playwright is missing on a developer's
machine; under CI (``$CI`` set) that is a failure instead: ``.ci/run`` installs both.
"""

from __future__ import annotations

import base64
import os
import re
import shutil

import pytest

from test_report_data import make_project

import jinja2  # noqa: E402,F401  (imported once here: pytester's in-process runs drop modules first imported inside them)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing under CI; .ci/run installs it (apt-get install -y chromium; pip install playwright)")
    pytest.skip(f"{what} is missing: apt-get install -y chromium && pip install playwright")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A fresh headless chromium (its own ``--user-data-dir``) through playwright."""
    if not os.path.exists(CHROMIUM):
        _missing("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


NOT_BLANK = """async (png) => {
  const img = new Image();
  img.src = "data:image/png;base64," + png;
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = img.width; canvas.height = img.height;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, img.width, img.height).data;
  let inked = 0; const colours = new Set();
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240) inked++;
    colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
  }
  return {inked: inked / (data.length / 4), colours: colours.size};
}"""


def test_html_report_in_a_headless_browser(pytester, browser):
    make_project(pytester)
    result = pytester.runpytest("-p", "no:randomly", "--reasoning-html=report.html")
    result.assert_outcomes(passed=2, failed=1)
    html = (pytester.path / "report.html").read_text(encoding="utf-8")
    # self-contained: nothing to fetch
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", html)
    assert "@import" not in html and "url(" not in html

    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.route(re.compile(r"^(?!file:|data:)"), lambda route: route.abort())
    page.goto((pytester.path / "report.html").as_uri())

    assert page.title().startswith("Reasoning report: ")
    assert page.locator(".outcomes span").all_inner_texts() == ["2 passed", "1 failed"]
    change = page.locator("div.change")
    assert change.count() == 1 and "detour 'sports' added (2 hits)" in change.locator("pre.summary").inner_text()
    assert change.locator("pre.diff ins").all_inner_texts() == [
        "+ The Dallas Cowboys play in the NFL.", "+ Wait, that does not matter."]

    comparison = page.locator("div.comparison", has_text="plain vs precise").first
    assert comparison.locator("thead th").all_inner_texts() == ["what differs", "plain", "precise"]
    first_rows = comparison.locator("table.differs tbody tr th").all_inner_texts()[:2]
    assert first_rows == ["outcome", "detour: sports"]
    assert comparison.locator("td.prompt-diff ins").inner_text() == ", a big city of about 1.3 million people"
    traces = comparison.locator(".columns article.trace")
    assert traces.count() == 2
    precise = traces.nth(1)
    assert precise.locator("mark.detour").all_inner_texts() == ["Cowboys", "NFL"]
    assert precise.locator("mark.path").all_inner_texts() == ["Dallas", "Texas", "Austin"]
    assert precise.locator("mark.hesitation").all_inner_texts() == ["Wait"]
    assert precise.locator("li.changed-added").count() == 2
    assert traces.nth(0).locator("li.changed-added").count() == 0

    plots = page.locator("svg.interval-plot")
    assert plots.count() >= 2 and plots.first.locator("circle.point").count() >= 2
    box = plots.first.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 40

    page.fill("#filter", "plain")  # the filter hides the tests it does not name
    assert page.locator('details.test[data-nodeid$="[precise]"]').is_hidden()
    assert page.locator('details.test[data-nodeid$="[plain]"]').is_visible()
    page.fill("#filter", "")
    page.uncheck('input[data-mark="detour"]')
    assert "hide-detour" in page.evaluate("document.body.className")
    page.check('input[data-mark="detour"]')

    shot = page.screenshot(full_page=False)
    seen = page.evaluate(NOT_BLANK, base64.b64encode(shot).decode())
    assert seen["inked"] > 0.02 and seen["colours"] > 20, seen
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    page.close()
