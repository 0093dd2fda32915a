// Small helpers the benchmark tools share: the mean and spread of repeated
// measurements, and one result record printed as a TSV header + row or a JSON
// line, so scripts (bench/speed_table.sh) can assemble several runs into one
// table without scraping the human-readable output.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace gemma3n {

struct Spread {
  double mean = 0;
  double sd = 0;  // sample standard deviation (0 for a single value), as llama-bench prints
};

inline Spread MeanSpread(const std::vector<double>& v) {
  Spread s;
  if (v.empty()) return s;
  for (double x : v) s.mean += x;
  s.mean /= v.size();
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(ss / (v.size() - 1));
  }
  return s;
}

// Ordered key/value pairs; values are kept as printed text.
class BenchRecord {
 public:
  void Add(const std::string& key, const std::string& value) { fields_.emplace_back(key, value); }
  void Add(const std::string& key, double value, int decimals) {
    fields_.emplace_back(key, absl::StrFormat("%.*f", decimals, value));
  }

  // "key1\tkey2\n" + "value1\tvalue2\n".
  std::string Tsv() const {
    std::vector<std::string> keys, values;
    for (const auto& [k, v] : fields_) {
      keys.push_back(k);
      values.push_back(v);
    }
    return absl::StrCat(absl::StrJoin(keys, "\t"), "\n", absl::StrJoin(values, "\t"), "\n");
  }
  // One line; numbers unquoted, other values as JSON strings (no escaping
  // needed: labels are format and profile names).
  std::string Json() const {
    std::vector<std::string> parts;
    for (const auto& [k, v] : fields_) {
      char* end = nullptr;
      std::strtod(v.c_str(), &end);
      const bool number = !v.empty() && end && *end == '\0';
      parts.push_back(absl::StrCat("\"", k, "\": ", number ? v : absl::StrCat("\"", v, "\"")));
    }
    return absl::StrCat("{", absl::StrJoin(parts, ", "), "}\n");
  }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

}  // namespace gemma3n
