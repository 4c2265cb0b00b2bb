# Writes OUT: a C++ file holding every file of the dashboard (DIR) as a
# string, keyed by its name, like the migrations and the OpenAPI document.
file(GLOB files RELATIVE "${DIR}" "${DIR}/*")
list(SORT files)
set(body "")
foreach(f ${files})
  file(READ "${DIR}/${f}" text)
  string(APPEND body "    {\"${f}\", R\"msfile(${text})msfile\"},\n")
endforeach()
file(WRITE "${OUT}.tmp"
"// Generated from http/static/ by http/embed_static.cmake.\n"
"#include \"http/static_files.hpp\"\n"
"namespace matchsync::http {\n"
"const std::map<std::string, std::string>& dashboard_files() {\n"
"  static const std::map<std::string, std::string> files{\n${body}  };\n"
"  return files;\n}\n}  // namespace matchsync::http\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
