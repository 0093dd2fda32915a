// `gemma3n batch --model DIR`: the whole system started for the batch, as a
// `gemma3n serve` child process with its HTTP API on a free loopback port,
// stopped when the batch ends (or when the batch process dies).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gemma3n::batch {

class ServeChild {
 public:
  // Starts `gemma3n serve --model MODEL --http 127.0.0.1:PORT` plus
  // `extra_flags`, its output into `log_path`, and waits until its HTTP API
  // answers (or the child exits: the error names the log).
  static absl::StatusOr<ServeChild> Start(const std::string& model, const std::vector<std::string>& extra_flags,
                                          const std::string& log_path, std::chrono::seconds timeout);
  ServeChild(ServeChild&& other) noexcept;
  ServeChild& operator=(ServeChild&&) = delete;
  ~ServeChild();  // SIGTERM, SIGKILL after 10 s

  const std::string& url() const { return url_; }

 private:
  ServeChild(pid_t pid, std::string url) : pid_(pid), url_(std::move(url)) {}
  pid_t pid_ = -1;
  std::string url_;
};

}  // namespace gemma3n::batch
