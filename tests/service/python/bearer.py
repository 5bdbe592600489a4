"""The stack's key on every request of a tritonclient client, through the client's own plugin hook.

`register(client)` adds `Authorization: Bearer $INFERENCE_KEY` when the variable is set (the jest
tests pass the key in the environment, never as an argument). tritonclient itself is unmodified.
"""
import os

from tritonclient._plugin import InferenceServerClientPlugin


class BearerKey(InferenceServerClientPlugin):
    """Adds `Authorization: Bearer <key>` to every request."""

    def __init__(self, key):
        self._value = "Bearer " + key

    def __call__(self, request):
        request.headers["authorization"] = self._value


def register(client):
    if os.environ.get("INFERENCE_KEY"):
        client.register_plugin(BearerKey(os.environ["INFERENCE_KEY"]))
