// An import's progress without reloading the page, when JavaScript runs: every 2 seconds the
// page is fetched again and its figures copied in place (the label is a polite live region,
// so a screen reader hears them without losing its place); once the import ends, the whole
// result is copied in. Without JavaScript the page refreshes itself instead (<noscript>).
(function () {
  var status = document.getElementById("import-status");
  if (!status || status.getAttribute("data-running") !== "1" || !window.fetch) { return; }
  function copy(from, selector, attributes) {
    var here = status.querySelector(selector), there = from.querySelector(selector);
    if (!here || !there) { return; }
    attributes.forEach(function (name) {
      if (name === "text") { here.textContent = there.textContent; }
      else if (name === "html") { here.innerHTML = there.innerHTML; }
      else { here.setAttribute(name, there.getAttribute(name)); }
    });
  }
  function check() {
    fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (answer) { return answer.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("import-status");
        if (!fresh) { return; }
        if (fresh.getAttribute("data-running") !== "1") {
          status.innerHTML = fresh.innerHTML;
          status.setAttribute("data-running", "0");
          return;
        }
        copy(fresh, "h1", ["text"]);
        copy(fresh, "#progress-label", ["text"]);
        copy(fresh, "[role=progressbar]", ["aria-valuenow"]);
        copy(fresh, ".app-progress__bar", ["class"]);
        copy(fresh, "#import-figures", ["html"]);
        window.setTimeout(check, 2000);
      })
      .catch(function () { window.setTimeout(check, 5000); });
  }
  window.setTimeout(check, 2000);
})();
