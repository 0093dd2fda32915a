// `gemma3n pull` against the fake hub (a local server, no network): the
// files land in huggingface_hub's cache layout with the source's bytes, a cut
// connection resumes with a Range request, a corrupt byte is caught and
// fetched again, gated and missing repos say what to do, tokens are sent,
// a second pull downloads nothing, and `gemma3n serve --model REPO` comes up
// from that cache with the hub gone.
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/escaping.h"
#include "common/rpc/server.h"
#include "gemma3n/v1/gemma.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/hub/fake_hub.h"
#include "tests/integration/client.h"
#include "tests/integration/process.h"

namespace gemma3n {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::FakeHub;
using testing::HubRequest;
using namespace std::chrono_literals;

constexpr char kModelFile[] = "model.safetensors";
const std::set<std::string> kPulledFiles = {"config.json", "model.safetensors", "preprocessor_config.json",
                                            "tokenizer.model"};

std::string SourceDir() { return std::string(GEMMA3N_TEST_DATA_DIR) + "/gemma3n-tiny"; }

std::string Digest(const EVP_MD* md, const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &n, md, nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), n));
}

// The blob name the hub gives a file: LFS files by sha256, the rest by git blob sha1.
std::string ExpectedEtag(const std::string& name, const std::string& bytes) {
  const bool lfs = name.size() > 12 && (name.rfind(".safetensors") == name.size() - 12 || name == "tokenizer.model");
  if (lfs) return Digest(EVP_sha256(), bytes);
  return Digest(EVP_sha1(), "blob " + std::to_string(bytes.size()) + std::string(1, '\0') + bytes);
}

struct Finished {
  int exit_code = -1;
  std::string output;
};

class PullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir("pull");
    home_ = dir_ + "/hf-home";
    setenv("HF_HOME", home_.c_str(), 1);
    for (const char* v : {"HF_HUB_CACHE", "HF_TOKEN", "HF_TOKEN_PATH", "HF_ENDPOINT"}) unsetenv(v);
  }

  void StartHub(const std::vector<std::string>& faults = {}) { hub_ = std::make_unique<FakeHub>(dir_, faults); }

  // Runs build/bin/gemma3n with `args` to its end.
  Finished Gemma3n(std::vector<std::string> args) {
    args.insert(args.begin(), testing::BinDir() + "/gemma3n");
    const std::string log = dir_ + "/run-" + std::to_string(runs_++) + ".log";
    ChildProcess child(args, log);
    const int status = child.Wait(120s);
    Finished run{status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1, child.Log()};
    if (HasFailure() || run.exit_code < 0) std::fprintf(stderr, "---- %s ----\n%s\n", log.c_str(), run.output.c_str());
    return run;
  }
  Finished Pull(const std::string& repo = FakeHub::kRepo) { return Gemma3n({"pull", repo, "--endpoint", hub_->endpoint()}); }

  std::string RepoDir() const { return home_ + "/hub/models--test-org--gemma3n-tiny"; }
  std::string Commit() const {
    std::ifstream in(RepoDir() + "/refs/main");
    std::string commit;
    in >> commit;
    return commit;
  }
  static std::string Bytes(const std::string& path) { return testing::ReadBytes(path); }

  // Every pulled file is a relative link ../../blobs/<etag> to the source's bytes.
  void ExpectCompleteSnapshot() {
    const std::string snapshot = RepoDir() + "/snapshots/" + Commit();
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(snapshot)) names.insert(entry.path().filename().string());
    EXPECT_EQ(names, kPulledFiles);
    for (const std::string& name : kPulledFiles) {
      const std::string link = snapshot + "/" + name;
      const std::string source = Bytes(SourceDir() + "/" + name);
      ASSERT_TRUE(fs::is_symlink(link)) << link;
      EXPECT_EQ(fs::read_symlink(link).string(), "../../blobs/" + ExpectedEtag(name, source)) << name;
      EXPECT_TRUE(Bytes(link) == source) << name << " differs from the source";
    }
    std::set<std::string> blobs;
    for (const auto& entry : fs::directory_iterator(RepoDir() + "/blobs")) blobs.insert(entry.path().filename().string());
    EXPECT_EQ(blobs.size(), kPulledFiles.size()) << "a leftover .incomplete or an extra blob";
  }

  // A pull that must succeed and leave the whole snapshot.
  Finished PullCompletely() {
    Finished run = Pull();
    EXPECT_EQ(run.exit_code, 0) << run.output;
    if (run.exit_code == 0) ExpectCompleteSnapshot();
    return run;
  }

  // What a killed pull leaves, the first 1000 bytes in blobs/<etag>.incomplete,
  // then a pull: it asks for the rest and ends with the whole file.
  void PullOverAPartialFile() {
    const std::string source = Bytes(SourceDir() + "/" + kModelFile);
    fs::create_directories(RepoDir() + "/blobs");
    std::ofstream(RepoDir() + "/blobs/" + ExpectedEtag(kModelFile, source) + ".incomplete", std::ios::binary)
        << source.substr(0, 1000);
    PullCompletely();
    const std::vector<HubRequest> gets = DownloadsOf(kModelFile);
    ASSERT_EQ(gets.size(), 1u);
    EXPECT_EQ(gets[0].range, "bytes=1000-");
  }

  std::vector<HubRequest> DownloadsOf(const std::string& name) const {
    const std::string etag = ExpectedEtag(name, Bytes(SourceDir() + "/" + name));
    std::vector<HubRequest> out;
    for (const HubRequest& r : hub_->Downloads()) {
      const bool by_name = r.path.size() > name.size() && r.path.substr(r.path.size() - name.size() - 1) == "/" + name;
      if (r.path == "/cdn/" + etag || by_name) {
        out.push_back(r);
      }
    }
    return out;
  }

  std::string dir_, home_;
  std::unique_ptr<FakeHub> hub_;
  int runs_ = 0;
};

