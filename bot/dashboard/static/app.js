/* otklik dashboard: boots the session (Telegram's initData, or a one-time login link),
   then fetches the server-rendered screens and wires their links, forms, sortable
   tables and charts. No inline scripts or styles: the page runs under a strict CSP. */
(function () {
  "use strict";
  var body = document.body;
  var base = body.dataset.base || "/app/";
  var main = document.getElementById("main");
  var token = null;
  var initData = null;
  var charts = [];

  function notice(key) {
    main.textContent = "";
    var p = document.createElement("p");
    p.className = "notice";
    p.setAttribute("data-notice", key);
    p.textContent = body.dataset[key] || key;
    main.appendChild(p);
    main.removeAttribute("aria-busy");
  }

  /* Telegram's web-app events, without loading telegram-web-app.js from elsewhere. */
  function postEvent(name, data) {
    var eventData = JSON.stringify(data || {});
    try {
      if (window.TelegramWebviewProxy && window.TelegramWebviewProxy.postEvent) {
        window.TelegramWebviewProxy.postEvent(name, eventData);
      } else if (window.parent && window.parent !== window) {
        window.parent.postMessage(JSON.stringify({ eventType: name, eventData: data || {} }), "*");
      }
    } catch (ignored) { /* not inside Telegram */ }
  }

  var THEME = {
    bg_color: "--bg", secondary_bg_color: "--card", text_color: "--text",
    hint_color: "--hint", link_color: "--link", button_color: "--button",
    button_text_color: "--button-text"
  };

  function applyTheme(raw) {
    var theme;
    try { theme = JSON.parse(raw); } catch (ignored) { return; }
    var root = document.documentElement;
    Object.keys(THEME).forEach(function (key) {
      var value = theme[key];
      if (typeof value === "string" && /^#[0-9a-fA-F]{3,8}$/.test(value)) {
        root.style.setProperty(THEME[key], value);
      }
    });
    root.classList.add("telegram");
  }

  function exchange(path, payload) {
    return fetch(base + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
      credentials: "omit"
    }).then(function (response) {
      if (!response.ok) { return response.status; }
      return response.json().then(function (data) { token = data.token; return 200; });
    });
  }

  function request(url, options) {
    options = options || {};
    var attempt = function () {
      var headers = Object.assign({}, options.headers || {});
      headers.Authorization = "Bearer " + token;
      return fetch(url, Object.assign({}, options, { headers: headers, credentials: "omit" }));
    };
    return attempt().then(function (response) {
      if (response.status !== 401 || !initData) { return response; }
      /* The session ended while Telegram's initData is still young: renew it. */
      return exchange("auth", { init_data: initData }).then(function (status) {
        return status === 200 ? attempt() : response;
      });
    });
  }

  function isView(url) {
    try { return new URL(url, location.href).pathname.indexOf(base + "view/") === 0; }
    catch (ignored) { return false; }
  }

  function load(url, options) {
    main.setAttribute("aria-busy", "true");
    return request(url, options).then(function (response) {
      if (response.status === 401) { token = null; notice("msgExpired"); return; }
      if (response.status === 403) { notice("msgForbidden"); return; }
      if (!response.ok && response.status !== 400) { notice("msgError"); return; }
      return response.text().then(function (html) {
        main.innerHTML = html;
        main.removeAttribute("aria-busy");
        main.setAttribute("data-loaded", new URL(url, location.href).pathname);
        enhance();
        window.scrollTo(0, 0);
      });
    }).catch(function () { notice("msgError"); });
  }

  function download(url) {
    return request(url).then(function (response) {
      if (!response.ok) { notice(response.status === 403 ? "msgForbidden" : "msgError"); return; }
      var disposition = response.headers.get("Content-Disposition") || "";
      var match = /filename="([^"]+)"/.exec(disposition);
      return response.blob().then(function (blob) {
        var link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = match ? match[1] : "responses.csv";
        document.body.appendChild(link);
        link.click();
        setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
      });
    });
  }

  function sortBy(th) {
    var table = th.closest("table");
    var tbody = table.tBodies[0];
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var numeric = th.dataset.sort === "number";
    table.querySelectorAll("th[aria-sort]").forEach(function (other) {
      other.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var x = a.cells[index].dataset.value, y = b.cells[index].dataset.value;
      var order = numeric ? parseFloat(x) - parseFloat(y) : String(x).localeCompare(String(y));
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { tbody.appendChild(row); });
  }

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
  }

  function drawCharts() {
    charts.forEach(function (chart) { chart.destroy(); });
    charts = [];
    if (!window.uPlot) { return; }
    main.querySelectorAll("[data-chart]").forEach(function (element) {
      var points = JSON.parse(element.dataset.chart || "[]");
      if (!points.length) { return; }
      var xs = [], ys = [], low = [], high = [];
      points.forEach(function (point) {
        var shown = point.nps !== null && point.n > 0;
        xs.push(point.t);
        ys.push(shown ? point.nps : null);
        low.push(shown ? Math.max(-100, point.nps - point.margin) : null);
        high.push(shown ? Math.min(100, point.nps + point.margin) : null);
      });
      var line = cssVar("--link"), hint = cssVar("--hint");
      var chart = new window.uPlot({
        width: Math.max(240, element.clientWidth),
        height: 220,
        legend: { show: false },
        scales: { x: { time: true }, y: { range: [-100, 100] } },
        axes: [
          { stroke: hint, grid: { stroke: "rgba(128,128,128,0.15)" } },
          { stroke: hint, grid: { stroke: "rgba(128,128,128,0.15)" }, size: 40 }
        ],
        series: [
          {},
          { label: element.dataset.label, stroke: line, width: 2, points: { show: true, size: 6 } },
          { stroke: "transparent", points: { show: false } },
          { stroke: "transparent", points: { show: false } }
        ],
        bands: [{ series: [3, 2], fill: "rgba(64,128,255,0.15)" }]
      }, [xs, ys, low, high], element);
      charts.push(chart);
    });
  }

  /* The Topics screen's bars: their width (a share of half the track) is data, set
     through the CSSOM, which the CSP allows where a style attribute would be refused. */
  function drawBars() {
    main.querySelectorAll("[data-bar]").forEach(function (element) {
      var width = parseFloat(element.dataset.bar);
      element.style.width = (isFinite(width) ? Math.min(Math.max(width, 0), 50) : 0) + "%";
    });
  }

  /* The weekly trend's bars: their height (a share of the topic's busiest week). */
  function drawWeeks() {
    main.querySelectorAll("[data-height]").forEach(function (element) {
      var height = parseFloat(element.dataset.height);
      element.style.height = (isFinite(height) ? Math.min(Math.max(height, 0), 100) : 0) + "%";
    });
  }

  function enhance() {
    main.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () {
        var custom = select.form.querySelector(".custom");
        if (select.value === "custom") { custom.classList.remove("hidden"); return; }
        select.form.requestSubmit();
      });
    });
    drawCharts();
    drawBars();
    drawWeeks();
  }

  main.addEventListener("click", function (event) {
    var link = event.target.closest("a[href]");
    if (link && isView(link.href)) {
      event.preventDefault();
      if (link.hasAttribute("data-download")) { download(link.href); } else { load(link.href); }
      return;
    }
    var th = event.target.closest("th[data-sort]");
    if (th) { sortBy(th); }
  });

  main.addEventListener("submit", function (event) {
    var form = event.target;
    if (!isView(form.action)) { return; }
    event.preventDefault();
    var data = new FormData(form);
    if ((form.getAttribute("method") || "get").toLowerCase() === "post") {
      load(form.action, { method: "POST", body: new URLSearchParams(data) });
      return;
    }
    var url = new URL(form.action, location.href);
    data.forEach(function (value, key) { if (value !== "") { url.searchParams.append(key, value); } });
    load(url.toString());
  });

  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(drawCharts, 150);
  });

  function boot() {
    var hash = new URLSearchParams(location.hash.slice(1));
    initData = hash.get("tgWebAppData");
    if (hash.get("tgWebAppThemeParams")) { applyTheme(hash.get("tgWebAppThemeParams")); }
    var login = new URLSearchParams(location.search).get("login");
    var started;
    if (initData) {
      postEvent("web_app_ready");
      postEvent("web_app_expand");
      started = exchange("auth", { init_data: initData });
    } else if (login) {
      /* The link works once: it leaves the address bar (and the history) at once. */
      history.replaceState(null, "", location.pathname);
      started = exchange("auth/link", { token: login });
    } else {
      notice("msgOpen");
      return;
    }
    started.then(function (status) {
      if (status === 200) { return load(base + "view/overview"); }
      notice(status === 403 ? "msgForbidden" : "msgDenied");
    }).catch(function () { notice("msgError"); });
  }

  boot();
}());
