// A program built against the installed clustercache-dev: stores argv[3]
// under tiny/NAME on the node at argv[1], fetches it back and prints it.
#include <iostream>

#include "client/cache_client.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: tiny HOST:PORT NAME VALUE\n";
    return 2;
  }
  clustercache::ClientOptions options;
  options.servers = {argv[1]};
  auto client = clustercache::NewGrpcClient(options);
  clustercache::v1::StoreRequest store;
  store.mutable_key()->set_scope("tiny");
  store.mutable_key()->set_name(argv[2]);
  store.set_payload(argv[3]);
  if (!client->Store(store).ok()) return 1;
  clustercache::v1::FetchRequest fetch;
  *fetch.mutable_key() = store.key();
  auto got = client->Fetch(fetch);
  if (!got.ok() || got->outcome() != clustercache::v1::HIT) return 1;
  std::cout << got->payload() << "\n";
  return 0;
}
