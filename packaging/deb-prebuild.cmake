# Runs inside cpack (CPACK_PRE_BUILD_SCRIPTS) after the components are installed into the staging
# tree and before the .deb files are made: adds what Debian policy wants of every package and
# what a plain `cmake --install` should not get.
#   - /usr/share/doc/<package>/copyright and changelog.Debian.gz
#   - man pages gzipped with -9n (no timestamp, so the package is reproducible)
#   - the conffiles list: every file under /etc, so dpkg keeps an operator's edits

if(NOT CPACK_ICEBREAKER_INSTALL_PREFIX STREQUAL "/usr")
  message(FATAL_ERROR "Debian packages install under /usr, but this tree is configured with "
                      "CMAKE_INSTALL_PREFIX=${CPACK_ICEBREAKER_INSTALL_PREFIX}; reconfigure with "
                      "-DCMAKE_INSTALL_PREFIX=/usr (the systemd unit's paths come from it)")
endif()

find_program(_gzip gzip REQUIRED)
set(_readable OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

function(icebreaker_gzip file)
  execute_process(COMMAND ${_gzip} -9nf "${file}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "gzip -9n ${file} failed")
  endif()
endfunction()

foreach(component IN LISTS CPACK_COMPONENTS_ALL)
  set(root "${CPACK_TEMPORARY_DIRECTORY}/${component}")
  if(NOT IS_DIRECTORY "${root}")
    message(FATAL_ERROR "no staging directory ${root} for component ${component}")
  endif()
  string(TOUPPER "${component}" upper)
  set(package "${CPACK_DEBIAN_${upper}_PACKAGE_NAME}")

  set(doc "${root}/usr/share/doc/${package}")
  file(MAKE_DIRECTORY "${doc}")
  file(COPY "${CPACK_ICEBREAKER_COPYRIGHT}" DESTINATION "${doc}" FILE_PERMISSIONS ${_readable})
  file(COPY "${CPACK_ICEBREAKER_CHANGELOG}" DESTINATION "${doc}" FILE_PERMISSIONS ${_readable})
  icebreaker_gzip("${doc}/changelog.Debian")

  file(GLOB_RECURSE man_pages "${root}/usr/share/man/*")
  foreach(page IN LISTS man_pages)
    if(NOT page MATCHES "\\.gz$")
      icebreaker_gzip("${page}")
    endif()
  endforeach()

  # dpkg wants every conffile listed, and lintian no empty list: a package with nothing under
  # /etc loses the list from its control files (cpack reads the variable after this script).
  if("${CPACK_DEBIAN_${upper}_PACKAGE_CONTROL_EXTRA}" MATCHES "conffiles")
    file(GLOB_RECURSE etc_files LIST_DIRECTORIES false RELATIVE "${root}" "${root}/etc/*")
    list(SORT etc_files)
    set(conffiles "")
    foreach(f IN LISTS etc_files)
      string(APPEND conffiles "/${f}\n")
    endforeach()
    file(WRITE "${CPACK_ICEBREAKER_CONTROL_DIR}/${component}/conffiles" "${conffiles}")
    if(conffiles STREQUAL "")
      list(FILTER CPACK_DEBIAN_${upper}_PACKAGE_CONTROL_EXTRA EXCLUDE REGEX "/conffiles$")
    endif()
  endif()
endforeach()