TEST_F(PullTest, PullsTheCheckpointIntoHuggingfaceHubsCacheLayout) {
  StartHub();
  const Finished run = PullCompletely();
  ASSERT_EQ(Commit().size(), 40u);
  std::set<std::string> snapshots;
  for (const auto& entry : fs::directory_iterator(RepoDir() + "/snapshots")) snapshots.insert(entry.path().filename().string());
  EXPECT_EQ(snapshots, std::set<std::string>{Commit()});
  // Only what a checkpoint needs: README.md and .gitattributes are not fetched.
  for (const HubRequest& r : hub_->Requests()) EXPECT_EQ(r.path.find("README"), std::string::npos) << r.path;
  EXPECT_NE(run.output.find("serve it: gemma3n serve --model test-org/gemma3n-tiny"), std::string::npos) << run.output;
}

// A sharded checkpoint: config.json, the index and the shards it names (the
// bytes need not be safetensors: pull does not read them).
std::string WriteShardedRepo(const std::string& dir, const std::string& index_json) {
  fs::create_directories(dir);
  std::ofstream(dir + "/config.json") << R"({"model_type": "gemma3n"})";
  std::ofstream(dir + "/model.safetensors.index.json") << index_json;
  std::ofstream(dir + "/model-00001-of-00002.safetensors", std::ios::binary) << std::string(3000, 'a');
  std::ofstream(dir + "/model-00002-of-00002.safetensors", std::ios::binary) << std::string(5000, 'b');
  std::ofstream(dir + "/onnx.safetensors", std::ios::binary) << "not named by the index";
  std::ofstream(dir + "/generation_config.json");  // empty: a blob of 0 bytes is a file too
  return dir;
}

TEST_F(PullTest, AShardedCheckpointBringsEveryShardTheIndexNames) {
  const std::string source = WriteShardedRepo(dir_ + "/sharded", R"({"metadata": {}, "weight_map": {
      "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors",
      "c": "model-00001-of-00002.safetensors"}})");
  hub_ = std::make_unique<FakeHub>(dir_, std::vector<std::string>{}, std::vector<std::string>{"test-org/sharded=" + source});
  const Finished run = Pull("test-org/sharded");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string repo_dir = home_ + "/hub/models--test-org--sharded";
  std::string commit;
  std::ifstream(repo_dir + "/refs/main") >> commit;
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(repo_dir + "/snapshots/" + commit)) {
    names.insert(entry.path().filename().string());
    EXPECT_TRUE(Bytes(entry.path().string()) == Bytes(source + "/" + entry.path().filename().string()))
        << entry.path();
  }
  EXPECT_EQ(names, (std::set<std::string>{"config.json", "generation_config.json", "model.safetensors.index.json",
                                          "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}));
}

TEST_F(PullTest, AnIndexNamingAPathOutsideTheSnapshotIsRefused) {
  const std::string source = WriteShardedRepo(dir_ + "/evil", R"({"weight_map": {
      "a": "model-00001-of-00002.safetensors", "b": "../../../../escaped.safetensors"}})");
  // A hostile hub lists the name too, so only the name checks stand in the way.
  hub_ = std::make_unique<FakeHub>(dir_, std::vector<std::string>{"--extra-sibling", "../../../../escaped.safetensors"},
                                   std::vector<std::string>{"test-org/evil=" + source});
  const Finished run = Pull("test-org/evil");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("../../../../escaped.safetensors"), std::string::npos) << run.output;
  for (const HubRequest& r : hub_->Requests()) EXPECT_EQ(r.path.find("escaped"), std::string::npos) << r.path;
  EXPECT_FALSE(fs::exists(home_ + "/escaped.safetensors"));
  EXPECT_FALSE(fs::exists(home_ + "/hub/models--test-org--evil/refs/main"));
}

