#include "common/process/process_alive.h"

#include <signal.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

namespace gemma3n {

bool ProcessExists(int pid) {
  if (pid <= 0) return false;
  return !(::kill(pid, 0) != 0 && errno == ESRCH);
}

bool ProcessAlive(int pid) {
  if (!ProcessExists(pid)) return false;
  // "pid (comm) S ...": comm may hold spaces and ')', the state follows the last ')'.
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return true;  // no /proc (or it just went): trust kill()
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string stat = buf.str();
  const size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return true;
  const char state = stat[close + 2];
  return state != 'Z' && state != 'X';
}

}  // namespace gemma3n
