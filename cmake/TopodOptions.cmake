# Build options and the flags every topod target shares.
option(TOPOD_BUILD_TESTS "Build the GoogleTest suites" ON)
option(TOPOD_BUILD_BENCH "Build the benchmarks under bench/" ON)
option(TOPOD_BUILD_E2E "Build the end-to-end tests on a real containerd and their gRPC CRI client" ON)
option(TOPOD_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(TOPOD_WERROR "Treat warnings as errors" ON)
# libFuzzer binaries for tests/fuzz (scripts/fuzz.sh configures a build directory with it).
option(TOPOD_FUZZ "Build libFuzzer binaries, every topod library instrumented for them (clang only)" OFF)
# One translation unit per test binary: the test sources of a binary share the heavy headers
# (GoogleTest, the policies), so compiling them together halves a cold build of the suite.
# scripts/test.sh (CI) turns it on; off by default so editing one test file recompiles only it.
option(TOPOD_UNITY_TESTS "Compile each test binary's sources as one unit" OFF)
# The same for topod's own libraries and the binary (README's first command, through the `topod`
# preset): their sources share spdlog, toml++, nlohmann-json and the policy headers, so a cold
# build of `topod` takes far less CPU. Protobuf's generated code opts out (it defines the same
# file-local tables in every .pb.cc). Off by default: editing one file recompiles only it.
option(TOPOD_UNITY "Compile each library's sources as one unit" OFF)
if(TOPOD_UNITY)
  set(CMAKE_UNITY_BUILD ON)
endif()

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  set(CMAKE_C_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

# Our own code links topod::warnings; generated protobuf code does not (it trips -Wsign-conversion).
add_library(topod_warnings INTERFACE)
add_library(topod::warnings ALIAS topod_warnings)
target_compile_options(topod_warnings INTERFACE -Wall -Wextra -Wshadow -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough -Wswitch-enum
  # Designated initializers that leave members at their defaults are idiomatic here.
  -Wno-missing-field-initializers)
if(TOPOD_WERROR)
  target_compile_options(topod_warnings INTERFACE -Werror)
endif()

if(TOPOD_SANITIZE)
  # Applied globally so that every object, tests and generated code included, is instrumented.
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  # -O1 -g1 (they follow the build type's -O2 -g, and the last one wins): what ASan's authors
  # recommend, line tables for the reports, and a third less compile time than -O2 -g, which
  # keeps CI's second full build of the suite within its time budget.
  add_compile_options(-O1 -g1)
  add_link_options(-fsanitize=address,undefined)
endif()

if(TOPOD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "TOPOD_FUZZ needs clang: configure with CC=clang CXX=clang++ (scripts/fuzz.sh does)")
  endif()
  if(TOPOD_SANITIZE)
    message(FATAL_ERROR "TOPOD_FUZZ already builds with ASan and UBSan; leave TOPOD_SANITIZE off")
  endif()
  # Applied globally: libFuzzer only sees coverage of code compiled with fuzzer-no-link, so every
  # library under test (and the header-only parsers they use) is instrumented, not just the
  # target's own file. The fuzzer binaries add -fsanitize=fuzzer for libFuzzer's main().
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  # -O1 and line tables only (after the build type's -O2 -g, so they win): faster to compile,
  # and the reports still name lines.
  add_compile_options(-O1 -gline-tables-only)
  add_link_options(-fsanitize=address,undefined)
endif()

# Every library target is a static archive; the topod binary links them all.
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
