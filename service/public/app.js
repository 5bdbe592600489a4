/* Web form for the inference service. Same-origin only; no dependencies.
 * Exposes globalThis.InferenceForm = { buildInferRequest, describePrediction, predict } so the
 * request/response contract can be exercised outside a browser. */
(function (root) {
  "use strict";

  /** Builds an Open Inference Protocol v2 request (one row) from form values keyed by input name. */
  function buildInferRequest(metadata, values) {
    return {
      inputs: metadata.inputs.map(function (input) {
        var raw = values[input.name];
        if (raw === undefined || raw === null || String(raw).trim() === "") {
          throw new Error(input.name + ": a value is required");
        }
        var value;
        if (input.datatype === "BYTES") {
          value = String(raw);
        } else {
          value = Number(raw);
          if (!Number.isFinite(value)) throw new Error(input.name + ": enter a number");
        }
        return { name: input.name, shape: [1], datatype: input.datatype, data: [value] };
      }),
    };
  }

  /** Turns a v2 inference response into { text, label?, value?, probabilities? } for display. */
  function describePrediction(metadata, response) {
    var outputs = {};
    response.outputs.forEach(function (o) {
      outputs[o.name] = o;
    });
    var target = (metadata.parameters && metadata.parameters.target) || "prediction";
    if (outputs.probabilities) {
      var names = outputs.probabilities.parameters.class_names;
      var probabilities = {};
      names.forEach(function (n, i) {
        probabilities[n] = outputs.probabilities.data[i];
      });
      var label = outputs.predict.data[0];
      var parts = names.map(function (n) {
        return n + " " + (100 * probabilities[n]).toFixed(1) + "%";
      });
      return {
        label: label,
        probabilities: probabilities,
        text: target + ": " + label + " (" + parts.join(", ") + ")",
      };
    }
    var value = outputs.predict.data[0];
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new Error(target + ": the service returned no finite prediction");
    }
    return { value: value, text: target + ": " + value.toFixed(2) };
  }

  /** POSTs one row to the model's v2 infer route and describes the answer. */
  function predict(fetchFn, metadata, values) {
    var body = JSON.stringify(buildInferRequest(metadata, values));
    return fetchFn("/v2/models/" + encodeURIComponent(metadata.name) + "/infer", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body,
    }).then(function (res) {
      return res.json().then(function (payload) {
        if (!res.ok) throw new Error(payload.error || "HTTP " + res.status);
        return describePrediction(metadata, payload);
      });
    });
  }

  /** Where the page keeps the key (or token) the user typed: this tab's session only. */
  var KEY_ITEM = "mlops-inference-key";

  /** fetchFn that adds `Authorization: Bearer <key>` while `storage` holds a key. */
  function withKey(fetchFn, storage) {
    return function (url, init) {
      var key = storage && storage.getItem(KEY_ITEM);
      if (!key) return fetchFn(url, init);
      var options = Object.assign({}, init || {});
      options.headers = Object.assign({}, options.headers || {}, {
        authorization: "Bearer " + key,
      });
      return fetchFn(url, options);
    };
  }

  function el(doc, tag, attrs, text) {
    var node = doc.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderModel(doc, fetchFn, metadata) {
    var section = el(doc, "section", { class: "model", id: "model-" + metadata.name });
    section.appendChild(
      el(doc, "h2", {}, metadata.name + " (version " + metadata.parameters.version + ")"),
    );
    section.appendChild(el(doc, "p", {}, metadata.parameters.description));
    var form = el(doc, "form", { class: "features" });
    metadata.inputs.forEach(function (input) {
      var label = el(doc, "label", {}, input.name + " ");
      var p = input.parameters || {};
      var field;
      if (input.datatype === "BYTES") {
        field = el(doc, "select", { name: input.name, required: "" });
        p.categories.forEach(function (c) {
          field.appendChild(el(doc, "option", { value: c }, c));
        });
      } else {
        var mid = (p.training_min + p.training_max) / 2;
        field = el(doc, "input", {
          name: input.name,
          type: "number",
          step: "any",
          required: "",
          value: String(Math.round(mid * 10) / 10),
        });
        label.appendChild(
          el(
            doc,
            "small",
            { class: "hint" },
            "training range " + p.training_min + " – " + p.training_max,
          ),
        );
      }
      label.appendChild(field);
      form.appendChild(label);
    });
    form.appendChild(el(doc, "button", { type: "submit" }, "Predict"));
    var result = el(doc, "div", { class: "result", "aria-live": "polite" });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var values = {};
      metadata.inputs.forEach(function (input) {
        values[input.name] = form.elements.namedItem(input.name).value;
      });
      result.className = "result";
      result.textContent = "…";
      predict(fetchFn, metadata, values).then(
        function (d) {
          result.textContent = d.text;
        },
        function (err) {
          result.className = "result error";
          result.textContent = err.message;
        },
      );
    });
    section.appendChild(form);
    section.appendChild(result);
    return section;
  }

  /** A 401 or 403 says what to do: enter the key; another failure, its message. */
  function json(r) {
    return r.json().then(function (payload) {
      if (r.status === 401 || r.status === 403) {
        throw new Error(
          (payload.error || "HTTP " + r.status) +
            " (enter the endpoint's key above: npm run keys -- show)",
        );
      }
      if (!r.ok) throw new Error(payload.error || "HTTP " + r.status);
      return payload;
    });
  }

  function init(doc, rawFetch, storage) {
    var fetchFn = withKey(rawFetch, storage);
    var form = doc.getElementById("auth");
    if (form && !form.dataset.bound) {
      form.dataset.bound = "1";
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var input = doc.getElementById("auth-key");
        if (input.value.trim() === "") storage.removeItem(KEY_ITEM);
        else storage.setItem(KEY_ITEM, input.value.trim());
        input.value = "";
        var main = doc.getElementById("models");
        main.replaceChildren(el(doc, "p", { id: "status" }, "Loading models…"));
        init(doc, rawFetch, storage);
      });
    }
    var main = doc.getElementById("models");
    var status = doc.getElementById("status");
    fetchFn("/v1/models")
      .then(json)
      .then(function (list) {
        return Promise.all(
          list.models.map(function (name) {
            return fetchFn("/v2/models/" + encodeURIComponent(name)).then(json);
          }),
        );
      })
      .then(function (all) {
        status.remove();
        all.forEach(function (metadata) {
          main.appendChild(renderModel(doc, fetchFn, metadata));
        });
      })
      .catch(function (err) {
        status.textContent = "Could not load models: " + err.message;
      });
  }

  root.InferenceForm = {
    buildInferRequest: buildInferRequest,
    describePrediction: describePrediction,
    predict: predict,
    withKey: withKey,
    KEY_ITEM: KEY_ITEM,
  };
  if (typeof document !== "undefined") {
    document.addEventListener("DOMContentLoaded", function () {
      init(document, root.fetch.bind(root), root.sessionStorage);
    });
  }
})(globalThis);
