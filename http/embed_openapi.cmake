# Writes OUT: a C++ file holding http/openapi.json (IN) as a string.
file(READ "${IN}" doc)
file(WRITE "${OUT}.tmp"
"// Generated from http/openapi.json by http/embed_openapi.cmake.\n"
"#include \"http/openapi.hpp\"\n"
"namespace matchsync::http {\n"
"const std::string& openapi_document() {\n"
"  static const std::string doc = R\"openapi_json(${doc})openapi_json\";\n"
"  return doc;\n}\n}  // namespace matchsync::http\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
