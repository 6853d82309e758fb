// The clustercachectl commands that talk to stores directly, not to a node:
// migrate (copy one store into another) and store (what a URL opens).
#ifndef CLUSTERCACHE_CLIENT_CTL_STORE_COMMANDS_H_
#define CLUSTERCACHE_CLIENT_CTL_STORE_COMMANDS_H_

#include "client/ctl/ctl_commands.h"

namespace clustercache {

void MigrateFlags(FlagTable* t, CtlOptions* o);
int Migrate(const CtlCall& call);
void StoreFlags(FlagTable* t, CtlOptions* o);
int DescribeStore(const CtlCall& call);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CLIENT_CTL_STORE_COMMANDS_H_
