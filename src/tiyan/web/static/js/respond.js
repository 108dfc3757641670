// Respondent pages: re-evaluate display logic (show_if) as answers change, without reloading;
// the server checks the same rules again on submit. Also guards against double submission.
(function () {
  var form = document.getElementById("f");
  if (!form) return;
  var el = document.getElementById("logic");
  var logic = el ? JSON.parse(el.textContent) : { rules: {}, known: {} };
  function value(key) {
    if (Object.prototype.hasOwnProperty.call(logic.known, key)) return logic.known[key];
    var box = document.getElementById("q-" + key);
    if (!box || box.hidden) return null;
    var out = [];
    form.querySelectorAll('[name="a.' + key + '"]').forEach(function (i) {
      if ((i.type !== "radio" && i.type !== "checkbox") || i.checked) { if (i.value.trim()) out.push(i.value); }
    });
    if (!out.length) return null;
    var q = box.querySelector('input[type="checkbox"]');
    return q ? out : out[0];
  }
  function blank(v) { return v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length); }
  var YN = { yes: 1, "true": 1, "是": 1, no: 0, "false": 0, "否": 0 };
  function yn(v) {
    if (v === true || v === false) return v ? 1 : 0;
    var k = String(v).trim().toLowerCase();
    return Object.prototype.hasOwnProperty.call(YN, k) ? YN[k] : v;
  }
  function same(a, b) {
    if (Array.isArray(a)) return a.some(function (x) { return same(x, b); });
    a = yn(a); b = yn(b);
    var x = Number(a), y = Number(b);
    if (String(a).trim() !== "" && String(b).trim() !== "" && !isNaN(x) && !isNaN(y)) return x === y;
    return String(a) === String(b);
  }
  function holds(c) {
    var actual = value(c[0]), op = c[1], expected = c[2];
    if (op === "answered") return !blank(actual);
    if (blank(actual)) return false;
    if (op === "in" || op === "not_in") {
      var list = Array.isArray(expected) ? expected : [expected];
      var hit = list.some(function (m) { return same(actual, m); });
      return op === "in" ? hit : !hit;
    }
    if (op === "==") return same(actual, expected);
    if (op === "!=") return !same(actual, expected);
    var a = parseFloat(actual), b = parseFloat(expected);
    if (isNaN(a) || isNaN(b)) return false;
    return { "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b }[op];
  }
  function update() {
    Object.keys(logic.rules).forEach(function (key) {
      var box = document.getElementById("q-" + key);
      if (box) box.hidden = !logic.rules[key].every(holds);
    });
  }
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  form.addEventListener("submit", function (e) {
    var seen = [];
    form.querySelectorAll("fieldset.q").forEach(function (b) { if (!b.hidden) seen.push(b.dataset.key); });
    form.elements.seen.value = seen.join(" ");
    if (form.dataset.sent) { e.preventDefault(); return; }
    form.dataset.sent = "1";
    setTimeout(function () { delete form.dataset.sent; }, 5000);
  });
  window.addEventListener("pageshow", function () { delete form.dataset.sent; });
  // The address names the page shown (?p=), so the back button returns to this page of the
  // same response (the server shows a page the respondent has reached, with their answers).
  if (window.URLSearchParams && window.history && history.replaceState && form.method === "post") {
    var q = new URLSearchParams(location.search);
    if (q.get("p") !== form.elements.page.value) {
      q.set("p", form.elements.page.value);
      history.replaceState(history.state, "", location.pathname + "?" + q.toString());
    }
  }
  update();
})();
