#pragma once
// A table of named columns read from CSV/TSV or JSONL, with the source line of every row kept so
// that later checks (non-numeric cell, negative N, ...) can point at the exact place.
#include <optional>
#include <string>
#include <vector>

namespace scalinglab::io {

struct Table {
  std::string source;                         // file path as given by the user
  std::vector<std::string> columns;           // header names
  std::vector<std::vector<std::string>> rows;  // cells as text; "" for a missing JSONL field
  std::vector<long> lines;                    // 1-based source line of each row

  // Index of a column with exactly this name, or with the same name ignoring case.
  std::optional<size_t> find(const std::string& name) const;
  // Like find(), but throws InputError naming the closest existing column when absent.
  size_t require(const std::string& name, const std::string& purpose = "") const;
  // Parses every cell of a column as a finite or non-finite double; throws InputError on text.
  std::vector<double> numeric(size_t column) const;
};

enum class TableFormat { kAuto, kCsv, kTsv, kJsonl };

Table read_table(const std::string& path, TableFormat format = TableFormat::kAuto);
Table parse_csv(const std::string& text, const std::string& source, char separator = ',');
Table parse_jsonl(const std::string& text, const std::string& source);

// Levenshtein distance, case-insensitive; used for "did you mean" suggestions.
size_t edit_distance(const std::string& a, const std::string& b);
std::optional<std::string> closest_name(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace scalinglab::io
