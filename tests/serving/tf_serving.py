"""TF Serving's Predict API re-created in Python for tests: it imports TensorFlow and tensorflow-serving-api only.

`Server.predict` runs a SavedModel signature on a `PredictRequest` and fills a `PredictResponse`, as
tensorflow_model_server does (`serve_grpc` puts it behind the real PredictionService gRPC definitions);
`Server.rest` decodes a REST JSON body into a `PredictRequest` and encodes the response as JSON the way
tensorflow_serving/util/json_tensor.cc does: the row format ("instances": one entry per batch row, stacked
along axis 0; a list of objects keyed by input name, or plain values when the signature has one input) and the
columnar format ("inputs": each named input is the whole tensor), {"b64": ...} for binary strings, output
string tensors whose name ends in "_bytes" written as {"b64": ...}, floats written losslessly.
"""
import base64
import json
import math
import os
from concurrent import futures

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc


class ServingError(Exception):
    """A request TF Serving rejects: gRPC INVALID_ARGUMENT, REST HTTP 400 with {"error": message}."""


def signature_defs(path):
    """The SignatureDefs of a SavedModel, read from saved_model.pb (what TF Serving's model metadata reports)."""
    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    return dict(proto.meta_graphs[0].signature_def)


class Server:
    def __init__(self, path):
        self.model = tf.saved_model.load(path)
        self.signature_defs = signature_defs(path)

    def _signature(self, name):
        name = name or "serving_default"
        if name not in self.signature_defs:
            raise ServingError(f"Serving signature name: \"{name}\" not found in signature def")
        return name, self.signature_defs[name]

    # ----------------------------------------------------------------- Predict on protos
    def predict(self, request):
        name, sig = self._signature(request.model_spec.signature_name)
        if set(request.inputs) != set(sig.inputs):
            raise ServingError(f"input keys {sorted(request.inputs)} must be {sorted(sig.inputs)}")
        inputs = {}
        for key, proto in request.inputs.items():
            if proto.dtype != sig.inputs[key].dtype:
                raise ServingError(f"Expects arg[{key}] to be {types_pb2.DataType.Name(sig.inputs[key].dtype)} "
                                   f"but {types_pb2.DataType.Name(proto.dtype)} is provided")
            inputs[key] = tf.constant(tf.make_ndarray(proto), dtype=tf.dtypes.as_dtype(proto.dtype))
        try:
            outputs = self.model.signatures[name](**inputs)
        except tf.errors.InvalidArgumentError as e:
            raise ServingError(e.message) from None
        response = predict_pb2.PredictResponse()
        response.model_spec.CopyFrom(request.model_spec)
        response.model_spec.signature_name = name
        for key, value in outputs.items():
            response.outputs[key].CopyFrom(tf.make_tensor_proto(value.numpy()))
        return response

    # ----------------------------------------------------------------- REST JSON
    def rest(self, body):
        """(HTTP status, response body) for a POST to /v1/models/NAME:predict with JSON `body`."""
        try:
            request, row_format = self.request_from_json(body)
            return 200, response_to_json(self.predict(request), row_format)
        except ServingError as e:
            return 400, json.dumps({"error": str(e)})

    def request_from_json(self, body):
        doc = json.loads(body)  # accepts NaN and Infinity, as TF Serving's parser does
        if not isinstance(doc, dict):
            raise ServingError("JSON Value is not object")
        request = predict_pb2.PredictRequest()
        if "signature_name" in doc:
            if not isinstance(doc["signature_name"], str):
                raise ServingError("'signature_name' key must be a string value.")
            request.model_spec.signature_name = doc["signature_name"]
        _, sig = self._signature(request.model_spec.signature_name)
        dtypes = {k: v.dtype for k, v in sig.inputs.items()}
        if "instances" in doc and "inputs" in doc:
            raise ServingError("expecting only one of 'inputs' or 'instances' keys to exist")
        if "instances" in doc:
            _fill_from_instances(doc["instances"], dtypes, request.inputs)
            return request, True
        if "inputs" in doc:
            _fill_from_inputs(doc["inputs"], dtypes, request.inputs)
            return request, False
        raise ServingError("Missing 'inputs' or 'instances' key")


# --------------------------------------------------------------------- JSON -> TensorProto
def _is_b64(value):
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("b64"), str)


