#include "gateway/public_service.h"

#include <google/protobuf/descriptor.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>

namespace gemma3n {
namespace {

namespace pb = gemma3n::v1;
using grpc::internal::RpcMethod;
using grpc::internal::RpcMethodHandler;
using grpc::internal::RpcServiceMethod;
using grpc::internal::ServerStreamingHandler;

// The handler of one method; the template arguments name the request type
// itself (not MessageLite), so its parsing traits apply.
grpc::internal::MethodHandler* HandlerOf(const std::string& method, PublicGemmaService* service) {
  using S = PublicGemmaService;
  if (method == "Generate") {
    return new ServerStreamingHandler<S, pb::GenerateRequest, pb::GenerateResponse>(
        [](S* s, grpc::ServerContext* c, const pb::GenerateRequest* r, grpc::ServerWriter<pb::GenerateResponse>* w) {
          return s->Generate(c, r, w);
        },
        service);
  }
  if (method == "CountTokens") {
    return new RpcMethodHandler<S, pb::CountTokensRequest, pb::CountTokensResponse>(
        [](S* s, grpc::ServerContext* c, const pb::CountTokensRequest* r, pb::CountTokensResponse* out) {
          return s->CountTokens(c, r, out);
        },
        service);
  }
  if (method == "GetModelInfo") {
    return new RpcMethodHandler<S, pb::GetModelInfoRequest, pb::ModelInfo>(
        [](S* s, grpc::ServerContext* c, const pb::GetModelInfoRequest* r, pb::ModelInfo* out) {
          return s->GetModelInfo(c, r, out);
        },
        service);
  }
  if (method == "Transcribe") {
    return new RpcMethodHandler<S, pb::TranscribeRequest, pb::TranscribeResponse>(
        [](S* s, grpc::ServerContext* c, const pb::TranscribeRequest* r, pb::TranscribeResponse* out) {
          return s->Transcribe(c, r, out);
        },
        service);
  }
  return nullptr;
}

}  // namespace

PublicGemmaService::PublicGemmaService() {
  const google::protobuf::ServiceDescriptor* gemma =
      pb::GenerateRequest::descriptor()->file()->FindServiceByName("Gemma");
  for (int i = 0; gemma != nullptr && i < gemma->method_count(); ++i) {
    const google::protobuf::MethodDescriptor* method = gemma->method(i);
    grpc::internal::MethodHandler* handler = HandlerOf(method->name(), this);
    if (handler == nullptr) {
      std::fprintf(stderr, "gateway/public_service.cc has no handler for %s, declared in gemma.proto\n",
                   method->full_name().c_str());
      std::abort();
    }
    const RpcMethod::RpcType type = method->server_streaming() ? RpcMethod::SERVER_STREAMING : RpcMethod::NORMAL_RPC;
    // The path the generated stubs call: "/gemma3n.v1.Gemma/Generate"
    // (RpcServiceMethod keeps a pointer to it).
    const std::string& path = paths_.emplace_back("/" + gemma->full_name() + "/" + method->name());
    AddMethod(new RpcServiceMethod(path.c_str(), type, handler));
  }
}

}  // namespace gemma3n
