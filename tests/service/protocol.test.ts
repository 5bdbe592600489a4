/**
 * Wire-level conformance of the REST protocol: content types, the binary tensor data extension,
 * the model configuration / statistics / repository index extensions, Content-Encoding,
 * 405 + Allow, the error body shape, and no non-finite number in any response.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as zlib from "node:zlib";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../service/src/app";
import { ModelStore } from "../../service/src/model/store";
import { negotiateEncoding } from "../../service/src/compression";
import { decodeTensor, encodeTensor } from "../../service/src/protocol/tensor";
import { artifacts, testConfig, type Loose, MPG_ROW, PENGUIN_ROW, type Row } from "./helpers";

let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  const { mpg, penguin } = artifacts();
  const store = ModelStore.fromArtifacts([mpg, penguin, { ...mpg, version: "2" }], {
    driftWindow: 50,
    pins: new Map([["mpg-regressor", "1"]]),
  });
  app = await buildApp({
    config: testConfig({ MAX_BATCH_ROWS: "5000", BODY_LIMIT_BYTES: "65536" }),
    store,
    logger: false,
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(() => app.close());

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json(): Loose;
}

/** One request over a fresh socket, body and headers exactly as given (no defaults added). */
function raw(
  method: string,
  path: string,
  headers: Record<string, string | number> = {},
  body?: Buffer | string,
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method, path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const b = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: b,
            json: () => JSON.parse(b.toString()),
          });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function v2Json(rows: Row[], extra: Record<string, unknown> = {}) {
  const names = Object.keys(rows[0]);
  return {
    ...extra,
    inputs: names.map((name) => ({
      name,
      shape: [rows.length],
      datatype: typeof rows[0][name] === "string" ? "BYTES" : "FP64",
      data: rows.map((r) => r[name]),
    })),
  };
}

/** The binary form of a v2 request, as tritonclient builds it: JSON header + raw tensors. */
function v2Binary(rows: Row[], extra: Record<string, unknown> = {}) {
  const names = Object.keys(rows[0]);
  const buffers: Buffer[] = [];
  const inputs = names.map((name) => {
    const datatype = typeof rows[0][name] === "string" ? "BYTES" : "FP64";
    const buf = encodeTensor(
      datatype,
      rows.map((r) => r[name]),
    );
    buffers.push(buf);
    return { name, shape: [rows.length], datatype, parameters: { binary_data_size: buf.length } };
  });
  const header = Buffer.from(JSON.stringify({ ...extra, inputs }));
  return { header, body: Buffer.concat([header, ...buffers]) };
}

/** Splits a binary response into its JSON header and the outputs' values. */
function decodeBinaryResponse(res: Raw): { header: Loose; values: Record<string, unknown[]> } {
  const n = Number(res.headers["inference-header-content-length"]);
  const header = JSON.parse(res.body.subarray(0, n).toString());
  const values: Record<string, unknown[]> = {};
  let offset = n;
  for (const o of header.outputs) {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) continue;
    values[o.name] = decodeTensor(o.datatype, res.body.subarray(offset, offset + size), o.name);
    offset += size;
  }
  expect(offset).toBe(res.body.length);
  return { header, values };
}

const MPG = "/v2/models/mpg-regressor/infer";
const PENGUIN = "/v2/models/penguin-classifier/infer";

describe("content types", () => {
  it("a request without Content-Type is JSON (as tritonclient sends it)", async () => {
    const body = JSON.stringify(v2Json([MPG_ROW]));
    const res = await raw("POST", MPG, {}, body);
    expect(res.status).toBe(200);
    const withType = await raw("POST", MPG, { "content-type": "application/json" }, body);
    expect(res.json().outputs).toEqual(withType.json().outputs);
  });

  it("other content types are 415 with a short message", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "x".repeat(5000)]) {
      const res = await raw("POST", MPG, { "content-type": type }, "{}");
      expect(res.status).toBe(415);
      expect(Object.keys(res.json())).toEqual(["error"]);
      expect(res.json().error).toMatch(/^unsupported Content-Type/);
      expect(res.json().error.length).toBeLessThan(300);
    }
  });
});

