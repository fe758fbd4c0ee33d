# ctest helper: runs DRIVER with CASE and passes only if the run fails (non-zero exit) and its
# output matches every regular expression in EXPECT (separated by "::"). A sanitizer that
# misses the planted bug, or reports something else, fails the test.
#   cmake -DDRIVER=path -DCASE=name "-DEXPECT=regex1::regex2" -P expect_sanitizer_report.cmake
execute_process(COMMAND ${DRIVER} ${CASE} RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(status EQUAL 0)
  message(FATAL_ERROR "expected a sanitizer report from '${CASE}', but it exited 0:\n${output}")
endif()
string(REPLACE "::" ";" patterns "${EXPECT}")
foreach(pattern IN LISTS patterns)
  if(NOT output MATCHES "${pattern}")
    message(FATAL_ERROR "output of '${CASE}' (exit ${status}) does not match '${pattern}':\n${output}")
  endif()
endforeach()
message(STATUS "'${CASE}' was reported as expected (exit ${status})")
