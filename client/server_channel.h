// The gRPC channel a clustercache client opens to one server.
#ifndef CLUSTERCACHE_CLIENT_SERVER_CHANNEL_H_
#define CLUSTERCACHE_CLIENT_SERVER_CHANNEL_H_

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace clustercache {

// TLS to the server (PEM file paths). No CA: plaintext.
struct ChannelTls {
  std::string ca;    // the CA that signed the server's certificate
  std::string cert;  // for mTLS: the client's certificate chain ...
  std::string key;   // ... and its key
};

// The channel credentials for `tls`: plaintext without a CA; an error
// naming the file that cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFor(
    const ChannelTls& tls);

// A channel to `address` (HOST:PORT) that sends and takes payloads up to
// 1 GiB. With `own_connection` the channel gets a TCP connection of its own
// instead of sharing one with other channels to the same address (a load
// generator spreading its calls over connections, as many app nodes would).
std::shared_ptr<grpc::Channel> NewServerChannel(
    const std::string& address, bool own_connection = false,
    std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CLIENT_SERVER_CHANNEL_H_
