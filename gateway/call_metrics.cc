#include "gateway/call_metrics.h"

#include "common/metrics/registry.h"

namespace gemma3n {

std::string Modality(const google::protobuf::RepeatedPtrField<v1::Message>& messages) {
  bool image = false, audio = false;
  for (const v1::Message& m : messages) {
    for (const v1::Part& p : m.parts()) {
      image |= p.has_image();
      audio |= p.has_audio();
    }
  }
  if (image && audio) return "image+audio";
  if (image) return "image";
  return audio ? "audio" : "text";
}

CallMetrics::CallMetrics(std::string method, std::string modality)
    : method_(std::move(method)), modality_(std::move(modality)), start_(std::chrono::steady_clock::now()) {}

grpc::Status CallMetrics::Done(grpc::Status status) const {
  metrics::Registry& m = metrics::Process();
  m.Counter(metrics::Metric::kRequests, {method_, modality_, metrics::CodeLabel(status.error_code())}).Increment();
  m.Histogram(metrics::Metric::kRequestDuration, {method_})
      .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  return status;
}

}  // namespace gemma3n
