# cmake --install and CPack: two Debian packages.
#   clustercached      the server, clustercachectl, its bash completion,
#                      the systemd unit and a default configuration
#   clustercache-dev   the C++ client: headers, static libraries, a CMake
#                      package (find_package(clustercache) ->
#                      clustercache::client) and a pkg-config file
# The unit and the configuration are for the package (prefix /usr).
include(CMakePackageConfigHelpers)
set(CC_PACKAGE_PREFIX /usr)
set(CC_BINDIR ${CC_PACKAGE_PREFIX}/bin)
set(CC_DOCDIR ${CC_PACKAGE_PREFIX}/share/doc/clustercached)
set(CC_INCLUDE include/clustercache)

# The server package.
install(TARGETS clustercached clustercachectl RUNTIME DESTINATION bin
  COMPONENT server)
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/clustercachectl.bash
  COMMAND clustercachectl completion bash > clustercachectl.bash
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  DEPENDS clustercachectl COMMENT "bash completion of clustercachectl")
add_custom_target(cc_completion ALL
  DEPENDS ${CMAKE_BINARY_DIR}/clustercachectl.bash)
install(FILES ${CMAKE_BINARY_DIR}/clustercachectl.bash
  DESTINATION share/bash-completion/completions RENAME clustercachectl
  COMPONENT server)
configure_file(packaging/clustercached.service.in
  ${CMAKE_BINARY_DIR}/packaging/clustercached.service @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/packaging/clustercached.service
  DESTINATION lib/systemd/system COMPONENT server)
# The configuration goes to /etc for the package (prefix /usr), and under
# the prefix otherwise (cmake --install --prefix DIR stays inside DIR).
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(cc_etc /etc/clustercache)
  else()
    set(cc_etc \"\${CMAKE_INSTALL_PREFIX}/etc/clustercache\")
  endif()
  file(INSTALL \"${CMAKE_SOURCE_DIR}/packaging/clustercached.conf\"
    DESTINATION \"\${cc_etc}\")" COMPONENT server)
install(FILES README.md DESTINATION share/doc/clustercached COMPONENT server)
file(WRITE ${CMAKE_BINARY_DIR}/packaging/conffiles
  "/etc/clustercache/clustercached.conf\n")

# The client package: the libraries under their installed names, headers
# under include/clustercache (#include "client/cache_client.h").
set_target_properties(cc_client PROPERTIES EXPORT_NAME client
  OUTPUT_NAME clustercache_client)
set_target_properties(cc_proto PROPERTIES EXPORT_NAME proto
  OUTPUT_NAME clustercache_proto)
target_include_directories(cc_client PUBLIC
  $<INSTALL_INTERFACE:${CC_INCLUDE}>)
install(TARGETS cc_client cc_proto EXPORT clustercacheTargets
  ARCHIVE DESTINATION lib COMPONENT dev)
install(FILES client/cache_client.h client/get_or_generate.h
  client/server_channel.h DESTINATION ${CC_INCLUDE}/client COMPONENT dev)
install(FILES ${CMAKE_BINARY_DIR}/proto/clustercache/v1/cache.pb.h
  ${CMAKE_BINARY_DIR}/proto/clustercache/v1/cache.grpc.pb.h
  DESTINATION ${CC_INCLUDE}/clustercache/v1 COMPONENT dev)
install(EXPORT clustercacheTargets NAMESPACE clustercache::
  DESTINATION lib/cmake/clustercache COMPONENT dev)
configure_package_config_file(packaging/clustercacheConfig.cmake.in
  ${CMAKE_BINARY_DIR}/packaging/clustercacheConfig.cmake
  INSTALL_DESTINATION lib/cmake/clustercache)
write_basic_package_version_file(
  ${CMAKE_BINARY_DIR}/packaging/clustercacheConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/packaging/clustercacheConfig.cmake
  ${CMAKE_BINARY_DIR}/packaging/clustercacheConfigVersion.cmake
  DESTINATION lib/cmake/clustercache COMPONENT dev)
configure_file(packaging/clustercache.pc.in
  ${CMAKE_BINARY_DIR}/packaging/clustercache.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/packaging/clustercache.pc
  DESTINATION lib/pkgconfig COMPONENT dev)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME clustercache)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "clustercache maintainers <clustercache@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "cluster-wide content cache with global expiry")
# The install step runs with DESTDIR and prefix /usr, so it can put the
# configuration in /etc.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX ${CC_PACKAGE_PREFIX})
set(CPACK_PACKAGING_INSTALL_PREFIX ${CC_PACKAGE_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL server dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_SERVER_PACKAGE_NAME clustercached)
set(CPACK_DEBIAN_SERVER_PACKAGE_SECTION net)
set(CPACK_DEBIAN_SERVER_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
  ${CMAKE_BINARY_DIR}/packaging/conffiles)
set(CPACK_COMPONENT_SERVER_DESCRIPTION
  "clustercached, clustercachectl and the systemd unit")
set(CPACK_DEBIAN_DEV_PACKAGE_NAME clustercache-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "libgrpc++-dev, libprotobuf-dev, protobuf-compiler-grpc, libabsl-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION "the C++ client of clustercached")
include(CPack)
