// TensorBoard event files: each scalar of a loss tag is a record (train or eval by the tag), each
// scalar of an lr tag a record with only the lr; other tags and non-scalar events are counted.
#include <set>

#include "scalinglab/monitor/log_parsing.h"
#include "scalinglab/monitor/protobuf_wire.h"
#include "scalinglab/monitor/tfevents.h"

namespace scalinglab::monitor::detail {
namespace {

constexpr std::string_view kOtherTag = "a scalar of another tag (not a loss or lr)";
constexpr std::string_view kNoScalar = "an event without scalars (file version, graph, …)";

class TfeventsParser final : public LogParser {
 public:
  TfeventsParser(std::string source, const ParseOptions& o) : source_(source), reader_(source), cols_(columns_for(o)) {}

  void feed(std::string_view bytes, std::vector<LogRecord>& out) override {
    reader_.feed(bytes);
    TfRecord rec;
    while (reader_.next(rec)) {
      events_.clear();
      try {
        decode_event(rec.data, events_);
      } catch (const WireError& e) {
        throw io::InputError(source_, 0, "", "record " + std::to_string(rec.index) + " at byte offset " +
                                                 std::to_string(rec.offset) + ": malformed Event protobuf: " + e.what());
      }
      if (events_.empty()) ignore(kNoScalar, rec.index, "");
      for (const auto& e : events_) {
        if (tags_.size() < 200) tags_.insert(e.tag);
        LogRecord r;
        r.line = rec.index;
        r.offset = static_cast<int64_t>(rec.offset);
        r.step = static_cast<double>(e.step);
        if (name_in(e.tag, cols_.eval)) r.eval_loss = e.value;
        else if (name_in(e.tag, cols_.train)) r.train_loss = e.value;
        else if (name_in(e.tag, cols_.lr)) r.lr = e.value;
        else {
          ignore(kOtherTag, rec.index, e.tag);
          continue;
        }
        out.push_back(r);
      }
    }
  }
  std::optional<std::string> finish(std::vector<LogRecord>&) override {
    if (reader_.pending() == 0) return std::nullopt;
    return source_ + ": " + reader_.truncation_message() + " (the writer was cut mid-record?); ignored";
  }
  std::string available() const override {
    return "scalar tags: " + join(std::vector<std::string>(tags_.begin(), tags_.end()), 20);
  }

 private:
  std::string source_;
  TfRecordReader reader_;
  Columns cols_;
  std::set<std::string> tags_;
  std::vector<ScalarEvent> events_;
};

}  // namespace

std::unique_ptr<LogParser> make_tfevents_parser(const std::string& source, const ParseOptions& o) {
  return std::make_unique<TfeventsParser>(source, o);
}

}  // namespace scalinglab::monitor::detail
