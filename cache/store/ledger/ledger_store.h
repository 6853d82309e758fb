// LedgerStore: a store with a ledger kept in step with it. Reads, leases and
// waits go to the store alone (a fresh hit never touches the ledger); writes
// are recorded in the ledger after the store took them; what needs
// enumeration (Scan, Usage, Expire/Delete by prefix, purge) reads the
// ledger, and expiry keys are kept there durably.
//
// When the ledger is unreachable: fetches, leases and stores go on (entries
// stored meanwhile are missing from the ledger's index: they leave by TTL or
// eviction, not by purge; each is logged as a count when the ledger is
// back); Invalidate, ListExpiryKeys, Scan, Usage and Expire/Delete by prefix
// fail with an error naming the ledger. Thread-safe.
#ifndef CLUSTERCACHE_CACHE_STORE_LEDGER_LEDGER_STORE_H_
#define CLUSTERCACHE_CACHE_STORE_LEDGER_LEDGER_STORE_H_

#include <memory>

#include "cache/store/ledger/ledger.h"
#include "cache/store/store.h"

namespace clustercache {

std::unique_ptr<Store> NewLedgerStore(std::unique_ptr<Store> store,
                                      std::shared_ptr<Ledger> ledger);

}  // namespace clustercache

#endif  // CLUSTERCACHE_CACHE_STORE_LEDGER_LEDGER_STORE_H_
