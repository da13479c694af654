"""The console's flagged view in chromium: counts per flag for a site and day, each flagged result with its
flags and its camera snapshot; regulators of the district only; nothing of it on the public notice."""

from __future__ import annotations

import hashlib
import re

from playwright.sync_api import Page, expect

from firmware_sim.camera import png_image
from tests.lims.pages_seed import local_now, result, seed_places
from tests.lims.test_lims_flags import enzyme

from .conftest import save_screenshot
from .lims_server import live_lims


def reading(name: str, stall: str, minutes_ago: float, **changes: object) -> dict[str, object]:
    """A seeded result by the site's enrolled technician, with a real EI-412 frame as its raw bytes."""
    return {**result(name, stall, "negative", tested_at=local_now(minutes_ago)), "operator": "tech-0031",
            **enzyme(**changes)}  # type: ignore[arg-type]


def test_flagged_view_screenshot_with_counts_flags_and_snapshots(page: Page, tmp_path):
    with live_lims(tmp_path) as lims:
        a, b, _ = seed_places(lims)
        lims.user("tech-0031", "technician", sites=(a.site["id"], b.site["id"]))
        snapshot = png_image(5)
        sha = hashlib.sha256(snapshot).hexdigest()
        evidence = {"evidence": [{"kind": "snapshot", "sha256": sha, "taken_at": local_now(30),
                                  "media_type": "image/png"}]}
        lims.ingest(
            a.next(**reading("小白菜", "A-12", 40, delta_t="0.1545")),
            a.next(**reading("菠菜", "A-03", 30, channel=2, **evidence,
                             qc={"control": "sample", "flags": ["too_fast_channel:95s"]})),
            a.next(**reading("芹菜", "A-05", 20, channel=3)),
        )
        lims.ingest(b.next(**reading("油麦菜", "C-01", 10, delta_t="0.1545")))  # A's reading replayed in B's room
        upload = lims.client.put(f"/api/v1/evidence/{sha}", content=snapshot, headers={"Content-Type": "image/png"})
        assert upload.status_code == 201, upload.text

        page.context.add_cookies([lims.login_cookie(lims.user("reg-yz", "regulator", district="yz"))])
        page.goto(f"{lims.url}/console")
        page.get_by_role("link", name="存疑结果").click()
        expect(page).to_have_url(re.compile(r"/console/flagged"))
        counts = page.locator("#flag-counts")
        expect(counts.locator('tr[data-flag="replayed_raw"] td')).to_have_text("1")
        expect(counts.locator('tr[data-flag="too_fast_channel"] td')).to_have_text("1")
        expect(counts.locator('tr[data-flag="replayed_raw"] th')).to_contain_text("原始数据重复")
        rows = page.locator("#flagged-results tbody tr")
        expect(rows).to_have_count(2)  # seq 3 carries no flag and is not listed
        replayed = page.locator(f'tr[data-seq="{a.gateway}/1"]')
        expect(replayed.locator('li[data-flag="replayed_raw"]')).to_contain_text(f"{b.gateway} seq 1")
        fast = page.locator(f'tr[data-seq="{a.gateway}/2"]')
        expect(fast.locator('li[data-flag="too_fast_channel"]')).to_contain_text("95s")
        image = fast.locator("img.evidence")
        expect(image).to_be_visible()
        page.wait_for_function("img => img.complete && img.naturalWidth === 160", arg=image.element_handle())
        save_screenshot(page, "lims-flagged.png")

        page.select_option("select[name=site]", b.site["id"])
        page.get_by_role("button", name="查看").click()
        expect(page.locator(f'tr[data-seq="{b.gateway}/1"] li[data-flag="replayed_raw"]')).to_contain_text(
            f"{a.gateway} seq 1")

        page.goto(f"{lims.url}/public/sites/{a.site['id']}")
        expect(page.locator("body")).not_to_contain_text("原始数据重复")
        expect(page.locator("body")).not_to_contain_text("replayed")
        expect(page.locator("img.evidence")).to_have_count(0)

        page.context.clear_cookies()
        page.context.add_cookies([lims.login_cookie(lims.user("mgr-a", "manager", sites=(a.site["id"],)))])
        answer = page.goto(f"{lims.url}/console/flagged")
        assert answer is not None and answer.status == 403
        assert lims.client.get(f"/console/evidence/{sha}").status_code in (401, 403)
