// Show-if without a round trip when JavaScript runs; without it every question shows,
// each says when it applies, and the server drops answers to questions that do not apply.
// A file of its own, not inline, so the pages' Content-Security-Policy can forbid inline script.
(function () {
  var form = document.querySelector("form");
  if (!form) { return; }
  function given(code) {
    return Array.prototype.map.call(
      form.querySelectorAll("[name='" + code + "']:checked"), function (el) { return el.value; });
  }
  function update() {
    var groups = form.querySelectorAll("[data-show-if]");
    var hidden = {};
    Array.prototype.forEach.call(groups, function (group) {
      var wanted = JSON.parse(group.getAttribute("data-show-if-in"));
      var on = group.getAttribute("data-show-if");
      var show = !hidden[on] && given(on).some(function (v) { return wanted.indexOf(v) >= 0; });
      group.hidden = !show;
      if (!show) { hidden[group.id.replace(/-group$/, "")] = true; }
    });
  }
  form.addEventListener("change", update);
  update();
})();
