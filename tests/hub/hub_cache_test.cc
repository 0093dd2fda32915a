// Repo ids, revisions and file names from the user and the hub are checked
// before they reach a path; --model resolves through the cache's refs and
// snapshots offline, and says how to fill the cache when it cannot.
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "common/hub/hub_cache.h"
#include "common/hub/repo_id.h"
#include "gtest/gtest.h"
#include "tests/integration/process.h"

namespace gemma3n::hub {
namespace {

namespace fs = std::filesystem;
constexpr char kCommit[] = "0123456789abcdef0123456789abcdef01234567";
constexpr char kOtherCommit[] = "89abcdef0123456789abcdef0123456789abcdef";
constexpr char kSha256[] = "730d6e65824fad36b7a20c3301c8a0abb8bdc1b8435f1f1f4ceaf8df69ba9ad8";

TEST(RepoIdTest, AcceptsHubRepoIds) {
  EXPECT_TRUE(ValidateRepoId("google/gemma-3n-E2B-it").ok());
  EXPECT_TRUE(ValidateRepoId("some_user/model.v2").ok());
}

TEST(RepoIdTest, RefusesWhatIsNotOrgSlashName) {
  for (const char* bad : {"gemma-3n", "google/", "/gemma", "a/b/c", "google/../etc", "../x", "a/..", "google/gem ma",
                          "google/-x", "google/x.", "go--ogle/x", "google/x\n", ""}) {
    EXPECT_FALSE(ValidateRepoId(bad).ok()) << bad;
  }
}

TEST(RepoIdTest, ParsesAnOptionalRevision) {
  absl::StatusOr<ModelRef> plain = ParseModelRef("google/gemma-3n-E2B-it");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->repo, "google/gemma-3n-E2B-it");
  EXPECT_EQ(plain->revision, "main");
  absl::StatusOr<ModelRef> pinned = ParseModelRef(std::string("google/gemma-3n-E2B-it@") + kCommit);
  ASSERT_TRUE(pinned.ok()) << pinned.status();
  EXPECT_EQ(pinned->revision, kCommit);
  absl::StatusOr<ModelRef> pr = ParseModelRef("org/name@refs/pr/1");
  ASSERT_TRUE(pr.ok()) << pr.status();
  EXPECT_EQ(pr->revision, "refs/pr/1");
  EXPECT_FALSE(ParseModelRef("org/name@").ok());
  EXPECT_FALSE(ParseModelRef("org/name@../../x").ok());
  EXPECT_FALSE(ParseModelRef("org/name@/abs").ok());
}

TEST(RepoIdTest, RefusesFileNamesThatLeaveTheSnapshot) {
  EXPECT_TRUE(ValidateRepoFileName("model-00001-of-00004.safetensors").ok());
  EXPECT_TRUE(ValidateRepoFileName("sub/dir/file.json").ok());
  for (const char* bad : {"../config.json", "a/../../b", "/etc/passwd", "a//b", "./a", "a/", "", "a\\b", "a\nb"}) {
    EXPECT_FALSE(ValidateRepoFileName(bad).ok()) << bad;
  }
}

TEST(RepoIdTest, EtagsAreHashesOnly) {
  EXPECT_TRUE(ValidateEtag(kCommit).ok());
  EXPECT_TRUE(ValidateEtag(kSha256).ok());
  EXPECT_FALSE(ValidateEtag("../../x").ok());
  EXPECT_FALSE(ValidateEtag("0123456789ABCDEF0123456789ABCDEF01234567").ok());
  EXPECT_FALSE(ValidateEtag("").ok());
}

// A cache in a fresh HF_HOME with one repo at kCommit (refs/main) and an
// older snapshot at kOtherCommit.
class ResolveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = testing::TempDir("hub-cache");
    setenv("HF_HOME", home_.c_str(), 1);
    unsetenv("HF_HUB_CACHE");
    const RepoCache cache(HubCacheDir(), "test-org/tiny");
    fs::create_directories(fs::path(cache.BlobPath(kSha256)).parent_path());
    std::ofstream(cache.BlobPath(kSha256)) << "{}";
    ASSERT_TRUE(cache.LinkSnapshotFile(kCommit, "config.json", kSha256).ok());
    ASSERT_TRUE(cache.LinkSnapshotFile(kOtherCommit, "config.json", kSha256).ok());
    ASSERT_TRUE(cache.WriteRef("main", kCommit).ok());
  }
  std::string Snapshot(const std::string& commit) const {
    return (fs::path(home_) / "hub/models--test-org--tiny/snapshots" / commit).string();
  }
  std::string home_;
};

