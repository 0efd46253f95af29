// Progressive enhancement only: every page works without this file.
// Live policy validation on the create form: the server checks the policy
// with the same validator the API uses and answers the field problems.
(function () {
  "use strict";
  var area = document.querySelector("textarea[data-validate]");
  if (!area) { return; }
  var out = document.getElementById("policy-problems");
  var meta = document.querySelector('meta[name="csrf-token"]');
  var timer = null;
  var seq = 0;
  function show(res) {
    out.textContent = "";
    var ul = document.createElement("ul");
    ul.className = res.ok ? "problems ok" : "problems";
    if (res.ok) {
      var li = document.createElement("li");
      li.textContent = "✓ The policy is valid.";
      ul.appendChild(li);
    } else {
      res.errors.forEach(function (e) {
        var li = document.createElement("li");
        if (e.path) {
          var code = document.createElement("code");
          code.textContent = e.path;
          li.appendChild(code);
          li.appendChild(document.createTextNode(": " + e.message));
        } else {
          li.textContent = e.text;
        }
        ul.appendChild(li);
      });
    }
    out.appendChild(ul);
    area.setAttribute("aria-invalid", res.ok ? "false" : "true");
  }
  function check() {
    var mine = ++seq;
    var body = new URLSearchParams();
    body.set("policy", area.value);
    fetch(area.getAttribute("data-validate"), {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRF-Token": meta ? meta.content : "" }
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (res) { if (res && mine === seq) { show(res); } })
      .catch(function () { /* the server checks again on submit */ });
  }
  area.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  });
  check();
})();
