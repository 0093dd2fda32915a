#include "common/hub/progress.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "spdlog/spdlog.h"

namespace gemma3n::hub {
namespace {

constexpr auto kTerminalInterval = std::chrono::milliseconds(100);
constexpr auto kLogInterval = std::chrono::seconds(5);

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string Eta(double remaining_bytes, double rate) {
  if (rate <= 0) return "--";
  const int64_t s = static_cast<int64_t>(remaining_bytes / rate);
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, s / 60 % 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

}  // namespace

TransferProgress::TransferProgress(int64_t total_bytes, int files, bool terminal)
    : total_(total_bytes), files_(files), terminal_(terminal) {}

std::string TransferProgress::Bytes(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  return u == 0 ? absl::StrFormat("%.0f B", bytes) : absl::StrFormat("%.1f %s", bytes, units[u]);
}

void TransferProgress::BeginFile(const std::string& name, int64_t size, int64_t already) {
  std::lock_guard<std::mutex> lock(mu_);
  name_ = name;
  ++index_;
  file_size_ = size;
  file_done_ = already;
  file_resumed_ = already;
  file_start_ = Clock::now();
  if (!terminal_) {
    spdlog::info("[{}/{}] {} ({}{})", index_, files_, name, Bytes(static_cast<double>(size)),
                 already > 0 ? absl::StrCat(", resuming at ", Bytes(static_cast<double>(already))) : "");
  }
  Report(true);
}

void TransferProgress::Add(int64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  file_done_ += bytes;
  done_ += bytes;
  Report(false);
}

void TransferProgress::Discard(int64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  // Resumed bytes were not counted in this run's total: take them off last.
  const int64_t from_this_run = std::min(bytes, file_done_ - file_resumed_);
  done_ -= from_this_run;
  file_resumed_ -= bytes - from_this_run;
  file_done_ -= bytes;
  Report(true);
}

void TransferProgress::EndFile() {
  std::lock_guard<std::mutex> lock(mu_);
  if (terminal_) {
    Report(true);
    std::fputc('\n', stderr);
  } else {
    const double s = Seconds(Clock::now() - file_start_);
    spdlog::info("[{}/{}] {} done ({} in {:.1f} s)", index_, files_, name_,
                 Bytes(static_cast<double>(file_done_ - file_resumed_)), s);
  }
}

void TransferProgress::Finish() {
  std::lock_guard<std::mutex> lock(mu_);
  const double s = Seconds(Clock::now() - start_);
  spdlog::info("downloaded {} in {:.1f} s ({}/s)", Bytes(static_cast<double>(done_)), s,
               Bytes(s > 0 ? static_cast<double>(done_) / s : 0));
}

std::string TransferProgress::Line() const {
  const double file_rate = static_cast<double>(file_done_ - file_resumed_) /
                           std::max(1e-3, Seconds(Clock::now() - file_start_));
  const double rate = static_cast<double>(done_) / std::max(1e-3, Seconds(Clock::now() - start_));
  const double file_pct = file_size_ > 0 ? 100.0 * static_cast<double>(file_done_) / static_cast<double>(file_size_) : 100.0;
  return absl::StrFormat("[%d/%d] %s %s / %s (%.0f%%) %s/s ETA %s | total %s / %s ETA %s", index_, files_, name_,
                         Bytes(static_cast<double>(file_done_)), Bytes(static_cast<double>(file_size_)), file_pct,
                         Bytes(file_rate), Eta(static_cast<double>(file_size_ - file_done_), file_rate),
                         Bytes(static_cast<double>(done_)), Bytes(static_cast<double>(total_)),
                         Eta(static_cast<double>(total_ - done_), rate));
}

void TransferProgress::Report(bool force) {
  const auto now = Clock::now();
  if (!force && now - last_report_ < (terminal_ ? kTerminalInterval : kLogInterval)) return;
  last_report_ = now;
  if (terminal_) {
    std::fprintf(stderr, "\r\033[K%s", Line().c_str());
    std::fflush(stderr);
  } else if (!force) {
    spdlog::info("{}", Line());
  }
}

}  // namespace gemma3n::hub