describe("binary tensor data extension", () => {
  it("binary inputs give the same answer as JSON, with or without application/octet-stream", async () => {
    const rows = [MPG_ROW, { ...MPG_ROW, Horsepower: 150, Origin: "USA" }];
    const json = (await raw("POST", MPG, {}, JSON.stringify(v2Json(rows)))).json();
    const { header, body } = v2Binary(rows);
    for (const type of [undefined, "application/octet-stream"]) {
      const res = await raw(
        "POST",
        MPG,
        {
          "inference-header-content-length": header.length,
          ...(type ? { "content-type": type } : {}),
        },
        body,
      );
      expect(res.status).toBe(200);
      expect(res.json().outputs).toEqual(json.outputs);
    }
  });

  it("binary outputs on request: all (binary_data_output) or per output (binary_data)", async () => {
    const rows = [PENGUIN_ROW, { ...PENGUIN_ROW, Island: "Biscoe", Body_Mass_g: 5400 }];
    const json = (await raw("POST", PENGUIN, {}, JSON.stringify(v2Json(rows)))).json();
    const { header, body } = v2Binary(rows, { parameters: { binary_data_output: true } });
    const res = await raw(
      "POST",
      PENGUIN,
      { "inference-header-content-length": header.length },
      body,
    );
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/octet-stream");
    const decoded = decodeBinaryResponse(res);
    expect(decoded.header.outputs.map((o: Loose) => o.data)).toEqual([undefined, undefined]);
    expect(decoded.values.predict).toEqual(json.outputs[0].data);
    expect(decoded.values.probabilities).toEqual(json.outputs[1].data);
    expect(decoded.header.outputs[1].shape).toEqual([2, 3]);

    // Only `probabilities` in binary; `predict` stays JSON.
    const mixed = await raw(
      "POST",
      PENGUIN,
      {},
      JSON.stringify(
        v2Json(rows, {
          outputs: [
            { name: "predict" },
            { name: "probabilities", parameters: { binary_data: true } },
          ],
        }),
      ),
    );
    const m = decodeBinaryResponse(mixed);
    expect(m.header.outputs[0].data).toEqual(json.outputs[0].data);
    expect(m.values.probabilities).toEqual(json.outputs[1].data);
  });

  it("malformed binary bodies are 400s naming the problem", async () => {
    const { header, body } = v2Binary([MPG_ROW]);
    const hl = { "inference-header-content-length": header.length };
    const cases: [Record<string, string | number>, Buffer, RegExp][] = [
      [
        hl,
        body.subarray(0, body.length - 3),
        /input 'Origin': binary_data_size \d+ goes past the end/,
      ],
      [hl, Buffer.concat([body, Buffer.alloc(5)]), /5 bytes after the last input/],
      [
        { "inference-header-content-length": "abc" },
        body,
        /Inference-Header-Content-Length must be an integer/,
      ],
      [
        { "inference-header-content-length": body.length + 10 },
        body,
        /Inference-Header-Content-Length/,
      ],
    ];
    for (const [headers, b, message] of cases) {
      const res = await raw("POST", MPG, headers, b);
      expect(res.status).toBe(400);
      expect(res.json().error).toMatch(message);
    }
    // A BYTES element whose length prefix claims more than is there.
    const bad = Buffer.alloc(8);
    bad.writeUInt32LE(100, 0);
    const inputs = v2Json([MPG_ROW]).inputs.map((t) =>
      t.name === "Origin"
        ? { name: "Origin", shape: [1], datatype: "BYTES", parameters: { binary_data_size: 8 } }
        : t,
    );
    const h = Buffer.from(JSON.stringify({ inputs }));
    const res = await raw(
      "POST",
      MPG,
      { "inference-header-content-length": h.length },
      Buffer.concat([h, bad]),
    );
    expect(res.status).toBe(400);
    expect(res.json().error).toMatch(
      /input 'Origin': BYTES element 0 declares 100 bytes, only 4 remain/,
    );
  });
});