def _dense_shape(value):
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def _add_value(value, dtype, proto):
    is_int = isinstance(value, int) and not isinstance(value, bool)
    is_number = is_int or isinstance(value, float)
    if dtype in (types_pb2.DT_FLOAT, types_pb2.DT_DOUBLE):
        if not is_number:
            raise ServingError(f"JSON Value: {json.dumps(value)} is not of expected type: "
                               f"{types_pb2.DataType.Name(dtype)}")
        limit = 2 ** (24 if dtype == types_pb2.DT_FLOAT else 53) - 1
        if is_int and abs(value) > limit:
            raise ServingError(f"Cannot convert JSON value: {value} without loss of precision.")
        if dtype == types_pb2.DT_FLOAT and math.isfinite(value) and abs(value) > np.finfo(np.float32).max:
            raise ServingError(f"Cannot convert JSON value: {value} to float without loss of precision.")
        (proto.float_val if dtype == types_pb2.DT_FLOAT else proto.double_val).append(value)
    elif dtype in (types_pb2.DT_INT32, types_pb2.DT_INT16, types_pb2.DT_INT8, types_pb2.DT_UINT8):
        if not is_int or not -2 ** 31 <= value < 2 ** 31:
            raise ServingError(f"JSON Value: {json.dumps(value)} is not of expected type: "
                               f"{types_pb2.DataType.Name(dtype)}")
        proto.int_val.append(value)
    elif dtype == types_pb2.DT_INT64:
        if not is_int or not -2 ** 63 <= value < 2 ** 63:
            raise ServingError(f"JSON Value: {json.dumps(value)} is not of expected type: DT_INT64")
        proto.int64_val.append(value)
    elif dtype == types_pb2.DT_BOOL:
        if not isinstance(value, bool):
            raise ServingError(f"JSON Value: {json.dumps(value)} is not of expected type: DT_BOOL")
        proto.bool_val.append(value)
    elif dtype == types_pb2.DT_STRING:
        if _is_b64(value):
            try:
                proto.string_val.append(base64.b64decode(value["b64"], validate=True))
            except ValueError:
                raise ServingError("Unable to base64 decode") from None
        elif isinstance(value, str):
            proto.string_val.append(value.encode("utf-8"))
        else:
            raise ServingError(f"JSON Value: {json.dumps(value)} is not of expected type: DT_STRING")
    else:
        raise ServingError(f"Conversion of JSON Value to type {types_pb2.DataType.Name(dtype)} is unimplemented")


def _fill(value, level, shape, dtype, proto):
    if not isinstance(value, list):
        if level != len(shape):
            raise ServingError(f"JSON Value: {json.dumps(value)} found at incorrect level: {level + 1} in the JSON "
                               f"DOM. Expected at level: {len(shape)}")
        if isinstance(value, dict) and dtype != types_pb2.DT_STRING:
            raise ServingError(f"JSON Value: {json.dumps(value)} Type: Object is not of expected type: "
                               f"{types_pb2.DataType.Name(dtype)}")
        _add_value(value, dtype, proto)
        return 1
    if level >= len(shape):
        raise ServingError(f"Encountered list at unexpected level: {level} expected < {len(shape)}")
    if len(value) != shape[level]:
        raise ServingError(f"Encountered list at unexpected size: {len(value)} at level: {level} "
                           f"expected size: {shape[level]}")
    return sum(_fill(v, level + 1, shape, dtype, proto) for v in value)


def _fill_from_instances(instances, dtypes, tensors):
    if not isinstance(instances, list):
        raise ServingError("Excepting 'instances' to be an list/array")
    if not instances:
        raise ServingError("No values in 'instances' array")
    is_object = lambda v: isinstance(v, dict) and not _is_b64(v)  # noqa: E731
    if not isinstance(instances[0], dict) and len(dtypes) > 1:
        raise ServingError("instances is a plain list, but expecting list of objects as multiple input tensors "
                           "required as per tensorinfo_map")
    objects = is_object(instances[0])
    shapes = {}
    for i, elem in enumerate(instances):
        if objects != is_object(elem):
            raise ServingError(f"Expecting {'object' if objects else 'value/list'} at item {i} of input list")
        items = elem.items() if objects else [(next(iter(dtypes)), elem)]
        for name, value in items:
            if name not in dtypes:
                raise ServingError(f"JSON object: does not have named input: {name}")
            shape = _dense_shape(value)
            if shapes.setdefault(name, shape) != shape:
                raise ServingError(f"Failed to process element: {i} key: {name} of 'instances' list. Error: "
                                   f"Expecting shape {shapes[name]} but got: {shape}")
            _fill(value, 0, shape, dtypes[name], tensors[name])
        if objects and set(elem) != set(dtypes):
            raise ServingError(f"Failed to process element: {i} of 'instances' list. JSON object: "
                               f"{json.dumps(elem)} keys must be equal to: {','.join(sorted(dtypes))}")
    for name, shape in shapes.items():
        tensors[name].dtype = dtypes[name]
        for size in [len(instances)] + shape:
            tensors[name].tensor_shape.dim.add().size = size


