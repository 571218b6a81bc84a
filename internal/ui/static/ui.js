// bigin-mcp UI: copy buttons and the live list of the tools a policy
// leaves. Every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function copyText(text, done) {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(text, done); });
    } else {
      fallback(text, done);
    }
  }
  function fallback(text, done) {
    var ta = document.createElement("textarea");
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selectable */ }
    document.body.removeChild(ta);
  }

  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var el = document.getElementById(b.getAttribute("data-copy"));
      if (!el) { return; }
      copyText(el.textContent, function () {
        b.textContent = "Copied";
        b.setAttribute("data-copied", "true");
      });
    });
  });

  // The live tool list asks the server, which applies the policy's own
  // rules: this file holds none of them.
  var preview = document.getElementById("preview");
  if (!preview) { return; }
  var form = preview.closest("form");
  var list = document.getElementById("preview-tools");
  var problem = document.getElementById("preview-error");
  var seq = 0;
  function refresh() {
    var q = new URLSearchParams();
    form.querySelectorAll("input[name=methods]:checked, input[name=tags]:checked, input[name=modules]:checked, input[name=auth]:checked").forEach(function (i) {
      q.append(i.name, i.value);
    });
    var profiles = form.querySelector("input[name=oauth_profiles]");
    if (profiles) { q.set("oauth_profiles", profiles.value); }
    var mine = ++seq;
    fetch(preview.getAttribute("data-preview") + "?" + q.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        if (mine !== seq) { return; }
        list.replaceChildren();
        (d.tools || []).forEach(function (tool) {
          var li = document.createElement("li");
          li.setAttribute("data-tool", tool.name);
          li.textContent = tool.name;
          if (tool.modules && tool.modules.length) {
            var span = document.createElement("span");
            span.className = "modules";
            span.textContent = "(" + tool.modules.join(", ") + ")";
            li.append(" ", span);
          }
          list.appendChild(li);
        });
        problem.textContent = d.error || "";
        problem.hidden = !d.error;
        preview.setAttribute("data-ready", String(mine));
      });
  }
  form.addEventListener("change", refresh);
})();
