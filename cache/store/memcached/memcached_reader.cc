#include "cache/store/memcached/memcached_reader.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "cache/util/thread_name.h"

namespace clustercache {

McReader::McReader(MemcachedPool* pool, int servers) : pool_(pool) {
  for (int i = 0; i < servers; ++i) {
    lanes_.push_back(std::make_unique<Lane>());
    Lane* lane = lanes_.back().get();
    lane->thread = std::thread([this, lane] {
      NameThisThread("cc-mc-reader");
      Run(lane);
    });
  }
}

McReader::~McReader() {
  for (auto& lane : lanes_) {
    absl::MutexLock lock(&lane->mu);
    lane->stop = true;
  }
  for (auto& lane : lanes_) lane->thread.join();
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
        batch.swap(lane->pending);
        for (Request& r : batch) {
          r.done(absl::UnavailableError("memcached store shutting down"));
        }
        return;
      }
      batch.swap(lane->pending);
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
