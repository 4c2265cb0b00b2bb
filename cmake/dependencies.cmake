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
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# sd_notify: serve and worker tell systemd when they are ready (Type=notify).
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)

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
