#include "cache/clock.h"

#include <chrono>

namespace clustercache {

int64_t SystemClock::NowMicros() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count() +
         offset_us_;
}

Clock* DefaultClock() {
  static SystemClock* clock = new SystemClock();
  return clock;
}

}  // namespace clustercache
