// Arbitrary bytes as a gemma3n.v1.GenerateRequest (ParseFromArray, as gRPC
// parses what a client sends; bytes that do not parse are skipped) through
// the gateway's checks in Generate's order (gateway_checks.h: the real E2B
// config and tokenizer, media given encodings of the right shape).
#include "gemma3n/v1/gemma.pb.h"
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
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  (void)gemma3n::fuzz::CheckAsGateway(request);
  return 0;
}
