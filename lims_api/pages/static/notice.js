// Public notice: print button and the 你点我检 form, posted as JSON to /api/v1/public/requests.
(function () {
  "use strict";
  var printButton = document.getElementById("print-notice");
  if (printButton) { printButton.addEventListener("click", function () { window.print(); }); }
  var form = document.getElementById("request-form");
  if (!form) { return; }
  var product = document.getElementById("req-product");
  var note = document.getElementById("req-note");
  var outcome = document.getElementById("req-outcome");
  var fields = {product: product, note: note};

  function fieldError(name, message) {
    var input = fields[name];
    document.getElementById("req-" + name + "-error").textContent = message || "";
    if (message) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
  }

  function say(ok, message) {
    outcome.hidden = false;
    outcome.className = "notice-msg " + (ok ? "ok" : "bad");
    outcome.textContent = message;
  }

  function showValidation(detail) {
    var shown = false;
    (Array.isArray(detail) ? detail : []).forEach(function (err) {
      var name = err.loc && err.loc[err.loc.length - 1];
      if (name === "product" || name === "note") { fieldError(name, form.dataset["err" + name[0].toUpperCase() + name.slice(1)]); shown = true; }
    });
    if (!shown) { say(false, typeof detail === "string" && detail.indexOf("site") >= 0 ? form.dataset.errSite : form.dataset.errOther); }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    fieldError("product"); fieldError("note"); outcome.hidden = true;
    var body = {product: product.value.trim(), site_id: form.dataset.site};
    if (note.value.trim()) { body.note = note.value.trim(); }
    fetch("/api/v1/public/requests", {method: "POST", headers: {"Content-Type": "application/json"},
                                      body: JSON.stringify(body)})
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (response.status === 201) {
            say(true, form.dataset.sent + " #" + data.id + " ");
            var follow = document.createElement("a");
            follow.href = "/public/requests/" + encodeURIComponent(data.id);
            follow.id = "req-follow";
            follow.textContent = form.dataset.follow;
            outcome.appendChild(follow);
            form.reset();
          }
          else if (response.status === 429) { say(false, form.dataset.errRate); }
          else if (response.status === 422) { showValidation(data.detail); }
          else { say(false, form.dataset.errOther); }
        });
      })
      .catch(function () { say(false, form.dataset.errOther); });
  });
})();
