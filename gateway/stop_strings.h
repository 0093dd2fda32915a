// Stop strings over streamed text: text is released only once it can no
// longer be the start of a stop string, so a client never receives part of a
// stop string (or anything after it).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/repeated_field.h"

namespace gemma3n {

// Limits of GenerationConfig.stop, as OpenAI-style servers have them: the
// filter costs (stop strings) x (bytes generated), and holds back up to the
// longest stop string.
inline constexpr int kMaxStopStrings = 16;
inline constexpr size_t kMaxStopStringBytes = 256;

// INVALID_ARGUMENT naming the limit when there are more than kMaxStopStrings
// stop strings (empty ones included) or one is longer than kMaxStopStringBytes.
absl::Status ValidateStopStrings(const google::protobuf::RepeatedPtrField<std::string>& stops);

class StopStringFilter {
 public:
  explicit StopStringFilter(std::vector<std::string> stops);

  // Appends `text`; returns what is now safe to send. After a match,
  // stopped() is true and the text before the match has been returned.
  // Linear: each byte advances each stop string's matcher once (amortized).
  std::string Push(const std::string& text);
  // The held-back tail at the end of the stream (nothing after a stop).
  std::string Flush();
  bool stopped() const { return stopped_; }

 private:
  // One stop string as a Knuth-Morris-Pratt matcher over the stream.
  struct Matcher {
    explicit Matcher(std::string stop);
    // Feeds the next byte of the stream; true when the stop string ends there.
    bool Advance(char c);

    std::string stop;
    std::vector<size_t> border;  // [stop.size()]: longest proper prefix of stop[0..i] that is also its suffix
    size_t matched = 0;          // longest prefix of `stop` the stream ends with (< stop.size())
  };

  std::vector<Matcher> matchers_;
  std::string held_;  // the stream's tail that may start a stop string: max matched bytes
  bool stopped_ = false;
};

}  // namespace gemma3n
