# Warnings for our own code only; third-party sources are compiled without them.
add_library(dxpy_warnings INTERFACE)
target_compile_options(dxpy_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wconversion -Wno-sign-conversion>)
if(DXPY_WERROR)
  target_compile_options(dxpy_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
endif()
