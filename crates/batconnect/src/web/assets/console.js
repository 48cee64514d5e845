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
    // With lines and no typed total, the schedule follows the lines' total.
    var total = amount.value.trim() || form.dataset.linesTotal || "";
    var query = new URLSearchParams({ total_amount: total, start_week: week.value });
    fetch(form.getAttribute("data-preview-url") + "?" + query.toString(), { credentials: "same-origin" })
      // A session that ended answers with the sign-in page: keep the preview as it is.
      .then(function (response) { return response.ok && !response.redirected ? response.text() : null; })
      .then(function (html) { if (html !== null) { target.innerHTML = html; } })
      .catch(function () { /* the button still previews */ });
  };
  form.addEventListener("lines-changed", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 350);
  });
  var later = function (event) {
    if (event.target.id === "total_amount" || event.target.id === "start_week") {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 350);
    }
  };
  form.addEventListener("input", later);
  form.addEventListener("change", later);
})();

// The wizard's invoice lines: rows added and removed in place, and each line's amount, the
// subtotals, the tax and the total as typed, computed as the server does (integer cents,
// half-up; tax once on the taxable lines less taxable discounts). Without this, "Add a line"
// and "Remove" send the form and it comes back changed.
(function () {
  var table = document.getElementById("lines");
  var template = document.getElementById("line-template");
  if (!table || !template || typeof BigInt === "undefined") { return; }
  var form = table.closest("form");
  var body = table.querySelector("tbody");
  var scaled = function (text, places, money) {
    var t = (text || "").trim();
    if (money) { t = t.replace(/^\$/, "").replace(/,/g, ""); }
    var m = new RegExp("^(\\d+)(?:\\.(\\d{1," + places + "}))?$").exec(t);
    if (!m) { return null; }
    var frac = (m[2] || "").padEnd(places, "0");
    return BigInt(m[1]) * BigInt(Math.pow(10, places)) + BigInt(frac || "0");
  };
  var halfUp = function (n, d) { return (n + d / 2n) / d; };
  var dollars = function (cents) {
    var s = cents.toString().padStart(3, "0");
    var whole = s.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return "$" + whole + "." + s.slice(-2);
  };
  var field = function (row, name) { return row.querySelector("[name^='line_" + name + "_']"); };
  var recompute = function (initial) {
    var sums = { part: 0n, labour: 0n, fee: 0n, discount: 0n };
    var taxable = 0n, taxableDiscounts = 0n, lines = 0, complete = true;
    Array.prototype.forEach.call(body.querySelectorAll("tr[data-line]"), function (row, i) {
      var cell = row.querySelector("[data-amount]");
      var label = i + 1;
      Array.prototype.forEach.call(row.querySelectorAll("[aria-label]"), function (input) {
        input.setAttribute("aria-label", input.getAttribute("aria-label").replace(/line \d*$/, "line " + label));
      });
      var blank = ["description", "part_number", "quantity", "unit_price"].every(function (n) {
        return !field(row, n).value.trim();
      });
      if (blank) { cell.textContent = ""; return; }
      var q = scaled(field(row, "quantity").value, 3, false);
      var p = scaled(field(row, "unit_price").value, 2, true);
      if (q === null || p === null || q === 0n || p === 0n) { cell.textContent = "—"; complete = false; return; }
      var amount = halfUp(q * p, 1000n);
      var kind = field(row, "kind").value;
      cell.textContent = dollars(amount);
      sums[kind] += amount;
      lines += 1;
      if (field(row, "taxable").checked) {
        if (kind === "discount") { taxableDiscounts += amount; } else { taxable += amount; }
      }
    });
    var rateInput = document.getElementById("tax_rate");
    var rate = rateInput && rateInput.value.trim() ? scaled(rateInput.value, 3, false) : 0n;
    var show = function (key, cents) {
      var dd = document.querySelector("[data-total='" + key + "']");
      if (dd) { dd.textContent = cents === null ? "—" : dollars(cents); }
    };
    var ok = complete && lines > 0 && rate !== null;
    var base = taxable - taxableDiscounts;
    var tax = ok && base > 0n ? halfUp(base * rate, 100000n) : 0n;
    var total = sums.part + sums.labour + sums.fee - sums.discount + tax;
    show("parts", ok ? sums.part : null);
    show("labour", ok ? sums.labour : null);
    show("fees", ok ? sums.fee : null);
    show("discounts", ok ? sums.discount : null);
    show("tax", ok ? tax : null);
    show("total", ok && total > 0n ? total : null);
    var text = ok && total > 0n ? total.toString().padStart(3, "0") : "";
    form.dataset.linesTotal = text ? text.slice(0, -2) + "." + text.slice(-2) : "";
    // On load the page already shows what the server computed, its schedule included.
    if (initial !== true) { form.dispatchEvent(new Event("lines-changed")); }
  };
  form.addEventListener("click", function (event) {
    var button = event.target.closest("button[name='action']");
    if (!button) { return; }
    if (button.value === "add_line") {
      event.preventDefault();
      var next = 0;
      Array.prototype.forEach.call(body.querySelectorAll("tr[data-line]"), function (row) {
        next = Math.max(next, Number(row.getAttribute("data-line")) + 1);
      });
      var copy = template.innerHTML.replace(/__N__/g, String(next));
      body.insertAdjacentHTML("beforeend", copy);
      recompute();
      field(body.lastElementChild, "description").focus();
    } else if (button.value.indexOf("remove_line_") === 0) {
      event.preventDefault();
      button.closest("tr").remove();
      recompute();
      var add = form.querySelector("button[value='add_line']");
      if (add) { add.focus(); }
    }
  });
  form.addEventListener("input", function (event) {
    if (event.target.closest("#lines") || event.target.id === "tax_rate") { recompute(); }
  });
  form.addEventListener("change", function (event) {
    if (event.target.closest("#lines")) { recompute(); }
  });
  recompute(true);
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
