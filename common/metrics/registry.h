// The metrics of one process: the counters, gauges and histograms of
// metric_table.h, created on first use, plus gauges read from a callback at
// each scrape (queue depths and the like, which their owners already count).
// Updating a metric is an atomic add (a counter) or a short uncontended lock
// (a histogram); look a labelled child up once and keep the reference where
// it is updated per token.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/metrics/metric_table.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace gemma3n::metrics {

class Registry;

// A gauge read at each scrape while this handle lives (RAII: the owner of
// what the callback reads ends the sampling before it goes away).
class SampledGauge {
 public:
  SampledGauge() = default;
  SampledGauge(SampledGauge&& other) noexcept { *this = std::move(other); }
  SampledGauge& operator=(SampledGauge&& other) noexcept;
  ~SampledGauge();

 private:
  friend class Registry;
  SampledGauge(Registry* registry, int key) : registry_(registry), key_(key) {}
  Registry* registry_ = nullptr;
  int key_ = 0;
};

class Registry final : public prometheus::Collectable {
 public:
  Registry();

  // The metric `id` with these label values, in the order of its spec's
  // labels. A wrong kind or count of values is a programming error: logged,
  // and the update goes to a metric nobody exports.
  prometheus::Counter& Counter(Metric id, const std::vector<std::string>& label_values = {});
  prometheus::Gauge& Gauge(Metric id, const std::vector<std::string>& label_values = {});
  prometheus::Histogram& Histogram(Metric id, const std::vector<std::string>& label_values = {});

  // Gauge `id` (no labels) = the sum of its callbacks' readings, at each scrape.
  [[nodiscard]] SampledGauge Sample(Metric id, std::function<double()> read);

  std::vector<prometheus::MetricFamily> Collect() const override;
  // Collect() in the Prometheus text format (version 0.0.4).
  std::string Text() const;

 private:
  friend class SampledGauge;
  struct Sampler {
    Metric id;
    std::function<double()> read;
  };
  bool Check(Metric id, MetricKind kind, const std::vector<std::string>& label_values) const;
  prometheus::Labels LabelsOf(Metric id, const std::vector<std::string>& label_values) const;
  // The child of `id`'s family with these labels; the family is built on
  // first use. `unexported` when the use does not match the spec.
  template <typename T, typename... AddArgs>
  T& Child(std::map<Metric, prometheus::Family<T>*>& families, prometheus::detail::Builder<T> builder, MetricKind kind,
           Metric id, const std::vector<std::string>& label_values, T& unexported, const AddArgs&... add_args);
  void Unsample(int key);

  std::shared_ptr<prometheus::Registry> registry_;
  mutable std::mutex mu_;  // the family maps and the samplers
  std::map<Metric, prometheus::Family<prometheus::Counter>*> counters_;
  std::map<Metric, prometheus::Family<prometheus::Gauge>*> gauges_;
  std::map<Metric, prometheus::Family<prometheus::Histogram>*> histograms_;
  std::map<int, Sampler> samplers_;
  int next_sampler_ = 1;
};

// The registry of this process: what the services update and --metrics
// serves. Shared so the HTTP endpoint can hold it.
std::shared_ptr<Registry> ProcessRegistry();
inline Registry& Process() { return *ProcessRegistry(); }

// A gRPC status code as the `code` label: "OK", "INVALID_ARGUMENT", ...
std::string CodeLabel(int grpc_code);

}  // namespace gemma3n::metrics
