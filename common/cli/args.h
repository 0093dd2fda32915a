// Command-line arguments of the project's tools: `--name value` and bare
// `--switch` flags after a subcommand. Every tool declares the flags it
// accepts, so a typo is an error with a usage hint instead of being ignored.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace gemma3n {

class Args {
 public:
  // value_flags take a value (may repeat); switch_flags take none.
  static absl::StatusOr<Args> Parse(const std::vector<std::string>& argv, const std::set<std::string>& value_flags,
                                    const std::set<std::string>& switch_flags);

  bool Has(const std::string& name) const { return values_.count(name) > 0 || switches_.count(name) > 0; }
  std::optional<std::string> Get(const std::string& name) const;  // last occurrence
  std::vector<std::string> GetAll(const std::string& name) const;
  absl::StatusOr<std::string> Required(const std::string& name) const;
  // Typed accessors: InvalidArgument "--name: 'x' is not an integer" etc.
  absl::StatusOr<int64_t> Int(const std::string& name, int64_t fallback) const;
  absl::StatusOr<double> Double(const std::string& name, double fallback) const;
  // "90s", "5m", "1h30m", "0" (absl::ParseDuration); negative refused.
  absl::StatusOr<absl::Duration> Duration(const std::string& name, absl::Duration fallback) const;

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::set<std::string> switches_;
};

// --threads N: [0, 1024], 0 (the default) = every core the process has.
absl::StatusOr<int> ThreadsFlag(const Args& args);

// "2,17,300" -> ids; InvalidArgument on anything else.
absl::StatusOr<std::vector<int>> ParseIdList(const std::string& text);

}  // namespace gemma3n
