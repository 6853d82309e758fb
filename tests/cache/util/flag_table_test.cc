#include "cache/util/flag_table.h"

#include <stdlib.h>

#include <fstream>

#include "absl/strings/str_split.h"
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

// Issue 17, item 3: every line form, comments anywhere, nested files.
TEST(FlagTableTest, FlagfileLinesInEveryFormWithComments) {
  const std::string dir = testing::TempDir();
  std::ofstream(dir + "/inner.txt") << "item=from-inner\n";
  std::ofstream(dir + "/forms.txt")
      << "  # a comment line\n"
         "--name=with#hash   # a comment after a blank\n"
         "--n 4\n"
         "d=90s\n"
         "on\n"
         "item two words\n"
         "flagfile="
      << dir << "/inner.txt\n";
  Settings s;
  FlagTable t = Table(&s);
  std::vector<std::string> pos;
  absl::Status parsed = t.Parse({"--flagfile=" + dir + "/forms.txt"}, &pos);
  ASSERT_TRUE(parsed.ok()) << parsed;
  EXPECT_EQ(s.name, "with#hash");  // '#' inside a value is kept
  EXPECT_EQ(s.n, 4);
  EXPECT_EQ(s.d, absl::Seconds(90));
  EXPECT_TRUE(s.on);
  EXPECT_EQ(s.list, (std::vector<std::string>{"two words", "from-inner"}));
  EXPECT_TRUE(pos.empty());
  // A bad line says where it is.
  std::ofstream(dir + "/bad.txt") << "n=4\n\nn=99\n";
  absl::Status bad = t.Parse({"--flagfile=" + dir + "/bad.txt"}, &pos);
  EXPECT_NE(bad.message().find("bad.txt:3: --n=99"), absl::string_view::npos)
      << bad;
  std::ofstream(dir + "/nameless.txt") << "--n\n";
  EXPECT_NE(t.Parse({"--flagfile=" + dir + "/nameless.txt"}, &pos)
                .message()
                .find("missing value"),
            absl::string_view::npos);
}

TEST(FlagTableTest, AFlagfileThatIncludesItselfIsAnError) {
  const std::string dir = testing::TempDir();
  std::ofstream(dir + "/self.txt")
      << "n=2\n--flagfile=" << dir << "/self.txt\n";
  std::ofstream(dir + "/a.txt") << "--flagfile " << dir << "/b.txt\n";
  std::ofstream(dir + "/b.txt") << "flagfile=" << dir << "/./a.txt\n";
  Settings s;
  FlagTable t = Table(&s);
  std::vector<std::string> pos;
  absl::Status self = t.Parse({"--flagfile=" + dir + "/self.txt"}, &pos);
  EXPECT_NE(self.message().find("includes itself"), absl::string_view::npos)
      << self;
  absl::Status loop = t.Parse({"--flagfile=" + dir + "/a.txt"}, &pos);
  EXPECT_NE(loop.message().find("includes itself"), absl::string_view::npos)
      << loop;
  // The same file twice side by side is not a loop.
  std::ofstream(dir + "/twice.txt") << "item=x\n";
  ASSERT_TRUE(t.Parse({"--flagfile=" + dir + "/twice.txt",
                       "--flagfile=" + dir + "/twice.txt"},
                      &pos)
                  .ok());
  EXPECT_EQ(s.list, (std::vector<std::string>{"x", "x"}));
}

// The command line over the environment over flagfiles, whatever the order
// on the command line.
TEST(FlagTableTest, EnvironmentBetweenFlagfileAndCommandLine) {
  const std::string path = testing::TempDir() + "/env-flags.txt";
  std::ofstream(path) << "name=file\nn=2\nd=3s\n";
  setenv("FTTEST_NAME", "env", 1);
  setenv("FTTEST_N", "7", 1);
  Settings s;
  FlagTable t = Table(&s);
  t.SetEnvPrefix("FTTEST_");
  std::vector<std::string> pos;
  absl::Status parsed = t.Parse({"--n=9", "--flagfile=" + path}, &pos);
  ASSERT_TRUE(parsed.ok()) << parsed;
  EXPECT_EQ(s.d, absl::Seconds(3));  // only in the file
  EXPECT_EQ(s.name, "env");          // env over file
  EXPECT_EQ(s.n, 9);                 // command line over both
  EXPECT_EQ(t.EnvName("admin-listen"), "FTTEST_ADMIN_LISTEN");
  EXPECT_NE(t.Help().find("[$FTTEST_N]"), std::string::npos);
  // A bad value names its variable; an unknown variable is an error.
  setenv("FTTEST_N", "77", 1);
  EXPECT_NE(t.Parse({}, &pos).message().find("$FTTEST_N: --n=77"),
            absl::string_view::npos);
  unsetenv("FTTEST_N");
  setenv("FTTEST_NAMEE", "typo", 1);
  EXPECT_NE(t.Parse({}, &pos).message().find("FTTEST_NAMEE"),
            absl::string_view::npos);
  unsetenv("FTTEST_NAMEE");
  unsetenv("FTTEST_NAME");
}

TEST(FlagTableTest, HelpIsWrappedToTheWidth) {
  Settings s;
  FlagTable t;
  t.AddString("name", &s.name,
              "a long explanation that goes on and on, far past the width "
              "of any sensible terminal, so that it must be wrapped");
  for (size_t width : {60u, 100u}) {
    const std::string help = t.Help(width);
    size_t lines = 0;
    for (absl::string_view line : absl::StrSplit(help, '\n')) {
      EXPECT_LE(line.size(), width) << line;
      if (!line.empty()) ++lines;
    }
    EXPECT_GT(lines, 1u);
    EXPECT_NE(help.find("sensible"), std::string::npos);
  }
}

}  // namespace
}  // namespace clustercache
