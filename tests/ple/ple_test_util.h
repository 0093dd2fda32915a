// Shared by the PLE tests: the reference rows (the checkpoint read in-process)
// and what a process has in /dev/shm.
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "common/embedder/per_layer_embeddings.h"
#include "gtest/gtest.h"
#include "tests/support/golden.h"

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

}  // namespace gemma3n::ple::testing
