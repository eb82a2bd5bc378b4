"""The report as a reader sees it: rendered by headless Chromium with no console message, no failed
request and every chart drawn; and the check itself fails on a broken page.

Chromium is the Debian package; ``browser_check`` installs it when it is missing (root with apt-get).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from policies.model import GovernancePolicy
from review.evidence.browser_check import check_page, main
from review.evidence.build import build_report
from review.evidence.collect import read_audit_records
from review.evidence.html import CHARTS, render_html
from tests.lambdas.world import World
from tests.review.test_evidence_html import sample_report
from tests.review.test_evidence_scenario import POLICY_SHA256, run_scenario

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def good_page(tmp_path: Path, policy: GovernancePolicy) -> str:
    return render_html(sample_report(policy))


def write(tmp_path: Path, html: str, name: str = "evidence-report.html") -> Path:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return path


def test_the_report_of_a_realistic_scenario_renders_cleanly(
    world: World, lambda_context: Any, policy: GovernancePolicy, tmp_path: Path
) -> None:
    run_scenario(world, lambda_context)
    records = read_audit_records(world.s3, world.names.audit_bucket, since=None, until=None)
    page = write(tmp_path, render_html(build_report(records, policy=policy, policy_source_sha256=POLICY_SHA256)))
    shot = tmp_path / "shot" / "evidence-report.png"

    result = check_page(page, screenshot=shot)

    assert result.problems == []
    assert set(result.charts) >= set(CHARTS) and all(result.charts[name] > 0 for name in CHARTS), result.charts
    assert shot.read_bytes().startswith(PNG) and shot.stat().st_size > 10_000


def test_a_broken_image_fails_the_check(tmp_path: Path, good_page: str, capsys: pytest.CaptureFixture[str]) -> None:
    page = write(tmp_path, good_page.replace("<body>", '<body><img src="missing.png" alt="logo">'))
    result = check_page(page)
    missing = (tmp_path / "missing.png").as_uri()
    assert f"failed request: {missing}: net::ERR_FILE_NOT_FOUND" in result.problems
    assert f"request beyond the page itself: {missing}" in result.problems
    assert any(p.startswith("console error (network): Failed to load resource") for p in result.problems), result.problems
    assert main([str(page)]) == 1
    assert "missing.png" in capsys.readouterr().err


def test_an_empty_or_missing_chart_fails_the_check(tmp_path: Path, good_page: str) -> None:
    start = good_page.index('<svg class="chart" data-chart="rules"')
    end = good_page.index("</svg>", start)
    emptied = good_page[:start] + good_page[start:end].split(">", 1)[0] + "><title>Decisions per rule</title>" + good_page[end:]
    result = check_page(write(tmp_path, emptied, "empty.html"))
    assert result.problems == ["chart 'rules' is empty (no rect, circle or path)"]

    start = good_page.index('<svg class="chart" data-chart="timeline"')
    end = good_page.index("</svg>", start) + len("</svg>")
    result = check_page(write(tmp_path, good_page[:start] + good_page[end:], "missing.html"))
    assert result.problems == ["chart 'timeline' is missing"]


def test_console_messages_fail_the_check(tmp_path: Path, good_page: str) -> None:
    script = "<script>console.error('boom'); console.warn('careful'); undefinedFunction();</script>"
    result = check_page(write(tmp_path, good_page.replace("</body>", f"{script}</body>")))
    assert "the page contains a <script> element (the report must need no JavaScript)" in result.problems
    assert "console error: boom" in result.problems
    assert "console warning: careful" in result.problems
    assert any(p.startswith("uncaught exception: ReferenceError: undefinedFunction is not defined") for p in result.problems)


def test_a_clean_page_passes_from_the_command_line(tmp_path: Path, good_page: str, capsys: pytest.CaptureFixture[str]) -> None:
    shot = tmp_path / "page.png"
    assert main([str(write(tmp_path, good_page)), "--screenshot", str(shot)]) == 0
    assert capsys.readouterr().out.startswith("OK ")
    assert shot.read_bytes().startswith(PNG)
    assert main([str(tmp_path / "nope.html")]) == 2


def test_without_chromium_and_without_root_the_check_says_how_to_install_it(
    tmp_path: Path, good_page: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from review.evidence import browser_check

    monkeypatch.setattr(browser_check, "find_chromium", lambda: None)
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert main([str(write(tmp_path, good_page))]) == 2
    assert capsys.readouterr().err == (
        "error: headless Chromium is not installed; install it with: apt-get install -y --no-install-recommends chromium\n"
    )