describe("extensions tritonclient calls", () => {
  it("model configuration", async () => {
    const res = await raw("GET", "/v2/models/penguin-classifier/config");
    expect(res.status).toBe(200);
    const c = res.json();
    expect(c).toMatchObject({ name: "penguin-classifier", max_batch_size: 0 });
    expect(c.input.map((i: Loose) => [i.name, i.data_type])).toEqual([
      ["Beak_Length_mm", "TYPE_FP64"],
      ["Beak_Depth_mm", "TYPE_FP64"],
      ["Flipper_Length_mm", "TYPE_FP64"],
      ["Body_Mass_g", "TYPE_FP64"],
      ["Island", "TYPE_STRING"],
      ["Sex", "TYPE_STRING"],
    ]);
    expect(c.output).toEqual([
      { name: "predict", data_type: "TYPE_STRING", dims: [-1] },
      { name: "probabilities", data_type: "TYPE_FP64", dims: [-1, 3], label_filename: "" },
    ]);
    expect(
      (await raw("GET", "/v2/models/mpg-regressor/versions/2/config")).json().parameters.version,
    ).toEqual({ string_value: "2" });
    expect((await raw("GET", "/v2/models/nope/config")).status).toBe(404);
  });

  it("inference statistics count successes, failures and rows per version", async () => {
    const before = (await raw("GET", "/v2/models/mpg-regressor/versions/2/stats")).json();
    const s0 = before.model_stats[0];
    const url = "/v2/models/mpg-regressor/versions/2/infer";
    await raw("POST", url, {}, JSON.stringify(v2Json([MPG_ROW, MPG_ROW, MPG_ROW])));
    await raw("POST", url, {}, JSON.stringify(v2Json([{ ...MPG_ROW, Origin: "Mars" }])));
    const after = (await raw("GET", "/v2/models/mpg-regressor/versions/2/stats")).json();
    const s1 = after.model_stats[0];
    expect(s1).toMatchObject({ name: "mpg-regressor", version: "2" });
    expect(s1.inference_count - s0.inference_count).toBe(3);
    expect(s1.execution_count - s0.execution_count).toBe(1);
    expect(s1.inference_stats.success.count - s0.inference_stats.success.count).toBe(1);
    expect(s1.inference_stats.fail.count - s0.inference_stats.fail.count).toBe(1);
    expect(s1.inference_stats.success.ns).toBeGreaterThan(s0.inference_stats.success.ns);
    expect(s1.last_inference).toBeGreaterThan(Date.now() - 60000);
    const all = (await raw("GET", "/v2/models/stats")).json();
    expect(all.model_stats.map((m: Loose) => `${m.name}@${m.version}`).sort()).toEqual([
      "mpg-regressor@1",
      "mpg-regressor@2",
      "penguin-classifier@1",
    ]);
    const both = (await raw("GET", "/v2/models/mpg-regressor/stats")).json();
    expect(both.model_stats.map((m: Loose) => m.version)).toEqual(["1", "2"]);
    expect((await raw("GET", "/v2/models/nope/stats")).status).toBe(404);
  });

  it("repository index: an empty POST (as tritonclient sends it) lists every version", async () => {
    const res = await raw("POST", "/v2/repository/index", { "content-length": 0 });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual([
      { name: "mpg-regressor", version: "1", state: "READY", reason: "" },
      { name: "mpg-regressor", version: "2", state: "READY", reason: "" },
      { name: "penguin-classifier", version: "1", state: "READY", reason: "" },
    ]);
    const ready = await raw("POST", "/v2/repository/index", {}, '{"ready": true}');
    expect(ready.json()).toHaveLength(3);
  });
});

