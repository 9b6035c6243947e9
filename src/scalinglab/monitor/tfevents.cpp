#include "scalinglab/monitor/tfevents.h"

#include <cmath>
#include <cstring>
#include <sstream>

#include "scalinglab/io/input_error.h"
#include "scalinglab/monitor/crc32c.h"
#include "scalinglab/monitor/protobuf_wire.h"

namespace scalinglab::monitor {
namespace {

std::string hex(uint32_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

// IEEE half precision bits → double (TensorProto.half_val stores them in an int32).
double half_to_double(uint32_t h) {
  int sign = (h >> 15) & 1, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
  double v;
  if (exp == 0) v = std::ldexp(mant, -24);
  else if (exp == 31) v = mant ? NAN : INFINITY;
  else v = std::ldexp(mant + 1024, exp - 25);
  return sign ? -v : v;
}

// DataType enum values of tensorflow/core/framework/types.proto.
constexpr uint64_t kDtFloat = 1, kDtDouble = 2, kDtBfloat16 = 14, kDtHalf = 19;

// The single value of a scalar TensorProto; false when it is not a one-element float tensor.
bool tensor_scalar(std::string_view data, double& value) {
  WireReader r(data);
  uint64_t dtype = 0;
  std::vector<double> values;
  std::string_view content;
  bool multi_dim = false;
  while (!r.done()) {
    WireField f = r.next();
    if (f.number == 1 && f.type == WireType::kVarint) {
      dtype = f.varint;
    } else if (f.number == 2 && f.type == WireType::kBytes) {  // TensorShapeProto: dim = 2 {size = 1}
      WireReader shape(f.bytes);
      while (!shape.done()) {
        WireField d = shape.next();
        if (d.number != 2 || d.type != WireType::kBytes) continue;
        WireReader dim(d.bytes);
        while (!dim.done()) {
          WireField s = dim.next();
          if (s.number == 1 && s.type == WireType::kVarint && s.varint != 1) multi_dim = true;
        }
      }
    } else if (f.number == 4 && f.type == WireType::kBytes) {
      content = f.bytes;
    } else if (f.number == 5) {  // float_val, packed or not
      if (f.type == WireType::kFixed32) values.push_back(f.as_float());
      else if (f.type == WireType::kBytes)
        for (size_t i = 0; i + 4 <= f.bytes.size(); i += 4) {
          WireField x;
          x.fixed = load_le32(f.bytes.data() + i);
          values.push_back(x.as_float());
        }
    } else if (f.number == 6) {  // double_val
      if (f.type == WireType::kFixed64) values.push_back(f.as_double());
      else if (f.type == WireType::kBytes)
        for (size_t i = 0; i + 8 <= f.bytes.size(); i += 8) {
          WireField x;
          x.fixed = load_le64(f.bytes.data() + i);
          values.push_back(x.as_double());
        }
    } else if (f.number == 13) {  // half_val (also bfloat16 bits), int32 varints, packed or not
      auto push = [&](uint64_t bits) {
        values.push_back(dtype == kDtBfloat16 ? [&] {
          uint32_t b = static_cast<uint32_t>(bits & 0xFFFF) << 16;
          float fl;
          std::memcpy(&fl, &b, 4);
          return static_cast<double>(fl);
        }() : half_to_double(static_cast<uint32_t>(bits)));
      };
      if (f.type == WireType::kVarint) push(f.varint);
      else if (f.type == WireType::kBytes) {
        WireReader packed(f.bytes);
        while (!packed.done()) push(packed.read_varint());
      }
    }
  }
  if (multi_dim) return false;
  if (!content.empty()) {
    values.clear();
    if (dtype == kDtFloat && content.size() == 4) {
      WireField x;
      x.fixed = load_le32(content.data());
      values.push_back(x.as_float());
    } else if (dtype == kDtDouble && content.size() == 8) {
      WireField x;
      x.fixed = load_le64(content.data());
      values.push_back(x.as_double());
    } else if (dtype == kDtHalf && content.size() == 2) {
      values.push_back(half_to_double(static_cast<unsigned char>(content[0]) | static_cast<unsigned char>(content[1]) << 8));
    }
  }
  if (dtype != kDtFloat && dtype != kDtDouble && dtype != kDtHalf && dtype != kDtBfloat16) return false;
  if (values.size() != 1) return false;
  value = values[0];
  return true;
}

}  // namespace

bool looks_like_tfrecord(std::string_view head) {
  if (head.size() < 12) return false;
  return mask_crc32c(crc32c(head.data(), 8)) == load_le32(head.data() + 8);
}

void TfRecordReader::feed(std::string_view bytes) {
  // Drop what was already consumed so the buffer holds at most one partial record plus new bytes.
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    consumed_ += pos_;
    pos_ = 0;
  }
  buf_.append(bytes);
}

bool TfRecordReader::next(TfRecord& out) {
  const size_t avail = buf_.size() - pos_;
  if (avail < 12) return false;
  const char* p = buf_.data() + pos_;
  const uint64_t offset = consumed_ + pos_;
  const long index = index_ + 1;
  auto where = [&] { return "record " + std::to_string(index) + " at byte offset " + std::to_string(offset) + ": "; };
  uint64_t len = load_le64(p);
  uint32_t len_crc = load_le32(p + 8);
  uint32_t want = mask_crc32c(crc32c(p, 8));
  if (len_crc != want)
    throw io::InputError(source_, 0, "", where() + "bad length CRC (stored " + hex(len_crc) + ", computed " + hex(want) +
                                             "): not a TensorBoard event file, or corrupted");
  if (len > (uint64_t{1} << 40))
    throw io::InputError(source_, 0, "", where() + "implausible record length " + std::to_string(len));
  if (avail < 16 + len) return false;
  uint32_t data_crc = load_le32(p + 12 + len);
  uint32_t want_data = mask_crc32c(crc32c(p + 12, static_cast<size_t>(len)));
  if (data_crc != want_data)
    throw io::InputError(source_, 0, "", where() + "bad data CRC (stored " + hex(data_crc) + ", computed " +
                                             hex(want_data) + "): the event data is corrupted");
  out.index = index;
  out.offset = offset;
  out.data.assign(p + 12, static_cast<size_t>(len));
  pos_ += 16 + static_cast<size_t>(len);
  index_ = index;
  return true;
}

std::string TfRecordReader::truncation_message() const {
  const size_t avail = buf_.size() - pos_;
  std::string s = "record " + std::to_string(index_ + 1) + " at byte offset " + std::to_string(consumed_ + pos_) +
                  ": truncated: ";
  if (avail < 12) return s + "only " + std::to_string(avail) + " of its 12 header bytes";
  uint64_t len = load_le64(buf_.data() + pos_);
  return s + "needs " + std::to_string(16 + len) + " bytes, the file has " + std::to_string(avail);
}

void decode_event(std::string_view data, std::vector<ScalarEvent>& out) {
  WireReader r(data);
  int64_t step = 0;
  double wall_time = 0;
  std::vector<std::string_view> summaries;
  while (!r.done()) {
    WireField f = r.next();
    if (f.number == 1 && f.type == WireType::kFixed64) wall_time = f.as_double();
    else if (f.number == 2 && f.type == WireType::kVarint) step = static_cast<int64_t>(f.varint);
    else if (f.number == 5 && f.type == WireType::kBytes) summaries.push_back(f.bytes);
  }
  for (std::string_view s : summaries) {
    WireReader sr(s);
    while (!sr.done()) {
      WireField v = sr.next();
      if (v.number != 1 || v.type != WireType::kBytes) continue;
      WireReader vr(v.bytes);
      ScalarEvent e;
      e.step = step;
      e.wall_time = wall_time;
      bool have = false;
      while (!vr.done()) {
        WireField g = vr.next();
        if (g.number == 1 && g.type == WireType::kBytes) {
          e.tag.assign(g.bytes);
        } else if (g.number == 2 && g.type == WireType::kFixed32) {
          e.value = g.as_float();
          have = true;
        } else if (g.number == 8 && g.type == WireType::kBytes) {
          double x;
          if (tensor_scalar(g.bytes, x)) {
            e.value = x;
            e.tensor = true;
            have = true;
          }
        }
      }
      if (have && !e.tag.empty()) out.push_back(std::move(e));
    }
  }
}

}  // namespace scalinglab::monitor
