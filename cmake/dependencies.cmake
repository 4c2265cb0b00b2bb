# Imported targets for the Debian packages we build on (see FACTS.md):
# CAF 0.17 ships no CMake config or .pc file, so it is found by hand.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
# Only the tests need Boost.Test: scripts/run.sh installs and builds without it
# (the top-level CMakeLists.txt skips test/ when it is missing).
find_package(Boost 1.74 CONFIG COMPONENTS unit_test_framework)
find_package(prometheus-cpp REQUIRED CONFIG)
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)
# The packaged httplib is compiled with these defines; without them it aborts.
# MATCHSYNC_HTTPLIB_HEADER_DIR: the single header of the same version
# (scripts/httplib-tsan.sh) instead of Debian's split header and .so, so that
# a ThreadSanitizer build compiles httplib's code with its own, instrumented:
# the same features (OpenSSL, zlib, brotli) as Debian's build.
set(MATCHSYNC_HTTPLIB_HEADER_DIR "" CACHE PATH "Folder holding a single-header httplib.h to compile in (empty: Debian's libcpp-httplib)")
if(MATCHSYNC_HTTPLIB_HEADER_DIR)
  find_package(ZLIB REQUIRED)
  pkg_check_modules(BROTLI REQUIRED IMPORTED_TARGET libbrotlidec libbrotlienc)
  add_library(PkgConfig::HTTPLIB INTERFACE IMPORTED)
  # BEFORE: this httplib.h, never /usr/include's of the same name.
  target_include_directories(PkgConfig::HTTPLIB BEFORE INTERFACE ${MATCHSYNC_HTTPLIB_HEADER_DIR})
  target_compile_definitions(PkgConfig::HTTPLIB INTERFACE CPPHTTPLIB_OPENSSL_SUPPORT
    CPPHTTPLIB_ZLIB_SUPPORT CPPHTTPLIB_BROTLI_SUPPORT)
  target_link_libraries(PkgConfig::HTTPLIB INTERFACE OpenSSL::SSL OpenSSL::Crypto ZLIB::ZLIB
    PkgConfig::BROTLI Threads::Threads)
else()
  pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
endif()
# sd_notify: serve and worker tell systemd when they are ready (Type=notify).
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)

# MATCHSYNC_CAF_PREFIX: a CAF installed elsewhere (scripts/caf-tsan.sh's
# ThreadSanitizer build) is searched before the system's, for every CAF
# library found below. Results cached from another CAF are dropped, and a
# library found outside the prefix is an error: a TSan build that quietly
# linked Debian's uninstrumented CAF would report every actor message.
set(MATCHSYNC_CAF_PREFIX "" CACHE PATH "Install prefix of the CAF to build against (empty: the system's)")
# The cached CAF_*_DIR / CAF_*_LIBRARY paths that are not in the prefix.
function(caf_outside_prefix out)
  get_cmake_property(cached CACHE_VARIABLES)
  list(FILTER cached INCLUDE REGEX "^CAF_.*_(DIR|LIBRARY)$")
  set(outside "")
  foreach(var IN LISTS cached)
    if(NOT "${${var}}" MATCHES "^${MATCHSYNC_CAF_PREFIX}/")
      list(APPEND outside ${var})
    endif()
  endforeach()
  set(${out} ${outside} PARENT_SCOPE)
endfunction()
if(MATCHSYNC_CAF_PREFIX)
  list(PREPEND CMAKE_PREFIX_PATH ${MATCHSYNC_CAF_PREFIX})
  caf_outside_prefix(stale)
  foreach(var IN LISTS stale)
    unset(${var} CACHE)
  endforeach()
endif()
find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
find_library(CAF_IO_LIBRARY caf_io REQUIRED)
add_library(caf::core INTERFACE IMPORTED)
target_include_directories(caf::core INTERFACE ${CAF_INCLUDE_DIR})
target_link_libraries(caf::core INTERFACE ${CAF_CORE_LIBRARY} Threads::Threads)
add_library(caf::io INTERFACE IMPORTED)
target_link_libraries(caf::io INTERFACE ${CAF_IO_LIBRARY} caf::core)
# TLS between nodes: Debian's libcaf-openssl0.17, installed with libcaf-dev.
find_library(CAF_OPENSSL_LIBRARY caf_openssl REQUIRED)
add_library(caf::openssl INTERFACE IMPORTED)
target_link_libraries(caf::openssl INTERFACE ${CAF_OPENSSL_LIBRARY} caf::io OpenSSL::SSL)
# Keep this check after every find of a CAF library (caf_openssl too).
if(MATCHSYNC_CAF_PREFIX)
  caf_outside_prefix(outside)
  foreach(var IN LISTS outside)
    message(FATAL_ERROR "${var} is ${${var}}, outside MATCHSYNC_CAF_PREFIX ${MATCHSYNC_CAF_PREFIX}")
  endforeach()
endif()
