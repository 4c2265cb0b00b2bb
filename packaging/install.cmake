# What `cmake --install` puts where, and the .deb CPack builds from it
# (README "Installing on a server"). With the default prefix /usr/local
# everything lands under it; the .deb installs with prefix /usr, config in /etc.
include(GNUInstallDirs)
# Installing (and CPack) needs the binary alone: without this, `make install`
# and cpack would first build every target, the tests included.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(MATCHSYNC_PACKAGING_DIR ${CMAKE_CURRENT_LIST_DIR})

install(TARGETS matchsync RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/http/static/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/matchsync/static)
install(FILES ${MATCHSYNC_PACKAGING_DIR}/matchsync.1
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
# The config example and the units depend on the prefix the install runs
# with (`cmake --install --prefix`, or /usr for the .deb), so they are written
# at install time: /etc for the prefix /usr, PREFIX/etc otherwise. The example
# stays an example: the units start only once an admin has written
# matchsync.conf (ConditionPathExists), so a fresh install runs nothing.
install(CODE "set(MATCHSYNC_PACKAGING_DIR \"${MATCHSYNC_PACKAGING_DIR}\")
set(MATCHSYNC_EXAMPLE_CONF \"${CMAKE_SOURCE_DIR}/config/matchsync.example.conf\")")
install(CODE [[
  if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(ETC /etc)
  else()
    set(ETC "${CMAKE_INSTALL_PREFIX}/etc")
  endif()
  set(BINDIR "${CMAKE_INSTALL_PREFIX}/bin")
  set(DATADIR "${CMAKE_INSTALL_PREFIX}/share")
  file(READ "${MATCHSYNC_PACKAGING_DIR}/hardening.conf" HARDENING)
  set(staged "${CMAKE_CURRENT_BINARY_DIR}/packaging-staged")
  file(MAKE_DIRECTORY "${staged}")
  foreach(unit matchsync.service matchsync-worker.service)
    configure_file("${MATCHSYNC_PACKAGING_DIR}/${unit}.in" "${staged}/${unit}" @ONLY)
  endforeach()
  configure_file("${MATCHSYNC_EXAMPLE_CONF}" "${staged}/matchsync.conf.example" COPYONLY)
  file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" TYPE FILE
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
       FILES "${staged}/matchsync.service" "${staged}/matchsync-worker.service")
  file(INSTALL DESTINATION "${ETC}/matchsync" TYPE FILE
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
       FILES "${staged}/matchsync.conf.example")
]])

# CPack: scripts/package.sh builds the binary, then runs cpack.
set(CPACK_PACKAGE_NAME matchsync)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "matchsync maintainers <matchsync@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "keeps Dota 2 match histories in PostgreSQL in sync with OpenDota")
set(CPACK_PACKAGE_DESCRIPTION
  "A service (HTTP API, dashboard, sync jobs on CAF actors, worker nodes) that\nkeeps Dota 2 match histories in PostgreSQL in sync with the OpenDota API.")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# Dependencies from the libraries the binary links, named as Debian names
# them (dpkg-shlibdeps: libcaf-core0.17, libpqxx-6.4, libsystemd0...).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Without the debug info the binary is a fifth of its size.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "postgresql")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${MATCHSYNC_PACKAGING_DIR}/debian/postinst
  ${MATCHSYNC_PACKAGING_DIR}/debian/postrm
  ${MATCHSYNC_PACKAGING_DIR}/debian/prerm
  ${MATCHSYNC_PACKAGING_DIR}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
