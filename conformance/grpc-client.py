#!/usr/bin/python3
"""A KServe v2 gRPC client written against the proto alone, with Debian's python3-grpcio: the stubs are generated
by python3-grpc-tools from the proto into a temporary folder at each run, so no code of the server is involved.

    grpc-client.py --proto inference.proto --target HOST:PORT --cases cases.json [--ca CA.pem] [--api-key KEY]

cases.json is a list of {"model", "form": "raw"|"typed", "id", "inputs": [{"name", "datatype", "shape", "values"}]}.
Prints one JSON object: each case's answer (outputs with name, datatype, shape and values, or the gRPC status),
the health check's status, the services reflection lists, and the stream's answers to every case sent on one stream.
With --ca the channel uses TLS trusting CA.pem; with --api-key every call carries "authorization: Bearer KEY"
(gRPC's access-token credentials), and "without_key" reports what a call without it got.
"""
import argparse, importlib, json, os, sys, tempfile

import grpc
import numpy as np
from grpc_tools import protoc

NUMPY = {"BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64,
         "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64, "FP16": np.float16,
         "FP32": np.float32, "FP64": np.float64}
TYPED = {"BOOL": "bool_contents", "UINT8": "uint_contents", "UINT16": "uint_contents", "UINT32": "uint_contents",
         "UINT64": "uint64_contents", "INT8": "int_contents", "INT16": "int_contents", "INT32": "int_contents",
         "INT64": "int64_contents", "FP32": "fp32_contents", "FP64": "fp64_contents"}


def stubs(proto):
    out = tempfile.mkdtemp(prefix="tessera-grpc-")
    folder, name = os.path.split(os.path.abspath(proto))
    if protoc.main(["protoc", "-I" + folder, "--python_out=" + out, "--grpc_python_out=" + out, name]) != 0:
        sys.exit("grpc-client: protoc failed on " + proto)
    sys.path.insert(0, out)
    module = os.path.splitext(name)[0]
    return importlib.import_module(module + "_pb2"), importlib.import_module(module + "_pb2_grpc")


def request(pb, case):
    r = pb.ModelInferRequest(model_name=case["model"], id=case.get("id", ""))
    for tensor in case["inputs"]:
        i = r.inputs.add(name=tensor["name"], datatype=tensor["datatype"], shape=tensor["shape"])
        values = np.array(tensor["values"], dtype=NUMPY[tensor["datatype"]])
        if case["form"] == "raw":
            r.raw_input_contents.append(values.astype(values.dtype.newbyteorder("<")).tobytes())
        else:
            getattr(i.contents, TYPED[tensor["datatype"]]).extend(values.tolist())
    return r


def outputs(response):
    result = []
    for k, o in enumerate(response.outputs):
        if response.raw_output_contents:
            values = np.frombuffer(response.raw_output_contents[k], dtype=np.dtype(NUMPY[o.datatype]).newbyteorder("<"))
        else:
            values = np.array(getattr(o.contents, TYPED[o.datatype]), dtype=NUMPY[o.datatype])
        result.append({"name": o.name, "datatype": o.datatype, "shape": list(o.shape), "values": values.tolist()})
    return result


def main():
    args = argparse.ArgumentParser()
    args.add_argument("--proto", required=True)
    args.add_argument("--target", required=True)
    args.add_argument("--cases", required=True)
    args.add_argument("--ca")
    args.add_argument("--api-key")
    a = args.parse_args()
    pb, rpc = stubs(a.proto)
    cases = json.load(open(a.cases))
    options = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]
    report = {}
    if a.ca:
        tls = grpc.ssl_channel_credentials(root_certificates=open(a.ca, "rb").read())
        if a.api_key:
            try:
                rpc.GRPCInferenceServiceStub(grpc.secure_channel(a.target, tls, options)).ServerLive(pb.ServerLiveRequest())
                report["without_key"] = "OK"
            except grpc.RpcError as e:
                report["without_key"] = e.code().name
            tls = grpc.composite_channel_credentials(tls, grpc.access_token_call_credentials(a.api_key))
        channel = grpc.secure_channel(a.target, tls, options)
    else:
        channel = grpc.insecure_channel(a.target, options)
    stub = rpc.GRPCInferenceServiceStub(channel)
    report |= {"live": stub.ServerLive(pb.ServerLiveRequest()).live,
              "metadata": stub.ModelMetadata(pb.ModelMetadataRequest(name=cases[0]["model"])).name, "answers": []}
    for case in cases:
        try:
            report["answers"].append({"id": case.get("id", ""), "outputs": outputs(stub.ModelInfer(request(pb, case)))})
        except grpc.RpcError as e:
            report["answers"].append({"id": case.get("id", ""), "status": e.code().name, "detail": e.details()})

    streamed = stub.ModelStreamInfer(iter([request(pb, c) for c in cases]))
    report["stream"] = sorted(({"id": s.infer_response.id, "error": s.error_message} for s in streamed), key=lambda s: s["id"])

    # grpc.health.v1.Health/Check with an empty HealthCheckRequest; the answer's field 1 is the status (1: SERVING).
    check = channel.unary_unary("/grpc.health.v1.Health/Check", request_serializer=lambda b: b, response_deserializer=lambda b: b)
    report["health"] = list(check(b""))
    # grpc.reflection.v1alpha: a request with list_services (field 7) set; the answer names the services.
    reflect = channel.stream_stream("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                    request_serializer=lambda b: b, response_deserializer=lambda b: b)
    report["reflection"] = [bytes(r).decode("latin-1") for r in reflect(iter([b"\x3a\x00"]))]
    print(json.dumps(report))


if __name__ == "__main__":
    main()
