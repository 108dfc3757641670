// Form helpers that pages ask for with data attributes instead of inline handlers (the
// Content-Security-Policy allows no inline script): a <select data-autosubmit> sends its form
// when it changes; a <button data-confirm="question"> asks before its form is sent.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("select[data-autosubmit]") && field.form) {
      field.form.requestSubmit ? field.form.requestSubmit() : field.form.submit();
    }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
  });
})();