TEST_F(PullTest, ACutConnectionResumesWithARangeRequest) {
  StartHub({"--cut-once", kModelFile});
  PullCompletely();
  const std::vector<HubRequest> gets = DownloadsOf(kModelFile);
  ASSERT_EQ(gets.size(), 2u);
  EXPECT_EQ(gets[0].range, "");
  const int64_t half = static_cast<int64_t>(fs::file_size(SourceDir() + "/" + kModelFile)) / 2;
  EXPECT_EQ(gets[1].range, "bytes=" + std::to_string(half) + "-");
}

TEST_F(PullTest, AnInterruptedPullResumesFromTheIncompleteFile) {
  StartHub();
  PullOverAPartialFile();
}

TEST_F(PullTest, AServerIgnoringTheRangeRestartsTheFileCleanly) {
  StartHub({"--ignore-range"});  // answers the Range request with all of the file
  PullOverAPartialFile();
}

TEST_F(PullTest, ACorruptByteIsCaughtAndTheFileFetchedAgain) {
  StartHub({"--corrupt-once", kModelFile});
  const Finished run = PullCompletely();
  const std::vector<HubRequest> gets = DownloadsOf(kModelFile);
  ASSERT_EQ(gets.size(), 2u);
  EXPECT_EQ(gets[1].range, "") << "a corrupt file is fetched whole again, not resumed";
  EXPECT_NE(run.output.find("sha256"), std::string::npos) << run.output;
}

TEST_F(PullTest, AFileCorruptEveryTimeIsAnErrorAndLeavesNoBlob) {
  StartHub({"--corrupt-always", kModelFile});
  const Finished run = Pull();
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("model.safetensors does not have the sha256"), std::string::npos) << run.output;
  EXPECT_EQ(DownloadsOf(kModelFile).size(), 2u);
  const std::string blob = RepoDir() + "/blobs/" + ExpectedEtag(kModelFile, Bytes(SourceDir() + "/" + kModelFile));
  EXPECT_FALSE(fs::exists(blob));
  EXPECT_FALSE(fs::exists(blob + ".incomplete"));
  EXPECT_FALSE(fs::exists(RepoDir() + "/refs/main")) << "an incomplete snapshot must not resolve";
}

TEST_F(PullTest, ABlobAnotherDownloadHoldsIsWaitedFor) {
  StartHub();
  // huggingface_hub's lock for the blob (its FileLock is an flock on this file).
  const std::string etag = ExpectedEtag(kModelFile, Bytes(SourceDir() + "/" + kModelFile));
  const std::string lock_path = home_ + "/hub/.locks/models--test-org--gemma3n-tiny/" + etag + ".lock";
  fs::create_directories(fs::path(lock_path).parent_path());
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);  // not inherited by the pull
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  const std::string log = dir_ + "/locked-pull.log";
  ChildProcess pull({testing::BinDir() + "/gemma3n", "pull", FakeHub::kRepo, "--endpoint", hub_->endpoint()}, log);
  EXPECT_TRUE(testing::WaitUntil([&] { return pull.Log().find("waiting for it") != std::string::npos; }, 60s))
      << pull.Log();
  EXPECT_TRUE(DownloadsOf(kModelFile).empty()) << "downloaded while the lock was held";
  ::close(fd);  // the other download is done
  const int status = pull.Wait(60s);
  ASSERT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << pull.Log();
  ExpectCompleteSnapshot();
}

TEST_F(PullTest, AServerErrorIsRetried) {
  StartHub({"--fail-500-once"});
  PullCompletely();
  int api_calls = 0;
  for (const HubRequest& r : hub_->Requests()) api_calls += r.path.rfind("/api/models/", 0) == 0;
  EXPECT_EQ(api_calls, 2);
}

TEST_F(PullTest, AGatedRepoWithoutATokenNamesTheLicencePageAndTheToken) {
  StartHub({"--require-token", "hf_secret"});
  const Finished run = Pull();
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("accept the licence on " + hub_->endpoint() + "/test-org/gemma3n-tiny"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("HF_TOKEN"), std::string::npos) << run.output;
  const Finished wrong = Gemma3n({"pull", FakeHub::kRepo, "--endpoint", hub_->endpoint(), "--token", "hf_wrong"});
  EXPECT_EQ(wrong.exit_code, 2) << wrong.output;
  EXPECT_NE(wrong.output.find("HTTP 403"), std::string::npos) << wrong.output;
}

