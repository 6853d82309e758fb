#include "cache/store/memcached/memcached_reader.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "cache/util/thread_name.h"

namespace clustercache {

McReader::McReader(MemcachedPool* pool, int servers) : pool_(pool) {
  for (int i = 0; i < servers; ++i) {
    lanes_.push_back(std::make_unique<Lane>());
    Lane* lane = lanes_.back().get();
    for (int t = 0; t < kThreadsPerServer; ++t) {
      lane->threads.emplace_back([this, lane] {
        NameThisThread("cc-mc-reader");
        Run(lane);
      });
    }
  }
}

McReader::~McReader() {
  for (auto& lane : lanes_) {
    absl::MutexLock lock(&lane->mu);
    lane->stop = true;
  }
  for (auto& lane : lanes_) {
    for (std::thread& t : lane->threads) t.join();
  }
}

void McReader::Submit(uint32_t server, std::string group,
                      std::vector<std::string> keys, Done done) {
  if (server >= lanes_.size()) {
    return done(absl::InternalError("memcached: no such server"));
  }
  Lane* lane = lanes_[server].get();
  absl::MutexLock lock(&lane->mu);
  lane->pending.push_back({std::move(group), std::move(keys), std::move(done)});
}

void McReader::Run(Lane* lane) {
  for (;;) {
    std::vector<Request> batch;
    {
      absl::MutexLock lock(&lane->mu);
      lane->mu.Await(absl::Condition(
          +[](Lane* l) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return l->stop || !l->pending.empty();
          },
          lane));
      if (lane->stop) {
        for (Request& r : lane->pending) batch.push_back(std::move(r));
        lane->pending.clear();
        for (Request& r : batch) {
          r.done(absl::UnavailableError("memcached store shutting down"));
        }
        return;
      }
      // As many as fit one round trip (always one); the rest are left to
      // this server's other readers.
      size_t fit = 0;
      absl::flat_hash_set<absl::string_view> seen;
      while (!lane->pending.empty()) {
        size_t more = 0;
        for (const std::string& k : lane->pending.front().keys) {
          if (!seen.contains(k)) ++more;
        }
        if (!batch.empty() && fit + more > McHandle::kMaxKeysPerGet) break;
        batch.push_back(std::move(lane->pending.front()));
        lane->pending.pop_front();
        for (const std::string& k : batch.back().keys) seen.insert(k);
        fit += more;
      }
    }
    absl::flat_hash_set<std::string> unique;
    std::vector<std::string> keys;
    for (const Request& r : batch) {
      for (const std::string& k : r.keys) {
        if (unique.insert(k).second) keys.push_back(k);
      }
    }
    absl::StatusOr<McItems> got = pool_->With(
        [&](McHandle& h) { return h.MultiGet(batch.front().group, keys); });
    for (Request& r : batch) {
      if (!got.ok()) {
        r.done(got.status());
        continue;
      }
      McItems mine;
      for (const std::string& k : r.keys) {
        auto it = got->find(k);
        if (it != got->end()) mine.emplace(k, it->second);
      }
      r.done(std::move(mine));
    }
  }
}

}  // namespace clustercache
