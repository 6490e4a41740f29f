# Every dependency comes from Debian's packages (found with find_package) or from a pinned
# PyPI source distribution (cmake/deps.lock, fetched by cmake/fetch_sdists.py). Nothing else
# is downloaded.

find_package(Python 3.9 REQUIRED COMPONENTS Interpreter Development.Module)
find_package(Threads REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(tomlplusplus CONFIG REQUIRED)
find_package(nlohmann_json 3 CONFIG REQUIRED)  # header-only: session/durations.cpp
# toml++ header-only (the Debian package ships the whole implementation in its headers): its
# imported target links the shared libtomlplusplus.so, which with the libstdc++.so it needs
# cost every `dx-py` start a library to map, bind and relocate. Only config/locate.cpp uses it.
add_library(dxpy_tomlplusplus INTERFACE)
target_include_directories(dxpy_tomlplusplus SYSTEM INTERFACE
  $<TARGET_PROPERTY:tomlplusplus::tomlplusplus,INTERFACE_INCLUDE_DIRECTORIES>)
target_compile_definitions(dxpy_tomlplusplus INTERFACE TOML_HEADER_ONLY=1)

# --- pinned sdists --------------------------------------------------------------------
set(DXPY_DEPS_DIR "${PROJECT_SOURCE_DIR}/.deps" CACHE PATH "Where the pinned sdists are unpacked")
set(_lock "${PROJECT_SOURCE_DIR}/cmake/deps.lock")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_lock}")
execute_process(
  COMMAND "${Python_EXECUTABLE}" "${PROJECT_SOURCE_DIR}/cmake/fetch_sdists.py" "${_lock}" "${DXPY_DEPS_DIR}"
  RESULT_VARIABLE _fetch_rc OUTPUT_QUIET)
if(NOT _fetch_rc EQUAL 0)
  message(FATAL_ERROR "Could not fetch the pinned sdists of cmake/deps.lock from PyPI into ${DXPY_DEPS_DIR}")
endif()
file(STRINGS "${_lock}" _pins REGEX "^[a-z]")
foreach(_pin IN LISTS _pins)
  string(REGEX MATCH "^([^ ]+) +([^ ]+)" _ "${_pin}")
  string(TOUPPER "${CMAKE_MATCH_1}" _var)
  string(REPLACE "-" "_" _var "${_var}")
  set(DXPY_${_var}_DIR "${DXPY_DEPS_DIR}/${CMAKE_MATCH_1}-${CMAKE_MATCH_2}")
endforeach()

# --- tree-sitter runtime and the Python grammar -----------------------------------------
set(_ts "${DXPY_TREE_SITTER_DIR}/tree_sitter/core/lib")
add_library(dxpy_tree_sitter STATIC "${_ts}/src/lib.c")
target_include_directories(dxpy_tree_sitter SYSTEM PUBLIC "${_ts}/include" PRIVATE "${_ts}/src")
target_compile_definitions(dxpy_tree_sitter PRIVATE _DEFAULT_SOURCE)
target_compile_options(dxpy_tree_sitter PRIVATE -w)  # third-party code: its warnings are not ours

# The tree-sitter-python sdist ships parser.c and scanner.c but not the grammar headers
# (tree_sitter/parser.h, array.h, alloc.h): those are the runtime's lib/src headers.
set(_tsp "${DXPY_TREE_SITTER_PYTHON_DIR}/src")
set(_tsp_inc "${CMAKE_BINARY_DIR}/grammar_include")
foreach(_h parser.h array.h alloc.h ts_assert.h)
  configure_file("${_ts}/src/${_h}" "${_tsp_inc}/tree_sitter/${_h}" COPYONLY)
endforeach()
add_library(dxpy_tree_sitter_python STATIC "${_tsp}/parser.c" "${_tsp}/scanner.c")
target_include_directories(dxpy_tree_sitter_python SYSTEM BEFORE PRIVATE "${_tsp_inc}" "${_tsp}")
target_link_libraries(dxpy_tree_sitter_python PUBLIC dxpy_tree_sitter)
target_compile_options(dxpy_tree_sitter_python PRIVATE -w)

