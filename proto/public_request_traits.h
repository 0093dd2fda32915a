// How the public API's gRPC stubs turn request bytes into messages. gRPC's
// own protobuf traits answer a failed parse with INTERNAL and an empty
// message, and proto3 refuses invalid UTF-8 in a string field that way, so a
// client that sends a bad byte in a prompt would learn nothing. These traits
// parse the same way and, when that fails, say why: INVALID_ARGUMENT naming
// the field ("messages[0].parts[1].text is not valid UTF-8"), or that the
// bytes are not the request message at all.
//
// Included by the generated gemma.grpc.pb.h (grpc_cpp_plugin's
// additional_header_includes, proto/CMakeLists.txt), so every stub and
// handler of gemma3n.v1 sees these specializations before it uses them.
#pragma once

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include "gemma3n/v1/gemma.pb.h"

namespace gemma3n::rpc {

// Explains a parse of `wire` as `type` that protobuf refused: the first
// string field (depth first, in wire order) that is not valid UTF-8, as a
// path like "config.stop[2]", else that the bytes are malformed.
grpc::Status ExplainParseFailure(const grpc::ByteBuffer& wire, const google::protobuf::Descriptor& type);

template <class Request>
struct PublicRequestTraits {
  static grpc::Status Serialize(const grpc::protobuf::MessageLite& msg, grpc::ByteBuffer* bb, bool* own_buffer) {
    return grpc::GenericSerialize<grpc::ProtoBufferWriter, Request>(msg, bb, own_buffer);
  }
  static grpc::Status Deserialize(grpc::ByteBuffer* buffer, grpc::protobuf::MessageLite* msg) {
    if (buffer == nullptr) return grpc::GenericDeserialize<grpc::ProtoBufferReader, Request>(buffer, msg);
    const grpc::ByteBuffer kept(*buffer);  // shares the slices; the parse clears `buffer`
    grpc::Status parsed = grpc::GenericDeserialize<grpc::ProtoBufferReader, Request>(buffer, msg);
    if (parsed.ok()) return parsed;
    return ExplainParseFailure(kept, *Request::descriptor());
  }
};

}  // namespace gemma3n::rpc

namespace grpc {

// The requests of gemma3n.v1.Gemma (each a full specialization, so it wins
// over gRPC's partial one for every protobuf message).
template <>
class SerializationTraits<gemma3n::v1::GenerateRequest, void>
    : public gemma3n::rpc::PublicRequestTraits<gemma3n::v1::GenerateRequest> {};
template <>
class SerializationTraits<gemma3n::v1::CountTokensRequest, void>
    : public gemma3n::rpc::PublicRequestTraits<gemma3n::v1::CountTokensRequest> {};
template <>
class SerializationTraits<gemma3n::v1::TranscribeRequest, void>
    : public gemma3n::rpc::PublicRequestTraits<gemma3n::v1::TranscribeRequest> {};
template <>
class SerializationTraits<gemma3n::v1::GetModelInfoRequest, void>
    : public gemma3n::rpc::PublicRequestTraits<gemma3n::v1::GetModelInfoRequest> {};

}  // namespace grpc
