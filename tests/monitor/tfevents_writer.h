#pragma once
// A small TensorBoard event-file writer for the tests: real TFRecord framing (uint64 length,
// masked CRC32C of the length, data, masked CRC32C of the data) around hand-encoded Event
// protocol buffers. Its CRC32C is an independent bit-by-bit implementation (no table), so the
// reader's table-driven CRC is checked against a second computation, and both against the
// published check value.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace scalinglab::testing {

inline uint32_t bitwise_crc32c(std::string_view s) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : s) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
  }
  return ~c;
}
inline uint32_t masked(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

inline void put_le(std::string& s, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}
inline void put_varint(std::string& s, uint64_t v) {
  while (v >= 0x80) {
    s += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  s += static_cast<char>(v);
}
inline void put_key(std::string& s, uint32_t field, int wire) { put_varint(s, (uint64_t{field} << 3) | static_cast<uint64_t>(wire)); }
inline void put_bytes(std::string& s, uint32_t field, std::string_view b) {
  put_key(s, field, 2);
  put_varint(s, b.size());
  s.append(b);
}
inline void put_float(std::string& s, uint32_t field, float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  put_key(s, field, 5);
  put_le(s, u, 4);
}
inline void put_double(std::string& s, uint32_t field, double d) {
  uint64_t u;
  std::memcpy(&u, &d, 8);
  put_key(s, field, 1);
  put_le(s, u, 8);
}

// Summary.Value{tag = 1, simple_value = 2}: TF1 / PyTorch SummaryWriter scalars.
inline std::string simple_value(const std::string& tag, float v) {
  std::string s;
  put_bytes(s, 1, tag);
  put_float(s, 2, v);
  return s;
}

// Summary.Value{tag = 1, metadata = 9 {plugin_data{plugin_name "scalars"}}, tensor = 8 TensorProto}
// as TF2's tf.summary.scalar writes it: dtype DT_FLOAT (1), empty shape, the value either in
// float_val (field 5, packed) or in tensor_content (field 4, raw little-endian bytes).
inline std::string tensor_value(const std::string& tag, float v, bool content) {
  std::string tensor;
  put_key(tensor, 1, 0);
  put_varint(tensor, 1);       // DT_FLOAT
  put_bytes(tensor, 2, "");    // TensorShapeProto with no dims: a scalar
  uint32_t u;
  std::memcpy(&u, &v, 4);
  std::string raw;
  put_le(raw, u, 4);
  put_bytes(tensor, content ? 4 : 5, raw);
  std::string plugin, meta;
  put_bytes(plugin, 1, "scalars");
  put_bytes(meta, 1, plugin);
  std::string s;
  put_bytes(s, 1, tag);
  put_bytes(s, 9, meta);
  put_bytes(s, 8, tensor);
  return s;
}

// Event{wall_time = 1, step = 2, summary = 5 {value = 1 …}}.
inline std::string event(double wall_time, int64_t step, const std::vector<std::string>& values) {
  std::string summary;
  for (const auto& v : values) put_bytes(summary, 1, v);
  std::string e;
  put_double(e, 1, wall_time);
  put_key(e, 2, 0);
  put_varint(e, static_cast<uint64_t>(step));
  put_bytes(e, 5, summary);
  return e;
}

// The first record of every event file: Event{wall_time, file_version = 3 "brain.Event:2"}.
inline std::string file_version_event(double wall_time) {
  std::string e;
  put_double(e, 1, wall_time);
  put_bytes(e, 3, "brain.Event:2");
  return e;
}

inline std::string record(std::string_view data) {
  std::string r, len;
  put_le(len, data.size(), 8);
  r += len;
  put_le(r, masked(bitwise_crc32c(len)), 4);
  r.append(data);
  put_le(r, masked(bitwise_crc32c(data)), 4);
  return r;
}

}  // namespace scalinglab::testing
