#include "common/cli/progress_meter.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace gemma3n {

std::string HumanBytes(double bytes) {
  static const char* const kUnits[] = {"B", "KB", "MB", "GB", "TB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? absl::StrFormat("%.0f B", bytes) : absl::StrFormat("%.1f %s", bytes, kUnits[unit]);
}

namespace {

std::string Amount(double n, ProgressUnit unit) {
  return unit == ProgressUnit::kBytes ? HumanBytes(n) : absl::StrFormat("%.0f", n);
}

std::string Duration(double seconds) {
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

}  // namespace

ProgressMeter::ProgressMeter(std::string label, int64_t total, ProgressUnit unit, FILE* out)
    : label_(std::move(label)),
      total_(total),
      unit_(unit),
      out_(out),
      terminal_(isatty(fileno(out)) == 1),
      start_(Clock::now()) {}

std::string ProgressMeter::Line(int64_t done, const std::string& detail, Clock::time_point now) const {
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? done / elapsed : 0;
  std::string line = label_ + " ";
  if (total_ > 0) {
    const double fraction = std::clamp(static_cast<double>(done) / total_, 0.0, 1.0);
    if (terminal_) {
      constexpr int kWidth = 24;
      const int filled = static_cast<int>(fraction * kWidth);
      absl::StrAppend(&line, "[", std::string(filled, '#'), std::string(kWidth - filled, ' '), "] ");
    }
    absl::StrAppend(&line, absl::StrFormat("%3.0f%% ", 100 * fraction));
  }
  absl::StrAppend(&line, Amount(done, unit_));
  if (total_ > 0) absl::StrAppend(&line, unit_ == ProgressUnit::kBytes ? " / " : "/", Amount(total_, unit_));
  if (unit_ == ProgressUnit::kCount) absl::StrAppend(&line, " done");
  if (elapsed >= 1) {
    absl::StrAppend(&line, ", ", unit_ == ProgressUnit::kBytes ? HumanBytes(rate) + "/s" : absl::StrFormat("%.1f/s", rate));
    if (total_ > 0 && rate > 0 && done < total_) absl::StrAppend(&line, ", ETA ", Duration((total_ - done) / rate));
  }
  if (!detail.empty()) absl::StrAppend(&line, ", ", detail);
  return line;
}

void ProgressMeter::Update(int64_t done, const std::string& detail) {
  const Clock::time_point now = Clock::now();
  const auto every = terminal_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
  if (drawn_ && now - last_draw_ < every) return;
  Draw(done, detail, false);
}

void ProgressMeter::Finish(int64_t done, const std::string& detail) { Draw(done, detail, true); }

void ProgressMeter::Draw(int64_t done, const std::string& detail, bool last) {
  last_draw_ = Clock::now();
  drawn_ = true;
  const std::string line = Line(done, detail, last_draw_);
  if (terminal_) {
    // \r and clear-to-end: the bar is redrawn in place.
    std::fprintf(out_, "\r%s\033[K%s", line.c_str(), last ? "\n" : "");
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

}  // namespace gemma3n
