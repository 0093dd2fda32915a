// Memory figures of the running process, from /proc/self/status.
#pragma once

#include <fstream>
#include <string>

namespace gemma3n {

// A "VmRSS" / "VmHWM" style field, in GB (0 when absent).
inline double ProcStatusGb(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1)) / 1e6;  // kB
  }
  return 0;
}

}  // namespace gemma3n
