"""The exported generator served as TF Serving serves it, in a fresh process where tfgan_stable cannot be imported.

gRPC: PredictRequest protos (tensorflow-serving-api) sent to a PredictionService over a localhost channel.
REST: JSON bodies in the row ("instances") and columnar ("inputs") formats, decoded and answered as
tensorflow_serving/util/json_tensor.cc does (see tests/serving/tf_serving.py), {"b64": ...} for the PNGs.
Also: every signature input and output is batched (server-side batching needs it), the per-request cap fails
with InvalidArgument, and `sample*` give the images of `GAN.generate(1, seed=s)` for each seed s.
"""
import json
import re

import keras
import numpy as np
import pytest

import tfgan_stable as ts
from tests.conftest import REPO
from tests.subproc import run_python

try:  # a missing install fails loudly here rather than skipping the serving tests
    import tensorflow_serving.apis.predict_pb2  # noqa: F401
except ImportError as error:  # pragma: no cover - the message is the point
    raise ImportError('the serving tests need tensorflow-serving-api\'s protos: pip install --no-deps '
                      '"tensorflow-serving-api>=2.21,<2.22" (its metadata requires the full tensorflow wheel, '
                      'hence --no-deps; see .ci/run and the README)') from error

LATENT, CAP = 6, 8
SEEDS = [5, 0, -3, 2 ** 40]
TRUNCATION = [0.5, 0.0, 1.5, -1.0]  # t <= 0: no truncation
SIGNATURES = ["sample", "sample_png", "sample_truncated", "sample_uint8", "serving_default"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serving")
    keras.utils.set_random_seed(0)
    g = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(4 * 4 * 8, use_bias=False),
                          keras.layers.Reshape((4, 4, 8)), keras.layers.BatchNormalization(), keras.layers.ReLU(),
                          keras.layers.Conv2DTranspose(3, 4, strides=2, padding="same", activation="tanh")])
    bn = g.layers[2]
    rng = np.random.RandomState(0)
    bn.set_weights([rng.uniform(0.5, 2, 8), rng.normal(size=8), rng.normal(size=8), rng.uniform(0.5, 2, 8)])
    d = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(1)])
    gan = ts.NonSaturatingGAN(g, d, latent_dim=LATENT)
    path = ts.export_generator(g, str(tmp / "gen" / "1"), latent_dim=LATENT, max_batch_size=CAP)
    z = rng.normal(size=(3, LATENT)).astype(np.float32)
    np.savez(tmp / "expected.npz", z=z, g_z=g(z, training=False).numpy(),
             sample=np.concatenate([gan.generate(1, seed=s).numpy() for s in SEEDS]),
             truncated=np.concatenate([gan.generate(1, seed=s, truncation=t if t > 0 else None).numpy()
                                       for s, t in zip(SEEDS, TRUNCATION)]))
    return path, str(tmp / "expected.npz")


_PRELUDE = """
import base64, importlib.abc, json, sys
import numpy as np

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "tfgan_stable":
            raise ImportError("tfgan_stable is blocked in this process")
sys.meta_path.insert(0, Block())
sys.path.insert(0, {repo!r})  # for tests.serving.tf_serving only
try:
    import tfgan_stable
    blocked = False
except ImportError:
    blocked = True
from tests.serving.tf_serving import Server, serve_grpc, signature_defs
server = Server({path!r})
exp = dict(np.load({expected!r}))
SEEDS, TRUNCATION, CAP, LATENT = {seeds!r}, {truncation!r}, {cap}, {latent}
checks = []
"""


def _run(exported, code):
    path, expected = exported
    return run_python((_PRELUDE + code).format(repo=str(REPO), path=path, expected=expected, seeds=SEEDS,
                                               truncation=TRUNCATION, cap=CAP, latent=LATENT))


