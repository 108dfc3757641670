// The top bar on a phone: the menu button shows and hides the links and tools (app.css keeps
// them hidden below 640 px until the bar is open; without JavaScript they are always shown).
(function () {
  "use strict";
  var button = document.getElementById("menu-toggle");
  if (!button) return;
  var bar = button.closest(".topbar");

  function show(open) {
    bar.classList.toggle("open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  button.addEventListener("click", function () {
    show(!bar.classList.contains("open"));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && bar.classList.contains("open")) {
      show(false);
      button.focus();
    }
  });
})();
