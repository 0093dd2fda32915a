// Shared by the PLE tests: the reference rows (the checkpoint read in-process),
// what a process has in /dev/shm, and the service binary as a child process.
#pragma once

#include <dirent.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/embedder/per_layer_embeddings.h"
#include "gtest/gtest.h"
#include "ple_service/client/shm_per_layer_embeddings.h"
#include "tests/support/golden.h"

extern char** environ;

namespace gemma3n::ple::testing {

// gemma3n-tiny: vocab_size_per_layer_input 512, 8 layers x 32 = 256 floats a row.
inline constexpr int kTinyVocab = 512;
inline constexpr int kTinyRowWidth = 256;

// The rows of `ids` as CheckpointPerLayerEmbeddings reads them: [n, 256].
inline std::vector<float> ReferenceRows(const std::vector<int>& ids) {
  static std::unique_ptr<CheckpointPerLayerEmbeddings> ref = [] {
    auto r = CheckpointPerLayerEmbeddings::Open(gemma3n::testing::TinyModelDir(), kTinyVocab, kTinyRowWidth);
    EXPECT_TRUE(r.ok()) << r.status();
    return std::move(*r);
  }();
  std::vector<float> out(ids.size() * kTinyRowWidth);
  EXPECT_TRUE(ref->Lookup(ids, out.data()).ok());
  return out;
}

// Files /dev/shm/gemma3n-ple-<pid>-* (names without the directory).
inline std::vector<std::string> SegmentsOf(int pid) {
  const std::string prefix = "gemma3n-ple-" + std::to_string(pid) + "-";
  std::vector<std::string> out;
  if (DIR* d = ::opendir("/dev/shm")) {
    while (const dirent* e = ::readdir(d)) {
      if (std::string(e->d_name).rfind(prefix, 0) == 0) out.push_back(e->d_name);
    }
    ::closedir(d);
  }
  return out;
}

// 0..n-1 scrambled over the vocabulary (deterministic).
inline std::vector<int> SomeIds(int n, int seed = 0) {
  std::vector<int> ids(n);
  for (int i = 0; i < n; ++i) ids[i] = (i * 37 + seed * 101 + 5) % kTinyVocab;
  return ids;
}

// Starts `bin` with `args` and this process's environment, `env` ("NAME=value")
// added or replacing a variable of that name.
inline pid_t Spawn(const std::string& bin, const std::vector<std::string>& args,
                   const std::vector<std::string>& env = {}) {
  std::vector<char*> argv{const_cast<char*>(bin.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  auto replaced = [&](const std::string& var) {
    for (const auto& v : env) {
      if (var.rfind(v.substr(0, v.find('=') + 1), 0) == 0) return true;  // same "NAME="
    }
    return false;
  };
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) {
    if (!replaced(*e)) envp.push_back(*e);
  }
  for (const auto& v : env) envp.push_back(const_cast<char*>(v.c_str()));
  envp.push_back(nullptr);
  pid_t pid = -1;
  EXPECT_EQ(::posix_spawn(&pid, bin.c_str(), nullptr, nullptr, argv.data(), envp.data()), 0) << bin;
  return pid;
}

// Exit code, or 128 + signal.
inline int Wait(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Connects (attaches a segment of 16 tokens), retrying while the service starts.
inline std::shared_ptr<ShmPerLayerEmbeddings> ConnectWhenUp(const std::string& address,
                                                            const std::string& client_name) {
  absl::StatusOr<std::shared_ptr<ShmPerLayerEmbeddings>> c;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  do {
    c = ShmPerLayerEmbeddings::Connect(address, client_name, 16, kTinyRowWidth);
    if (!c.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (!c.ok() && std::chrono::steady_clock::now() < until);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : nullptr;
}

}  // namespace gemma3n::ple::testing
