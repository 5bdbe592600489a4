"""Drives the service with the unmodified tritonclient.http; prints one JSON document of results.

Usage: [INFERENCE_KEY=<key>] triton_http.py <host:port>. Every call the client offers for these models is made, in
JSON mode and in binary mode, with and without request/response compression; the jest test
(tests/service/tritonclient.test.ts) checks the values against the service's own answers.
"""
import json
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException
import bearer  # this directory: the key on every request
from rows import MPG, PENGUIN  # this directory, on sys.path as the script's own

url = sys.argv[1]
client = httpclient.InferenceServerClient(url=url)
bearer.register(client)

out = {
    "live": client.is_server_live(),
    "ready": client.is_server_ready(),
    "model_ready": client.is_model_ready("mpg-regressor"),
    "server_metadata": client.get_server_metadata(),
    "model_metadata": client.get_model_metadata("penguin-classifier"),
    "model_config": client.get_model_config("mpg-regressor"),
    "repository_index": client.get_model_repository_index(),
}



def inputs(rows, binary):
    result = []
    for name, values in rows.items():
        if isinstance(values[0], str):
            arr = np.array(values, dtype=np.object_)
            t = httpclient.InferInput(name, list(arr.shape), "BYTES")
        else:
            arr = np.array(values, dtype=np.float64)
            t = httpclient.InferInput(name, list(arr.shape), "FP64")
        t.set_data_from_numpy(arr, binary_data=binary)
        result.append(t)
    return result


def as_list(a):
    return [x.decode() if isinstance(x, bytes) else x for x in a.reshape(-1).tolist()]


runs = {}
for binary in (False, True):
    for compression in (None, "gzip", "deflate"):
        key = f"binary={binary},compression={compression}"
        r = client.infer(
            "mpg-regressor",
            inputs(MPG, binary),
            outputs=[httpclient.InferRequestedOutput("predict", binary_data=binary)],
            request_compression_algorithm=compression,
            response_compression_algorithm=compression,
        )
        p = client.infer("penguin-classifier", inputs(PENGUIN, binary))  # no outputs: all, binary
        probs = p.as_numpy("probabilities")
        runs[key] = {
            "mpg": as_list(r.as_numpy("predict")),
            "mpg_version": r.get_response()["model_version"],
            "penguin_labels": as_list(p.as_numpy("predict")),
            "penguin_probabilities": as_list(probs),
            "penguin_probabilities_shape": list(probs.shape),
        }
out["infer"] = runs

# INT64 and FP32 inputs (numpy's defaults for ints, and a narrower float).
mixed = inputs(MPG, True)
mixed[0] = httpclient.InferInput("Cylinders", [2], "INT64")
mixed[0].set_data_from_numpy(np.array([4, 8], dtype=np.int64), binary_data=True)
mixed[1] = httpclient.InferInput("Displacement", [2], "FP32")
mixed[1].set_data_from_numpy(np.array([97.0, 350.0], dtype=np.float32), binary_data=True)
out["infer_int64_fp32"] = as_list(client.infer("mpg-regressor", mixed).as_numpy("predict"))

errors = {}
bad = inputs(MPG, True)
bad[6] = httpclient.InferInput("Origin", [2], "BYTES")
bad[6].set_data_from_numpy(np.array(["Japan", "Mars"], dtype=np.object_), binary_data=True)
try:
    client.infer("mpg-regressor", bad)
except InferenceServerException as e:
    errors["unknown_category"] = e.message()
try:
    client.infer("no-such-model", inputs(MPG, False))
except InferenceServerException as e:
    errors["unknown_model"] = e.message()
out["errors"] = errors
out["statistics"] = client.get_inference_statistics("mpg-regressor")
client.close()
print(json.dumps(out))
