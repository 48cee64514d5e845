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

// A table wider than the screen says so: its first column stays put (CSS) and a line above
// it tells that more columns are a swipe away.
(function () {
  var mark = function () {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      wrap.classList.toggle("scrolls", scrolls);
      var hint = wrap.previousElementSibling;
      var has = hint && hint.classList.contains("scroll-hint");
      if (scrolls && !has) {
        var p = document.createElement("p");
        p.className = "scroll-hint";
        p.textContent = "More columns: swipe the table sideways →";
        wrap.parentNode.insertBefore(p, wrap);
      } else if (!scrolls && has) {
        hint.remove();
      }
    });
  };
  mark();
  window.addEventListener("resize", mark);
})();

// On a narrow screen a list's filters fold away behind their toggle, unless one is in use
// or refused (the page then shows them open).
(function () {
  if (window.innerWidth > 600) { return; }
  document.querySelectorAll("details.filter-fold[data-fold='yes']").forEach(function (d) {
    d.open = false;
  });
})();
