// Regulator console: the live part (overview, gateway health, QC, chain, cases) is fetched again every
// data-refresh-ms and swapped in; without JavaScript the page shows what it had when loaded.
(function () {
  "use strict";
  var root = document.getElementById("console");
  if (!root || !window.fetch) { return; }
  var every = Number(root.dataset.refreshMs) || 10000;
  var text = document.getElementById("live-text");
  var dot = document.getElementById("live-dot");

  function setState(ok) {
    dot.className = ok ? "dot is-live" : "dot is-lost";
    text.textContent = ok ? text.dataset.live : text.dataset.lost;
  }

  function refresh() {
    if (document.hidden) { window.setTimeout(refresh, every); return; }
    fetch(root.dataset.live + window.location.search, {credentials: "same-origin", cache: "no-store"})
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); throw new Error("signed out"); }  // → the login page
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.text();
      })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#console-live");
        if (!fresh) { throw new Error("no #console-live in the answer"); }
        document.getElementById("console-live").replaceWith(fresh);
        setState(true);
      })
      .catch(function () { setState(false); })
      .then(function () { window.setTimeout(refresh, every); });
  }

  document.getElementById("live-state").hidden = false;  // shown only where the page refreshes itself
  setState(true);
  window.setTimeout(refresh, every);
})();