TEST_F(PullTest, HfTokenIsSentToTheHub) {
  StartHub({"--require-token", "hf_secret"});
  setenv("HF_TOKEN", "hf_secret", 1);
  PullCompletely();
  for (const HubRequest& r : hub_->Requests()) EXPECT_EQ(r.auth, "Bearer hf_secret") << r.path;
}

TEST_F(PullTest, TheTokenFileOfTheHuggingFaceCliIsUsed) {
  StartHub({"--require-token", "hf_from_file"});
  fs::create_directories(home_);
  std::ofstream(home_ + "/token") << "hf_from_file\n";
  PullCompletely();
}

TEST_F(PullTest, AnUnknownRepoNamesTheRepoAndTheRevision) {
  StartHub();
  const Finished run = Pull("test-org/no-such-model");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("test-org/no-such-model at revision main is not on"), std::string::npos) << run.output;
  const Finished revision = Gemma3n({"pull", std::string(FakeHub::kRepo) + "@v9", "--endpoint", hub_->endpoint()});
  EXPECT_EQ(revision.exit_code, 2) << revision.output;
  EXPECT_NE(revision.output.find("test-org/gemma3n-tiny at revision v9"), std::string::npos) << revision.output;
  const Finished flag = Gemma3n({"pull", FakeHub::kRepo, "--endpoint", hub_->endpoint(), "--revision", "v9"});
  EXPECT_NE(flag.output.find("test-org/gemma3n-tiny at revision v9"), std::string::npos) << flag.output;
  const Finished bad_id = Gemma3n({"pull", "../etc", "--endpoint", hub_->endpoint()});
  EXPECT_EQ(bad_id.exit_code, 2) << bad_id.output;
  EXPECT_EQ(hub_->Requests().size(), 3u) << "a bad repo id never reaches the hub";
}

TEST_F(PullTest, ASecondPullDownloadsNothing) {
  StartHub();
  ASSERT_EQ(Pull().exit_code, 0);
  const size_t downloads = hub_->Downloads().size();
  EXPECT_EQ(downloads, kPulledFiles.size());
  setenv("HF_ENDPOINT", hub_->endpoint().c_str(), 1);  // the mirror variable instead of --endpoint
  const Finished again = Gemma3n({"pull", FakeHub::kRepo});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(hub_->Downloads().size(), downloads);
  EXPECT_NE(again.output.find("0 downloaded now"), std::string::npos) << again.output;
  ExpectCompleteSnapshot();
}

TEST_F(PullTest, ServeRunsAPulledRepoFromTheCacheWithTheHubGone) {
  StartHub();
  ASSERT_EQ(Pull().exit_code, 0);
  hub_->Stop();
  const std::string addr = "127.0.0.1:" + std::to_string(testing::FreeTcpPort());
  ChildProcess serve({testing::BinDir() + "/gemma3n", "serve", "--model", FakeHub::kRepo, "--listen", addr,
                      "--run-dir", dir_ + "/run", "--threads", "1", "--max-sequences", "2"},
                     dir_ + "/serve.log");
  auto stub = v1::Gemma::NewStub(MakeChannel(addr));
  testing::Outcome reply;
  const bool answered = testing::WaitUntil(
      [&] {
        reply = testing::Call(*stub, testing::RawPrompt("hi", 2, /*ignore_eos=*/true));
        return reply.status.ok();
      },
      60s);
  ASSERT_TRUE(answered) << serve.Log();
  EXPECT_EQ(reply.ids.size(), 2u);
  EXPECT_NE(serve.Log().find("snapshots/" + Commit()), std::string::npos) << serve.Log();
}

TEST_F(PullTest, AModelNotInTheCacheSaysToPullItAndExitsWith2) {
  const Finished serve = Gemma3n({"serve", "--model", "test-org/not-pulled", "--listen", "127.0.0.1:1"});
  EXPECT_EQ(serve.exit_code, 2) << serve.output;
  EXPECT_NE(serve.output.find("run: gemma3n pull test-org/not-pulled"), std::string::npos) << serve.output;
}

TEST_F(PullTest, TheToolsTakeARepoIdToo) {
  StartHub();
  ASSERT_EQ(Pull().exit_code, 0);
  const std::string log = dir_ + "/inspect.log";
  ChildProcess inspect({testing::BinDir() + "/gemma3n-inspect", "tokenize", "--model", FakeHub::kRepo, "--text", "Hello"},
                       log);
  const int status = inspect.Wait(60s);
  ASSERT_TRUE(status >= 0 && WIFEXITED(status)) << inspect.Log();
  EXPECT_EQ(WEXITSTATUS(status), 0) << inspect.Log();
  EXPECT_NE(inspect.Log().find(','), std::string::npos) << inspect.Log();  // a list of ids
}

}  // namespace
}  // namespace gemma3n
