#include "common/metrics/registry.h"

#include "absl/status/status.h"
#include "prometheus/text_serializer.h"
#include "spdlog/spdlog.h"

namespace gemma3n::metrics {
namespace {

const char* KindName(MetricKind kind) {
  switch (kind) {
    case MetricKind::kCounter: return "counter";
    case MetricKind::kGauge: return "gauge";
    case MetricKind::kHistogram: return "histogram";
  }
  return "?";
}

}  // namespace

SampledGauge& SampledGauge::operator=(SampledGauge&& other) noexcept {
  if (this != &other) {
    if (registry_) registry_->Unsample(key_);
    registry_ = other.registry_;
    key_ = other.key_;
    other.registry_ = nullptr;
  }
  return *this;
}

SampledGauge::~SampledGauge() {
  if (registry_) registry_->Unsample(key_);
}

Registry::Registry() : registry_(std::make_shared<prometheus::Registry>()) {}

bool Registry::Check(Metric id, MetricKind kind, const std::vector<std::string>& label_values) const {
  const MetricSpec& spec = Spec(id);
  if (spec.kind == kind && spec.labels.size() == label_values.size()) return true;
  spdlog::error("metric {} is a {} with {} label(s), used as a {} with {}: not recorded", spec.name,
                KindName(spec.kind), spec.labels.size(), KindName(kind), label_values.size());
  return false;
}

prometheus::Labels Registry::LabelsOf(Metric id, const std::vector<std::string>& label_values) const {
  const MetricSpec& spec = Spec(id);
  prometheus::Labels labels;
  for (size_t i = 0; i < spec.labels.size(); ++i) labels[spec.labels[i]] = label_values[i];
  return labels;
}

template <typename T, typename... AddArgs>
T& Registry::Child(std::map<Metric, prometheus::Family<T>*>& families, prometheus::detail::Builder<T> builder,
                   MetricKind kind, Metric id, const std::vector<std::string>& label_values, T& unexported,
                   const AddArgs&... add_args) {
  if (!Check(id, kind, label_values)) return unexported;
  std::lock_guard<std::mutex> lock(mu_);
  prometheus::Family<T>*& family = families[id];
  if (!family) family = &builder.Name(Spec(id).name).Help(Spec(id).help).Register(*registry_);
  return family->Add(LabelsOf(id, label_values), add_args...);
}

prometheus::Counter& Registry::Counter(Metric id, const std::vector<std::string>& label_values) {
  static prometheus::Counter unexported;
  return Child(counters_, prometheus::BuildCounter(), MetricKind::kCounter, id, label_values, unexported);
}

prometheus::Gauge& Registry::Gauge(Metric id, const std::vector<std::string>& label_values) {
  static prometheus::Gauge unexported;
  return Child(gauges_, prometheus::BuildGauge(), MetricKind::kGauge, id, label_values, unexported);
}

prometheus::Histogram& Registry::Histogram(Metric id, const std::vector<std::string>& label_values) {
  static prometheus::Histogram unexported(prometheus::Histogram::BucketBoundaries{});
  return Child(histograms_, prometheus::BuildHistogram(), MetricKind::kHistogram, id, label_values, unexported,
               Spec(id).buckets);
}

SampledGauge Registry::Sample(Metric id, std::function<double()> read) {
  Gauge(id);  // the family exists from now on, so a scrape shows it even before the first reading
  std::lock_guard<std::mutex> lock(mu_);
  const int key = next_sampler_++;
  samplers_.emplace(key, Sampler{id, std::move(read)});
  return SampledGauge(this, key);
}

void Registry::Unsample(int key) {
  std::lock_guard<std::mutex> lock(mu_);
  samplers_.erase(key);
}

std::vector<prometheus::MetricFamily> Registry::Collect() const {
  {
    // The readings under the lock: a sampler's owner ends it (Unsample,
    // same lock) before what the callback reads goes away.
    std::lock_guard<std::mutex> lock(mu_);
    std::map<Metric, double> sums;
    for (const auto& [key, s] : samplers_) sums[s.id] += s.read();
    for (const auto& [id, sum] : sums) gauges_.at(id)->Add({}).Set(sum);
  }
  return registry_->Collect();
}

std::string Registry::Text() const { return prometheus::TextSerializer().Serialize(Collect()); }

std::shared_ptr<Registry> ProcessRegistry() {
  static const std::shared_ptr<Registry> registry = std::make_shared<Registry>();
  return registry;
}

std::string CodeLabel(int grpc_code) {
  // gRPC's codes are absl's, number for number.
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(grpc_code));
}

}  // namespace gemma3n::metrics
