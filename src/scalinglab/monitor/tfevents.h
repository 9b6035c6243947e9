#pragma once
// TensorBoard event files (events.out.tfevents.*) read without TensorFlow.
//
// Framing (TFRecord, TensorFlow's python_io format): each record is
//   uint64 length | uint32 masked_crc32c(length) | byte data[length] | uint32 masked_crc32c(data)
// all little-endian; every CRC is verified. Each record's data is an `Event` protocol buffer
// (tensorflow/core/util/event.proto): wall_time = 1 (double), step = 2 (int64), summary = 5.
// A Summary holds repeated Value = 1 {tag = 1, simple_value = 2 (float), tensor = 8 (TensorProto)};
// scalars come as simple_value (TF1, PyTorch's SummaryWriter) or as a one-element float/double/half
// tensor (TF2's tf.summary.scalar): both are read.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace scalinglab::monitor {

struct TfRecord {
  long index = 0;       // 1-based record number in the file
  uint64_t offset = 0;  // byte offset of the record's length field
  std::string data;
};

// Incremental framing: feed() bytes as they arrive (a growing file), next() yields complete
// records. A bad length or data CRC throws io::InputError naming the record and its offset.
class TfRecordReader {
 public:
  explicit TfRecordReader(std::string source) : source_(std::move(source)) {}
  void feed(std::string_view bytes);
  bool next(TfRecord& out);
  // Bytes of an incomplete record at the end (0 when the input ends on a record boundary), and a
  // message describing it ("record 7 at byte offset 812: truncated: ...").
  size_t pending() const { return buf_.size() - pos_; }
  std::string truncation_message() const;

 private:
  std::string source_;
  std::string buf_;
  size_t pos_ = 0;        // start of the next record within buf_
  uint64_t consumed_ = 0;  // file offset of buf_[0]
  long index_ = 0;
};

// True when `head` (≥ 12 bytes) starts with a length whose masked CRC32C matches: a TFRecord file.
bool looks_like_tfrecord(std::string_view head);

struct ScalarEvent {
  std::string tag;
  int64_t step = 0;
  double wall_time = 0;
  double value = 0;
  bool tensor = false;  // from a tensor-valued summary rather than simple_value
};

// Appends the scalar values of one Event to `out` (non-scalar summaries, file_version, graphs are
// skipped). Throws WireError on malformed protobuf data.
void decode_event(std::string_view data, std::vector<ScalarEvent>& out);

}  // namespace scalinglab::monitor
