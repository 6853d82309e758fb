// A running clustercached node as the source of `clustercachectl migrate
// --from=node`: what a node's embedded memory store holds can only be read
// through the node. A read-only Store over the node's gRPC face: List pages
// (in key order, resumed after a key) for Scan, a peek Fetch per key for
// Read, ListExpiryKeys and Stats as they are. The node judges freshness;
// an entry it does not call fresh reads as one whose expiry keys cannot be
// told (so migrate copies it soft-expired). Every write or admin step
// answers FAILED_PRECONDITION.
#ifndef CLUSTERCACHE_CLIENT_CTL_NODE_SOURCE_H_
#define CLUSTERCACHE_CLIENT_CTL_NODE_SOURCE_H_

#include <memory>
#include <string>

#include "cache/store/store.h"
#include "client/cache_client.h"

namespace clustercache {

// `client` outlives the store; `describe` names the node(s) for messages.
std::unique_ptr<Store> NewNodeSource(GrpcClient* client, std::string describe);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CLIENT_CTL_NODE_SOURCE_H_
