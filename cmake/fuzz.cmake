# libFuzzer harnesses (tests/fuzz/fuzz_*.c), built when DUNGHAN_FUZZ is on (clang only): the
# whole project is compiled with -fsanitize=fuzzer-no-link so that coverage reaches into the
# daemon's modules, and each harness links the fuzzer's main. `make fuzz` and `make test` run
# them through tests/fuzz/run.sh. docs/testing.md records what they found.
file(GLOB FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
list(REMOVE_ITEM FUZZ_SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_daemon.c)
add_library(dunghan_fuzzdaemon STATIC ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_daemon.c)
target_compile_options(dunghan_fuzzdaemon PRIVATE ${DUNGHAN_WARNINGS})
target_compile_definitions(dunghan_fuzzdaemon PRIVATE DUNGHAN_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
target_link_libraries(dunghan_fuzzdaemon PUBLIC dunghan_core)
set(fuzz_targets)
foreach(src ${FUZZ_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_compile_options(${name} PRIVATE ${DUNGHAN_WARNINGS})
  target_compile_definitions(${name} PRIVATE DUNGHAN_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${name} PRIVATE dunghan_fuzzdaemon dunghan_core)
  list(APPEND fuzz_targets ${name})
endforeach()
add_custom_target(fuzzers DEPENDS ${fuzz_targets})
