"""Open the evidence report in headless Chromium and fail on anything a reader would see go wrong.

    python -m review.evidence.browser_check REPORT.html [--screenshot docs/images/evidence-report.png]

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``, stdlib only:
no port, no websocket). The check fails, listing why, on: a console error or warning, an uncaught
exception, a failed request or any request beyond the page itself (the page must be
self-contained), a ``<script>`` or external resource in the file, and a missing or empty chart
in the rendered DOM. It writes a PNG screenshot of a 1280x2400 viewport.

Chromium is the Debian package ``chromium``; when it is missing and this runs as root with
apt-get, it is installed (and says so); otherwise the check exits 2 with the command to run.
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from review.evidence.devtools import VIEWPORT, DevTools
from review.evidence.html import CHARTS

INSTALL_COMMAND = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
SHAPES = {"rect", "circle", "path"}
QUIET_SECONDS = 0.5


class BrowserUnavailable(RuntimeError):
    """No Chromium, and it cannot be installed here."""


@dataclass
class CheckResult:
    problems: list[str] = field(default_factory=list)
    charts: dict[str, int] = field(default_factory=dict)
    screenshot: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def find_chromium() -> str | None:
    configured = os.environ.get("CHROMIUM")
    if configured and Path(configured).is_file():
        return configured
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


def ensure_chromium() -> str:
    found = find_chromium()
    if found:
        return found
    command = " ".join(INSTALL_COMMAND)
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise BrowserUnavailable(f"headless Chromium is not installed; install it with: {command}")
    # One installer at a time (parallel test workers share the machine's dpkg lock).
    with Path(tempfile.gettempdir(), "evidence-chromium-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = find_chromium()
        if found:
            return found
        print(f"installing chromium: {command}", file=sys.stderr, flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(INSTALL_COMMAND, env=env, check=False).returncode != 0:
            print("installing chromium: apt-get update first", file=sys.stderr, flush=True)
            subprocess.run(["apt-get", "update"], env=env, check=False)
            subprocess.run(INSTALL_COMMAND, env=env, check=False)
    found = find_chromium()
    if not found:
        raise BrowserUnavailable(f"installing Chromium failed; install it with: {command}")
    return found


# ---- what the file and the rendered DOM must look like -------------------------------------------------


class _PageScan(HTMLParser):
    """Scripts, external resources and chart shapes in an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.charts: dict[str, int] = {}
        self._open: list[tuple[str, str | None]] = []  # (tag, chart name) of open svg elements

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "script":
            self.problems.append("the page contains a <script> element (the report must need no JavaScript)")
        if any(k.startswith("on") for k in values):
            self.problems.append(f"<{tag}> has an inline event handler")
        for attr in ("src", "srcset", "data", "poster") + (("href",) if tag in {"link", "image", "use"} else ()):
            value = values.get(attr, "").strip()
            if value and not value.startswith(("data:", "#")):
                self.problems.append(f"<{tag} {attr}={value!r}> loads an external resource")
        if tag == "svg":
            chart = values.get("data-chart") if "chart" in values.get("class", "").split() else None
            if chart is not None:
                self.charts.setdefault(chart, 0)
            self._open.append((tag, chart))
        elif self._open and tag in SHAPES:
            chart = next((name for _, name in reversed(self._open) if name is not None), None)
            if chart is not None:
                self.charts[chart] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg" and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if "@import" in data or "url(http" in data.replace(" ", "") or "url(//" in data.replace(" ", ""):
            self.problems.append("inline CSS loads an external resource (@import or url())")


def scan_html(text: str) -> _PageScan:
    scan = _PageScan()
    scan.feed(text)
    scan.close()
    return scan


def chart_problems(charts: dict[str, int], expected: tuple[str, ...]) -> list[str]:
    problems = [f"chart {name!r} is missing" for name in expected if name not in charts]
    problems += [f"chart {name!r} is empty (no rect, circle or path)" for name in expected if charts.get(name) == 0]
    return problems


def _console_problems(events: list[dict[str, Any]], page_url: str) -> list[str]:
    problems: list[str] = []
    urls: dict[str, str] = {}
    for event in events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "warning", "assert"}:
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            problems.append(f"console {params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            problems.append(f"uncaught exception: {details.get('exception', {}).get('description') or details.get('text')}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in {"error", "warning"}:
            entry = params["entry"]
            problems.append(
                f"console {entry['level']} ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}".rstrip()
            )
        elif method == "Network.requestWillBeSent":
            url = params.get("request", {}).get("url", "")
            urls[params.get("requestId", "")] = url
            if url != page_url and not url.startswith("data:"):
                problems.append(f"request beyond the page itself: {url}")
        elif method == "Network.loadingFailed":
            problems.append(f"failed request: {urls.get(params.get('requestId', ''), '?')}: {params.get('errorText')}")
        elif method == "Network.responseReceived" and int(params.get("response", {}).get("status") or 0) >= 400:
            response = params["response"]
            problems.append(f"failed request: {response.get('url')}: HTTP {response.get('status')}")
    return problems


def check_page(
    report: str | Path, *, screenshot: str | Path | None = None, expected_charts: tuple[str, ...] = CHARTS, timeout: float = 60
) -> CheckResult:
    path = Path(report).resolve()
    result = CheckResult()
    static = scan_html(path.read_text(encoding="utf-8"))
    result.problems += static.problems
    chromium = ensure_chromium()
    with tempfile.TemporaryDirectory(prefix="evidence-chromium-") as profile:
        log_path = Path(profile) / "chromium.log"
        with log_path.open("wb") as log:
            browser = DevTools(chromium, str(Path(profile) / "profile"), log)
            try:
                target = browser.call("Target.createTarget", {"url": "about:blank"}, timeout=timeout)["targetId"]
                session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
                for domain in ("Page", "Runtime", "Log", "Network"):
                    browser.call(f"{domain}.enable", session=session)
                width, height = VIEWPORT
                metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
                browser.call("Emulation.setDeviceMetricsOverride", metrics, session=session)
                navigation = browser.call("Page.navigate", {"url": path.as_uri()}, session=session, timeout=timeout)
                if navigation.get("errorText"):
                    result.problems.append(f"the page did not load: {navigation['errorText']}")
                elif not browser.wait_for("Page.loadEventFired", timeout):
                    result.problems.append(f"the page did not finish loading within {timeout:.0f} s")
                browser.drain(QUIET_SECONDS)
                document = browser.call("DOM.getDocument", {"depth": 0}, session=session)
                dom = browser.call("DOM.getOuterHTML", {"nodeId": document["root"]["nodeId"]}, session=session)["outerHTML"]
                if screenshot is not None:
                    shot = browser.call("Page.captureScreenshot", {"format": "png"}, session=session, timeout=timeout)
                    result.screenshot = Path(screenshot)
                    result.screenshot.parent.mkdir(parents=True, exist_ok=True)
                    result.screenshot.write_bytes(base64.b64decode(shot["data"]))
                browser.drain(QUIET_SECONDS / 2)
            except (RuntimeError, TimeoutError, OSError) as exc:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"driving Chromium failed: {exc}\n{tail}") from exc
            finally:
                browser.close()
    result.problems += _console_problems(browser.events, path.as_uri())
    rendered = scan_html(dom)
    result.charts = rendered.charts
    result.problems += chart_problems(rendered.charts, expected_charts)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m review.evidence.browser_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="the evidence-report.html to check")
    parser.add_argument("--screenshot", type=Path, help="write a PNG screenshot here")
    parser.add_argument("--charts", default=",".join(CHARTS), help="comma-separated data-chart names that must be drawn")
    args = parser.parse_args(argv)
    if not args.report.is_file():
        print(f"error: {args.report} does not exist", file=sys.stderr)
        return 2
    try:
        result = check_page(args.report, screenshot=args.screenshot, expected_charts=tuple(filter(None, args.charts.split(","))))
    except BrowserUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    charts = ", ".join(f"{name}: {count} shapes" for name, count in sorted(result.charts.items()))
    if not result.ok:
        print(f"FAIL {args.report}: {len(result.problems)} problem(s)", file=sys.stderr)
        for problem in result.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    shot = f"; screenshot {result.screenshot}" if result.screenshot else ""
    print(f"OK {args.report}: no console message, no failed or external request; charts {charts}{shot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
