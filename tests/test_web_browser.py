"""The analyst's page in a real browser (Playwright driving Debian's chromium, headless),
on the demo corpus: search, narrow by a facet, open an article, read the policy state
and the alert, use the keyboard, fit a phone. Every page's screenshot is saved in
bench/results/screenshots/ (not committed).

`make test` installs chromium when it is missing (apt-get); these tests skip only when
no chromium can be found after that. Every wait is bounded (10 s per action)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "bench" / "results" / "screenshots"
WAIT_MS = 10_000
# ReDoc's footer always asks for its maker's logo, an <img> that removes itself when the
# request fails; nothing else may leave the site
DECORATIVE = {"https://cdn.redoc.ly/redoc/logo-mini.svg"}


def chromium_path() -> str | None:
    for candidate in ("chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        pytest.skip("no chromium found: `apt-get install chromium` (make test does it)")
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--headless"], timeout=60_000
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, site: httpx.Client) -> Iterator[Any]:
    base = str(site.base_url).rstrip("/")
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    # offline proof: any request that leaves the site fails the test
    leaks: list[str] = []

    def only_the_site(route: Any) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            if route.request.url not in DECORATIVE:
                leaks.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_site)
    tab = context.new_page()
    tab.set_default_timeout(WAIT_MS)
    tab.set_default_navigation_timeout(WAIT_MS)
    yield tab
    context.close()
    assert leaks == [], f"the page asked for outside resources: {leaks}"


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_search_from_the_box_shows_highlighted_hits_at_a_shareable_url(page: Any) -> None:
    page.goto("/")
    page.get_by_label("Search articles").fill("H200 AND customs")
    page.get_by_label("Search articles").press("Enter")
    page.wait_for_url(re.compile(r"query=H200\+AND\+customs"))
    assert page.locator(".hit").count() > 0
    assert page.locator(".hit .snippet mark").first.inner_text().lower() in ("h200", "customs")
    assert page.locator(".chart svg rect").count() > 0
    shot(page, "search")
    shared = page.url
    page.goto("/")
    page.goto(shared)  # the same URL is the same search
    assert page.get_by_label("Search articles").input_value() == "H200 AND customs"


def test_a_facet_click_narrows_the_results_and_a_second_click_undoes_it(page: Any) -> None:
    page.goto("/?query=H200")
    everything = page.locator(".hit").count()
    page.locator(".facet[data-facet=stance] a", has_text="ease").click()
    page.wait_for_url(re.compile(r"stance=ease"))
    badges = page.locator(".hit .meta .badge").all_inner_texts()
    assert badges and set(badges) == {"ease"} and len(badges) < everything
    chosen = page.locator(".facet[data-facet=stance] a[aria-pressed=true]")
    assert chosen.inner_text().startswith("ease")
    shot(page, "search-filtered")
    chosen.click()
    page.wait_for_url(re.compile(r"^(?!.*stance=)"))
    assert page.locator(".hit").count() == everything


def test_filters_sort_and_dates_from_the_form(page: Any) -> None:
    page.goto("/")
    page.get_by_label("Chip").fill("H200")
    page.get_by_label("From").fill("2026-01-20")
    page.get_by_label("Sort by").select_option("newest")  # re-runs the search (app.js)
    page.wait_for_url(re.compile(r"sort=newest"))
    assert "chips=H200" in page.url and "since=2026-01-20" in page.url
    dates = page.locator(".hit time").evaluate_all("els => els.map(e => e.dateTime)")
    assert dates == sorted(dates, reverse=True) and min(dates) >= "2026-01-20"


def test_opening_an_article_shows_its_signals_with_the_evidence_marked(page: Any) -> None:
    page.goto("/?query=H200&stance=ease")
    title = page.locator(".hit h3 a").first.inner_text()
    page.locator(".hit h3 a").first.click()
    page.wait_for_url(re.compile(r"/articles/"))
    assert page.locator("h1").inner_text() == title
    assert page.get_by_role("link", name=re.compile("Read the original")).count() == 1
    assert page.locator(".signals li").count() > 0
    evidence = page.locator("mark.evidence").first
    assert evidence.is_visible()
    page.locator(".signals blockquote a").first.click()  # jumps to the marked sentence
    assert page.evaluate("document.activeElement.tagName") == "MARK"
    shot(page, "article")


def test_the_policy_table_shows_the_shift_and_its_timeline(page: Any) -> None:
    page.goto("/policy")
    row = page.locator("table.states tbody tr", has=page.locator("th", has_text="H200")).filter(
        has_text="CN"
    )
    assert row.first.locator(".badge").first.inner_text() == "ease"
    shot(page, "policy")
    row.first.get_by_role("link", name="Timeline of CN on H200").click()
    page.wait_for_url(re.compile(r"/alerts/timeline/H200/CN"))
    assert page.locator(".timeline li").count() >= 3
    assert "restrict → ease" in page.locator(".timeline li.shift").last.inner_text()
    shot(page, "timeline")


def test_the_alert_is_listed_with_its_evidence(page: Any) -> None:
    page.goto("/alerts")
    alert = page.locator("section.alert", has_text="CN on H200")
    assert alert.count() == 1
    assert "restrict" in alert.locator("h2").inner_text()
    assert alert.locator("blockquote").count() >= 2
    shot(page, "alerts")


def test_the_keyboard_reaches_the_search_and_the_results(page: Any) -> None:
    page.goto("/?query=H200")
    page.locator("body").press("/")
    assert page.evaluate("document.activeElement.id") == "query"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") in ("SUMMARY", "BUTTON")
    page.goto("/")
    page.keyboard.press("Tab")  # the first stop is the skip link
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"


def test_the_page_fits_a_phone(browser: Any, site: httpx.Client) -> None:
    context = browser.new_context(
        base_url=str(site.base_url), viewport={"width": 390, "height": 844}, is_mobile=True
    )
    tab = context.new_page()
    tab.set_default_timeout(WAIT_MS)
    try:
        for path in ("/?query=H200", "/policy", "/alerts"):
            tab.goto(path)
            overflow = tab.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{path} scrolls sideways by {overflow}px on a phone"
        tab.goto("/?query=H200")
        shot(tab, "search-phone")
    finally:
        context.close()


def test_a_search_saved_from_the_page_is_listed(page: Any) -> None:
    page.goto("/?query=customs")
    page.get_by_label("Save this query as").fill("browser-customs")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    page.locator("#saved-list a", has_text="browser-customs").wait_for()  # listed after saving


def test_the_api_docs_render_offline(page: Any) -> None:
    page.goto("/docs")
    page.locator(".swagger-ui .opblock").first.wait_for()
    shot(page, "docs")
    page.goto("/redoc")
    page.locator("redoc [role=menuitem], .menu-content").first.wait_for()
