// chipwire's page works without this file; it only adds conveniences:
// "/" focuses the search box, changing the sort re-runs the search, and saved searches.
(function () {
  "use strict";
  document.addEventListener("keydown", function (e) {
    var box = document.getElementById("query");
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if (e.key === "/" && box && !typing) { e.preventDefault(); box.focus(); }
  });
  document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  // a focused evidence link moves the keyboard focus to the highlighted sentence
  window.addEventListener("hashchange", function () {
    var target = document.getElementById(location.hash.slice(1));
    if (target && target.tagName === "MARK") { target.focus(); }
  });

  var form = document.getElementById("save-search");
  var list = document.getElementById("saved-list");
  if (!form || !list) { return; }
  var status = document.getElementById("save-status");
  function show(items) {
    list.textContent = "";
    items.forEach(function (s) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "/?query=" + encodeURIComponent(s.query);
      a.textContent = s.name;
      li.appendChild(a);
      li.appendChild(document.createTextNode(" — " + s.query + " (" + s.matched + " matched at ingest)"));
      list.appendChild(li);
    });
  }
  function load() {
    fetch("/api/saved-searches").then(function (r) { return r.ok ? r.json() : { saved_searches: [] }; })
      .then(function (body) { show(body.saved_searches); });
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = { name: form.elements.name.value, query: form.dataset.query || "" };
    fetch("/api/saved-searches", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (b) {
        status.textContent = r.ok ? "Saved." : (b.detail && b.detail.toString()) || "Not saved.";
        load();
      });
    });
  });
  load();
})();
