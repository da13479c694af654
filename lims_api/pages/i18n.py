"""Page language: Chinese first, English on request (``?lang=en`` or the ``kj_lang`` cookie).

A small fixed dictionary of interface words; data (names of markets, products, items) is shown
as stored, never machine-translated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from starlette.requests import Request

Lang = Literal["zh", "en"]
LANG_COOKIE = "kj_lang"
HTML_LANG: dict[Lang, str] = {"zh": "zh-CN", "en": "en"}

TEXT: dict[str, tuple[str, str]] = {
    # key: (中文, English)
    "app.title": ("快检", "Rapid testing"),
    "lang.switch": ("English", "中文"),
    "nav.board": ("市场看板", "Market board"),
    "nav.console": ("监管台", "Regulator console"),
    "nav.sites": ("检测点", "Sites"),
    "nav.login": ("登录", "Sign in"),
    "count.total": ("总数", "Total"),
    "verdict.positive": ("阳性", "Positive"),
    "verdict.negative": ("阴性", "Negative"),
    "verdict.invalid": ("无效", "Invalid"),
    "col.time": ("检测时间", "Time"),
    "col.product": ("样品名称", "Product"),
    "col.stall": ("摊位", "Stall"),
    "col.item": ("检测项目", "Test item"),
    "col.value": ("检测值", "Value"),
    "col.cutoff": ("判定限值", "Cut-off"),
    "col.verdict": ("结果", "Result"),
    "col.instrument": ("仪器/通道", "Instrument / channel"),
    "col.date": ("日期", "Date"),
    "col.case": ("处置状态", "Follow-up"),
    "col.deadline": ("复检截止", "Re-test deadline"),
    "col.site": ("检测点", "Site"),
    "col.gateway": ("网关", "Gateway"),
    "col.state": ("状态", "State"),
    "col.heartbeat": ("最近心跳", "Last heartbeat"),
    "col.skew": ("时钟偏差", "Clock skew"),
    "col.backlog": ("待上传", "Backlog"),
    "col.last_result": ("最近结果", "Last result"),
    "col.instruments": ("仪器", "Instruments"),
    "col.instrument_id": ("仪器", "Instrument"),
    "col.samples_today": ("今日样品", "Samples today"),
    "col.kit_lot": ("试剂批号", "Kit lot"),
    "col.negative_control": ("阴性质控", "Negative control"),
    "col.positive_control": ("阳性质控", "Positive control"),
    "col.qc_state": ("质控状态", "QC state"),
    "col.stored": ("已存条数", "Stored"),
    "col.last_seq": ("最新序号", "Last seq"),
    "col.gaps": ("缺号", "Gaps"),
    "col.forks": ("分叉告警", "Fork alarms"),
    "col.revoked": ("已吊销密钥", "Revoked keys"),
    "col.count": ("条数", "Count"),
    "col.root": ("默克尔根", "Merkle root"),
    "col.signature": ("签名", "Signature"),
    "col.final": ("已封存", "Final"),
    "col.opened": ("开立时间", "Opened"),
    "board.title": ("今日快检看板", "Today's results"),
    "board.live": ("实时更新中", "Live"),
    "board.reconnecting": ("连接中断，正在重连…", "Connection lost, reconnecting…"),
    "board.new_result": ("新结果", "New result"),
    "board.positives": ("阳性结果（需处置）", "Positives to act on"),
    "board.no_positives": ("今日暂无阳性结果。", "No positive result today."),
    "board.by_item": ("按检测项目统计", "Counts by test item"),
    "board.all_results": ("全部结果", "All results"),
    "board.filters": ("筛选", "Filters"),
    "board.filter.all": ("全部", "All"),
    "board.filter.apply": ("应用筛选", "Apply"),
    "board.choose": ("请选择市场", "Choose a market"),
    "board.none": ("当日暂无检测结果。", "No results for this day."),
    "board.no_sites": ("您的账号尚未分配检测点。", "Your account has no site assigned."),
    "case.held": ("暂停销售", "Held from sale"),
    "case.retest_requested": ("已申请复检", "Re-test requested"),
    "case.lab_result": ("已出实验室结果", "Lab result in"),
    "case.disposition": ("已处置", "Disposed of"),
    "case.closed": ("已结案", "Closed"),
    "case.none": ("—", "—"),
    "case.not_notified": ("未通知摊主（4小时复检期未开始）", "Vendor not notified (4-h window not started)"),
    "case.overdue": ("已逾期", "Overdue"),
    "notice.title": ("快检结果公示", "Rapid test results (public notice)"),
    "notice.today": ("今日结果", "Today"),
    "notice.recent": ("近7日结果", "Last 7 days"),
    "notice.print": ("打印公示", "Print notice"),
    "notice.sign.tester": ("检测员（签字）", "Tester (signature)"),
    "notice.sign.manager": ("市场负责人（签字）", "Market manager (signature)"),
    "notice.sign.stamp": ("（盖章）", "(stamp)"),
    "notice.basis": ("快检结果为初筛结果，阳性批次已暂停销售并按规定处置。",
                     "Rapid tests are screening results; positive batches are held from sale and handled by law."),
    "request.title": ("你点我检：建议检测的产品", "You pick, we test: propose a product"),
    "request.product": ("产品名称", "Product"),
    "request.note": ("说明（可选）", "Note (optional)"),
    "request.submit": ("提交建议", "Submit"),
    "request.sent": ("已提交，编号", "Submitted, number"),
    "request.err.product": ("请填写要检测的产品名称（1–100 字）。", "Enter the product to test (1–100 characters)."),
    "request.err.note": ("说明最多 500 字。", "The note may have at most 500 characters."),
    "request.err.rate": ("提交过于频繁：每小时最多 5 次，请稍后再试。",
                         "Too many requests: at most 5 per hour, please try later."),
    "request.err.site": ("该市场不存在。", "This market does not exist."),
    "request.err.other": ("提交失败，请稍后再试。", "Could not submit, please try later."),
    "console.title": ("监管台", "Regulator console"),
    "console.district": ("辖区", "District"),
    "console.all_districts": ("全部辖区", "All districts"),
    "console.summary": ("概况", "Overview"),
    "console.sites": ("检测点", "Sites"),
    "console.online": ("在线网关", "Gateways online"),
    "console.offline_count": ("离线网关", "Gateways offline"),
    "console.tests_today": ("今日检测", "Tests today"),
    "console.positives_today": ("今日阳性", "Positives today"),
    "console.open_cases": ("未结案件", "Open cases"),
    "console.overdue_cases": ("逾期案件", "Overdue cases"),
    "console.health": ("网关与仪器状态", "Gateway and instrument health"),
    "console.chain": ("数据链状态", "Chain status"),
    "console.cases": ("阳性处置", "Positive cases"),
    "console.no_cases": ("暂无阳性案件。", "No positive case."),
    "console.checkpoints": ("每日存证", "Daily checkpoints"),
    "console.no_checkpoints": ("暂无存证。", "No checkpoint yet."),
    "console.export": ("导出审计包", "Export audit bundle"),
    "console.export.from": ("开始日期", "From"),
    "console.export.to": ("结束日期", "To"),
    "console.export.site": ("检测点", "Site"),
    "console.export.all": ("全部检测点", "All sites"),
    "console.export.button": ("下载 .tar.gz", "Download .tar.gz"),
    "console.charts": ("统计图", "Charts"),
    "console.chart.by_item": ("近14日阳性（按项目）", "Positives by item, 14 days"),
    "console.chart.by_day": ("近14日阳性（按日）", "Positives by day, 14 days"),
    "console.chart.by_site": ("近14日检测量（按检测点）", "Tests per site, 14 days"),
    "console.no_data": ("无数据", "No data"),
    "console.qc_due": ("质控缺失", "QC due"),
    "console.qc": ("今日质控", "Quality control today"),
    "console.qc_none": ("今日暂无检测或质控结果。", "No test or control result today."),
    "console.live": ("自动刷新中", "Refreshing automatically"),
    "console.refresh_failed": ("刷新失败，正在重试…", "Refresh failed, retrying…"),
    "console.updated": ("数据时间", "Data as of"),
    "qc.not_run": ("今日未做", "not run today"),
    "qc.state.done": ("质控完成", "QC done"),
    "qc.state.due": ("质控缺失", "QC due"),
    "qc.state.no_samples": ("已做质控，暂无样品", "Controls run, no sample yet"),
    "qc.control.negative_control": ("质控：阴性对照", "QC: negative control"),
    "qc.control.positive_control": ("质控：阳性对照", "QC: positive control"),
    "qc.control.blank": ("质控：空白对照", "QC: blank"),
    "qc.missing.negative_control": ("缺阴性质控", "negative control missing"),
    "qc.missing.positive_control": ("缺阳性质控", "positive control missing"),
    "qc.lot": ("批号", "lot"),
    "calibration.due": ("校准有效期至", "Calibration due"),
    "calibration.overdue": ("校准已过期", "Calibration overdue"),
    "calibration.due_soon": ("即将到期", "Due soon"),
    "state.online": ("在线", "Online"),
    "state.offline": ("离线", "Offline"),
    "state.never": ("无心跳", "No heartbeat"),
    "state.error": ("故障", "Error"),
    "sig.ok": ("有效", "valid"),
    "sig.bad": ("无效", "INVALID"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "none": ("无", "none"),
    "not_found": ("未找到", "Not found"),
    "not_found.site": ("检测点不存在或无权查看。", "Site not found."),
    "back": ("返回", "Back"),
}


def pick_lang(request: Request) -> Lang:
    """``?lang=`` first, then the cookie, else Chinese."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in ("zh", "en"):
            return candidate  # type: ignore[return-value]
    return "zh"


def translator(lang: Lang) -> Callable[[str], str]:
    """``t(key)`` for templates; an unknown key shows itself (visible in tests, never a crash)."""
    index = 0 if lang == "zh" else 1

    def t(key: str) -> str:
        entry = TEXT.get(key)
        return entry[index] if entry is not None else key

    return t
