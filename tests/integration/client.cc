#include "tests/integration/client.h"

namespace gemma3n::testing {

namespace pb = gemma3n::v1;

Outcome Call(pb::Gemma::Stub& stub, const pb::GenerateRequest& req, std::chrono::milliseconds deadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + deadline);
  auto reader = stub.Generate(&ctx, req);
  Outcome o;
  pb::GenerateResponse r;
  while (reader->Read(&r)) {
    o.ids.insert(o.ids.end(), r.token_ids().begin(), r.token_ids().end());
    o.text += r.text();
    if (r.finish_reason() != pb::FINISH_REASON_UNSPECIFIED) {
      o.finish = r.finish_reason();
      o.usage = r.usage();
    }
  }
  o.status = reader->Finish();
  return o;
}

pb::GenerateRequest RawPrompt(const std::string& text, int max_new, bool ignore_eos) {
  pb::GenerateRequest req;
  req.set_prompt(text);
  req.mutable_config()->set_max_new_tokens(max_new);
  req.mutable_config()->set_ignore_eos(ignore_eos);
  return req;
}

}  // namespace gemma3n::testing
