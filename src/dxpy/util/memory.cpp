#include "dxpy/util/memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace dxpy {

void populate_for_write(void* p, size_t n) {
#ifdef MADV_POPULATE_WRITE
  if (p == nullptr || n == 0) return;
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p) & ~(page - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + n + page - 1) & ~(page - 1);
  (void)::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
#else
  (void)p;
  (void)n;
#endif
}

}  // namespace dxpy
