#include "client/server_channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

namespace clustercache {

// The largest message the client sends or takes: a 1 GiB payload and its
// metadata.
constexpr int kMaxMessage = (1 << 30) + (1 << 20);

std::shared_ptr<grpc::Channel> NewServerChannel(const std::string& address,
                                                bool own_connection) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessage);
  args.SetMaxSendMessageSize(kMaxMessage);
  if (own_connection) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   args);
}

}  // namespace clustercache
