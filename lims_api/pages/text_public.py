"""Interface words of the public notice (公示), merged into ``i18n.TEXT``."""

from __future__ import annotations

NOTICE_TEXT: dict[str, tuple[str, str]] = {
    "notice.published": ("公示条数", "Published"),
    "notice.handling": ("处理情况", "Handling"),
    "notice.search": ("查找产品或检测项目", "Find a product or test item"),
    "notice.search.button": ("查找", "Find"),
    "notice.search.clear": ("显示全部", "Show all"),
    "notice.search.none": ("没有找到与“{q}”相符的检测结果。", "No result matches “{q}”."),
    "notice.left_out": ("另有 {invalid} 次无效检测（样品需重新检测）和 {unlabelled} 条未标记样品名称的结果，不列入公示。",
                        "Also {invalid} invalid run(s) (the sample is re-tested) and {unlabelled} result(s) without "
                        "a product name, not published."),
    "notice.page": ("第 {first}–{last} 条，共 {total} 条", "Rows {first}–{last} of {total}"),
    "notice.prev": ("上一页", "Previous"),
    "notice.next": ("下一页", "Next"),
    "notice.view_day": ("查看", "View"),
    "board.more_positives": ("今日共 {total} 条阳性，此处列出最近 {shown} 条。", "{total} positives today; the newest {shown} are listed."),
    "board.all_positives": ("查看全部阳性", "All positives"),
    "qc.more_lots": ("另 {n} 个批号", "{n} more lots"),
    "flag.kit_expired": ("试剂过期", "Kit expired"),
    "flag.unlabelled": ("未标记", "Unlabelled"),
    "flag.calibration_overdue": ("校准过期", "Calibration overdue"),
    "handling.held": ("已暂停销售", "Held from sale"),
    "handling.retest_requested": ("暂停销售，复检中", "Held, re-test under way"),
    "handling.lab_confirmed": ("复检确认不合格，暂停销售", "Confirmed by the lab, held"),
    "handling.lab_not_confirmed": ("复检合格", "Lab re-test passed"),
    "handling.destroyed": ("已监督销毁", "Destroyed under supervision"),
    "handling.returned": ("已退回供货方", "Returned to the supplier"),
    "handling.released": ("复检合格，已恢复销售", "Re-test passed, back on sale"),
    "handling.pending": ("待处理", "To be handled"),
}
