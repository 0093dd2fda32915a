// CSV text -> rows of fields (RFC 4180 quoting), through Debian's libcsv.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gemma3n {

using CsvRows = std::vector<std::vector<std::string>>;

// InvalidArgument naming `source` on malformed quoting.
absl::StatusOr<CsvRows> ParseCsv(const std::string& text, const std::string& source);

}  // namespace gemma3n
