#include "gateway/stop_strings.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace gemma3n {

absl::Status ValidateStopStrings(const google::protobuf::RepeatedPtrField<std::string>& stops) {
  if (stops.size() > kMaxStopStrings) {
    return absl::InvalidArgumentError(
        absl::StrCat("config.stop: at most ", kMaxStopStrings, " stop strings are accepted, got ", stops.size()));
  }
  for (int i = 0; i < stops.size(); ++i) {
    if (stops[i].size() > kMaxStopStringBytes) {
      return absl::InvalidArgumentError(absl::StrCat("config.stop[", i, "] is ", stops[i].size(), " bytes; at most ",
                                                     kMaxStopStringBytes, " bytes are accepted"));
    }
  }
  return absl::OkStatus();
}

StopStringFilter::Matcher::Matcher(std::string s) : stop(std::move(s)), border(stop.size(), 0) {
  for (size_t i = 1, k = 0; i < stop.size(); ++i) {
    while (k > 0 && stop[i] != stop[k]) k = border[k - 1];
    if (stop[i] == stop[k]) ++k;
    border[i] = k;
  }
}

bool StopStringFilter::Matcher::Advance(char c) {
  while (matched > 0 && stop[matched] != c) matched = border[matched - 1];
  if (stop[matched] == c) ++matched;
  return matched == stop.size();
}

StopStringFilter::StopStringFilter(std::vector<std::string> stops) {
  for (std::string& s : stops) {
    if (!s.empty()) matchers_.emplace_back(std::move(s));
  }
}

std::string StopStringFilter::Push(const std::string& text) {
  if (stopped_) return "";
  const size_t base = held_.size();  // where `text` starts in held_
  held_ += text;
  // The earliest-starting complete match wins; each stop string's first one is
  // where its matcher first completes (none can start before held_).
  size_t match = std::string::npos;
  for (Matcher& m : matchers_) {
    for (size_t i = 0; i < text.size(); ++i) {
      if (m.Advance(text[i])) {
        match = std::min(match, base + i + 1 - m.stop.size());
        break;
      }
    }
  }
  if (match != std::string::npos) {
    stopped_ = true;
    std::string out = held_.substr(0, match);
    held_.clear();
    return out;
  }
  // Hold back the longest suffix that is a proper prefix of some stop string.
  size_t keep = 0;
  for (const Matcher& m : matchers_) keep = std::max(keep, m.matched);
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string StopStringFilter::Flush() {
  std::string out;
  if (!stopped_) out.swap(held_);
  held_.clear();
  return out;
}

}  // namespace gemma3n
