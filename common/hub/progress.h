// Progress of a pull, file by file: bytes, rate and ETA of the current file
// and of the whole pull, drawn by ProgressMeter (a bar on a terminal, a line
// every few seconds elsewhere, plus a log line per file there).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/cli/progress_meter.h"

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

 private:
  std::string FileDetail() const;

  const bool terminal_;
  const int files_;
  ProgressMeter total_;
  std::unique_ptr<ProgressMeter> file_;  // of the bytes this run fetches of the current file
  std::string name_;
  int index_ = 0;
  int64_t file_size_ = 0, file_done_ = 0, file_resumed_ = 0;
  int64_t done_ = 0;  // downloaded in this run, all files
};

}  // namespace gemma3n::hub
