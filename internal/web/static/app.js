// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Ask before destructive submits (withdraw).
  document.addEventListener("submit", function (e) {
    var btn = e.submitter;
    var msg = btn && btn.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      e.preventDefault();
    }
  });

  // Declaration form: amount and currency only when paid; inline validation
  // by the server's own rules (POST to data-validate) as fields are left.
  var form = document.querySelector("form[data-validate]");
  if (!form) {
    return;
  }
  var paid = form.querySelector("#paid");
  var money = [form.querySelector("#amount"), form.querySelector("#currency")];
  function syncPaid() {
    money.forEach(function (el) {
      if (el) {
        el.disabled = !paid.checked;
      }
    });
  }
  if (paid) {
    paid.addEventListener("change", syncPaid);
    syncPaid();
  }

  var touched = {};
  var pending = null;
  function show(errors) {
    form.querySelectorAll("[data-error-for]").forEach(function (p) {
      var field = p.getAttribute("data-error-for");
      var input = form.querySelector("[name='" + field + "']");
      var msg = touched[field] ? errors[field] : "";
      if (field === "amount" || field === "currency") {
        msg = (touched.amount || touched.currency || touched.paid) ? errors[field] : "";
      }
      if (msg) {
        p.textContent = msg;
        p.hidden = false;
        if (input) { input.setAttribute("aria-invalid", "true"); }
      } else {
        p.textContent = "";
        p.hidden = true;
        if (input) { input.removeAttribute("aria-invalid"); }
      }
    });
  }
  function validate() {
    var body = new URLSearchParams(new FormData(form));
    fetch(form.getAttribute("data-validate"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (j) {
      if (j && j.errors) { show(j.errors); }
    }).catch(function () { /* the submit validates anyway */ });
  }
  function schedule(e) {
    if (e.target && e.target.name) {
      touched[e.target.name] = true;
    }
    clearTimeout(pending);
    pending = setTimeout(validate, 250);
  }
  form.addEventListener("focusout", schedule);
  form.addEventListener("change", schedule);
})();
