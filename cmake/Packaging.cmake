# Debian packages built by CPack from the same install rules as `cmake --install`:
#   cmake -S . -B build/pkg -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr
#   cmake --build build/pkg && (cd build/pkg && cpack -G DEB)
# scripts/package-test.sh does that, then lintian, install, a live run and purge.
#
# One component per package: ice-server -> icebreaker-ice-server, tools -> icebreaker-tools,
# dev -> libicebreaker-dev. What only a Debian package needs (copyright, changelog.Debian.gz,
# gzipped man pages, the conffiles list) is added to CPack's staging tree by
# packaging/deb-prebuild.cmake, so a plain install stays plain.

# Where systemd looks for units of packages: /lib/systemd/system on Debian 12 (systemd.pc says so);
# under any other prefix, <prefix>/lib/systemd/system (systemd also reads /usr/local/lib/...).
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_get_variable(_systemd_unit_dir systemd systemdsystemunitdir)
  endif()
  if(NOT _systemd_unit_dir)
    set(_systemd_unit_dir /lib/systemd/system)
  endif()
else()
  set(_systemd_unit_dir lib/systemd/system)
endif()
set(ICEBREAKER_SYSTEMD_UNIT_DIR ${_systemd_unit_dir} CACHE STRING "Where the ice-server systemd unit is installed")

# The packaged daemon's state: the system user's home and the trusted key directory (the unit's
# StateDirectory=icebreaker/ice-server). Only component (package) installs create it, since a
# `cmake --install` into a user prefix cannot write /var/lib and systemd creates it anyway.
install(DIRECTORY DESTINATION /var/lib/icebreaker/ice-server/keys
        COMPONENT ice-server EXCLUDE_FROM_ALL)

# Installed directories are 0755 whatever the umask of whoever builds the package.
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

set(ICEBREAKER_DEB_MAINTAINER "Icebreaker maintainers <maintainers@icebreaker.invalid>"
    CACHE STRING "Maintainer field (name <email>) of the Debian packages")
set(ICEBREAKER_DEB_RELEASE 1 CACHE STRING "Debian revision of the packages (the -N after the version)")
set(ICEBREAKER_DEB_VERSION "${PROJECT_VERSION}-${ICEBREAKER_DEB_RELEASE}")
# SOURCE_DATE_EPOCH, when set, makes the changelog date reproducible.
string(TIMESTAMP ICEBREAKER_DEB_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
set(_pkg_dir ${CMAKE_BINARY_DIR}/packaging)
configure_file(${PROJECT_SOURCE_DIR}/packaging/changelog.in ${_pkg_dir}/changelog.Debian @ONLY)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME icebreaker)
set(CPACK_PACKAGE_VENDOR "The Icebreaker developers")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${ICEBREAKER_DEB_MAINTAINER}")
# /etc and /var/lib are absolute destinations: install into the staging tree with DESTDIR.
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL ice-server tools dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${ICEBREAKER_DEB_RELEASE})
set(CPACK_DEBIAN_PACKAGE_SOURCE icebreaker)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps (dpkg-dev) names the library packages the binaries link against.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Maintainer scripts 0755, conffiles and the rest of the control files 0644.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# Read by packaging/deb-prebuild.cmake inside cpack (CPACK_* variables reach CPackConfig.cmake).
set(CPACK_PRE_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/packaging/deb-prebuild.cmake)
set(CPACK_ICEBREAKER_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_ICEBREAKER_COPYRIGHT ${PROJECT_SOURCE_DIR}/packaging/copyright)
set(CPACK_ICEBREAKER_CHANGELOG ${_pkg_dir}/changelog.Debian)
set(CPACK_ICEBREAKER_CONTROL_DIR ${_pkg_dir})

set(CPACK_DEBIAN_ICE-SERVER_PACKAGE_NAME icebreaker-ice-server)
set(CPACK_DEBIAN_ICE-SERVER_PACKAGE_SECTION net)
set(CPACK_DEBIAN_ICE-SERVER_PACKAGE_DEPENDS adduser)
# Descriptions: a synopsis line, then lines of at most 80 columns (lintian counts them).
set(CPACK_DEBIAN_ICE-SERVER_DESCRIPTION "ICE rendezvous and STUN server for Overte domains
The ice-server lets Overte (and High Fidelity) domain servers and clients
behind NATs find each other and punch a direct UDP path. Domains register
with signed heartbeats, verified against keys in the key directory
/var/lib/icebreaker/ice-server/keys or fetched from a metaverse server;
clients query a domain and both sides learn each other's sockets. It also
answers STUN binding requests on its port.
.
This package runs it under systemd as the system user icebreaker, with
/status and /metrics served on 127.0.0.1, TCP port 7338.")
set(CPACK_DEBIAN_ICE-SERVER_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/ice-server/postinst
    ${PROJECT_SOURCE_DIR}/packaging/ice-server/prerm
    ${PROJECT_SOURCE_DIR}/packaging/ice-server/postrm
    ${_pkg_dir}/ice-server/conffiles)

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME icebreaker-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION net)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SUGGESTS icebreaker-ice-server)
set(CPACK_DEBIAN_TOOLS_DESCRIPTION "ICE domain server, test client and diagnostics for Overte
Tools around the Icebreaker ice-server. domain-server is the ICE half of a
domain server (registration with ice-servers and the ping-punch).
interface-stub is a headless client that finds a domain and reports the
path. ice-client queries and pings a domain through an ice-server step by
step. ice-keygen makes a domain key pair for an ice-server's key directory.
ice-bench (with ice-echo) measures an ice-server over loopback.")
set(CPACK_DEBIAN_TOOLS_PACKAGE_CONTROL_EXTRA ${_pkg_dir}/tools/conffiles)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libicebreaker-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# The libraries are static, so their users link what they link: Qt, OpenSSL (and QCA on Qt 5).
if(ICEBREAKER_QT_MAJOR EQUAL 5)
  set(_dev_depends "qtbase5-dev, libssl-dev")
  if(ICEBREAKER_HAVE_QCA)
    string(APPEND _dev_depends ", libqca-qt5-2-dev")
  endif()
else()
  set(_dev_depends "qt6-base-dev, libssl-dev")
endif()
# Icebreaker::iceserver (static too) links the metrics, HTTP and Redis client libraries.
string(APPEND _dev_depends ", prometheus-cpp-dev, libcivetweb-dev, libhiredis-dev, pkg-config")
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "${_dev_depends}")
set(CPACK_DEBIAN_DEV_DESCRIPTION "Overte ICE networking library for Qt (development files)
The Icebreaker networking library: wire codecs, crypto, UDP transport,
packet dispatch and the client roles of Overte's ICE protocol, with
Overte-shaped classes (NodeList, DomainHandler, LimitedNodeList,
PacketReceiver, ...) for drop-in callers.
.
This package holds the headers, the static library and the CMake package:
find_package(Icebreaker) then link Icebreaker::networking.")

if(BUILD_SHARED_LIBS)
  message(WARNING "Debian packages hold the static library; configure without BUILD_SHARED_LIBS "
                  "to package (a shared build's runtime component is not packaged)")
endif()

include(CPack)
