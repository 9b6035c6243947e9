#pragma once
// A reader for the protocol-buffer wire format (varints, 64- and 32-bit fixed fields,
// length-delimited fields), enough to decode TensorBoard's Event messages by field number
// without a protobuf dependency. Unknown fields are skipped by wire type, as protobuf does.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace scalinglab::monitor {

// Malformed wire data (truncated varint, length past the end, a group or unknown wire type).
struct WireError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class WireType : int { kVarint = 0, kFixed64 = 1, kBytes = 2, kFixed32 = 5 };

struct WireField {
  uint32_t number = 0;
  WireType type = WireType::kVarint;
  uint64_t varint = 0;    // kVarint
  uint64_t fixed = 0;     // kFixed64 / kFixed32 (little-endian bits)
  std::string_view bytes;  // kBytes
  double as_double() const;  // kFixed64 as IEEE double
  float as_float() const;    // kFixed32 as IEEE float
};

class WireReader {
 public:
  explicit WireReader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }
  WireField next();       // throws WireError
  uint64_t read_varint();  // throws WireError
  size_t position() const { return pos_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// Little-endian fixed-width loads from raw bytes (tensor_content, packed fields, record framing).
uint32_t load_le32(const char* p);
uint64_t load_le64(const char* p);

}  // namespace scalinglab::monitor
