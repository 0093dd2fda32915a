// The merge behind `gemma3n serve --metrics ADDR`: the Prometheus text of
// every process (serve's own and each child's) into one exposition. Each
// sample of a child gets the label process="<its supervisor name>", and each
// metric family's HELP and TYPE appear once, followed by the samples of all
// processes that have it (the text format wants a family's lines together).
#pragma once

#include <string>
#include <vector>

namespace gemma3n::cli {

struct ProcessMetricsText {
  std::string process;  // "text-worker-0"...; empty: samples kept as they are (serve's own)
  std::string text;     // Prometheus text format 0.0.4
};

std::string MergeMetricsTexts(const std::vector<ProcessMetricsText>& sources);

}  // namespace gemma3n::cli
