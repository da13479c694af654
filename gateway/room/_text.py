"""The page's words in Chinese (first) and English; templates read them as ``t.<key>``."""

from __future__ import annotations

LANGUAGES = ("zh", "en")

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "html_lang": "zh-CN", "title": "快检室", "switch_label": "English", "switch_lang": "en",
        "live": "实时更新中", "offline_feed": "连接中断，正在重连…",
        "instruments": "仪器", "no_instruments": "本网关没有配置仪器。",
        "state_online": "在线", "state_offline": "离线", "state_error": "故障",
        "results_count": "已收结果", "last_result": "最近结果", "queued": "待绑定标签",
        "none_queued": "无待绑定标签", "cancel": "撤销", "channel": "通道", "any_channel": "任意通道",
        "label_form": "标记下一个样品", "label_hint": "该仪器该通道的下一个结果将绑定此标签。",
        "instrument": "仪器", "name": "样品名称", "category": "类别", "choose": "请选择",
        "cat_vegetable": "蔬菜", "cat_fruit": "水果", "cat_meat": "肉类", "cat_aquatic": "水产品",
        "cat_other": "其他", "stall": "摊位", "supplier": "供货商", "origin": "产地",
        "barcode": "追溯码 / 条码", "barcode_hint": "可用扫码枪扫描，扫完自动跳到下一项",
        "sample_id": "样品编号", "operator": "检测人（工号）", "kit_lot": "试剂批号", "kit_expiry": "试剂有效期",
        "required": "必填", "optional": "选填", "submit": "加入队列",
        "queued_ok": "已加入队列：", "scanned": "已扫码：",
        "results": "最新结果", "no_results": "还没有结果。", "time": "时间", "sample": "样品",
        "item": "检测项目", "value": "检测值", "verdict": "结论", "flags": "标记",
        "verdict_negative": "阴性", "verdict_positive": "阳性", "verdict_invalid": "无效",
        "unlabelled": "未标记", "kit_expired": "试剂过期", "control": "质控", "calibration_overdue": "校准过期",
        "calibration_due": "校准有效期至", "calibration_overdue_warning": "校准已过期，结果将被标记",
        "calibration_due_soon": "即将到期",
        "err_required": "此项必填", "err_category": "请选择类别", "err_date": "日期格式应为 年-月-日",
        "err_instrument": "未知仪器", "err_kit": "试剂批号和有效期需同时填写", "err_too_long": "内容过长",
        "err_form": "请修改标出的项目后再提交。", "err_channel": "通道应为“任意”或编号",
        "footer": "本页面由本室网关提供，仅限本室局域网使用。", "noscript": "需要启用 JavaScript 才能实时显示新结果。",
    },
    "en": {
        "html_lang": "en", "title": "Test room", "switch_label": "中文", "switch_lang": "zh",
        "live": "Live", "offline_feed": "Connection lost, reconnecting…",
        "instruments": "Instruments", "no_instruments": "No instrument is configured on this gateway.",
        "state_online": "online", "state_offline": "offline", "state_error": "error",
        "results_count": "Results", "last_result": "Last result", "queued": "Labels waiting",
        "none_queued": "No label waiting", "cancel": "Withdraw", "channel": "Channel", "any_channel": "Any channel",
        "label_form": "Label the next sample", "label_hint": "The next result of this instrument and channel gets this label.",
        "instrument": "Instrument", "name": "Sample name", "category": "Category", "choose": "Choose",
        "cat_vegetable": "Vegetable", "cat_fruit": "Fruit", "cat_meat": "Meat", "cat_aquatic": "Aquatic",
        "cat_other": "Other", "stall": "Stall", "supplier": "Supplier", "origin": "Origin",
        "barcode": "Trace code / barcode", "barcode_hint": "A scanner may type it; focus moves on after the scan",
        "sample_id": "Sample no.", "operator": "Technician id", "kit_lot": "Kit lot", "kit_expiry": "Kit expiry",
        "required": "required", "optional": "optional", "submit": "Queue label",
        "queued_ok": "Queued: ", "scanned": "Scanned: ",
        "results": "Latest results", "no_results": "No result yet.", "time": "Time", "sample": "Sample",
        "item": "Test item", "value": "Value", "verdict": "Verdict", "flags": "Flags",
        "verdict_negative": "negative", "verdict_positive": "POSITIVE", "verdict_invalid": "invalid",
        "unlabelled": "unlabelled", "kit_expired": "kit expired", "control": "control",
        "calibration_overdue": "calibration overdue", "calibration_due": "Calibration due",
        "calibration_overdue_warning": "calibration overdue: results are flagged", "calibration_due_soon": "due soon",
        "err_required": "Required", "err_category": "Choose a category", "err_date": "Use the date form YYYY-MM-DD",
        "err_instrument": "Unknown instrument", "err_kit": "Give the kit lot and its expiry together",
        "err_too_long": "Too long", "err_form": "Please correct the marked fields.",
        "err_channel": "Channel must be \u201cany\u201d or a number",
        "footer": "Served by this room's gateway, for the room's local network only.",
        "noscript": "JavaScript is needed to show new results as they arrive.",
    },
}


def text_for(lang: str) -> dict[str, str]:
    """The word table of ``lang`` (Chinese for anything unknown)."""
    return TEXT.get(lang, TEXT["zh"])
