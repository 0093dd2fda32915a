#include "tests/integration/client.h"

#include <fstream>
#include <iterator>

#include "gtest/gtest.h"
#include "tests/support/golden.h"

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

pb::GenerateRequest MediaChat(MediaKind kind, const std::string& test_data_file, const std::string& question,
                              int max_new) {
  pb::GenerateRequest req;
  pb::Message* user = req.add_messages();
  user->set_role("user");
  pb::Media* media = kind == MediaKind::kImage ? user->add_parts()->mutable_image() : user->add_parts()->mutable_audio();
  media->set_data(ReadBytes(TestDataPath(test_data_file)));
  user->add_parts()->set_text(question);
  req.mutable_config()->set_max_new_tokens(max_new);
  return req;
}

std::vector<int> PromptIds(pb::Gemma::Stub& stub, const pb::GenerateRequest& req) {
  pb::CountTokensRequest count;
  *count.mutable_messages() = req.messages();
  count.set_prompt(req.prompt());
  count.set_return_token_ids(true);
  pb::CountTokensResponse counted;
  grpc::ClientContext ctx;
  const grpc::Status status = stub.CountTokens(&ctx, count, &counted);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(counted.token_count(), counted.token_ids_size());
  return {counted.token_ids().begin(), counted.token_ids().end()};
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace gemma3n::testing
