# GEMMA3N_SANITIZE=address|thread: the whole tree (libraries, every worker
# binary the integration tests start as a child process, the tests) carries
# AddressSanitizer + UndefinedBehaviorSanitizer, or ThreadSanitizer. The
# presets `asan` and `tsan` (CMakePresets.json) and scripts/sanitize.sh set
# it; the default build never sees these flags.
set(GEMMA3N_SANITIZE "" CACHE STRING "Sanitized build: address (ASan + UBSan) or thread (TSan); empty for none")
if(GEMMA3N_SANITIZE STREQUAL "")
  return()
endif()
if(GEMMA3N_FUZZ)
  message(FATAL_ERROR "GEMMA3N_SANITIZE and GEMMA3N_FUZZ are separate builds (the fuzz build has its own sanitizers)")
endif()
# GCC links each sanitizer's runtime as a shared library into every binary
# and module; common/tokenizer relies on that (GEMMA3N_DEEPBIND_PAST_SANITIZER).
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  message(FATAL_ERROR "GEMMA3N_SANITIZE needs GCC (the sanitizer runtime as a shared library); "
                      "use the presets asan / tsan or scripts/sanitize.sh")
endif()
if(GEMMA3N_SANITIZE STREQUAL "address")
  # A UB report stops the test like an ASan one: a report must fail the run.
  set(GEMMA3N_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined)
elseif(GEMMA3N_SANITIZE STREQUAL "thread")
  set(GEMMA3N_SANITIZER_FLAGS -fsanitize=thread)
  # Executables export nothing, so gRPC's uninstrumented library keeps using
  # its own copies of its inline templates (why: the map file).
  string(APPEND CMAKE_EXE_LINKER_FLAGS
         " -Wl,--version-script=${CMAKE_CURRENT_SOURCE_DIR}/tests/sanitizers/tsan_executable_exports.map")
else()
  message(FATAL_ERROR "GEMMA3N_SANITIZE is '${GEMMA3N_SANITIZE}'; use address or thread")
endif()
# Frame pointers give whole stacks in reports at little cost.
add_compile_options(${GEMMA3N_SANITIZER_FLAGS} -fno-omit-frame-pointer)
add_link_options(${GEMMA3N_SANITIZER_FLAGS})
