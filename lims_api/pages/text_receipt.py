"""Interface words of the public result page and its in-browser receipt check (中文, English)."""

from __future__ import annotations

RECEIPT_TEXT: dict[str, tuple[str, str]] = {
    "result.title": ("检测结果核验", "Check a test result"),
    "result.qr": ("扫码核验此结果", "Scan to check this result"),
    "result.intro": ("本页在您的浏览器中核验：结果是否由检测室网关签名、是否原样记入公开日志、日志是否由检测中心签名。"
                     "核验只用浏览器自带的密码学功能，不依赖本网站的说法。",
                     "This page checks in your browser that the result was signed by the test room's gateway, "
                     "is recorded unchanged in the public log, and that the log head is signed by the LIMS. It uses "
                     "only your browser's own cryptography and does not rely on this website's word."),
    "result.fields": ("签名记录的内容", "What the signed record says"),
    "result.f.product": ("样品", "Sample"),
    "result.f.stall": ("摊位", "Stall"),
    "result.f.item": ("检测项目", "Test item"),
    "result.f.verdict": ("结论", "Verdict"),
    "result.f.value": ("测定值", "Measured value"),
    "result.f.tested_at": ("检测时间", "Tested at"),
    "result.f.site": ("检测点", "Site"),
    "result.f.instrument": ("仪器", "Instrument"),
    "result.checks": ("核验了什么", "What was checked"),
    "result.c.envelope": ("记录原样（规范 JSON），并计算其 SHA-256 哈希", "The record is exactly as signed (canonical JSON); its SHA-256 hash"),
    "result.c.gateway_signature": ("检测室网关的 Ed25519 签名有效", "The test room gateway's Ed25519 signature is valid"),
    "result.c.inclusion": ("该记录包含在公开日志中（默克尔包含证明）", "The record is in the public log (Merkle inclusion proof)"),
    "result.c.tree_head_signature": ("日志头由检测中心（LIMS）签名", "The log head is signed by the LIMS"),
    "result.checking": ("正在核验…", "Checking…"),
    "result.ok": ("核验通过：此结果自检测仪器签名后未被改动。", "Verified: this result is unchanged since the instrument's gateway signed it."),
    "result.bad": ("核验失败：此结果或其证明已被改动，请勿信任。", "NOT verified: this result or its proof was altered; do not trust it."),
    "result.unavailable": ("暂时无法核验（结果尚未写入已签名的日志头，日志头每隔几分钟签名一次）。",
                           "Cannot check yet (the result is not yet in a signed log head; heads are signed every few minutes)."),
    "result.keys": ("检测中心密钥编号（请与监管部门公布的编号比对）", "LIMS key id (compare with the one your regulator publishes)"),
    "result.download": ("下载核验凭证（可离线核验）", "Download the receipt (check it offline)"),
    "result.file": ("核验已下载的凭证文件", "Check a downloaded receipt file"),
    "result.pass": ("通过", "passed"),
    "result.fail": ("未通过", "FAILED"),
}
