"""Time from an instrument result to the market board, through real processes and Chromium.

Simulated enzyme analyzer (pty) → gateway → HTTP ingest → LIMS → board page (SSE) in headless
Chromium. For each new board row the page records when it appeared; the matching result's
``received_at`` (the gateway's clock when it read the instrument frame) is the start. Usage:
``python bench/board_latency.py [--results 15]``; prints min / median / max in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kuaijian.demo import SITE, create_demo_people, prepare_gateway, start_gateway, start_lims  # noqa: E402
from kuaijian.procs import python_module, start  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
WATCH_ROWS = """() => { window.rowTimes = [];
  new MutationObserver(() => {
    for (const row of document.querySelectorAll('#board-live tr.result[data-id]')) {
      const id = Number(row.dataset.id);  // a positive is listed twice (positives and all results)
      if (!row.dataset.seen && !window.rowTimes.some(([seen]) => seen === id)) window.rowTimes.push([id, Date.now()]);
      row.dataset.seen = '1';
    }
  }).observe(document.body, {childList: true, subtree: true});
  document.querySelectorAll('#board-live tr.result[data-id]').forEach(r => r.dataset.seen = '1'); }"""


def measure(results: int) -> list[float]:
    """Milliseconds from gateway read to board row, one per new result."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        data, logs = Path(folder), Path(folder) / "logs"
        logs.mkdir()
        lims = start_lims(data, 0, logs)
        link = str(data / "ttyEI")
        children = [lims.child, start("sim", python_module("firmware_sim", "enzyme", "--link", link, "--interval",
                                                           "1.5", "--channels", "1", "--seed", "3"),
                                      logs, ready_prefix="READY")]
        try:
            config = prepare_gateway(data, lims, [{"id": "ei-01", "driver": "enzyme_inhibition",
                                                   "options": {"port": link}}])
            user, password = create_demo_people(lims)["manager"]
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.goto(f"{lims.url}/login?next=/board/{SITE['id']}")
                page.fill("input[name=username]", user)
                page.fill("input[name=password]", password)
                page.click("button[type=submit]")
                page.wait_for_selector("#board-live")
                page.evaluate(WATCH_ROWS)
                children.append(start_gateway(config, logs))
                deadline = time.monotonic() + 120
                while page.evaluate("window.rowTimes.length") < results and time.monotonic() < deadline:
                    page.wait_for_timeout(200)
                shown = page.evaluate("window.rowTimes")
                browser.close()
            stored = httpx.get(f"{lims.url}/api/v1/results", params={"site": SITE["id"], "limit": 1000},
                               headers={"Authorization": f"Bearer {lims.admin_token}"}).json()["results"]
            read_at = sorted(datetime.fromisoformat(r["result"]["received_at"]).timestamp() for r in stored)
            return [shown_ms - read_ms * 1000 for (_, shown_ms), read_ms in zip(sorted(shown), read_at)]
        finally:
            for child in reversed(children):
                child.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", type=int, default=15)
    latencies = measure(parser.parse_args().results)
    if not latencies:
        print("no result reached the board", file=sys.stderr)
        return 1
    print(f"instrument result → market board: n={len(latencies)}  min {min(latencies):.0f} ms  "
          f"median {statistics.median(latencies):.0f} ms  max {max(latencies):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
