# Proves that find_package(nascent) works from a real install: install this source tree into a
# temporary prefix, then configure, build and run a separate consumer project against it.
file(REMOVE_RECURSE "${WORK_DIR}")
set(build "${WORK_DIR}/build")
set(prefix "${WORK_DIR}/prefix")
set(consumer "${WORK_DIR}/consumer")

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
endfunction()

# The library alone: no tests, apps or benchmarks, as a user's package manager would build it.
run("${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${build}" -G "${GENERATOR}"
    -DCMAKE_INSTALL_PREFIX=${prefix} -DNASCENT_BUILD_TESTS=OFF -DNASCENT_BUILD_APPS=OFF
    -DNASCENT_BUILD_BENCHMARKS=OFF -DNASCENT_BUILD_EXAMPLES=OFF -DNASCENT_BUILD_PYTHON=OFF
    -DNASCENT_INSTALL=ON)
run("${CMAKE_COMMAND}" --install "${build}")
if(NOT EXISTS "${prefix}/include/nascent/nascent.hpp")
  message(FATAL_ERROR "headers were not installed under ${prefix}/include")
endif()

run("${CMAKE_COMMAND}" -S "${SOURCE_DIR}/tests/package/consumer" -B "${consumer}" -G "${GENERATOR}"
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run("${CMAKE_COMMAND}" --build "${consumer}")
run("${consumer}/consumer")
message(STATUS "package test: install, find_package and consumer run succeeded")
