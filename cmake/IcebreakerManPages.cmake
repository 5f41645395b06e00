# Man pages made at build time by help2man from each binary's own --help output, so a page cannot
# drift from the options the binary has. help2man runs the binaries, so a cross build cannot make
# them: AUTO (the default) makes them when help2man is installed and the build is native, ON
# insists (CI), OFF skips them.
set(ICEBREAKER_MAN_PAGES AUTO CACHE STRING "Generate man pages with help2man: AUTO, ON or OFF")
set_property(CACHE ICEBREAKER_MAN_PAGES PROPERTY STRINGS AUTO ON OFF)
find_program(HELP2MAN_EXECUTABLE help2man)

set(ICEBREAKER_BUILD_MAN_PAGES OFF)
if(ICEBREAKER_MAN_PAGES STREQUAL "OFF")
  message(STATUS "Icebreaker: man pages off (ICEBREAKER_MAN_PAGES=OFF)")
elseif(NOT HELP2MAN_EXECUTABLE OR CMAKE_CROSSCOMPILING)
  if(CMAKE_CROSSCOMPILING)
    set(_why "a cross build cannot run the binaries for their --help")
  else()
    set(_why "help2man not found (Debian: apt-get install help2man)")
  endif()
  if(ICEBREAKER_MAN_PAGES STREQUAL "ON")
    message(FATAL_ERROR "ICEBREAKER_MAN_PAGES=ON, but ${_why}")
  endif()
  message(STATUS "Icebreaker: man pages skipped: ${_why}")
else()
  set(ICEBREAKER_BUILD_MAN_PAGES ON)
  message(STATUS "Icebreaker: man pages from --help with ${HELP2MAN_EXECUTABLE}")
endif()

set(ICEBREAKER_MAN_DIR ${PROJECT_BINARY_DIR}/man)
set(ICEBREAKER_MAN_PAGE_TARGETS "")

# icebreaker_man_page(<binary target> <install component> <one-line summary for NAME>)
function(icebreaker_man_page target component summary)
  if(NOT ICEBREAKER_BUILD_MAN_PAGES)
    return()
  endif()
  set(page ${ICEBREAKER_MAN_DIR}/${target}.1)
  # Run by name from PATH so "Usage:" shows the name, not the build directory. Sanitizer builds
  # would report Qt's deliberate exit-time leaks and fail the run, hence detect_leaks=0.
  add_custom_command(OUTPUT ${page}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${ICEBREAKER_MAN_DIR}
    COMMAND ${CMAKE_COMMAND} -E env "PATH=$<TARGET_FILE_DIR:${target}>:$ENV{PATH}" ASAN_OPTIONS=detect_leaks=0
            ${HELP2MAN_EXECUTABLE} --no-info --no-discard-stderr --section=1 --source=Icebreaker
            --version-string=${PROJECT_VERSION} --name=${summary} --output=${page} ${target}
    DEPENDS ${target}
    COMMENT "Man page ${target}.1 from ${target} --help"
    VERBATIM)
  add_custom_target(${target}-man ALL DEPENDS ${page})
  install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT ${component})
  set_property(GLOBAL APPEND PROPERTY ICEBREAKER_MAN_PAGE_TARGETS ${target})
endfunction()

icebreaker_man_page(ice-server ice-server "Overte ICE rendezvous server (and STUN server) for NAT traversal")
icebreaker_man_page(domain-server tools "register a domain with ice-servers and punch through NATs to its clients")
icebreaker_man_page(interface-stub tools "headless client that connects to a domain through an ice-server")
icebreaker_man_page(ice-client tools "check ICE step by step: STUN, ice-server query, ping-punch")
icebreaker_man_page(ice-keygen tools "make a domain keypair and install its public key for an ice-server")
icebreaker_man_page(ice-bench tools "benchmark an ice-server over loopback")
