// Calls of the public API the integration tests share.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "gemma3n/v1/gemma.grpc.pb.h"

namespace gemma3n::testing {

struct Outcome {
  grpc::Status status;
  std::vector<int> ids;
  std::string text;
  gemma3n::v1::FinishReason finish = gemma3n::v1::FINISH_REASON_UNSPECIFIED;
  gemma3n::v1::Usage usage;
};

// Streams a Generate call to its end.
Outcome Call(gemma3n::v1::Gemma::Stub& stub, const gemma3n::v1::GenerateRequest& req,
             std::chrono::milliseconds deadline = std::chrono::seconds(60));
// A raw prompt with max_new tokens (ignore_eos: exactly that many).
gemma3n::v1::GenerateRequest RawPrompt(const std::string& text, int max_new, bool ignore_eos = false);
// A user turn of one image (or audio) file from tests/data and a question,
// generating max_new tokens.
enum class MediaKind { kImage, kAudio };
gemma3n::v1::GenerateRequest MediaChat(MediaKind kind, const std::string& test_data_file, const std::string& question,
                                       int max_new);
// The ids the gateway builds for a request's prompt (CountTokens); a failed
// call is a test failure and gives no ids.
std::vector<int> PromptIds(gemma3n::v1::Gemma::Stub& stub, const gemma3n::v1::GenerateRequest& req);
// A file's bytes (media parts of requests).
std::string ReadBytes(const std::string& path);

}  // namespace gemma3n::testing
