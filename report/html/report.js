// dlayer report: filter each container's change list by kind. No
// network, no storage, no eval: the page's Content-Security-Policy allows
// this script by its hash and nothing else.
(function () {
  "use strict";
  function apply(changes) {
    var on = {};
    changes.querySelectorAll("input.kind-filter").forEach(function (box) {
      on[box.value] = box.checked;
    });
    var shown = 0;
    changes.querySelectorAll("tr.change").forEach(function (row) {
      var visible = on[row.dataset.kind] !== false;
      row.classList.toggle("filtered", !visible);
      if (visible) {
        shown++;
      }
    });
    var counter = changes.querySelector(".shown");
    if (counter) {
      counter.textContent = String(shown);
    }
  }
  document.querySelectorAll(".changes").forEach(function (changes) {
    changes.addEventListener("change", function (ev) {
      if (ev.target.classList && ev.target.classList.contains("kind-filter")) {
        apply(changes);
      }
    });
    apply(changes);
  });
})();
