// The gRPC channel a clustercache client opens to one server.
#ifndef CLUSTERCACHE_CLIENT_SERVER_CHANNEL_H_
#define CLUSTERCACHE_CLIENT_SERVER_CHANNEL_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>

namespace clustercache {

// A channel to `address` (HOST:PORT) that sends and takes payloads up to
// 1 GiB. With `own_connection` the channel gets a TCP connection of its own
// instead of sharing one with other channels to the same address (a load
// generator spreading its calls over connections, as many app nodes would).
std::shared_ptr<grpc::Channel> NewServerChannel(const std::string& address,
                                                bool own_connection = false);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CLIENT_SERVER_CHANNEL_H_
