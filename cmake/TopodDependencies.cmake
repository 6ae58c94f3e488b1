# All dependencies come from Debian 12 packages (scripts/install-deps.sh). Each is found the way
# its Debian package supports: a CMake config package where it ships one (gRPC, toml++, nlohmann,
# spdlog, fmt, CLI11, GoogleTest, benchmark), pkg-config where it does not (hwloc, libnuma,
# libsystemd, libyaml, libmicrohttpd), CMake's own find modules for Protobuf and libcurl.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(HWLOC REQUIRED IMPORTED_TARGET hwloc>=2.0)
pkg_check_modules(NUMA REQUIRED IMPORTED_TARGET numa)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd>=252)
find_package(Protobuf 3.21 REQUIRED)
find_package(gRPC 1.51 CONFIG REQUIRED)
find_package(tomlplusplus 3.3 CONFIG REQUIRED)
find_package(nlohmann_json 3.11 CONFIG REQUIRED)
# Kubernetes client (kube/): libcurl for HTTP and TLS, libyaml for kubeconfig files.
find_package(CURL 7.88 REQUIRED)
pkg_check_modules(YAML REQUIRED IMPORTED_TARGET yaml-0.1)
# Metrics server (metrics/): libmicrohttpd serves /metrics and /healthz.
pkg_check_modules(MICROHTTPD REQUIRED IMPORTED_TARGET libmicrohttpd>=0.9.71)
find_package(fmt 9 CONFIG REQUIRED)
find_package(spdlog 1.10 CONFIG REQUIRED)
find_package(CLI11 2.1 CONFIG REQUIRED)
if(TOPOD_BUILD_TESTS)
  find_package(GTest 1.12 CONFIG REQUIRED)
  include(GoogleTest)
endif()
if(TOPOD_BUILD_BENCH)
  find_package(benchmark 1.7 CONFIG REQUIRED)
endif()
