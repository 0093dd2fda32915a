// MatFormer through the API: a request names a size (GenerationConfig.profile)
// and gets that sub-model's reference greedy tokens, also when requests of
// different sizes run at the same time on one text worker; GetModelInfo lists
// the sizes the loaded model offers.
#include <thread>

#include "common/checkpoint/checkpoint.h"
#include "common/rpc/server.h"
#include "gemma3n/v1/gemma.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/process.h"
#include "tests/support/golden.h"
#include "text_worker/matformer/slicing_profile.h"

namespace gemma3n {
namespace {

namespace pb = gemma3n::v1;
using testing::ChildProcess;
using namespace std::chrono_literals;

struct Case {
  std::string name;
  std::vector<int> greedy;
};

TEST(MatFormerServingTest, EachRequestGetsItsSizesReferenceTokens) {
  const std::string model = testing::TestDataPath("matformer-tiny");
  auto cases = ReadJsonFile(model + "/cases.json");
  ASSERT_TRUE(cases.ok()) << cases.status();
  std::vector<Case> sizes;
  for (const auto& p : (*cases)["profiles"]) sizes.push_back({p["name"], p["greedy_generated_ids"]});
  const std::vector<int> prompt_ids = (*cases)["sequences"]["seq_chat"]["ids"];

  const std::string dir = testing::TempDir("matformer-serving");
  const std::string addr = "127.0.0.1:" + std::to_string(testing::FreeTcpPort());
  ChildProcess serve({testing::BinDir() + "/gemma3n", "serve", "--model", model, "--listen", addr, "--run-dir", dir,
                      "--profiles", model + "/configs.csv", "--threads", "1"},
                     dir + "/serve.log");
  auto stub = pb::Gemma::NewStub(MakeChannel(addr));

  pb::ModelInfo info;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        grpc::ClientContext ctx;
        return stub->GetModelInfo(&ctx, pb::GetModelInfoRequest(), &info).ok() && info.profiles_size() > 0;
      },
      30s))
      << serve.Log();
  for (const Case& c : sizes) {
    EXPECT_NE(std::find(info.profiles().begin(), info.profiles().end(), ProfileAlias(c.name)),
              info.profiles().end())
        << c.name;
  }

  auto request = [&](const std::string& profile) {
    pb::GenerateRequest req;
    pb::Message* user = req.add_messages();
    user->set_role("user");
    user->add_parts()->set_text("What is the capital of France?");
    req.mutable_config()->set_max_new_tokens(12);
    req.mutable_config()->set_ignore_eos(true);
    req.mutable_config()->set_profile(profile);
    return req;
  };
  {
    pb::CountTokensRequest count;
    *count.mutable_messages() = request("").messages();
    count.set_return_token_ids(true);
    pb::CountTokensResponse counted;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->CountTokens(&ctx, count, &counted).ok());
    EXPECT_EQ(std::vector<int>(counted.token_ids().begin(), counted.token_ids().end()), prompt_ids);
  }
  // Every size at once: the worker batches per size, each must be exact.
  std::vector<std::vector<int>> got(sizes.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < sizes.size(); ++i) {
    threads.emplace_back([&, i] {
      grpc::ClientContext ctx;
      auto reader = stub->Generate(&ctx, request(sizes[i].name));
      pb::GenerateResponse r;
      while (reader->Read(&r)) got[i].insert(got[i].end(), r.token_ids().begin(), r.token_ids().end());
      const grpc::Status s = reader->Finish();
      EXPECT_TRUE(s.ok()) << sizes[i].name << ": " << s.error_message();
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < sizes.size(); ++i) EXPECT_EQ(got[i], sizes[i].greedy) << sizes[i].name;
}

}  // namespace
}  // namespace gemma3n