TEST_F(ResolveTest, TheCacheLivesUnderHfHomeInHuggingfaceHubsLayout) {
  EXPECT_EQ(HubCacheDir(), home_ + "/hub");
  const std::string link = Snapshot(kCommit) + "/config.json";
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(fs::read_symlink(link).string(), std::string("../../blobs/") + kSha256);
  std::ifstream ref(home_ + "/hub/models--test-org--tiny/refs/main");
  std::string commit;
  std::getline(ref, commit);
  EXPECT_EQ(commit, kCommit);
  setenv("HF_HUB_CACHE", "/elsewhere/hub", 1);
  EXPECT_EQ(HubCacheDir(), "/elsewhere/hub");
  unsetenv("HF_HUB_CACHE");
}

TEST_F(ResolveTest, ARepoIdResolvesThroughItsRefToTheSnapshot) {
  absl::StatusOr<std::string> dir = ResolveModelDir("test-org/tiny");
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(*dir, Snapshot(kCommit));
  EXPECT_TRUE(fs::is_regular_file(*dir + "/config.json"));
}

TEST_F(ResolveTest, ACommitAfterTheAtPicksThatSnapshot) {
  absl::StatusOr<std::string> dir = ResolveModelDir(std::string("test-org/tiny@") + kOtherCommit);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(*dir, Snapshot(kOtherCommit));
  ASSERT_TRUE(RepoCache(HubCacheDir(), "test-org/tiny").WriteRef("v1", kOtherCommit).ok());
  dir = ResolveModelDir("test-org/tiny@v1");
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(*dir, Snapshot(kOtherCommit));
}

TEST_F(ResolveTest, AnExistingDirectoryIsUsedAsIs) {
  absl::StatusOr<std::string> dir = ResolveModelDir(home_);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(*dir, home_);
}

TEST_F(ResolveTest, WhatIsNotCachedSaysToPullIt) {
  absl::StatusOr<std::string> missing = ResolveModelDir("test-org/other");
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
  EXPECT_NE(missing.status().message().find("run: gemma3n pull test-org/other"), std::string::npos)
      << missing.status();
  absl::StatusOr<std::string> branch = ResolveModelDir("test-org/tiny@dev");
  EXPECT_TRUE(absl::IsNotFound(branch.status())) << branch.status();
  EXPECT_NE(branch.status().message().find("gemma3n pull test-org/tiny --revision dev"), std::string::npos)
      << branch.status();
  absl::StatusOr<std::string> commit = ResolveModelDir(std::string("test-org/tiny@") + std::string(40, 'e'));
  EXPECT_TRUE(absl::IsNotFound(commit.status())) << commit.status();
  absl::StatusOr<std::string> neither = ResolveModelDir("no/such/dir");
  EXPECT_TRUE(absl::IsNotFound(neither.status())) << neither.status();
  EXPECT_NE(neither.status().message().find("not a Hugging Face repo id"), std::string::npos) << neither.status();
}

TEST_F(ResolveTest, ARefThatIsNotACommitIsAnError) {
  std::ofstream(home_ + "/hub/models--test-org--tiny/refs/main", std::ios::trunc) << "../../../etc";
  absl::StatusOr<std::string> dir = ResolveModelDir("test-org/tiny");
  EXPECT_FALSE(dir.ok());
  EXPECT_FALSE(absl::IsNotFound(dir.status())) << dir.status();
}

}  // namespace
}  // namespace gemma3n::hub
