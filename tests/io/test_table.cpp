#include <gtest/gtest.h>

#include "scalinglab/io/csv_write.h"
#include "scalinglab/io/input_error.h"
#include "scalinglab/io/table.h"

namespace io = scalinglab::io;
using scalinglab::io::InputError;
using scalinglab::io::parse_csv;
using scalinglab::io::parse_jsonl;

TEST(Table, ParsesCsvWithQuotesCommentsAndBlankLines) {
  auto t = parse_csv("# runs\nN,D,\"name, with comma\"\n\n1e6, 2e7 ,\"a \"\"b\"\"\"\n3,4,c\n", "f.csv");
  ASSERT_EQ(t.columns.size(), 3u);
  EXPECT_EQ(t.columns[2], "name, with comma");
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0][1], "2e7");
  EXPECT_EQ(t.rows[0][2], "a \"b\"");
  EXPECT_EQ(t.lines[0], 4);
  EXPECT_EQ(t.lines[1], 5);
  auto n = t.numeric(0);
  EXPECT_DOUBLE_EQ(n[0], 1e6);
}

TEST(Table, WrongFieldCountNamesTheLine) {
  try {
    parse_csv("N,D\n1,2\n3\n", "runs.csv");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.line(), 3);
    EXPECT_NE(std::string(e.what()).find("runs.csv:3"), std::string::npos);
  }
}

TEST(Table, NonNumericCellNamesFileLineAndColumn) {
  auto t = parse_csv("N,loss\n1,2\n5,abc\n", "x.csv");
  try {
    t.numeric(1);
    FAIL();
  } catch (const InputError& e) {
    std::string w = e.what();
    EXPECT_NE(w.find("x.csv:3"), std::string::npos) << w;
    EXPECT_NE(w.find("'loss'"), std::string::npos) << w;
    EXPECT_NE(w.find("abc"), std::string::npos) << w;
  }
}

TEST(Table, MissingColumnSuggestsClosestName) {
  auto t = parse_csv("N,D,loss\n1,2,3\n", "x.csv");
  try {
    t.require("los");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'loss'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(*t.find("LOSS"), 2u);  // case-insensitive fallback
}

TEST(Table, EmptyInputsAreErrors) {
  EXPECT_THROW(parse_csv("", "e.csv"), InputError);
  EXPECT_THROW(parse_csv("N,D\n", "e.csv"), InputError);
  EXPECT_THROW(parse_jsonl("\n\n", "e.jsonl"), InputError);
}

TEST(Table, JsonlUnionOfKeysAndBadLine) {
  auto t = parse_jsonl("{\"N\": 1e6, \"loss\": 3.5}\n{\"N\": 2e6, \"loss\": 3.1, \"tag\": \"x\"}\n", "r.jsonl");
  ASSERT_EQ(t.columns.size(), 3u);
  EXPECT_EQ(t.rows[0][2], "");
  EXPECT_DOUBLE_EQ(t.numeric(*t.find("loss"))[1], 3.1);
  try {
    parse_jsonl("{\"N\": 1}\n{oops\n", "r.jsonl");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.line(), 2);
  }
}

TEST(Table, EditDistance) {
  EXPECT_EQ(scalinglab::io::edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(scalinglab::io::edit_distance("Loss", "loss"), 0u);
  EXPECT_FALSE(scalinglab::io::closest_name("zzzzzz", {"N", "D", "loss"}).has_value());
}

TEST(CsvWrite, ToCsvReadsBackCellForCellAndNumbersExactly) {
  io::Table t;
  t.columns = {"name", "value"};
  const double third = 1.0 / 3, tiny = 6.02e-300;
  t.rows = {{"plain", io::csv_number(third)}, {"a,b", io::csv_number(tiny)}, {"say \"hi\"", io::csv_number(-0.0)},
            {"big", io::csv_number(1e21)}};
  const std::string csv = io::to_csv(t);
  EXPECT_EQ(csv.substr(0, 11), "name,value\n");
  EXPECT_NE(csv.find("\"a,b\""), std::string::npos);
  EXPECT_NE(csv.find("\"say \"\"hi\"\"\""), std::string::npos);  // RFC 4180: inner quotes doubled
  const io::Table back = io::parse_csv(csv, "t.csv");
  EXPECT_EQ(back.columns, t.columns);
  EXPECT_EQ(back.rows, t.rows);
  const auto v = back.numeric(1);
  EXPECT_EQ(v[0], third);  // 17 significant digits: the same double
  EXPECT_EQ(v[1], tiny);
  EXPECT_EQ(v[3], 1e21);
  t.rows.push_back({"short"});
  EXPECT_THROW(io::to_csv(t), std::invalid_argument);
  t.rows.back() = {"two\nlines", "1"};  // the reader is line-based: refused, not written unreadable
  EXPECT_THROW(io::to_csv(t), std::invalid_argument);
}
