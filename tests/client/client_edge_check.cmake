# cmake -DCLOSURE=FILE -DPROGRAM=PATH -P client_edge_check.cmake
# Fails when cc_client's link closure (written at configure time by
# tests/CMakeLists.txt) or the program built from cc_client alone names a
# store's client library: hiredis, libmemcached, MySQL Connector/C++.
set(forbidden "hiredis|memcached|mysqlcppconn|cc_store_|cc_stores|cc_core")
file(READ "${CLOSURE}" closure)
if(closure STREQUAL "")
  message(FATAL_ERROR "empty link closure in ${CLOSURE}")
endif()
foreach(item IN LISTS closure)
  if(item MATCHES "${forbidden}")
    message(FATAL_ERROR "cc_client links ${item}")
  endif()
endforeach()
execute_process(COMMAND readelf -d "${PROGRAM}" OUTPUT_VARIABLE dynamic
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT dynamic MATCHES "NEEDED")
  message(FATAL_ERROR "readelf -d ${PROGRAM} failed (${rc})")
endif()
string(REGEX MATCHALL "\\[[^]]*\\]" needed "${dynamic}")
foreach(lib IN LISTS needed)
  if(lib MATCHES "${forbidden}")
    message(FATAL_ERROR "${PROGRAM} needs ${lib}")
  endif()
endforeach()
list(LENGTH closure n)
message(STATUS "cc_client: ${n} libraries in its link closure, none a store's")
