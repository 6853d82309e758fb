// What only the memory store does: LRU eviction under its memory limit.
#include "cache/store/memory/memory_store.h"

#include "gtest/gtest.h"
#include "tests/support/entries.h"

namespace clustercache {
namespace {

TEST(MemoryStoreTest, EvictsLeastRecentlyUsedUnderTheLimit) {
  MemoryStoreOptions options;
  options.shards = 1;
  options.memory_limit = 100 << 10;  // room for about 9 entries of 10 KiB
  std::unique_ptr<Store> store = NewMemoryStore(options);
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE(store
                    ->Put(WriteOf(Key("s", std::to_string(i)),
                                  std::string(10 << 10, 'x')))
                    .ok());
  }
  ASSERT_NE(store->Read(Key("s", "0"))->entry, nullptr);  // now most recent
  for (int i = 9; i < 12; ++i) {
    ASSERT_TRUE(store
                    ->Put(WriteOf(Key("s", std::to_string(i)),
                                  std::string(10 << 10, 'x')))
                    .ok());
  }
  EXPECT_NE(store->Read(Key("s", "0"))->entry, nullptr) << "recently read";
  EXPECT_EQ(store->Read(Key("s", "1"))->entry, nullptr) << "least recent";
  EXPECT_NE(store->Read(Key("s", "11"))->entry, nullptr);
  absl::StatusOr<StoreUsage> usage = store->Usage();
  EXPECT_LE(usage->bytes, options.memory_limit);
  absl::StatusOr<ScanPage> page = store->Scan({"s", "", "", 100});
  EXPECT_EQ(page->entries.size(), static_cast<size_t>(usage->entries))
      << "the scan index forgets evicted entries";
}

TEST(MemoryStoreTest, RefusesAnEntryLargerThanItsShare) {
  MemoryStoreOptions options;
  options.shards = 4;
  options.memory_limit = 1 << 20;
  std::unique_ptr<Store> store = NewMemoryStore(options);
  absl::StatusOr<int64_t> put =
      store->Put(WriteOf(Key("s", "big"), std::string(300 << 10, 'x')));
  EXPECT_TRUE(absl::IsResourceExhausted(put.status())) << put.status();
  EXPECT_EQ(store->Read(Key("s", "big"))->entry, nullptr);
}

}  // namespace
}  // namespace clustercache
