// Filter the tests by text and outcome; show or hide each kind of highlight.
(function () {
  var search = document.getElementById("filter");
  var failedOnly = document.getElementById("failed-only");
  function apply() {
    var text = (search.value || "").toLowerCase();
    document.querySelectorAll("details.test").forEach(function (el) {
      var hit = el.dataset.nodeid.toLowerCase().indexOf(text) >= 0;
      var bad = el.dataset.outcome === "failed" || el.dataset.outcome === "xpassed";
      el.classList.toggle("hidden", !hit || (failedOnly.checked && !bad));
    });
  }
  search.addEventListener("input", apply);
  failedOnly.addEventListener("change", apply);
  document.querySelectorAll("input[data-mark]").forEach(function (box) {
    box.addEventListener("change", function () {
      document.body.classList.toggle("hide-" + box.dataset.mark, !box.checked);
    });
  });
  document.getElementById("expand").addEventListener("click", function () {
    document.querySelectorAll("details.test").forEach(function (el) { el.open = true; });
  });
})();
