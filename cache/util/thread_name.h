// Names the calling thread (as top -H, perf and gdb show it); at most 15
// characters.
#ifndef CLUSTERCACHE_CACHE_UTIL_THREAD_NAME_H_
#define CLUSTERCACHE_CACHE_UTIL_THREAD_NAME_H_

#include <pthread.h>

namespace clustercache {

inline void NameThisThread(const char* name) {
  pthread_setname_np(pthread_self(), name);
}

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_UTIL_THREAD_NAME_H_
