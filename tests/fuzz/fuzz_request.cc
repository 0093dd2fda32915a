// Arbitrary bytes as a gemma3n.v1.GenerateRequest, parsed as the gateway's
// gRPC server parses what a client sends (the public API's parsing traits,
// proto/public_request_traits.h: bytes that do not parse must be
// INVALID_ARGUMENT with a message, never INTERNAL), then through the
// gateway's checks in Generate's order (gateway_checks.h: the real E2B
// config and tokenizer, media given encodings of the right shape).
#include <cstdio>
#include <cstdlib>

#include "gemma3n/v1/gemma.grpc.pb.h"
#include "google/protobuf/stubs/logging.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/gateway_checks.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Not a line per input with invalid UTF-8 in a string field (the parse fails; that is the test).
  google::protobuf::SetLogHandler(nullptr);
  gemma3n::fuzz::LoadGateway();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gemma3n::v1::GenerateRequest request;
  grpc::Slice slice(data, size);
  grpc::ByteBuffer wire(&slice, 1);
  const grpc::Status parsed = grpc::SerializationTraits<gemma3n::v1::GenerateRequest>::Deserialize(&wire, &request);
  if (!parsed.ok()) {
    if (parsed.error_code() != grpc::StatusCode::INVALID_ARGUMENT || parsed.error_message().empty()) {
      std::fprintf(stderr, "a refused parse must be INVALID_ARGUMENT with a message: %d %s\n",
                   static_cast<int>(parsed.error_code()), parsed.error_message().c_str());
      std::abort();
    }
    return 0;
  }
  (void)gemma3n::fuzz::CheckAsGateway(request);
  return 0;
}
