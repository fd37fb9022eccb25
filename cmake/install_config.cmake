# Run by `cmake --install`: writes the default configuration into
# <prefix>/etc/strata/strata.toml with the paths of an installed broker
# (data under <prefix>/var/lib/strata, or /var/lib/strata for the /usr
# prefix; rules under <prefix>/etc/strata/rules), keeping an existing file.
# SRC and SYSCONF are set by the install(CODE) call in CMakeLists.txt.
set(prefix "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
set(dest "${prefix}/${SYSCONF}/strata/strata.toml")
if(EXISTS "${dest}")
  message(STATUS "Keeping existing: ${dest}")
  return()
endif()
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(data_dir "/var/lib/strata")
  set(rules_dir "/etc/strata/rules")
else()
  set(data_dir "${CMAKE_INSTALL_PREFIX}/var/lib/strata")
  set(rules_dir "${CMAKE_INSTALL_PREFIX}/${SYSCONF}/strata/rules")
endif()
file(READ "${SRC}" text)
string(REPLACE "data_dir = \"./data\"" "data_dir = \"${data_dir}\"" text "${text}")
string(REPLACE "dir = \"etc/rules\"" "dir = \"${rules_dir}\"" text "${text}")
file(WRITE "${dest}" "${text}")
message(STATUS "Installing: ${dest}")
