#include "common/tokenizer/sentencepiece_model.h"

#include <dlfcn.h>

#include <filesystem>
#include <mutex>

namespace gemma3n {
namespace {

using LoadFn = SentencePieceModel* (*)(const std::string&, std::string*);
constexpr char kModuleName[] = "libgemma3n_sentencepiece.so";

// AddressSanitizer and ThreadSanitizer abort on RTLD_DEEPBIND: a deep-bound
// library would reach libc's malloc instead of theirs. The two sanitized
// builds deal with it differently:
// - GEMMA3N_SANITIZE (cmake/sanitizers.cmake, GCC) links the runtime as a
//   shared library and the module is linked with it, as its first
//   dependency; deep binding then still finds the sanitizer's malloc before
//   libc's, so the module is opened deep-bound with libc's own dlopen, past
//   the interceptor's refusal, and every process can load a tokenizer.model.
// - the fuzz build (clang, the runtime inside the executable only) loads the
//   module without RTLD_DEEPBIND: only fuzz targets that do not link gRPC's
//   libprotobuf may load a tokenizer.model there (see tests/fuzz/README.md).
#if defined(GEMMA3N_DEEPBIND_PAST_SANITIZER)
constexpr int kDeepBind = RTLD_DEEPBIND;
#elif defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kDeepBind = 0;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr int kDeepBind = 0;
#else
constexpr int kDeepBind = RTLD_DEEPBIND;
#endif
#else
constexpr int kDeepBind = RTLD_DEEPBIND;
#endif

void* OpenModule(const std::string& path) {
#if defined(GEMMA3N_DEEPBIND_PAST_SANITIZER)
  using DlopenFn = void* (*)(const char*, int);
  static const DlopenFn libc_dlopen = [] {
    void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    return libc ? reinterpret_cast<DlopenFn>(dlsym(libc, "dlopen")) : nullptr;
  }();
  if (!libc_dlopen) return nullptr;
  void* handle = libc_dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | kDeepBind);
  // Once more through the interceptor (already loaded, so nothing is bound
  // anew): the sanitizer then knows the module for its stack traces.
  if (handle) dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
  return handle;
#else
  return dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | kDeepBind);
#endif
}

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
    void* handle = OpenModule(path);
    if (!handle) {
      const char* why = dlerror();
      tried += std::string(tried.empty() ? "" : "; ") + (why ? why : path + ": no dlopen in libc.so.6");
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
