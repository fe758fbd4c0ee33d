# Shared test plumbing: one Catch2 main compiled once, and a helper to register a test binary.
add_library(imx_catch_main STATIC ${CMAKE_CURRENT_LIST_DIR}/catch_main.cpp)
target_include_directories(imx_catch_main PUBLIC /usr/include/catch2)

# imx_add_test(NAME name SOURCES a.cpp ... LIBS lib ... [LABELS l ...])
function(imx_add_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE imx_catch_main ${T_LIBS})
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} --use-colour no)
  # Sleeping OpenMP workers: spinning ones starve other threads on 2 cores (engine/runtime.h).
  set_tests_properties(${T_NAME} PROPERTIES ENVIRONMENT OMP_WAIT_POLICY=PASSIVE)
  if(T_LABELS)
    set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()

# imx_add_cuda_test(NAME name SOURCES ... LIBS ... [LABELS ...]): a test that needs a CUDA
# device. Its main() (cuda_test_main.cpp) exits 77 without one, reported as skipped.
function(imx_add_cuda_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES} ${PROJECT_SOURCE_DIR}/cmake/cuda_test_main.cpp)
  target_include_directories(${T_NAME} PRIVATE /usr/include/catch2)
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} CUDA::cudart)
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} --use-colour no)
  set_tests_properties(${T_NAME} PROPERTIES SKIP_RETURN_CODE 77 LABELS "cuda;${T_LABELS}")
endfunction()
