#include "cli/metrics_aggregator.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/metrics/metric_table.h"

namespace gemma3n::cli {
namespace {

struct Family {
  std::string help, type;  // the first process's
  std::vector<std::string> samples;
};

// Families in the order they first appear, by name.
struct Merged {
  std::vector<std::string> order;
  std::map<std::string, Family> by_name;
  Family& Get(const std::string& name) {
    auto [it, added] = by_name.try_emplace(name);
    if (added) order.push_back(name);
    return it->second;
  }
};

// A label value as the text format writes it.
std::string Escaped(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// `name{a="b"} 1` -> `name{process="p",a="b"} 1`; `name 1` -> `name{process="p"} 1`.
std::string WithProcessLabel(absl::string_view sample, size_t name_end, const std::string& process) {
  const std::string label = absl::StrCat(metrics::kProcessLabel, "=\"", Escaped(process), "\"");
  if (name_end < sample.size() && sample[name_end] == '{') {
    const bool empty = name_end + 1 < sample.size() && sample[name_end + 1] == '}';
    return absl::StrCat(sample.substr(0, name_end + 1), label, empty ? "" : ",", sample.substr(name_end + 1));
  }
  return absl::StrCat(sample.substr(0, name_end), "{", label, "}", sample.substr(name_end));
}

// "# HELP name text" / "# TYPE name kind": the name and the rest.
bool MetaLine(absl::string_view line, absl::string_view keyword, std::string& name, std::string& rest) {
  const std::string prefix = absl::StrCat("# ", keyword, " ");
  if (!absl::StartsWith(line, prefix)) return false;
  line.remove_prefix(prefix.size());
  const size_t space = line.find(' ');
  name = std::string(line.substr(0, space));
  rest = space == absl::string_view::npos ? "" : std::string(line.substr(space + 1));
  return true;
}

void Add(const ProcessMetricsText& source, Merged& merged) {
  std::string current;  // the family of the last HELP/TYPE line: its samples follow it
  for (absl::string_view line : absl::StrSplit(source.text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    std::string name, rest;
    if (MetaLine(line, "HELP", name, rest)) {
      Family& f = merged.Get(name);
      if (f.help.empty()) f.help = rest;
      current = name;
      continue;
    }
    if (MetaLine(line, "TYPE", name, rest)) {
      Family& f = merged.Get(name);
      if (f.type.empty()) f.type = rest;
      current = name;
      continue;
    }
    if (line.front() == '#') continue;  // other comments
    const size_t name_end = std::min(line.find('{'), line.find(' '));
    if (name_end == 0 || name_end == absl::string_view::npos) continue;  // not a sample
    const absl::string_view sample_name = line.substr(0, name_end);
    // A histogram's _bucket, _sum and _count samples belong to its family.
    const std::string family =
        !current.empty() && absl::StartsWith(sample_name, current) ? current : std::string(sample_name);
    merged.Get(family).samples.push_back(source.process.empty() ? std::string(line)
                                                                : WithProcessLabel(line, name_end, source.process));
  }
}

}  // namespace

std::string MergeMetricsTexts(const std::vector<ProcessMetricsText>& sources) {
  Merged merged;
  for (const ProcessMetricsText& s : sources) Add(s, merged);
  std::string out;
  for (const std::string& name : merged.order) {
    const Family& f = merged.by_name.at(name);
    if (!f.help.empty()) absl::StrAppend(&out, "# HELP ", name, " ", f.help, "\n");
    if (!f.type.empty()) absl::StrAppend(&out, "# TYPE ", name, " ", f.type, "\n");
    for (const std::string& sample : f.samples) absl::StrAppend(&out, sample, "\n");
  }
  return out;
}

}  // namespace gemma3n::cli
