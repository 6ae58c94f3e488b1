# The layering rule, checked on every build (cmake -P cmake/TopodLayers.cmake -DROOT=<tree>):
# each top-level module may include its own headers and those of the modules listed for it,
# all of which come earlier in the order below, so the include graph has no cycles and nothing
# includes upwards. It also keeps third-party headers in the one module that adapts each library,
# and the pure modules (policies, simulator) on the C++ standard library alone. docs/architecture.md
# explains the layers; tests/ and bench/ may include anything.
#
# A violation fails the build with one line per offending include:
#   layering: policies/x.cc includes "nri/plugin.h": policies may include common topology policies

cmake_minimum_required(VERSION 3.25)

# Module order and, for each, the modules it may include (its own is implied).
set(TOPOD_LAYER_ORDER common metrics topology policies state simulator config cgroups systemd nri kube api agent cli)
set(TOPOD_LAYER_common "")
set(TOPOD_LAYER_metrics common)
set(TOPOD_LAYER_topology common)
set(TOPOD_LAYER_policies common topology)
set(TOPOD_LAYER_state common topology policies)
set(TOPOD_LAYER_simulator common topology policies state)
set(TOPOD_LAYER_config common metrics topology policies state)
set(TOPOD_LAYER_cgroups common)
set(TOPOD_LAYER_systemd common)
set(TOPOD_LAYER_nri common)
set(TOPOD_LAYER_kube common topology)
set(TOPOD_LAYER_api common topology policies state)
set(TOPOD_LAYER_agent common metrics topology policies state config cgroups systemd nri kube api)
set(TOPOD_LAYER_cli common metrics topology policies state simulator config cgroups systemd nri kube api agent)

# Third-party headers (a prefix of the include path) and the only modules that may include them.
set(TOPOD_EXTERNAL_PREFIXES hwloc curl/ yaml.h toml++/ CLI/ systemd/ spdlog/ nlohmann/ google/ grpc microhttpd.h)
set(TOPOD_EXTERNAL_hwloc topology)
set(TOPOD_EXTERNAL_curl/ kube)
set(TOPOD_EXTERNAL_yaml.h kube)
set(TOPOD_EXTERNAL_toml++/ config)
set(TOPOD_EXTERNAL_CLI/ cli)
set(TOPOD_EXTERNAL_systemd/ systemd)
set(TOPOD_EXTERNAL_spdlog/ agent)
set(TOPOD_EXTERNAL_nlohmann/ common topology state simulator kube agent)
set(TOPOD_EXTERNAL_google/ nri api)
set(TOPOD_EXTERNAL_grpc nri api)
set(TOPOD_EXTERNAL_microhttpd.h metrics)
# Modules that are pure functions of their inputs: the C++ standard library only.
set(TOPOD_PURE_MODULES policies simulator)

if(NOT DEFINED ROOT)
  message(FATAL_ERROR "usage: cmake -DROOT=<source tree> [-DSTAMP=<file>] -P TopodLayers.cmake")
endif()

# The build's module list (comma-separated) must be this order: one list of modules, not two.
if(DEFINED MODULES)
  string(REPLACE "," ";" modules "${MODULES}")
  if(NOT modules STREQUAL TOPOD_LAYER_ORDER)
    message(FATAL_ERROR "layering: the build's modules (${MODULES}) differ from TOPOD_LAYER_ORDER")
  endif()
endif()

# The declared graph itself must point only downwards.
set(seen "")
foreach(module IN LISTS TOPOD_LAYER_ORDER)
  foreach(dep IN LISTS TOPOD_LAYER_${module})
    if(NOT dep IN_LIST seen)
      message(FATAL_ERROR "layering: ${module} may not depend on ${dep}, which is not below it")
    endif()
  endforeach()
  list(APPEND seen ${module})
endforeach()

set(violations "")
foreach(module IN LISTS TOPOD_LAYER_ORDER)
  if(NOT IS_DIRECTORY "${ROOT}/${module}")
    continue()
  endif()
  set(allowed ${module} ${TOPOD_LAYER_${module}})
  file(GLOB_RECURSE sources RELATIVE "${ROOT}" "${ROOT}/${module}/*.h" "${ROOT}/${module}/*.cc")
  foreach(source IN LISTS sources)
    file(STRINGS "${ROOT}/${source}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*([<\"])([^>\"]*)[>\"].*$" "\\1;\\2" parsed "${line}")
      list(GET parsed 0 kind)
      list(GET parsed 1 header)
      if(kind STREQUAL "\"")
        # Our own headers: "<module>/...", or a generated one beside the sources.
        string(REGEX MATCH "^[A-Za-z_]+/" first "${header}")
        string(REGEX REPLACE "/$" "" first "${first}")
        if(first STREQUAL "tests" OR first STREQUAL "bench")
          list(APPEND violations "${source} includes \"${header}\": production code never includes ${first}/")
        elseif(first AND first IN_LIST TOPOD_LAYER_ORDER AND NOT first IN_LIST allowed)
          string(REPLACE ";" " " allowed_text "${allowed}")
          list(APPEND violations "${source} includes \"${header}\": ${module} may include ${allowed_text}")
        endif()
        continue()
      endif()
      set(reported FALSE)
      foreach(prefix IN LISTS TOPOD_EXTERNAL_PREFIXES)
        string(FIND "${header}" "${prefix}" at)
        if(at EQUAL 0 AND NOT module IN_LIST TOPOD_EXTERNAL_${prefix})
          string(REPLACE ";" " " owners "${TOPOD_EXTERNAL_${prefix}}")
          list(APPEND violations "${source} includes <${header}>: only ${owners} may")
          set(reported TRUE)
        endif()
      endforeach()
      if(NOT reported AND module IN_LIST TOPOD_PURE_MODULES AND NOT header MATCHES "^[a-z_]+$")
        list(APPEND violations "${source} includes <${header}>: ${module} is pure (the C++ standard library only)")
      endif()
    endforeach()
  endforeach()
endforeach()

if(violations)
  list(LENGTH violations count)
  foreach(violation IN LISTS violations)
    message(NOTICE "layering: ${violation}")
  endforeach()
  message(FATAL_ERROR "layering: ${count} include(s) cross a layer the wrong way (cmake/TopodLayers.cmake)")
endif()
if(DEFINED STAMP)
  file(TOUCH "${STAMP}")
endif()
