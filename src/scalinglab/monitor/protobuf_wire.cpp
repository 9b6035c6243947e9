#include "scalinglab/monitor/protobuf_wire.h"

#include <cstring>

namespace scalinglab::monitor {

uint32_t load_le32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(u[0]) | static_cast<uint32_t>(u[1]) << 8 | static_cast<uint32_t>(u[2]) << 16 |
         static_cast<uint32_t>(u[3]) << 24;
}

uint64_t load_le64(const char* p) { return static_cast<uint64_t>(load_le32(p)) | static_cast<uint64_t>(load_le32(p + 4)) << 32; }

double WireField::as_double() const {
  double d;
  std::memcpy(&d, &fixed, sizeof d);
  return d;
}

float WireField::as_float() const {
  uint32_t bits = static_cast<uint32_t>(fixed);
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

uint64_t WireReader::read_varint() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= data_.size()) throw WireError("truncated varint at byte " + std::to_string(pos_));
    auto b = static_cast<unsigned char>(data_[pos_++]);
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) return v;
  }
  throw WireError("varint longer than 10 bytes at byte " + std::to_string(pos_));
}

WireField WireReader::next() {
  const size_t start = pos_;
  uint64_t key = read_varint();
  WireField f;
  f.number = static_cast<uint32_t>(key >> 3);
  if (f.number == 0) throw WireError("field number 0 at byte " + std::to_string(start));
  switch (key & 7) {
    case 0:
      f.type = WireType::kVarint;
      f.varint = read_varint();
      break;
    case 1:
      f.type = WireType::kFixed64;
      if (data_.size() - pos_ < 8) throw WireError("truncated 64-bit field at byte " + std::to_string(start));
      f.fixed = load_le64(data_.data() + pos_);
      pos_ += 8;
      break;
    case 2: {
      f.type = WireType::kBytes;
      uint64_t len = read_varint();
      if (len > data_.size() - pos_)
        throw WireError("field " + std::to_string(f.number) + " at byte " + std::to_string(start) + " claims " +
                        std::to_string(len) + " bytes but only " + std::to_string(data_.size() - pos_) + " remain");
      f.bytes = data_.substr(pos_, static_cast<size_t>(len));
      pos_ += static_cast<size_t>(len);
      break;
    }
    case 5:
      f.type = WireType::kFixed32;
      if (data_.size() - pos_ < 4) throw WireError("truncated 32-bit field at byte " + std::to_string(start));
      f.fixed = load_le32(data_.data() + pos_);
      pos_ += 4;
      break;
    default:
      throw WireError("unsupported wire type " + std::to_string(key & 7) + " at byte " + std::to_string(start));
  }
  return f;
}

}  // namespace scalinglab::monitor
