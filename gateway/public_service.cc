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

// A unary method's handler; the template arguments name the request type
// itself (not MessageLite), so its parsing traits apply.
template <class Request, class Response,
          grpc::Status (PublicGemmaService::*kMethod)(grpc::ServerContext*, const Request*, Response*)>
grpc::internal::MethodHandler* Unary(PublicGemmaService* service) {
  return new RpcMethodHandler<PublicGemmaService, Request, Response>(
      [](PublicGemmaService* s, grpc::ServerContext* c, const Request* r, Response* out) {
        return (s->*kMethod)(c, r, out);
      },
      service);
}

// The handler of the method called `method` in gemma.proto; null if none.
grpc::internal::MethodHandler* HandlerOf(const std::string& method, PublicGemmaService* service) {
  using S = PublicGemmaService;
  if (method == "Generate") {
    return new ServerStreamingHandler<S, pb::GenerateRequest, pb::GenerateResponse>(
        [](S* s, grpc::ServerContext* c, const pb::GenerateRequest* r, grpc::ServerWriter<pb::GenerateResponse>* w) {
          return s->Generate(c, r, w);
        },
        service);
  }
  if (method == "CountTokens") return Unary<pb::CountTokensRequest, pb::CountTokensResponse, &S::CountTokens>(service);
  if (method == "GetModelInfo") return Unary<pb::GetModelInfoRequest, pb::ModelInfo, &S::GetModelInfo>(service);
  if (method == "Transcribe") return Unary<pb::TranscribeRequest, pb::TranscribeResponse, &S::Transcribe>(service);
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
