# Writes OUT: a C++ file holding every migrations/*.sql file as a string, in
# name order, so the binary carries its schema with it.
file(GLOB files "${MIGRATIONS_DIR}/*.sql")
list(SORT files)
set(body "")
foreach(f IN LISTS files)
  get_filename_component(name "${f}" NAME)
  file(READ "${f}" sql)
  string(APPEND body "    {\"${name}\", R\"matchsync_sql(${sql})matchsync_sql\"},\n")
endforeach()
file(WRITE "${OUT}.tmp"
"// Generated from migrations/*.sql by persistence/embed_migrations.cmake.\n"
"#include \"persistence/migrator.hpp\"\n"
"namespace matchsync::db {\n"
"const std::vector<migration>& embedded_migrations() {\n"
"  static const std::vector<migration> all = {\n${body}  };\n"
"  return all;\n}\n}  // namespace matchsync::db\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
