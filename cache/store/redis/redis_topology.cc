#include "cache/store/redis/redis_topology.h"

#include <hiredis/hiredis.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace clustercache {
namespace {

uint16_t Crc16(absl::string_view bytes) {
  uint16_t crc = 0;
  for (unsigned char c : bytes) {
    crc ^= static_cast<uint16_t>(c) << 8;
    for (int i = 0; i < 8; ++i) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

}  // namespace

int RedisKeySlot(absl::string_view key) {
  size_t open = key.find('{');
  if (open != absl::string_view::npos) {
    size_t close = key.find('}', open + 1);
    if (close != absl::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return Crc16(key) % kRedisSlots;
}

std::unique_ptr<RedisTopology> RedisTopology::Standalone(
    const RedisEndpoint& node, int pool_size) {
  auto t =
      std::unique_ptr<RedisTopology>(new RedisTopology(false, node, pool_size));
  absl::MutexLock lock(&t->mu_);
  t->single_ = t->NodeLocked(node.host, node.port);
  return t;
}

absl::StatusOr<std::unique_ptr<RedisTopology>> RedisTopology::Cluster(
    const std::vector<RedisEndpoint>& seeds, int pool_size) {
  if (seeds.empty()) return absl::InvalidArgumentError("no cluster nodes");
  auto t = std::unique_ptr<RedisTopology>(
      new RedisTopology(true, seeds[0], pool_size));
  {
    absl::MutexLock lock(&t->mu_);
    for (const RedisEndpoint& seed : seeds) t->NodeLocked(seed.host, seed.port);
  }
  if (absl::Status s = t->Refresh(); !s.ok()) return s;
  return t;
}

RedisNode* RedisTopology::NodeLocked(const std::string& host, int port) {
  std::string address = absl::StrCat(host, ":", port);
  auto& slot = nodes_[address];
  if (!slot) {
    slot = std::make_unique<RedisNode>();
    slot->endpoint = base_;
    slot->endpoint.host = host;
    slot->endpoint.port = port;
    slot->pool = std::make_unique<RedisPool>(slot->endpoint, pool_size_);
  }
  return slot.get();
}

RedisNode* RedisTopology::NodeFor(absl::string_view key) {
  if (!cluster_) return single_;
  int slot = RedisKeySlot(key);
  absl::MutexLock lock(&mu_);
  return slots_[slot] ? slots_[slot] : nodes_.begin()->second.get();
}

RedisNode* RedisTopology::NodeAt(absl::string_view address) {
  size_t colon = address.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return nullptr;
  }
  absl::MutexLock lock(&mu_);
  return NodeLocked(std::string(address.substr(0, colon)), port);
}

std::vector<RedisNode*> RedisTopology::Nodes() {
  absl::MutexLock lock(&mu_);
  if (!cluster_) return {single_};
  std::vector<RedisNode*> out;
  for (RedisNode* n : slots_) {
    if (n && std::find(out.begin(), out.end(), n) == out.end())
      out.push_back(n);
  }
  return out;
}

absl::Status RedisTopology::Refresh() {
  if (!cluster_) return absl::OkStatus();
  std::vector<RedisNode*> candidates;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [address, node] : nodes_) candidates.push_back(node.get());
  }
  absl::Status last = absl::UnavailableError("no cluster node answered");
  for (RedisNode* node : candidates) {
    absl::StatusOr<RedisReply> map = node->pool->With([](RedisConnection& c) {
      return c.Command({"CLUSTER", "SLOTS"});
    });
    if (!map.ok()) {
      last = map.status();
      continue;
    }
    if (map->is_error()) {
      last = absl::FailedPreconditionError(
          absl::StrCat(node->endpoint.ToString(),
                       ": CLUSTER SLOTS: ", map->str(), " (is it a cluster?)"));
      continue;
    }
    std::vector<RedisNode*> slots(kRedisSlots, nullptr);
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < map->size(); ++i) {
      const redisReply* range = map->at(i);
      if (range->elements < 3) continue;
      long long from = range->element[0]->integer;
      long long to = range->element[1]->integer;
      const redisReply* master = range->element[2];
      if (master->elements < 2) continue;
      RedisNode* n = NodeLocked(ReplyString(master->element[0]),
                                static_cast<int>(master->element[1]->integer));
      for (long long s = from; s <= to && s < kRedisSlots; ++s) slots[s] = n;
    }
    slots_ = std::move(slots);
    return absl::OkStatus();
  }
  return last;
}

std::string RedisTopology::Describe() {
  std::vector<std::string> names;
  for (RedisNode* n : Nodes()) {
    names.push_back(absl::StrCat(n->endpoint.host, ":", n->endpoint.port));
  }
  return cluster_ ? absl::StrCat("redis-cluster://", absl::StrJoin(names, ","))
                  : base_.ToString();
}

}  // namespace clustercache
