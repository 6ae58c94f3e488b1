# Install rules and the Debian package (docs/operations.md). The install tree is the package's
# file system: `cmake --install build/release` installs on this host exactly what the .deb
# installs, `--prefix DIR` stages it, and `cmake --build build/release --target deb` (or
# scripts/build-deb.sh) writes build/release/topod_<version>_<arch>.deb with CPack.
if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)
  set(CMAKE_INSTALL_PREFIX "/" CACHE PATH "Install prefix: the root of the package's file system" FORCE)
endif()

set(TOPOD_DEB_DIR ${PROJECT_SOURCE_DIR}/deploy/debian)

install(TARGETS topod RUNTIME DESTINATION usr/bin)
# Debian 12's systemd units live in /lib (usrmerge makes it /usr/lib; dh_installsystemd uses /lib).
install(FILES deploy/systemd/topod.service DESTINATION lib/systemd/system)

# /etc/topod/topod.toml: examples/topod.toml with every line commented out, so topod runs on its
# embedded defaults and an upgrade that changes a default is not held back by an untouched file.
file(READ ${PROJECT_SOURCE_DIR}/examples/topod.toml example_toml)
# Its own header (the comment block before the first blank line) is replaced by ours.
string(REGEX REPLACE "^(#[^\n]*\n)+\n" "" example_toml "${example_toml}")
string(REGEX REPLACE "\n$" "" example_toml "${example_toml}")
string(REGEX REPLACE "\n" "\n# " commented_toml "# ${example_toml}")
string(REGEX REPLACE "# \n" "#\n" commented_toml "${commented_toml}\n")
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/package/topod.toml CONTENT
"# /etc/topod/topod.toml: topod's configuration, read by topod.service (topod run --config).
# Every key is commented out with its default (examples/topod.toml); uncomment one to change it,
# check the file with `topod config check /etc/topod/topod.toml`, then `systemctl reload topod`.
# docs/configuration.md says which keys a reload applies and which wait for a restart.
#
${commented_toml}" @ONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/examples/topod.toml)
install(FILES ${CMAKE_BINARY_DIR}/package/topod.toml DESTINATION etc/topod)

# Documentation as Debian wants it: copyright, a changelog compressed without a timestamp (so the
# package is reproducible), the manual page and the operator's guide.
set(doc_dir usr/share/doc/topod)
add_custom_command(
  OUTPUT ${CMAKE_BINARY_DIR}/package/changelog.gz ${CMAKE_BINARY_DIR}/package/topod.8.gz
  COMMAND gzip -9nc ${TOPOD_DEB_DIR}/changelog > ${CMAKE_BINARY_DIR}/package/changelog.gz
  COMMAND gzip -9nc ${TOPOD_DEB_DIR}/topod.8 > ${CMAKE_BINARY_DIR}/package/topod.8.gz
  DEPENDS ${TOPOD_DEB_DIR}/changelog ${TOPOD_DEB_DIR}/topod.8
  VERBATIM)
add_custom_target(topod_package_docs ALL DEPENDS ${CMAKE_BINARY_DIR}/package/changelog.gz
                                                 ${CMAKE_BINARY_DIR}/package/topod.8.gz)
install(FILES ${TOPOD_DEB_DIR}/copyright ${CMAKE_BINARY_DIR}/package/changelog.gz
              README.md docs/operations.md docs/configuration.md
        DESTINATION ${doc_dir})
install(FILES ${CMAKE_BINARY_DIR}/package/topod.8.gz DESTINATION usr/share/man/man8)

# CPack's DEB generator. Depends come from dpkg-shlibdeps on the stripped binary.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME topod)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX "/")
set(CPACK_PACKAGE_CONTACT "topod maintainers <maintainers@users.noreply.h-seed-5817acda.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "NUMA-aligned CPU, memory and device manager for Kubernetes nodes")
# CPack puts the summary first; this is the extended description.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "topod hooks into containerd and CRI-O through NRI and replaces the kubelet's
CPU, memory and topology managers: it pins CPUs, memory and devices
NUMA-aligned, resizes pinned containers in place, and publishes the node's
NodeResourceTopology object for topology-aware schedulers.
.
This package runs topod as the systemd service topod.service, configured by
/etc/topod/topod.toml, with its state in /var/lib/topod.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${TOPOD_DEB_DIR}/conffiles ${TOPOD_DEB_DIR}/postinst ${TOPOD_DEB_DIR}/prerm ${TOPOD_DEB_DIR}/postrm)
# Maintainer scripts 0755, conffiles 0644, whatever the checkout's modes.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)

add_custom_target(deb
  COMMAND ${CMAKE_CPACK_COMMAND} --config ${CMAKE_BINARY_DIR}/CPackConfig.cmake -B ${CMAKE_BINARY_DIR}
  DEPENDS topod topod_package_docs
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  COMMENT "Building the topod .deb (CPack)"
  VERBATIM)
