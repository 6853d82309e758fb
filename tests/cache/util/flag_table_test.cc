#include "cache/util/flag_table.h"

#include <fstream>

#include "gtest/gtest.h"

namespace clustercache {
namespace {

struct Settings {
  std::string name = "default";
  bool on = false;
  int64_t n = 5;
  absl::Duration d = absl::Seconds(1);
  std::vector<std::string> list;
};

FlagTable Table(Settings* s) {
  FlagTable t;
  t.AddString("name", &s->name, "a name");
  t.AddBool("on", &s->on, "a switch");
  t.AddInt("n", &s->n, 1, 10, "a number");
  t.AddDuration("d", &s->d, "a duration");
  t.AddList("item", &s->list, "repeatable");
  return t;
}

TEST(FlagTableTest, ParsesEveryForm) {
  Settings s;
  FlagTable t = Table(&s);
  std::vector<std::string> pos, rest;
  ASSERT_TRUE(t.Parse({"--name=x", "a", "--on", "--n", "7", "--d=2h",
                       "--item=1", "--item", "2", "--", "cmd", "--n=1"},
                      &pos, &rest)
                  .ok());
  EXPECT_EQ(s.name, "x");
  EXPECT_TRUE(s.on);
  EXPECT_EQ(s.n, 7);
  EXPECT_EQ(s.d, absl::Hours(2));
  EXPECT_EQ(s.list, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(pos, (std::vector<std::string>{"a"}));
  EXPECT_EQ(rest, (std::vector<std::string>{"cmd", "--n=1"}));
}

TEST(FlagTableTest, ErrorsNameTheFlag) {
  Settings s;
  FlagTable t = Table(&s);
  std::vector<std::string> pos;
  absl::Status bad = t.Parse({"--n=11"}, &pos);
  EXPECT_NE(bad.message().find("--n=11"), absl::string_view::npos);
  EXPECT_EQ(s.n, 5);  // unchanged
  EXPECT_NE(t.Parse({"--nope=1"}, &pos).message().find("unknown flag --nope"),
            absl::string_view::npos);
  EXPECT_FALSE(t.Parse({"--d=forever"}, &pos).ok());
  EXPECT_FALSE(t.Parse({"--", "x"}, &pos).ok());  // no rest allowed
}

TEST(FlagTableTest, ReadsFlagfileAndShowsEffectiveValues) {
  std::string path = testing::TempDir() + "/flags.txt";
  std::ofstream(path) << "# comment\n--name=fromfile\n\n--on\n";
  Settings s;
  FlagTable t = Table(&s);
  std::vector<std::string> pos;
  ASSERT_TRUE(t.Parse({"--flagfile=" + path, "--n=3"}, &pos).ok());
  EXPECT_EQ(s.name, "fromfile");
  EXPECT_TRUE(s.on);
  EXPECT_NE(t.Show().find("name=fromfile\non=true\nn=3\nd=1s\n"),
            std::string::npos);
  EXPECT_NE(t.Help().find("(default: default)"), std::string::npos);
  EXPECT_FALSE(t.Parse({"--flagfile=/nonexistent"}, &pos).ok());
}

}  // namespace
}  // namespace clustercache