def _fill_from_inputs(inputs, dtypes, tensors):
    if not isinstance(inputs, dict) or _is_b64(inputs):
        if len(dtypes) > 1:
            raise ServingError("inputs is a plain value/list, but expecting an object as multiple input tensors "
                               "required as per tensorinfo_map")
        inputs = {next(iter(dtypes)): inputs}
    for name, dtype in dtypes.items():
        if name not in inputs:
            raise ServingError(f"Missing named input: {name} in 'inputs' object.")
        shape = _dense_shape(inputs[name])
        tensors[name].dtype = dtype
        for size in shape:
            tensors[name].tensor_shape.dim.add().size = size
        _fill(inputs[name], 0, shape, dtype, tensors[name])


# --------------------------------------------------------------------- TensorProto -> JSON
def _decimal(value, dtype):
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "-Infinity" if value < 0 else "Infinity"
    text = "%g" % value  # absl::StrCat: six significant digits
    if dtype(float(text)) != value:
        text = "%.*g" % (9 if dtype == np.float32 else 17, value)  # max_digits10
    if "." not in text and "e" not in text:
        text += ".0"
    return text


def _write(array, as_bytes):
    if isinstance(array, np.ndarray) and array.ndim > 0:
        return "[" + ",".join(_write(a, as_bytes) for a in array) + "]"
    value = array.item() if isinstance(array, np.ndarray) else array
    if isinstance(array, (np.floating, float)) or (isinstance(array, np.ndarray) and array.dtype.kind == "f"):
        return _decimal(value, array.dtype.type)
    if isinstance(value, bytes):
        if as_bytes:
            return json.dumps({"b64": base64.b64encode(value).decode("ascii")})
        return json.dumps(value.decode("utf-8"))
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return str(int(value))


def response_to_json(response, row_format):
    arrays = {k: tf.make_ndarray(v) for k, v in response.outputs.items()}
    as_bytes = {k: v.dtype == types_pb2.DT_STRING and k.endswith("_bytes") for k, v in response.outputs.items()}
    if not row_format:
        if len(arrays) == 1:
            (name, array), = arrays.items()
            return '{"outputs": ' + _write(array, as_bytes[name]) + "}"
        fields = (f"{json.dumps(k)}: {_write(a, as_bytes[k])}" for k, a in arrays.items())
        return '{"outputs": {' + ", ".join(fields) + "}}"
    batch = {a.shape[0] if a.ndim else None for a in arrays.values()}
    if None in batch or len(batch) != 1:
        raise ServingError(f"outputs have inconsistent or missing batch sizes: {sorted(map(str, batch))}")
    rows = []
    for i in range(batch.pop()):
        if len(arrays) == 1:
            (name, array), = arrays.items()
            rows.append(_write(array[i], as_bytes[name]))
        else:
            fields = (f"{json.dumps(k)}: {_write(a[i], as_bytes[k])}" for k, a in arrays.items())
            rows.append("{" + ", ".join(fields) + "}")
    return '{"predictions": [' + ", ".join(rows) + "]}"


# --------------------------------------------------------------------- gRPC
class _Servicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, server):
        self.server = server

    def Predict(self, request, context):  # noqa: N802 (the gRPC method name)
        try:
            return self.server.predict(request)
        except ServingError as e:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))


def serve_grpc(server):
    """Starts a PredictionService on a free localhost port; returns (grpc server, "127.0.0.1:PORT")."""
    grpc_server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(_Servicer(server), grpc_server)
    port = grpc_server.add_insecure_port("127.0.0.1:0")
    grpc_server.start()
    return grpc_server, f"127.0.0.1:{port}"
