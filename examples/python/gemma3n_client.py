#!/usr/bin/python3
"""A streaming Python client of gemma3n-grpc's public API (gemma3n.v1.Gemma).

The Python stubs are generated from proto/gemma3n/v1/gemma.proto at start with
protoc and grpc_python_plugin (Debian: protobuf-compiler protobuf-compiler-grpc,
python3-grpcio), into a temporary directory, so nothing generated is kept in
the source tree. (python3-grpc-tools bundles protoc 3.5, which predates the
proto3 `optional` fields the API uses.)

  python3 examples/python/gemma3n_client.py --addr 127.0.0.1:50051 --prompt "Hello"
  python3 examples/python/gemma3n_client.py --prompt "Describe it." --image cat.jpg
"""
import argparse
import importlib
import os
import shutil
import subprocess
import sys
import tempfile

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_ROOT = os.path.join(HERE, "..", "..", "proto")


def load_stubs():
    """Compiles gemma.proto and returns the (messages, services) modules."""
    out = tempfile.mkdtemp(prefix="gemma3n-py-")
    protoc, plugin = shutil.which("protoc"), shutil.which("grpc_python_plugin")
    if not protoc or not plugin:
        sys.exit("gemma3n_client: needs protoc and grpc_python_plugin "
                 "(apt-get install protobuf-compiler protobuf-compiler-grpc)")
    args = [protoc, f"-I{PROTO_ROOT}", f"--python_out={out}", f"--grpc_python_out={out}",
            f"--plugin=protoc-gen-grpc_python={plugin}", "gemma3n/v1/gemma.proto"]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit("gemma3n_client: cannot compile gemma.proto: " + done.stderr.strip())
    sys.path.insert(0, out)
    return (importlib.import_module("gemma3n.v1.gemma_pb2"),
            importlib.import_module("gemma3n.v1.gemma_pb2_grpc"))


def check_server(channel, timeout):
    """The standard health check and server reflection, with raw protobuf
    bytes, so no generated code of those services is needed: the proof that
    any gRPC tool (grpcurl, grpc_health_probe) can talk to the gateway."""
    check = channel.unary_unary("/grpc.health.v1.Health/Check")
    status = check(b"", timeout=timeout)  # HealthCheckRequest{service: ""}
    if status != b"\x08\x01":  # HealthCheckResponse{status: SERVING}
        sys.exit(f"gemma3n_client: health check answered {status!r}, not SERVING")
    info = channel.stream_stream("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
    replies = b"".join(info(iter([b"\x3a\x00"]), timeout=timeout))  # list_services: ""
    services = [s for s in (b"gemma3n.v1.Gemma", b"grpc.health.v1.Health") if s in replies]
    print("health: SERVING; reflection lists " + ", ".join(s.decode() for s in services))
    if len(services) != 2:
        sys.exit("gemma3n_client: reflection does not list gemma3n.v1.Gemma")


def build_request(pb, args):
    # Only the values given are sent: an unset field takes the server's default.
    given = {k: getattr(args, k) for k in ("max_new_tokens", "temperature", "top_k", "top_p", "min_p", "seed")
             if getattr(args, k) is not None}
    config = pb.GenerationConfig(stop=args.stop, ignore_eos=args.ignore_eos, **given)
    if args.raw:
        return pb.GenerateRequest(prompt=args.prompt, config=config)
    parts = []
    for path in args.image:
        with open(path, "rb") as f:
            parts.append(pb.Part(image=pb.Media(data=f.read())))
    for path in args.audio:
        with open(path, "rb") as f:
            parts.append(pb.Part(audio=pb.Media(data=f.read())))
    parts.append(pb.Part(text=args.prompt))
    return pb.GenerateRequest(messages=[pb.Message(role="user", parts=parts)], config=config)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--addr", default="127.0.0.1:50051")
    p.add_argument("--prompt")
    p.add_argument("--check", action="store_true", help="check health and reflection, then exit")
    p.add_argument("--raw", action="store_true", help="send as a raw prompt, no chat template")
    p.add_argument("--image", action="append", default=[])
    p.add_argument("--audio", action="append", default=[])
    p.add_argument("--max-new-tokens", type=int, default=128)
    # Unset sampling flags are not sent: greedy unless one is given.
    p.add_argument("--temperature", type=float)
    p.add_argument("--top-k", type=int)
    p.add_argument("--top-p", type=float)
    p.add_argument("--min-p", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--stop", action="append", default=[])
    p.add_argument("--ignore-eos", action="store_true")
    p.add_argument("--timeout", type=float, default=300.0)
    args = p.parse_args()

    options = [("grpc.max_send_message_length", 64 << 20), ("grpc.max_receive_message_length", 64 << 20)]
    if args.check:
        with grpc.insecure_channel(args.addr, options=options) as channel:
            check_server(channel, args.timeout)
        return
    if args.prompt is None:
        p.error("--prompt is required")
    pb, services = load_stubs()
    with grpc.insecure_channel(args.addr, options=options) as channel:
        stub = services.GemmaStub(channel)
        try:
            for response in stub.Generate(build_request(pb, args), timeout=args.timeout):
                sys.stdout.write(response.text)
                sys.stdout.flush()
                if response.finish_reason:
                    u = response.usage
                    sys.stdout.write("\n")
                    print(f"[{pb.FinishReason.Name(response.finish_reason)}: prompt {u.prompt_tokens} tokens, "
                          f"generated {u.generated_tokens}, first token {u.time_to_first_token_seconds:.3f} s, "
                          f"{u.decode_tokens_per_second:.1f} tokens/s]", file=sys.stderr)
        except grpc.RpcError as e:
            sys.exit(f"gemma3n_client: {e.code().name}: {e.details()}")


if __name__ == "__main__":
    main()
