// CSV/TSV tables (a header row, then one row per logged step; an empty cell is "not logged at
// this step": Lightning's CSVLogger metrics.csv is sparse) and W&B "Export CSV" files, whose
// columns are "<run> - <metric>" plus "__MIN"/"__MAX" band columns.
#include "scalinglab/io/table.h"
#include "scalinglab/monitor/log_parsing.h"

namespace scalinglab::monitor::detail {
namespace {

class TableParser final : public LineParser {
 public:
  TableParser(std::string source, char sep, bool wandb, const ParseOptions& o)
      : LineParser(std::move(source), true), sep_(sep), wandb_(wandb), options_(o), cols_(columns_for(o)) {}

  std::string available() const override { return "columns: " + join(header_); }

 protected:
  void parse_line(std::string_view line, long line_no, std::vector<LogRecord>& out) override {
    if (trim(line).empty()) {
      ignore(kBlankLine, line_no, "");
      return;
    }
    if (header_.empty()) {
      header_ = split_fields(line, sep_);
      resolve(line_no);
      return;
    }
    auto f = split_fields(line, sep_);
    LogRecord r;
    r.line = line_no;
    auto cell = [&](std::optional<size_t> col, std::optional<double>& dst) {
      if (!col) return;
      if (*col >= f.size())
        throw error(line_no, header_[*col], "missing: the row has " + std::to_string(f.size()) + " fields, the header " +
                                                std::to_string(header_.size()));
      const std::string& t = f[*col];
      if (t.empty()) return;
      double v;
      if (!parse_double(t, v)) throw error(line_no, header_[*col], "expected a number, got " + show(t));
      dst = v;
    };
    cell(step_, r.step);
    cell(tokens_, r.tokens);
    cell(train_, r.train_loss);
    cell(eval_, r.eval_loss);
    cell(lr_, r.lr);
    cell(total_steps_, r.total_steps);
    if (r.train_loss || r.eval_loss || r.lr) out.push_back(r);
    else ignore(kNoLossInRow, line_no, trim(line));
  }

 private:
  std::string match_name(size_t i) const { return wandb_ ? wandb_metric(header_[i]) : header_[i]; }
  bool matches(size_t i, const std::string& name) const {
    return !wandb_minmax(header_[i]) && (name_matches(header_[i], name) || name_matches(match_name(i), name));
  }

  // The column for a list of names: exact name first (a user-given name may be the full W&B
  // column), then the metric part; several runs' columns matching one name is ambiguous.
  std::optional<size_t> find(const std::vector<std::string>& names, const char* what, bool user_given, long line_no) {
    for (const auto& name : names) {
      std::vector<size_t> hits;
      for (size_t i = 0; i < header_.size(); ++i)
        if (matches(i, name)) hits.push_back(i);
      if (hits.size() > 1) {
        std::vector<std::string> names_hit;
        for (size_t i : hits) names_hit.push_back("'" + header_[i] + "'");
        throw error(line_no, "", std::string("several columns hold the ") + what + " (" + join(names_hit) +
                                     "); choose one with --col-" + (std::string(what) == "loss" ? "loss" : what) +
                                     " and its full name");
      }
      if (hits.size() == 1) return hits[0];
    }
    if (user_given) {
      auto close = io::closest_name(names[0], header_);
      throw error(line_no, "", "no column '" + names[0] + "'" + (close ? " (did you mean '" + *close + "'?)" : "") +
                                   "; columns: " + join(header_));
    }
    return std::nullopt;
  }

  // A column that is read when present and never ambiguous (the lr: Lightning logs one per
  // optimizer or parameter group): the first match, in a W&B export the loss column's run first.
  std::optional<size_t> find_lenient(const std::vector<std::string>& names) const {
    std::string run;
    std::optional<size_t> loss = train_ ? train_ : eval_;
    if (wandb_ && loss) {
      size_t p = header_[*loss].rfind(" - ");
      if (p != std::string::npos) run = header_[*loss].substr(0, p);
    }
    for (const auto& name : names) {
      std::optional<size_t> first;
      for (size_t i = 0; i < header_.size(); ++i) {
        if (!matches(i, name)) continue;
        if (run.empty() || header_[i].compare(0, run.size() + 3, run + " - ") == 0) return i;
        if (!first) first = i;
      }
      if (first) return first;
    }
    return std::nullopt;
  }

  void resolve(long line_no) {
    step_ = find(cols_.step, "step", !options_.col_step.empty(), line_no);
    tokens_ = find(cols_.tokens, "tokens", !options_.col_tokens.empty(), line_no);
    if (!cols_.train.empty()) train_ = find(cols_.train, "loss", cols_.user_loss, line_no);
    if (!cols_.eval.empty()) eval_ = find(cols_.eval, "loss", cols_.user_loss, line_no);
    lr_ = find_lenient(cols_.lr);
    total_steps_ = find_lenient(cols_.total_steps);
    if (!train_ && !eval_)
      throw error(line_no, "", "no loss column: expected one of " + join(eval_loss_aliases(), 4) + ", " +
                                   join(train_loss_aliases(), 4) + " (or --col-loss NAME); columns: " + join(header_));
    if (!step_ && !tokens_)
      throw error(line_no, "", "no step or tokens column: expected one of " + join(step_aliases(), 4) + ", " +
                                   join(tokens_aliases(), 4) + " (or --col-step/--col-tokens); columns: " + join(header_));
  }

  char sep_;
  bool wandb_;
  ParseOptions options_;
  Columns cols_;
  std::vector<std::string> header_;
  std::optional<size_t> step_, tokens_, train_, eval_, lr_, total_steps_;
};

}  // namespace

std::unique_ptr<LogParser> make_table_parser(const std::string& source, char sep, bool wandb, const ParseOptions& o) {
  return std::make_unique<TableParser>(source, sep, wandb, o);
}

}  // namespace scalinglab::monitor::detail
