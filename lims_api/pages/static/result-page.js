// Public result page: fetch the receipt (or read a chosen file), verify it with receipt.js, show what was checked.
(function () {
  "use strict";
  var root = document.getElementById("result-check");
  if (!root) { return; }
  var outcome = document.getElementById("result-outcome");

  function show(field, text) {
    var cell = root.querySelector('[data-field="' + field + '"]');
    if (cell) { cell.textContent = (text === null || text === undefined || text === "") ? "—" : String(text); }
  }

  function showResult(envelope) {
    var r = (envelope && envelope.result) || {};
    var sample = r.sample || {}, test = r.test || {}, m = r.measurement || {}, site = r.site || {}, inst = r.instrument || {};
    show("product", sample.name);
    show("stall", sample.stall);
    show("item", test.item);
    show("verdict", root.dataset["verdict" + String(r.verdict).charAt(0).toUpperCase() + String(r.verdict).slice(1)] || r.verdict);
    show("value", m.value === undefined ? null : m.value + " " + (m.unit || "") + (m.cutoff === null || m.cutoff === undefined ? "" : " (cutoff " + m.cutoff + ")"));
    show("tested_at", r.tested_at);
    show("site", site.name);
    show("instrument", [inst.model, inst.id].filter(Boolean).join(" "));
  }

  function showChecks(report) {
    root.querySelectorAll("[data-check]").forEach(function (item) {
      var check = report.checks.filter(function (c) { return c.name === item.dataset.check; })[0];
      item.className = check ? (check.ok ? "check-ok" : "check-bad") : "check-bad";
      item.querySelector(".check-state").textContent = check && check.ok ? "✓ " + root.dataset.pass : "✗ " + root.dataset.fail;
      item.querySelector(".check-detail").textContent = check ? check.detail : "";
    });
    outcome.className = "notice-msg " + (report.ok ? "ok" : "bad");
    outcome.textContent = report.ok ? outcome.dataset.ok : outcome.dataset.bad;
    root.dataset.verified = report.ok ? "yes" : "no";
  }

  async function check(receipt) {
    var report = await window.kuaijianReceipt.verifyReceipt(receipt);
    showResult(report.envelope);
    document.getElementById("lims-kid").textContent = (receipt.lims_key && receipt.lims_key.kid) || "—";
    showChecks(report);
  }

  fetch(root.dataset.receiptUrl, {headers: {Accept: "application/json"}}).then(function (response) {
    if (!response.ok) { throw new Error("HTTP " + response.status); }
    return response.json();
  }).then(check).catch(function () {
    outcome.className = "notice-msg bad";
    outcome.textContent = outcome.dataset.unavailable;
    root.dataset.verified = "unavailable";
  });

  document.getElementById("receipt-file").addEventListener("change", function (event) {
    var file = event.target.files[0];
    if (!file) { return; }
    file.text().then(function (text) { return check(JSON.parse(text)); }).catch(function (err) {
      showChecks({ok: false, checks: [{name: "envelope", ok: false, detail: String(err.message || err)}]});
    });
  });
})();