describe("Content-Encoding", () => {
  const body = Buffer.from(JSON.stringify(v2Json([MPG_ROW])));

  it("gzip, deflate and br request bodies are decoded", async () => {
    const plain = (await raw("POST", MPG, {}, body)).json().outputs;
    for (const [encoding, data] of [
      ["gzip", zlib.gzipSync(body)],
      ["deflate", zlib.deflateSync(body)],
      ["br", zlib.brotliCompressSync(body)],
    ] as const) {
      const res = await raw("POST", MPG, { "content-encoding": encoding }, data);
      expect(res.status).toBe(200);
      expect(res.json().outputs).toEqual(plain);
    }
  });

  it("unknown encodings are 415, corrupt data 400, a compression bomb 413", async () => {
    const unknown = await raw("POST", MPG, { "content-encoding": "compress" }, body);
    expect(unknown.status).toBe(415);
    expect(unknown.json().error).toMatch(/unsupported Content-Encoding "compress"/);
    const corrupt = await raw("POST", MPG, { "content-encoding": "gzip" }, body);
    expect(corrupt.status).toBe(400);
    expect(corrupt.json().error).toMatch(/not valid gzip/);
    // 10 MB of spaces compress to ~10 KB: well under the 64 KiB limit on the wire, far over it decoded.
    const bomb = zlib.gzipSync(Buffer.alloc(10 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(65536);
    const res = await raw("POST", MPG, { "content-encoding": "gzip" }, bomb);
    expect(res.status).toBe(413);
    expect(Object.keys(res.json())).toEqual(["error"]);
  });

  it("large responses honour Accept-Encoding; small ones are sent as they are", async () => {
    const rows = Array.from({ length: 500 }, (_, i) => ({ ...MPG_ROW, Weight_in_lbs: 2000 + i }));
    const big = JSON.stringify(v2Json(rows));
    const res = await raw("POST", MPG, { "accept-encoding": "gzip" }, big);
    expect(res.status).toBe(200);
    expect(res.headers["content-encoding"]).toBe("gzip");
    expect(JSON.parse(zlib.gunzipSync(res.body).toString()).outputs[0].data).toHaveLength(500);
    const small = await raw("POST", MPG, { "accept-encoding": "gzip" }, body);
    expect(small.headers["content-encoding"]).toBeUndefined();
  });
});

describe("Accept-Encoding negotiation", () => {
  it.each([
    ["gzip", "gzip"],
    ["gzip, deflate, br", "gzip"],
    ["br;q=1.0, gzip;q=0.8", "br"],
    ["deflate", "deflate"],
    ["*", "gzip"],
    ["x-gzip", "gzip"],
    ["gzip;q=0, deflate;q=0.1", "deflate"],
    ["identity", undefined],
    ["gzip;q=0", undefined],
    ["zstd, compress", undefined],
  ])("%s -> %s", (header, expected) => {
    expect(negotiateEncoding(header)).toBe(expected);
  });
});

describe("methods and error bodies", () => {
  it("a wrong method on a known path is 405 with Allow", async () => {
    for (const [method, path, allow] of [
      ["TRACE", "/v2", "GET, HEAD"],
      ["POST", "/v2/health/live", "GET, HEAD"],
      ["DELETE", "/v2/models/mpg-regressor/infer", "POST"],
      ["GET", "/v2/models/mpg-regressor/versions/1/infer", "POST"],
      ["PUT", "/v1/models/mpg-regressor:predict", "GET, HEAD, POST"],
    ]) {
      const res = await raw(method, path);
      expect([method, path, res.status]).toEqual([method, path, 405]);
      expect(res.headers.allow).toBe(allow);
      if (method !== "HEAD") expect(Object.keys(res.json())).toEqual(["error"]);
    }
    expect((await raw("GET", "/v3/nothing")).status).toBe(404);
  });

  it("a 10k-character model name gets the usual error body, echoing only a prefix", async () => {
    const name = "m".repeat(10000);
    for (const [method, path] of [
      ["POST", `/v2/models/${name}/infer`],
      ["GET", `/v2/models/${name}`],
      ["POST", `/v1/models/${name}:predict`],
    ]) {
      const body = method === "POST" ? JSON.stringify(v2Json([MPG_ROW])) : undefined;
      const res = await raw(method, path, {}, body);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(Object.keys(res.json())).toEqual(["error"]);
      expect(res.json().error.length).toBeLessThan(300);
    }
  });
});

describe("no non-finite number in any response", () => {
  const extremes = [1.7e308, -1.7e308, Number.MAX_VALUE, -Number.MAX_VALUE];

  it("overflowing arithmetic is 422 naming the feature (v2, penguin)", async () => {
    // Both terms push the Adelie score the same way: their sum is beyond the largest double.
    for (const v of extremes) {
      const row = { ...PENGUIN_ROW, Beak_Length_mm: -v, Beak_Depth_mm: v };
      const res = await raw("POST", PENGUIN, {}, JSON.stringify(v2Json([PENGUIN_ROW, row])));
      expect(res.status).toBe(422);
      expect(res.json().error).toBe(
        `input 'Beak_Depth_mm' at row 1: value ${JSON.stringify(v)} is too large in magnitude for the model (the prediction is not a finite number)`,
      );
    }
  });

  it("overflowing arithmetic is 422 naming the feature (v1 and v2, mpg)", async () => {
    for (const v of extremes) {
      const row = { ...MPG_ROW, Cylinders: -v, Year: v };
      const v1 = await raw(
        "POST",
        "/v1/models/mpg-regressor:predict",
        {},
        JSON.stringify({ instances: [MPG_ROW, row] }),
      );
      expect(v1.status).toBe(422);
      expect(v1.json().error).toMatch(/^input 'Year' at row 1: value .* too large in magnitude/);
      const v2 = await raw("POST", MPG, {}, JSON.stringify(v2Json([row])));
      expect(v2.status).toBe(422);
      expect(v2.json().error).toMatch(/^input 'Year' at row 0: value .* too large in magnitude/);
    }
  });

  it("a single extreme feature whose term stays finite is answered with finite values", async () => {
    const res = await raw(
      "POST",
      PENGUIN,
      {},
      JSON.stringify(v2Json([{ ...PENGUIN_ROW, Body_Mass_g: 1.7e308 }])),
    );
    expect(res.status).toBe(200);
    expect(res.json().outputs[1].data.every(Number.isFinite)).toBe(true);
  });

  it("FP32 inputs beyond the 32-bit float range are 400", async () => {
    const body = v2Json([MPG_ROW]);
    body.inputs[1] = { ...body.inputs[1], datatype: "FP32", data: [1e39] };
    const res = await raw("POST", MPG, {}, JSON.stringify(body));
    expect(res.status).toBe(400);
    expect(res.json().error).toMatch(/input 'Displacement': expected a 32-bit float/);
  });
});
