// Live market board: an EventSource says "changed"; the changing part is fetched again and swapped in.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || !window.EventSource) { return; }
  var text = document.getElementById("live-text");
  var dot = document.getElementById("live-dot");
  var fetching = null;
  var again = false;

  function live() { return document.getElementById("board-live"); }

  function setState(ok, message) {
    dot.className = ok ? "dot is-live" : "dot is-lost";
    text.textContent = message || (ok ? text.dataset.live : text.dataset.lost);
  }

  function known() {
    var ids = {};
    live().querySelectorAll("tr[data-id]").forEach(function (tr) { ids[tr.dataset.id] = true; });
    return ids;
  }

  function refresh() {
    if (fetching) { again = true; return; }
    var before = known();
    fetching = fetch(board.dataset.live + window.location.search, {credentials: "same-origin"})
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.text(); })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#board-live");
        if (!fresh) { return; }
        var added = {};
        fresh.querySelectorAll("tr[data-id]").forEach(function (tr) {
          if (!before[tr.dataset.id]) { tr.classList.add("is-new"); added[tr.dataset.id] = true; }
        });
        added = Object.keys(added).length;
        live().replaceWith(fresh);
        if (added) { setState(true, text.dataset.new + " +" + added); }
      })
      .catch(function () { setState(false); })
      .then(function () { fetching = null; if (again) { again = false; refresh(); } });
  }

  var url = board.dataset.events + "?since=" + encodeURIComponent(live().dataset.lastId) +
    "&cases=" + encodeURIComponent(live().dataset.cases);
  var source = new EventSource(url, {withCredentials: true});
  source.onopen = function () { setState(true); };
  source.onerror = function () { setState(false); };
  source.addEventListener("change", refresh);
})();
