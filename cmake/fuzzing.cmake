# GEMMA3N_FUZZ=ON: a build of the libFuzzer targets in tests/fuzz/ (clang
# only; scripts/fuzz_smoke.sh configures it in build-fuzz/). Everything this
# build compiles carries the fuzzer's coverage instrumentation and the
# address and undefined-behaviour sanitizers; a sanitizer report aborts, so
# libFuzzer records the input as a crash. The main (GCC) build never sees
# these flags.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "GEMMA3N_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++-14 "
                      "-DCMAKE_C_COMPILER=clang-14, as scripts/fuzz_smoke.sh does")
endif()
set(GEMMA3N_SANITIZERS -fsanitize=address,undefined -fno-sanitize-recover=undefined)
add_compile_options(-fsanitize=fuzzer-no-link ${GEMMA3N_SANITIZERS} -fno-omit-frame-pointer -g)
add_link_options(${GEMMA3N_SANITIZERS})
