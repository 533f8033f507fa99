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

  // Case queue: j / k move a marker through the rows, Enter opens the
  // marked case, x ticks it (not while typing in a field).
  var queue = document.querySelector("table[data-keynav]");
  if (queue) {
    var rows = Array.prototype.slice.call(queue.querySelectorAll("tbody tr"));
    var at = -1;
    var mark = function (i) {
      if (!rows.length) { return; }
      at = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach(function (r, j) { r.classList.toggle("kb-current", j === at); });
      var link = rows[at].querySelector("a[href]");
      if (link) { link.focus({ preventScroll: true }); }
      rows[at].scrollIntoView({ block: "nearest" });
    };
    document.addEventListener("keydown", function (e) {
      var t = e.target;
      if (e.altKey || e.ctrlKey || e.metaKey || (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)))) {
        return;
      }
      if (e.key === "j") { mark(at + 1); e.preventDefault(); }
      else if (e.key === "k") { mark(at < 0 ? 0 : at - 1); e.preventDefault(); }
      else if (e.key === "x" && at >= 0) {
        var box = rows[at].querySelector("input[type=checkbox]");
        if (box) { box.checked = !box.checked; }
        e.preventDefault();
      } else if (e.key === "Enter" && at >= 0 && !(t && t.tagName === "A")) {
        var a = rows[at].querySelector("a[href]");
        if (a) { window.location.href = a.getAttribute("href"); e.preventDefault(); }
      }
    });
  }

  // Declaration form: amount and currency only when paid (shown without
  // this script); inline validation by the server's own rules (POST to
  // data-validate) as fields are left.
  var form = document.querySelector("form[data-validate]");
  if (!form) {
    return;
  }
  var paid = form.querySelector("#paid");
  var money = [form.querySelector("#amount"), form.querySelector("#currency")];
  var moneyBox = form.querySelector("[data-paid-only]");
  function syncPaid() {
    money.forEach(function (el) {
      if (el) {
        el.disabled = !paid.checked;
      }
    });
    if (moneyBox) {
      moneyBox.hidden = !paid.checked;
    }
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