# The grammar's ABI must lie in the runtime's supported range.
file(STRINGS "${_tsp}/parser.c" _abi REGEX "^#define LANGUAGE_VERSION [0-9]+")
string(REGEX MATCH "[0-9]+$" DXPY_GRAMMAR_ABI "${_abi}")
file(STRINGS "${_ts}/include/tree_sitter/api.h" _rt REGEX "^#define TREE_SITTER_(MIN_COMPATIBLE_)?LANGUAGE_VERSION [0-9]+")
string(REGEX MATCH "TREE_SITTER_LANGUAGE_VERSION ([0-9]+)" _ "${_rt}")
set(_rt_max "${CMAKE_MATCH_1}")
string(REGEX MATCH "MIN_COMPATIBLE_LANGUAGE_VERSION ([0-9]+)" _ "${_rt}")
set(_rt_min "${CMAKE_MATCH_1}")
if(DXPY_GRAMMAR_ABI LESS _rt_min OR DXPY_GRAMMAR_ABI GREATER _rt_max)
  message(FATAL_ERROR "tree-sitter-python ABI ${DXPY_GRAMMAR_ABI} is outside the runtime's ${_rt_min}..${_rt_max}")
endif()
message(STATUS "tree-sitter: runtime ABI ${_rt_min}..${_rt_max}, Python grammar ABI ${DXPY_GRAMMAR_ABI}")

# --- xxHash (Debian's libxxhash-dev; header-only use: XXH_INLINE_ALL in util/hash.cpp) ----
find_path(DXPY_XXHASH_INCLUDE_DIR xxhash.h REQUIRED)

# --- BLAKE3 (the C implementation shipped in the blake3 sdist) ----------------------------
set(_b3 "${DXPY_BLAKE3_DIR}/c_impl/vendor")
set(_b3_sources "${_b3}/blake3.c" "${_b3}/blake3_dispatch.c" "${_b3}/blake3_portable.c")
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  list(APPEND _b3_sources "${_b3}/blake3_sse2_x86-64_unix.S" "${_b3}/blake3_sse41_x86-64_unix.S"
                          "${_b3}/blake3_avx2_x86-64_unix.S" "${_b3}/blake3_avx512_x86-64_unix.S")
  add_library(dxpy_blake3 STATIC ${_b3_sources})
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  add_library(dxpy_blake3 STATIC ${_b3_sources} "${_b3}/blake3_neon.c")
  target_compile_definitions(dxpy_blake3 PRIVATE BLAKE3_USE_NEON=1)
else()
  add_library(dxpy_blake3 STATIC ${_b3_sources})
  target_compile_definitions(dxpy_blake3 PRIVATE BLAKE3_NO_SSE2 BLAKE3_NO_SSE41 BLAKE3_NO_AVX2 BLAKE3_NO_AVX512)
endif()
target_include_directories(dxpy_blake3 SYSTEM PUBLIC "${_b3}")

# --- tests --------------------------------------------------------------------------------
if(DXPY_BUILD_TESTS)
  find_package(GTest REQUIRED)
  find_package(rapidcheck CONFIG REQUIRED)
endif()

# --- nanobind (from the PyPI package) ----------------------------------------------------
if(DXPY_BUILD_PYTHON)
  execute_process(COMMAND "${Python_EXECUTABLE}" -m nanobind --cmake_dir
                  OUTPUT_STRIP_TRAILING_WHITESPACE OUTPUT_VARIABLE nanobind_ROOT RESULT_VARIABLE _nb_rc)
  if(NOT _nb_rc EQUAL 0)
    message(FATAL_ERROR "nanobind is not installed for ${Python_EXECUTABLE}: pip install nanobind==2.9.2")
  endif()
  find_package(nanobind CONFIG REQUIRED)
endif()
