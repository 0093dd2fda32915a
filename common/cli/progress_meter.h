// Progress of long work (a download, a batch): on a terminal a bar redrawn in
// place (done / total, rate, ETA), elsewhere (a log, CI) a plain line every
// few seconds, so logs stay readable. Thread-compatible: one caller at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace gemma3n {

enum class ProgressUnit { kCount, kBytes };

class ProgressMeter {
 public:
  using Clock = std::chrono::steady_clock;

  // total <= 0: unknown (no bar, no ETA).
  ProgressMeter(std::string label, int64_t total, ProgressUnit unit, FILE* out = stderr);
  // Whether `out` is a terminal (a bar) or not (lines); tests force it.
  void set_terminal(bool terminal) { terminal_ = terminal; }

  // `done` units so far; `detail` is appended ("3 failed"). Draws at most
  // 10 times a second on a terminal, a line every 5 s elsewhere.
  void Update(int64_t done, const std::string& detail = "");
  // The last state, always written, ending the line.
  void Finish(int64_t done, const std::string& detail = "");

  // "512/1000 requests", "1.2 GB / 4.0 GB" etc. with rate and ETA; exposed
  // for tests.
  std::string Line(int64_t done, const std::string& detail, Clock::time_point now) const;

 private:
  void Draw(int64_t done, const std::string& detail, bool last);
  const std::string label_;
  const int64_t total_;
  const ProgressUnit unit_;
  FILE* const out_;
  bool terminal_;
  const Clock::time_point start_;
  Clock::time_point last_draw_;
  bool drawn_ = false;
};

// 1536 -> "1.5 KB"; 3.2e9 -> "3.0 GB" (binary units).
std::string HumanBytes(double bytes);

}  // namespace gemma3n