def test_grpc_predict_requests(exported):
    result = _run(exported, """
import grpc
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

names = sorted(k for k in signature_defs({path!r}) if not k.startswith("__"))
for name in names:
    sig = signature_defs({path!r})[name]
    for key, info in [*sig.inputs.items(), *sig.outputs.items()]:
        assert info.tensor_shape.dim[0].size == -1, (name, key, "has no batch dimension")
assert int(server.model.max_batch_size.numpy()) == CAP and int(server.model.latent_dim.numpy()) == LATENT
checks.append("batched")

seed = np.array(SEEDS, np.int64)
trunc = np.array(TRUNCATION, np.float32)
pair = {{"seed": seed, "truncation": trunc}}
requests = {{"serving_default": {{"z": exp["z"]}}, "sample": {{"seed": seed}},
             "sample_truncated": pair, "sample_uint8": pair, "sample_png": pair}}
sig = server.model.signatures
direct = {{name: {{k: v.numpy() for k, v in sig[name](**{{k: tf.constant(v) for k, v in inputs.items()}}).items()}}
          for name, inputs in requests.items()}}
np.testing.assert_allclose(direct["serving_default"]["images"], exp["g_z"], atol=1e-5)
np.testing.assert_allclose(direct["sample"]["images"], exp["sample"], atol=1e-5)
np.testing.assert_allclose(direct["sample_truncated"]["images"], exp["truncated"], atol=1e-5)
pixels = direct["sample_uint8"]["images_uint8"]
assert pixels.dtype == np.uint8 and pixels.shape == (4, 8, 8, 3)
formula = np.clip(np.round((direct["sample_truncated"]["images"] + 1) * 127.5), 0, 255)
assert np.abs(pixels - formula).max() <= 1 and (pixels == formula).mean() > 0.99
pngs = direct["sample_png"]["png_bytes"]
assert pngs.shape == (4,) and all(tf.io.decode_png(p).numpy().tolist() == x.tolist() for p, x in zip(pngs, pixels))
# Row i depends on row i only, so a batch merged by the server gives each request its own images.
alone = sig["sample_truncated"](seed=tf.constant(seed[2:3]), truncation=tf.constant(trunc[2:3]))["images"].numpy()
np.testing.assert_allclose(alone[0], direct["sample_truncated"]["images"][2], atol=1e-6)
checks.append("direct")

grpc_server, address = serve_grpc(server)
channel = grpc.insecure_channel(address)
stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)

def predict(name, inputs, **proto_kwargs):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "gan"
    request.model_spec.signature_name = name
    for key, value in inputs.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value, **proto_kwargs))
    response = stub.Predict(request, timeout=120)
    assert response.model_spec.signature_name == name
    return {{key: tf.make_ndarray(proto) for key, proto in response.outputs.items()}}

for name, inputs in requests.items():
    out = predict(name, inputs)
    assert sorted(out) == sorted(direct[name]), (name, sorted(out))
    for key, value in out.items():
        assert value.dtype == direct[name][key].dtype and value.shape == direct[name][key].shape, (name, key)
        assert value.tolist() == direct[name][key].tolist(), (name, key)
checks.append("grpc")

def error(name, inputs, **proto_kwargs):
    try:
        predict(name, inputs, **proto_kwargs)
    except grpc.RpcError as e:
        return e.code().name, e.details()
    raise AssertionError(f"{{name}} accepted {{inputs}}")

code, details = error("sample", {{"seed": np.arange(CAP + 1, dtype=np.int64)}})
assert code == "INVALID_ARGUMENT" and f"at most {{CAP}} images per request" in details, details
code, details = error("serving_default", {{"z": np.zeros((CAP + 1, LATENT), np.float32)}})
assert code == "INVALID_ARGUMENT" and f"has {{CAP + 1}} rows" in details, details
assert predict("sample", {{"seed": np.arange(CAP, dtype=np.int64)}})["images"].shape[0] == CAP
code, details = error("sample_png", {{"seed": seed, "truncation": trunc[:2]}})
assert code == "INVALID_ARGUMENT" and "give one row per image" in details, details
code, details = error("sample", {{"seed": [1, 2]}})  # make_tensor_proto infers int32; the signature wants int64
assert code == "INVALID_ARGUMENT" and "DT_INT64" in details, details
checks.append("errors")
channel.close()
grpc_server.stop(None)
print(json.dumps({{"blocked": blocked, "signatures": names, "checks": checks}}))
""")
    assert result["blocked"]
    assert result["signatures"] == SIGNATURES
    assert result["checks"] == ["batched", "direct", "grpc", "errors"]


