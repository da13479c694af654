"""Board, room page, console and 公示 at phone width (390 px): nothing wider than the screen, no column
squeezed to a character per line, the QC table's kit lots folded; screenshots for docs/ on request."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.lims.pages_seed import MARKET_A, qc_run, result, seed_day, seed_places

from .conftest import TIMEOUT_MS, save_screenshot
from .lims_server import live_lims
from .room_gateway import room_gateway

PHONE = {"width": 390, "height": 844}
LAYOUT = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')].filter(e => {
    const box = e.getBoundingClientRect();
    if (!box.width || getComputedStyle(e).visibility === 'hidden') return false;
    let up = e.parentElement;  // inside a box that scrolls sideways on its own: that box is what must fit
    while (up && up !== document.body) { if (getComputedStyle(up).overflowX === 'auto') return false; up = up.parentElement; }
    if (box.right <= 0) return false;  // parked off-screen on purpose (the skip link until focused)
    return box.left < -1 || box.right > width + 1;
  }).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className);
  const squeezed = [...document.querySelectorAll('th, td')].filter(c => {
    const text = c.innerText.trim();
    if (text.length < 3 || !c.getBoundingClientRect().width) return false;
    const line = parseFloat(getComputedStyle(c).lineHeight) || 20;
    return c.clientWidth < 2.2 * parseFloat(getComputedStyle(c).fontSize) && c.clientHeight > 2.5 * line;
  }).map(c => c.innerText.trim().slice(0, 20));
  return {page: document.documentElement.scrollWidth, width, wide, squeezed};
}"""


def _phone(browser: Browser) -> Page:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def _fits(page: Page, name: str) -> None:
    found = page.evaluate(LAYOUT)
    save_screenshot(page, f"phone-{name}.png", full_page=False)
    assert found["page"] <= found["width"], f"{name}: the page scrolls sideways ({found['page']} px)"
    assert found["wide"] == [], f"{name}: wider than the screen: {found['wide'][:5]}"
    assert found["squeezed"] == [], f"{name}: cells squeezed to a character per line: {found['squeezed'][:5]}"


def test_lims_pages_fit_a_phone(browser: Browser, tmp_path):
    page = _phone(browser)
    try:
        with live_lims(tmp_path) as lims:
            a, b, _ = seed_places(lims)
            seed_day(lims, a, b)
            flagged = result("豆角（长豇豆）", "A-20", "negative")
            flagged["qc"] = {"control": "sample", "flags": ["kit_expired", "calibration_overdue"]}
            lots = [a.next(**qc_run(lot=f"EI-2411-{n:02d}")) for n in range(12)]  # a dozen kit lots on one instrument
            lims.ingest(a.next(**flagged), *lots)
            page.context.add_cookies([lims.login_cookie(lims.user("manager-a", "manager", sites=(MARKET_A["id"],)))])
            page.goto(f"{lims.url}/board/{MARKET_A['id']}")
            expect(page.locator("#positives-table")).to_contain_text("小白菜")
            _fits(page, "board")
            page.locator("#positives-table").get_by_role("link", name="处理 →").click()
            expect(page.locator("#case-product")).to_have_text("小白菜")
            _fits(page, "case")
            page.goto(f"{lims.url}/public/sites/{MARKET_A['id']}")
            expect(page.locator("#notice-table")).to_contain_text("不合格")
            _fits(page, "notice")
            page.goto(f"{lims.url}/requests")
            _fits(page, "requests")
            page.context.clear_cookies()
            page.context.add_cookies([lims.login_cookie(lims.user("reg-yz", "regulator", district="yz"))])
            page.goto(f"{lims.url}/console")
            lots_cell = page.locator('#qc-table tr[data-instrument="ei-01"] td.lots').first
            expect(lots_cell.locator("summary")).to_have_text("另 9 个批号")  # 3 shown, the rest folded
            assert lots_cell.evaluate("c => c.getBoundingClientRect().height") < 120
            _fits(page, "console")
    finally:
        page.context.close()


def test_room_page_fits_a_phone(browser: Browser, tmp_path):
    page = _phone(browser)
    try:
        with room_gateway(tmp_path, channels=4, interval_s=1.0, seed=5) as gateway:
            page.goto(gateway.url)
            expect(page.locator("tr.result").nth(3)).to_be_attached(timeout=30_000)
            _fits(page, "room")
    finally:
        page.context.close()
