// Room page: live results over server-sent events, and scanner-friendly fields.
"use strict";

(function () {
  const body = document.body;
  const rows = document.getElementById("results-body");
  const cards = document.getElementById("instruments-list");
  const feedState = document.getElementById("feed-state");

  // A USB scanner types the code and ends with Enter: in [data-scan] fields Enter moves on, never submits.
  const form = document.getElementById("label");
  if (form) {
    const hint = document.createElement("p");
    hint.className = "notice ok small";
    hint.setAttribute("role", "status");
    hint.hidden = true;
    form.prepend(hint);
    form.querySelectorAll("input[data-scan]").forEach(function (input) {
      input.addEventListener("keydown", function (event) {
        if (event.key !== "Enter") return;
        event.preventDefault();
        const fields = Array.from(form.querySelectorAll("input, select, button"));
        const next = fields[fields.indexOf(input) + 1];
        if (input.value.trim()) {
          hint.textContent = body.dataset.scanned + input.value.trim();
          hint.hidden = false;
        }
        if (next) next.focus();
      });
    });
  }

  if (!rows || !window.EventSource) return;
  const limit = parseInt(rows.dataset.limit || "30", 10);
  const url = "/events?lang=" + encodeURIComponent(body.dataset.lang) + "&after=" + (rows.dataset.lastSeq || "0");
  const source = new EventSource(url);

  source.onopen = function () {
    feedState.textContent = feedState.dataset.live;
    feedState.classList.remove("lost");
  };
  source.onerror = function () {
    feedState.textContent = feedState.dataset.lost;
    feedState.classList.add("lost");
  };
  source.addEventListener("result", function (event) {
    const data = JSON.parse(event.data);
    if (document.getElementById("r" + data.seq)) return;
    const holder = document.createElement("tbody");
    holder.innerHTML = data.html;  // rendered and escaped by the server's template
    const row = holder.firstElementChild;
    row.classList.add("fresh");
    const empty = rows.querySelector("tr.empty");
    if (empty) empty.remove();
    rows.prepend(row);
    rows.dataset.lastSeq = String(data.seq);
    while (rows.children.length > limit) rows.lastElementChild.remove();
  });
  source.addEventListener("instruments", function (event) {
    cards.innerHTML = JSON.parse(event.data).html;
  });
})();
