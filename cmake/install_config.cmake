# Run by `cmake --install`: installs the default configuration and the
# example rules where an installed strata looks for them, with the paths of
# the installation written into strata.toml:
#
#   prefix /usr:   /etc/strata/strata.toml, /etc/strata/rules, data in /var/lib/strata
#   other prefix:  <prefix>/etc/strata/..., data in <prefix>/var/lib/strata
#
# An existing strata.toml is kept (an upgrade does not overwrite the
# operator's file). SRC_DIR is set by the install(CODE) call in CMakeLists.txt.
set(root "$ENV{DESTDIR}")
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(sysconf "/etc/strata")
  set(data_dir "/var/lib/strata")
else()
  set(sysconf "${CMAKE_INSTALL_PREFIX}/etc/strata")
  set(data_dir "${CMAKE_INSTALL_PREFIX}/var/lib/strata")
endif()
file(INSTALL "${SRC_DIR}/etc/rules/" DESTINATION "${root}${sysconf}/rules")
set(dest "${root}${sysconf}/strata.toml")
if(EXISTS "${dest}")
  message(STATUS "Keeping existing: ${dest}")
  return()
endif()
file(READ "${SRC_DIR}/etc/strata.toml" text)
string(REPLACE "data_dir = \"./data\"" "data_dir = \"${data_dir}\"" text "${text}")
string(REPLACE "dir = \"etc/rules\"" "dir = \"${sysconf}/rules\"" text "${text}")
file(WRITE "${dest}" "${text}")
message(STATUS "Installing: ${dest}")
