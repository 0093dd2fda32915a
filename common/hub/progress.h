// Progress of a pull: bytes, rate and ETA for the current file and in total.
// On a terminal, one line redrawn in place (at most 10 times a second);
// otherwise a log line every few seconds and one per finished file, so logs
// of unattended pulls stay short.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace gemma3n::hub {

class TransferProgress {
 public:
  // total_bytes: what is left to download over all files.
  TransferProgress(int64_t total_bytes, int files, bool terminal);

  // A file starts; `already` bytes of it are on disk from an earlier try.
  void BeginFile(const std::string& name, int64_t size, int64_t already);
  void Add(int64_t bytes);
  // Bytes of the current file thrown away (a corrupt download, a server
  // that restarted the file): they will come again.
  void Discard(int64_t bytes);
  void EndFile();
  void Finish();

  // 1536 -> "1.5 KB"; 1.2e9 -> "1.1 GB".
  static std::string Bytes(double bytes);

 private:
  using Clock = std::chrono::steady_clock;
  void Report(bool force);
  std::string Line() const;

  const int64_t total_;
  const int files_;
  const bool terminal_;
  const Clock::time_point start_ = Clock::now();
  Clock::time_point file_start_ = start_;
  Clock::time_point last_report_ = start_;
  std::string name_;
  int index_ = 0;
  int64_t file_size_ = 0, file_done_ = 0, file_resumed_ = 0;
  int64_t done_ = 0;  // downloaded in this run, all files
  std::mutex mu_;
};

}  // namespace gemma3n::hub
