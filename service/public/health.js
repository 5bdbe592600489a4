/**
 * Model health: per model, the live request rate, p90 latency and per-feature input drift (PSI),
 * drawn as small SVG charts from this server's own /metrics (same origin, polled; no library).
 *
 * Exposes globalThis.ModelHealth = { parseMetrics, snapshot, rates, quantileMs, PSI_SHIFT } so
 * the parsing and arithmetic can be tested without a browser; with a DOM it fills #health.
 */
(function (root) {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  /** PSI above which a feature counts as shifted (the usual reading; the alert's default). */
  var PSI_SHIFT = 0.2;
  /** Points kept per sparkline. */
  var HISTORY = 60;

  /** Prometheus text exposition -> [{ name, labels, value }] (comments and blank lines skipped). */
  function parseMetrics(text) {
    var out = [];
    var lines = text.split("\n");
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i].trim();
      if (line === "" || line.charAt(0) === "#") continue;
      var m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
      if (!m) continue;
      var labels = {};
      var re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      var l;
      while ((l = re.exec(m[3] || "")) !== null) {
        labels[l[1]] = l[2].replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1");
      }
      var value = m[4] === "+Inf" ? Infinity : m[4] === "-Inf" ? -Infinity : Number(m[4]);
      out.push({ name: m[1], labels: labels, value: value });
    }
    return out;
  }

  /**
   * What the charts need from one scrape, per model: requests served so far (that reached the
   * model), the cumulative latency histogram, and the highest PSI per feature over versions.
   */
  function snapshot(samples, atMs) {
    var models = {};
    function model(name) {
      if (!models[name]) models[name] = { requests: 0, buckets: {}, psi: {} };
      return models[name];
    }
    samples.forEach(function (s) {
      var name = s.labels.model;
      if (s.name === "inference_model_info") model(name);
      if (name === undefined || name === "none") return;
      if (s.name === "inference_http_requests_total") model(name).requests += s.value;
      if (s.name === "inference_http_request_duration_seconds_bucket") {
        var b = model(name).buckets;
        b[s.labels.le] = (b[s.labels.le] || 0) + s.value;
      }
      if (s.name === "inference_feature_drift_psi") {
        var psi = model(name).psi;
        var f = s.labels.feature;
        psi[f] = psi[f] === undefined ? s.value : Math.max(psi[f], s.value);
      }
    });
    return { atMs: atMs, models: models };
  }

  /** The q-quantile in milliseconds of the requests between two cumulative histograms, by linear
   * interpolation within a bucket (as Prometheus's histogram_quantile); null without requests. */
  function quantileMs(before, after, q) {
    var les = Object.keys(after)
      .map(function (le) {
        return { le: le === "+Inf" ? Infinity : Number(le), key: le };
      })
      .sort(function (a, b) {
        return a.le - b.le;
      });
    var counts = les.map(function (b) {
      return Math.max(0, after[b.key] - ((before && before[b.key]) || 0));
    });
    var total = counts[counts.length - 1] || 0;
    if (!(total > 0)) return null;
    var rank = q * total;
    for (var i = 0; i < les.length; i++) {
      if (counts[i] >= rank) {
        if (les[i].le === Infinity) return i > 0 ? les[i - 1].le * 1000 : null;
        var lower = i > 0 ? les[i - 1].le : 0;
        var below = i > 0 ? counts[i - 1] : 0;
        var inBucket = counts[i] - below;
        var share = inBucket > 0 ? (rank - below) / inBucket : 1;
        return (lower + (les[i].le - lower) * share) * 1000;
      }
    }
    return null;
  }

  /** Per model between two snapshots: requests per second and p90 latency (ms, or null). */
  function rates(before, after) {
    var seconds = Math.max(0.001, (after.atMs - before.atMs) / 1000);
    var out = {};
    Object.keys(after.models).forEach(function (name) {
      var a = after.models[name];
      var b = before.models[name] || { requests: 0, buckets: {} };
      // A counter that went down is a restarted pod: count from zero.
      var served = a.requests >= b.requests ? a.requests - b.requests : a.requests;
      out[name] = {
        rps: served / seconds,
        p90Ms: quantileMs(a.requests >= b.requests ? b.buckets : {}, a.buckets, 0.9),
        psi: a.psi,
      };
    });
    return out;
  }

  // ---- drawing --------------------------------------------------------------------------------

  function el(doc, name, attrs, parent) {
    var node = doc.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) {
      node.setAttribute(k, String(attrs[k]));
    });
    if (parent) parent.appendChild(node);
    return node;
  }

  /** A sparkline of `values` (nulls are gaps drawn as 0) with its last value as text. */
  function sparkline(doc, svg, values, text) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var w = 220;
    var h = 60;
    var nums = values.map(function (v) {
      return v === null ? 0 : v;
    });
    var max = Math.max.apply(null, nums.concat([1e-9]));
    var step = w / Math.max(1, HISTORY - 1);
    var offset = (HISTORY - nums.length) * step;
    var points = nums
      .map(function (v, i) {
        return (offset + i * step).toFixed(1) + "," + (h - 4 - (v / max) * (h - 20)).toFixed(1);
      })
      .join(" ");
    el(doc, "polyline", { points: points, class: "line" }, svg);
    var label = el(doc, "text", { x: 4, y: 12, class: "value" }, svg);
    label.textContent = text;
  }

  /** Horizontal bars of PSI per feature, with the shift threshold as a line. */
  function driftBars(doc, svg, psi) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var features = Object.keys(psi).sort();
    var row = 16;
    var labelW = 110;
    var barW = 100;
    var scale = 1; // PSI drawn up to 1; beyond that the bar is full.
    svg.setAttribute("height", String(Math.max(1, features.length) * row + 4));
    svg.setAttribute("viewBox", "0 0 " + (labelW + barW + 50) + " " + (features.length * row + 4));
    if (features.length === 0) {
      var none = el(doc, "text", { x: 4, y: 12, class: "value" }, svg);
      none.textContent = "no inputs yet";
      return;
    }
    features.forEach(function (f, i) {
      var v = psi[f];
      var y = i * row + 2;
      var name = el(doc, "text", { x: 0, y: y + 11, class: "feature" }, svg);
      name.textContent = f;
      el(
        doc,
        "rect",
        {
          x: labelW,
          y: y,
          width: (Math.min(v, scale) / scale) * barW,
          height: row - 4,
          class: v >= PSI_SHIFT ? "bar shifted" : "bar",
          "data-feature": f,
          "data-psi": v,
        },
        svg,
      );
      var t = el(doc, "text", { x: labelW + barW + 4, y: y + 11, class: "value" }, svg);
      t.textContent = v.toFixed(2);
    });
    var x = labelW + (PSI_SHIFT / scale) * barW;
    el(
      doc,
      "line",
      { x1: x, x2: x, y1: 0, y2: features.length * row + 4, class: "threshold" },
      svg,
    );
  }

  /** One block per model: three charts, created once and redrawn on every poll. */
  function modelBlock(doc, container, name) {
    var id = "health-" + name;
    var block = doc.getElementById(id);
    if (block) return block;
    block = doc.createElement("div");
    block.id = id;
    block.className = "model-health";
    block.setAttribute("data-model", name);
    var title = doc.createElement("h3");
    title.textContent = name;
    block.appendChild(title);
    [
      ["rate", "requests / s"],
      ["latency", "p90 latency"],
      ["drift", "input drift (PSI per feature)"],
    ].forEach(function (c) {
      var figure = doc.createElement("figure");
      var caption = doc.createElement("figcaption");
      caption.textContent = c[1];
      var svg = el(doc, "svg", {
        width: 220,
        height: 60,
        viewBox: "0 0 220 60",
        "data-chart": c[0],
        "data-model": name,
        role: "img",
        "aria-label": name + " " + c[1],
      });
      figure.appendChild(caption);
      figure.appendChild(svg);
      block.appendChild(figure);
    });
    container.appendChild(block);
    return block;
  }

  function init(doc, fetchFn) {
    var container = doc.getElementById("health");
    if (!container) return;
    var interval = Number(container.getAttribute("data-interval-ms")) || 2000;
    var status = doc.getElementById("health-status");
    var previous = null;
    var history = {};

    function draw(now) {
      var r = rates(previous, now);
      Object.keys(r).forEach(function (name) {
        var h = history[name] || (history[name] = { rps: [], p90: [] });
        h.rps.push(r[name].rps);
        h.p90.push(r[name].p90Ms);
        if (h.rps.length > HISTORY) h.rps.shift();
        if (h.p90.length > HISTORY) h.p90.shift();
        var block = modelBlock(doc, container, name);
        var rate = block.querySelector('svg[data-chart="rate"]');
        var latency = block.querySelector('svg[data-chart="latency"]');
        var drift = block.querySelector('svg[data-chart="drift"]');
        sparkline(doc, rate, h.rps, r[name].rps.toFixed(1) + " req/s");
        rate.setAttribute("data-last", r[name].rps.toFixed(3));
        var p90 = r[name].p90Ms;
        sparkline(doc, latency, h.p90, p90 === null ? "no requests" : p90.toFixed(1) + " ms");
        latency.setAttribute("data-last", p90 === null ? "" : p90.toFixed(3));
        driftBars(doc, drift, r[name].psi);
      });
    }

    function poll() {
      fetchFn("/metrics", { headers: { accept: "text/plain" } })
        .then(function (res) {
          if (!res.ok) throw new Error("GET /metrics: HTTP " + res.status);
          return res.text();
        })
        .then(function (text) {
          var now = snapshot(parseMetrics(text), Date.now());
          if (previous) draw(now);
          previous = now;
          if (status) status.textContent = "Updated " + new Date(now.atMs).toLocaleTimeString();
        })
        .catch(function (err) {
          if (status) status.textContent = "Metrics unavailable: " + err.message;
        })
        .then(function () {
          root.setTimeout(poll, interval);
        });
    }
    poll();
  }

  root.ModelHealth = {
    parseMetrics: parseMetrics,
    snapshot: snapshot,
    rates: rates,
    quantileMs: quantileMs,
    PSI_SHIFT: PSI_SHIFT,
  };
  if (typeof document !== "undefined") {
    document.addEventListener("DOMContentLoaded", function () {
      init(document, root.fetch.bind(root));
    });
  }
})(globalThis);
