// The server side of gemma3n.v1.Gemma, registered by hand instead of by the
// generated Gemma::Service: its unary handlers parse every request as a bare
// protobuf::MessageLite, which bypasses our parsing traits
// (proto/public_request_traits.h), so invalid UTF-8 in a CountTokens or
// Transcribe request would be INTERNAL with an empty message. Here every
// handler parses the request as its own type: a client learns which field
// was bad (INVALID_ARGUMENT). Clients keep using the generated Gemma::Stub.
#pragma once

#include <grpcpp/grpcpp.h>

#include <deque>
#include <string>

#include "gemma3n/v1/gemma.grpc.pb.h"

namespace gemma3n {

class PublicGemmaService : public grpc::Service {
 public:
  // Registers every method of gemma.proto's service Gemma (taken from its
  // descriptor, so the paths are the generated stubs'); a method there
  // without a handler here is a programming error, reported at startup.
  PublicGemmaService();

  virtual grpc::Status Generate(grpc::ServerContext* context, const gemma3n::v1::GenerateRequest* request,
                                grpc::ServerWriter<gemma3n::v1::GenerateResponse>* writer) = 0;
  virtual grpc::Status CountTokens(grpc::ServerContext* context, const gemma3n::v1::CountTokensRequest* request,
                                   gemma3n::v1::CountTokensResponse* response) = 0;
  virtual grpc::Status GetModelInfo(grpc::ServerContext* context, const gemma3n::v1::GetModelInfoRequest* request,
                                    gemma3n::v1::ModelInfo* info) = 0;
  virtual grpc::Status Transcribe(grpc::ServerContext* context, const gemma3n::v1::TranscribeRequest* request,
                                  gemma3n::v1::TranscribeResponse* response) = 0;

 private:
  std::deque<std::string> paths_;  // the methods' names, kept where gRPC points
};

}  // namespace gemma3n
