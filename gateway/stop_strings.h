// Stop strings over streamed text: text is released only once it can no
// longer be the start of a stop string, so a client never receives part of a
// stop string (or anything after it).
#pragma once

#include <string>
#include <vector>

namespace gemma3n {

class StopStringFilter {
 public:
  explicit StopStringFilter(std::vector<std::string> stops);

  // Appends `text`; returns what is now safe to send. After a match,
  // stopped() is true and the text before the match has been returned.
  std::string Push(const std::string& text);
  // The held-back tail at the end of the stream (nothing after a stop).
  std::string Flush();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace gemma3n
