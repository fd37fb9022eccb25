#include "bridges/template/topic_template.hpp"

#include <gtest/gtest.h>

namespace strata::bridges {
namespace {

TEST(TopicTemplate, WholeTopicAndLevels) {
  EXPECT_EQ(TopicTemplate::compile("{topic}").expand("a/b/c"), "a/b/c");
  EXPECT_TRUE(TopicTemplate::compile("{topic}").is_whole_topic());
  EXPECT_EQ(TopicTemplate::compile("{1}.{3}").expand("a/b/c"), "a.c");
  EXPECT_EQ(TopicTemplate::compile("x-{2}-y").expand("a/b/c"), "x-b-y");
  EXPECT_EQ(TopicTemplate::compile("{4}").expand("a/b/c"), "");
}

TEST(TopicTemplate, LevelsFromTheEnd) {
  EXPECT_EQ(TopicTemplate::compile("{-1}").expand("a/b/c"), "c");
  EXPECT_EQ(TopicTemplate::compile("{-3}").expand("a/b/c"), "a");
  EXPECT_EQ(TopicTemplate::compile("{-4}").expand("a/b/c"), "");
  EXPECT_EQ(TopicTemplate::compile("{-1}").expand("a/b/"), "");
  EXPECT_EQ(TopicTemplate::compile("{-2}").expand("/a"), "");
  EXPECT_EQ(TopicTemplate::compile("{-1}").expand("solo"), "solo");
}

TEST(TopicTemplate, EmptyLevels) {
  EXPECT_EQ(TopicTemplate::compile("[{1}][{2}][{3}]").expand("a//c"), "[a][][c]");
  EXPECT_EQ(TopicTemplate::compile("[{1}][{2}]").expand("/x"), "[][x]");
}

TEST(TopicTemplate, HashIsWhatTheFilterWildcardMatched) {
  EXPECT_EQ(TopicTemplate::compile("out/{#}", "plant/#").expand("plant/a/b"), "out/a/b");
  EXPECT_EQ(TopicTemplate::compile("out/{#}", "plant/+/#").expand("plant/a/b/c"), "out/b/c");
  EXPECT_EQ(TopicTemplate::compile("{#}").expand("plant/a"), "plant/a");
  EXPECT_EQ(TopicTemplate::compile("[{#}]", "plant/#").expand("plant"), "[]");
}

TEST(TopicTemplate, LevelNames) {
  std::vector<std::string> names{"enterprise", "site", "area"};
  EXPECT_EQ(TopicTemplate::compile("{site}/{area}", {}, names).expand("acme/lyon/press"), "lyon/press");
}

TEST(TopicTemplate, Braces) {
  EXPECT_EQ(TopicTemplate::compile("{{{1}}}").expand("a/b"), "{a}");
}

TEST(TopicTemplate, Errors) {
  EXPECT_THROW(TopicTemplate::compile("{1"), TemplateError);
  EXPECT_THROW(TopicTemplate::compile("a}"), TemplateError);
  EXPECT_THROW(TopicTemplate::compile("{0}"), TemplateError);
  EXPECT_THROW(TopicTemplate::compile("{1x}"), TemplateError);
  EXPECT_THROW(TopicTemplate::compile("{site}"), TemplateError);
  try {
    TopicTemplate::compile("{nope}");
  } catch (const TemplateError& e) {
    EXPECT_STREQ(e.what(), "template '{nope}': unknown placeholder {nope}; expected {topic}, {#}, {N}, {-N}");
  }
}

}  // namespace
}  // namespace strata::bridges
