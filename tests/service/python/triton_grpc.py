"""Drives the service's gRPC port with the unmodified tritonclient.grpc; prints JSON results.

Usage: [INFERENCE_KEY=<key>] [TRITON_TLS_CA=<ca.pem> TRITON_TLS_HOST=<name>] triton_grpc.py <host:port>.
The jest test (tests/service/grpc.test.ts) checks the values against the service's own answers;
the e2e suite runs it through the local cluster's Gateway too: TLS, trusting TRITON_TLS_CA, with
TRITON_TLS_HOST as the name the certificate is checked against and the authority routed on.
"""
import json
import os
import sys

import numpy as np
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException
import bearer  # this directory: the key on every request
from rows import MPG, PENGUIN  # this directory, on sys.path as the script's own

if os.environ.get("TRITON_TLS_CA"):
    host = os.environ["TRITON_TLS_HOST"]
    client = grpcclient.InferenceServerClient(
        url=sys.argv[1],
        ssl=True,
        root_certificates=os.environ["TRITON_TLS_CA"],
        channel_args=[("grpc.ssl_target_name_override", host), ("grpc.default_authority", host)],
    )
else:
    client = grpcclient.InferenceServerClient(url=sys.argv[1])
bearer.register(client)

meta = client.get_model_metadata("penguin-classifier", as_json=True)
out = {
    "live": client.is_server_live(),
    "ready": client.is_server_ready(),
    "model_ready": client.is_model_ready("mpg-regressor"),
    "model_ready_v1": client.is_model_ready("mpg-regressor", "1"),
    "server_metadata": client.get_server_metadata(as_json=True),
    "model_metadata": meta,
}



def inputs(rows):
    result = []
    for name, values in rows.items():
        if isinstance(values[0], str):
            arr = np.array(values, dtype=np.object_)
            t = grpcclient.InferInput(name, list(arr.shape), "BYTES")
        else:
            arr = np.array(values, dtype=np.float64)
            t = grpcclient.InferInput(name, list(arr.shape), "FP64")
        t.set_data_from_numpy(arr)
        result.append(t)
    return result


def as_list(a):
    return [x.decode() if isinstance(x, bytes) else x for x in a.reshape(-1).tolist()]


runs = {}
for compression in (None, "gzip", "deflate"):
    r = client.infer("mpg-regressor", inputs(MPG), compression_algorithm=compression)
    p = client.infer(
        "penguin-classifier",
        inputs(PENGUIN),
        outputs=[grpcclient.InferRequestedOutput("predict"), grpcclient.InferRequestedOutput("probabilities")],
        model_version="1",
        request_id="req-7",
        compression_algorithm=compression,
    )
    probs = p.as_numpy("probabilities")
    runs[str(compression)] = {
        "mpg": as_list(r.as_numpy("predict")),
        "mpg_version": r.get_response(as_json=True)["model_version"],
        "penguin_labels": as_list(p.as_numpy("predict")),
        "penguin_probabilities": as_list(probs),
        "penguin_probabilities_shape": list(probs.shape),
        "penguin_id": p.get_response(as_json=True)["id"],
    }
out["infer"] = runs

errors = {}
bad = inputs(MPG)
bad[6] = grpcclient.InferInput("Origin", [2], "BYTES")
bad[6].set_data_from_numpy(np.array(["Japan", "Mars"], dtype=np.object_))
for key, call in {
    "unknown_category": lambda: client.infer("mpg-regressor", bad),
    "unknown_model": lambda: client.infer("no-such-model", inputs(MPG)),
    "overflow": lambda: client.infer(
        "mpg-regressor",
        inputs({**MPG, "Cylinders": [-1.7e308, 4.0], "Year": [1.7e308, 1980.0]}),
    ),
}.items():
    try:
        call()
        errors[key] = None
    except InferenceServerException as e:
        errors[key] = {"status": e.status(), "message": e.message()}
out["errors"] = errors
out["statistics"] = client.get_inference_statistics("mpg-regressor", as_json=True)
out["statistics_all"] = client.get_inference_statistics(as_json=True)
out["repository_index"] = client.get_model_repository_index(as_json=True)
try:
    client.get_model_config("mpg-regressor")
    out["model_config"] = None
except InferenceServerException as e:
    out["model_config"] = e.status()
client.close()
print(json.dumps(out))
