#include "dxpy/util/thread.h"

#include <pthread.h>
#include <sched.h>

namespace dxpy {

namespace {

void pin_elsewhere(pthread_t t, unsigned k) {
  cpu_set_t allowed;
  if (::sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
  const int here = ::sched_getcpu();
  int others = 0;
  for (int c = 0; c < CPU_SETSIZE; ++c) others += CPU_ISSET(c, &allowed) && c != here;
  if (others == 0) return;
  int skip = static_cast<int>(k % static_cast<unsigned>(others));
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (!CPU_ISSET(c, &allowed) || c == here || skip-- > 0) continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(c, &one);
    ::pthread_setaffinity_np(t, sizeof one, &one);
    return;
  }
}

}  // namespace

void start_elsewhere(std::thread& t, unsigned k) { pin_elsewhere(t.native_handle(), k); }
void start_elsewhere(std::jthread& t, unsigned k) { pin_elsewhere(t.native_handle(), k); }

}  // namespace dxpy
