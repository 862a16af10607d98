// brownthrower web: pages update in place. Elements with data-live="/fragment/..." are fetched
// again whenever the server-sent events of /events say the database changed; without
// EventSource (or while it is down) they are fetched every few seconds instead. Without
// JavaScript the pages still work: they just do not move until reloaded.
(function () {
  "use strict";
  var POLL_MS = 5000;
  var parts = document.querySelectorAll("[data-live]");
  var state = document.getElementById("live-state");
  if (!parts.length) { return; }
  var busy = false;
  var again = false;
  var timer = null;

  function say(text, cls) {
    if (state) { state.textContent = text; state.className = "live-state " + cls; }
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    var pending = Array.prototype.map.call(parts, function (part) {
      return fetch(part.getAttribute("data-live"), {credentials: "same-origin", cache: "no-store"})
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.text();
        })
        .then(function (html) {
          if (part.innerHTML !== html) { part.innerHTML = html; }
        });
    });
    Promise.all(pending).then(function () {
      say("live", "on");
    }, function () {
      say("offline", "off");
    }).then(function () {
      busy = false;
      if (again) { again = false; refresh(); }
    });
  }

  function poll() {
    if (timer === null) { timer = setInterval(refresh, POLL_MS); }
  }

  function listen() {
    if (!window.EventSource) { poll(); return; }
    var seen = null;
    var source = new EventSource("/events");
    source.onmessage = function (event) {
      if (timer !== null) { clearInterval(timer); timer = null; }
      if (seen !== null && event.data !== seen) { refresh(); }
      seen = event.data;
      say("live", "on");
    };
    source.onerror = function () {
      say("reconnecting", "off");
      poll();
    };
  }

  listen();
})();
