#include "common/tokenizer/sentencepiece_model.h"

#include <dlfcn.h>

#include <filesystem>
#include <mutex>

namespace gemma3n {
namespace {

using LoadFn = SentencePieceModel* (*)(const std::string&, std::string*);
constexpr char kModuleName[] = "libgemma3n_sentencepiece.so";

// AddressSanitizer aborts on RTLD_DEEPBIND (the module would bypass its
// malloc), so the sanitized fuzz build (tests/fuzz/) loads the module without
// it: only fuzz targets that do not link gRPC's libprotobuf may load a
// tokenizer.model there (see tests/fuzz/README.md).
#if defined(__SANITIZE_ADDRESS__)
constexpr int kDeepBind = 0;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr int kDeepBind = 0;
#else
constexpr int kDeepBind = RTLD_DEEPBIND;
#endif
#else
constexpr int kDeepBind = RTLD_DEEPBIND;
#endif

// Next to the running binary first (an installed or copied tree), then where
// the build put it.
LoadFn LoadModule(std::string* error) {
  std::vector<std::string> candidates;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back((self.parent_path() / kModuleName).string());
  candidates.push_back(GEMMA3N_SENTENCEPIECE_MODULE);
  std::string tried;
  for (const std::string& path : candidates) {
    // RTLD_LOCAL + RTLD_DEEPBIND: the module and libsentencepiece resolve
    // their own symbols first and add none to the process's global scope.
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | kDeepBind);
    if (!handle) {
      tried += std::string(tried.empty() ? "" : "; ") + dlerror();
      continue;
    }
    if (auto fn = reinterpret_cast<LoadFn>(dlsym(handle, "gemma3n_sentencepiece_load"))) return fn;
    tried += "; " + path + " lacks gemma3n_sentencepiece_load";
  }
  *error = "cannot load the SentencePiece module (" + tried + ")";
  return nullptr;
}

}  // namespace

std::unique_ptr<SentencePieceModel> SentencePieceModel::Load(const std::string& path, std::string* error) {
  static std::mutex mu;
  static LoadFn load = nullptr;
  static std::string module_error;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!load && module_error.empty()) load = LoadModule(&module_error);
  }
  if (!load) {
    *error = module_error;
    return nullptr;
  }
  return std::unique_ptr<SentencePieceModel>(load(path, error));
}

}  // namespace gemma3n
