// JSONL: one JSON object per line (scalinglab's metrics.jsonl, W&B history rows, …); null is
// "not logged at this step".
#include <nlohmann/json.hpp>
#include <set>

#include "scalinglab/monitor/log_parsing.h"

namespace scalinglab::monitor::detail {
namespace {

class JsonlParser final : public LineParser {
 public:
  JsonlParser(std::string source, const ParseOptions& o) : LineParser(std::move(source), true), cols_(columns_for(o)) {}
  std::string available() const override {
    return "keys: " + join(std::vector<std::string>(keys_.begin(), keys_.end()), 20);
  }

 protected:
  void parse_line(std::string_view line, long line_no, std::vector<LogRecord>& out) override {
    if (trim(line).empty()) {
      ignore(kBlankLine, line_no, "");
      return;
    }
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) throw error(line_no, "", "not valid JSON");
    if (!j.is_object()) throw error(line_no, "", "expected a JSON object per line");
    for (auto it = j.begin(); it != j.end() && keys_.size() < 200; ++it) keys_.insert(it.key());
    LogRecord r = json_record(j, cols_, source_, line_no);
    json_number(j, cols_.total_steps, r.total_steps, source_, line_no);
    if (r.train_loss || r.eval_loss || r.lr) out.push_back(r);
    else ignore(kNoLossInRecord, line_no, trim(line));
  }

 private:
  Columns cols_;
  std::set<std::string> keys_;
};

}  // namespace

std::unique_ptr<LogParser> make_jsonl_parser(const std::string& source, const ParseOptions& o) {
  return std::make_unique<JsonlParser>(source, o);
}

}  // namespace scalinglab::monitor::detail
