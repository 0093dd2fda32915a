#include "common/hub/progress.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace gemma3n::hub {

TransferProgress::TransferProgress(int64_t total_bytes, int files, bool terminal)
    : terminal_(terminal), files_(files), total_("pull", total_bytes, ProgressUnit::kBytes) {
  total_.set_terminal(terminal);
}

std::string TransferProgress::FileDetail() const {
  return file_ ? file_->Line(file_done_ - file_resumed_, "", ProgressMeter::Clock::now()) : std::string();
}

void TransferProgress::BeginFile(const std::string& name, int64_t size, int64_t already) {
  name_ = name;
  ++index_;
  file_size_ = size;
  file_done_ = file_resumed_ = already;
  const std::string resumed = already > 0 ? absl::StrCat(" (from ", HumanBytes(static_cast<double>(already)), ")") : "";
  file_ = std::make_unique<ProgressMeter>(absl::StrCat("[", index_, "/", files_, "] ", name, resumed), size - already,
                                          ProgressUnit::kBytes);
  file_->set_terminal(false);  // a part of the total's line: no second bar
  if (!terminal_) spdlog::info("[{}/{}] {} ({}{})", index_, files_, name, HumanBytes(static_cast<double>(size)), resumed);
  total_.Update(done_, FileDetail());
}

void TransferProgress::Add(int64_t bytes) {
  file_done_ += bytes;
  done_ += bytes;
  total_.Update(done_, FileDetail());
}

void TransferProgress::Discard(int64_t bytes) {
  // Resumed bytes were not counted in this run's total: take them off last.
  const int64_t from_this_run = std::min(bytes, file_done_ - file_resumed_);
  done_ -= from_this_run;
  file_resumed_ -= bytes - from_this_run;
  file_done_ -= bytes;
  total_.Update(done_, FileDetail());
}

void TransferProgress::EndFile() {
  if (!terminal_) {
    spdlog::info("{}: done", FileDetail());
  }
  file_.reset();
}

void TransferProgress::Finish() { total_.Finish(done_, absl::StrCat(index_, " files")); }

}  // namespace gemma3n::hub
