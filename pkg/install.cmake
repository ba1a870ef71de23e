# install.cmake: the parts of `cmake --install` (and so of cpack) whose
# place depends on the prefix given at install time, not at configure
# time: cpack installs with prefix /usr whatever the build was configured
# with, and `cmake --install build --prefix DIR` picks DIR then.
#
#   prefix /usr: the config in /etc/whistle (Debian's place for it)
#   prefix DIR:  DIR/etc/whistle, so a trial install touches nothing else
#
# The unit names the binary and the config by those same paths. DESTDIR
# is added by file(INSTALL) itself. WH_PKG_SRC and WH_PKG_BIN are set by
# the install(CODE) just before this script (pkg/CMakeLists.txt).
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(WH_ETCDIR "/etc")
else()
  set(WH_ETCDIR "${CMAKE_INSTALL_PREFIX}/etc")
endif()
set(WH_BINDIR "${CMAKE_INSTALL_PREFIX}/bin")

configure_file("${WH_PKG_SRC}/whistle.service.in"
               "${WH_PKG_BIN}/gen/whistle.service" @ONLY)
file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system"
     TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES "${WH_PKG_BIN}/gen/whistle.service")
file(INSTALL DESTINATION "${WH_ETCDIR}/whistle"
     TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES "${WH_PKG_SRC}/whistle.conf")
