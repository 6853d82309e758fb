# Writes OUT: the git revision of the source tree SRC ("unknown" outside a
# git checkout; "-dirty" with uncommitted changes), rewritten only when it
# changed, so that a build recompiles what includes it only then. Run at
# every build (cache/CMakeLists.txt: cc_build_revision).
execute_process(COMMAND git -C "${SRC}" rev-parse --short=7 HEAD
  OUTPUT_VARIABLE revision OUTPUT_STRIP_TRAILING_WHITESPACE
  RESULT_VARIABLE failed ERROR_QUIET)
if(failed OR revision STREQUAL "")
  set(revision "unknown")
else()
  execute_process(COMMAND git -C "${SRC}" diff --quiet HEAD
    RESULT_VARIABLE dirty ERROR_QUIET)
  if(dirty EQUAL 1)
    set(revision "${revision}-dirty")
  endif()
endif()
set(text "#define CLUSTERCACHE_REVISION \"${revision}\"\n")
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