def test_rest_row_and_columnar_json(exported):
    result = _run(exported, """
sig = server.model.signatures
seed = tf.constant(SEEDS, tf.int64)
trunc = tf.constant(TRUNCATION, tf.float32)
direct = {{"serving_default": sig["serving_default"](z=tf.constant(exp["z"]))["images"].numpy(),
           "sample": sig["sample"](seed=seed)["images"].numpy(),
           "sample_truncated": sig["sample_truncated"](seed=seed, truncation=trunc)["images"].numpy(),
           "sample_uint8": sig["sample_uint8"](seed=seed, truncation=trunc)["images_uint8"].numpy(),
           "sample_png": sig["sample_png"](seed=seed, truncation=trunc)["png_bytes"].numpy()}}
z = exp["z"].tolist()  # json writes each float32 as the shortest double that reads back as it
pairs = [{{"seed": s, "truncation": t}} for s, t in zip(SEEDS, TRUNCATION)]
columns = {{"seed": SEEDS, "truncation": TRUNCATION}}
bodies = [  # (signature, format, body)
    ("serving_default", "row", {{"instances": z}}),  # one input: plain rows
    ("serving_default", "row", {{"signature_name": "serving_default", "instances": [{{"z": row}} for row in z]}}),
    ("serving_default", "columnar", {{"inputs": {{"z": z}}}}),
    ("serving_default", "columnar", {{"inputs": z}}),
    ("sample", "row", {{"signature_name": "sample", "instances": SEEDS}}),
    ("sample", "row", {{"signature_name": "sample", "instances": [{{"seed": s}} for s in SEEDS]}}),
    ("sample", "columnar", {{"signature_name": "sample", "inputs": {{"seed": SEEDS}}}}),
]
for name in ("sample_truncated", "sample_uint8", "sample_png"):
    bodies += [(name, "row", {{"signature_name": name, "instances": pairs}}),
               (name, "columnar", {{"signature_name": name, "inputs": columns}})]

for name, fmt, body in bodies:
    text = json.dumps(body)
    request, row_format = server.request_from_json(text)
    assert row_format == (fmt == "row")
    for key, proto in request.inputs.items():  # the tensors TF Serving would build
        value = tf.make_ndarray(proto)
        want = {{"z": exp["z"], "seed": np.array(SEEDS, np.int64), "truncation": np.array(TRUNCATION, np.float32)}}[key]
        assert value.dtype == want.dtype and value.tolist() == want.tolist(), (name, fmt, key, value)
    status, reply = server.rest(text)
    assert status == 200, (name, fmt, reply)
    reply = json.loads(reply)
    assert list(reply) == (["predictions"] if fmt == "row" else ["outputs"]), (name, fmt, list(reply))
    values = reply["predictions" if fmt == "row" else "outputs"]  # one output: no per-name objects
    if name == "sample_png":
        assert all(list(v) == ["b64"] for v in values), values[:1]
        values = np.array([base64.b64decode(v["b64"]) for v in values], dtype=object)
    else:
        values = np.array(values, dtype=direct[name].dtype)
    assert values.shape == direct[name].shape and values.tolist() == direct[name].tolist(), (name, fmt)
checks.append("rest")

status, reply = server.rest(json.dumps({{"signature_name": "sample", "instances": list(range(CAP + 1))}}))
assert status == 400 and f"at most {{CAP}} images per request" in json.loads(reply)["error"], reply
status, reply = server.rest(json.dumps({{"signature_name": "sample", "inputs": {{"seed": 3}}}}))
assert status == 400, reply  # a scalar seed: every input has a batch dimension
status, reply = server.rest(json.dumps({{"signature_name": "sample", "instances": [1.5]}}))
assert status == 400 and "DT_INT64" in json.loads(reply)["error"], reply
checks.append("rest_errors")
print(json.dumps({{"blocked": blocked, "checks": checks}}))
""")
    assert result["blocked"]
    assert result["checks"] == ["rest", "rest_errors"]


def test_readme_requests_work_on_the_shipped_model():
    """Every complete JSON body in the README's serving section, sent to saved_models/mnist_dcgan/1."""
    import base64

    from tests.serving.tf_serving import Server

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Serving the generator", 1)[1].split("\n## ", 1)[0]
    bodies = [b for b in re.findall(r"curl -d '([^']*)'", section) if "..." not in b]
    assert len(bodies) >= 4, bodies
    server = Server(str(REPO / "saved_models" / "mnist_dcgan" / "1"))
    assert int(server.model.max_batch_size.numpy()) == ts.export.DEFAULT_MAX_BATCH_SIZE
    for body in bodies:
        status, reply = server.rest(body)
        assert status == 200, (body, reply)
        reply = json.loads(reply)
        values = reply.get("predictions", reply.get("outputs"))
        assert len(values) >= 1, body
        if json.loads(body)["signature_name"] == "sample_png":
            assert all(base64.b64decode(v["b64"]).startswith(b"\x89PNG") for v in values)
        else:
            images = np.array(values)
            assert images.shape[1:] == (28, 28, 1), (body, images.shape)
