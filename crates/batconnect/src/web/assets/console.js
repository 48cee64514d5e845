// BAT Connect console: small enhancements only; every page works without this file.
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  // A second click while the first submission is on its way does nothing.
  if (form.dataset.submitting === "yes") {
    event.preventDefault();
    return;
  }
  form.dataset.submitting = "yes";
  window.setTimeout(function () { form.dataset.submitting = ""; }, 8000);
});

// The wizard's schedule preview follows the amount and the first week as they change.
(function () {
  var form = document.querySelector("form[data-preview-url]");
  var target = document.getElementById("preview");
  if (!form || !target || !window.fetch) { return; }
  var timer = null;
  var refresh = function () {
    var amount = form.querySelector("#total_amount");
    var week = form.querySelector("#start_week");
    if (!amount || !week) { return; }
    var query = new URLSearchParams({ total_amount: amount.value, start_week: week.value });
    fetch(form.getAttribute("data-preview-url") + "?" + query.toString(), { credentials: "same-origin" })
      // A session that ended answers with the sign-in page: keep the preview as it is.
      .then(function (response) { return response.ok && !response.redirected ? response.text() : null; })
      .then(function (html) { if (html !== null) { target.innerHTML = html; } })
      .catch(function () { /* the button still previews */ });
  };
  var later = function (event) {
    if (event.target.id === "total_amount" || event.target.id === "start_week") {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 350);
    }
  };
  form.addEventListener("input", later);
  form.addEventListener("change", later);
})();

// The weekly run's table follows a run that is going, until it ends.
(function () {
  if (!document.querySelector("[data-refresh-url]") || !window.fetch) { return; }
  var tick = function () {
    var current = document.querySelector("[data-refresh-url]");
    if (!current || current.getAttribute("data-running") !== "yes") { return; }
    fetch(current.getAttribute("data-refresh-url"), { credentials: "same-origin" })
      .then(function (response) { return response.ok && !response.redirected ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var holder = document.createElement("div");
        holder.innerHTML = html;
        if (holder.firstElementChild) { current.replaceWith(holder.firstElementChild); }
      })
      .catch(function () { /* a reload still shows the run */ })
      .then(function () { window.setTimeout(tick, 4000); });
  };
  window.setTimeout(tick, 4000);
})();
