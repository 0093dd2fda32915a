#include "common/cli/subcommands.h"

#include <cstdio>

#include "common/cli/exit_status.h"

namespace gemma3n {

int RunSubcommand(int argc, char** argv, const std::string& tool, const char* usage,
                  const std::map<std::string, Subcommand>& commands) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  const auto it = commands.find(command);
  if (it == commands.end()) {
    std::fprintf(stderr, "%s: unknown command '%s'\n\n%s", tool.c_str(), command.c_str(), usage);
    return 2;
  }
  const std::vector<std::string> args(argv + 2, argv + argc);
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {  // `tool COMMAND --help`: the usage, which covers every command
      std::fputs(usage, stdout);
      return 0;
    }
  }
  return ExitWithStatus(tool + " " + command, it->second(args));
}

}  // namespace gemma3n
