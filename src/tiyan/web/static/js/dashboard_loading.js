// Dashboards: while the next view loads (filters applied, a tab or a drill-down link followed),
// show a progress bar and stop a second submit. Navigation stays plain (the URL holds the
// filters, so it can be shared, and the pages work without JavaScript).
(function () {
  "use strict";
  var form = document.getElementById("dash-filters");
  var box = document.getElementById("dash-loading");
  if (!form || !box) return;
  var button = form.querySelector("button[type=submit]");

  function loading() {
    box.hidden = false;
    form.classList.add("is-loading");
    document.body.setAttribute("aria-busy", "true");
    if (button) button.disabled = true; // after the submit event: the fields are still sent
  }

  function loaded() {
    box.hidden = true;
    form.classList.remove("is-loading");
    document.body.removeAttribute("aria-busy");
    if (button) button.disabled = false;
  }

  form.addEventListener("submit", function (event) {
    if (form.classList.contains("is-loading")) event.preventDefault();
    else loading();
  });
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href^='/dashboard']");
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey ||
        event.ctrlKey || event.shiftKey || event.altKey || link.target ||
        link.hasAttribute("download")) return;
    loading();
  });
  window.addEventListener("pageshow", loaded); // back to a page kept in the browser's cache
})();
