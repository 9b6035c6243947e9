#include "scalinglab/model/tensor_file.h"

#include <bit>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "scalinglab/io/atomic_file.h"

namespace scalinglab::model {

static_assert(std::endian::native == std::endian::little, "tensor files are little-endian; add byte swapping");

namespace {
constexpr char kMagic[9] = "SLTENS01";

std::size_t dtype_size(const std::string& dtype) {
  if (dtype == "f32" || dtype == "i32") return 4;
  throw std::runtime_error("unknown tensor dtype '" + dtype + "'");
}

std::int64_t product(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}
}  // namespace

NamedTensor NamedTensor::f32(std::string name, std::vector<std::int64_t> shape, const float* data) {
  NamedTensor t{std::move(name), "f32", std::move(shape), {}};
  t.bytes.resize(static_cast<std::size_t>(t.numel()) * 4);
  std::memcpy(t.bytes.data(), data, t.bytes.size());
  return t;
}

NamedTensor NamedTensor::i32(std::string name, std::vector<std::int64_t> shape, const std::int32_t* data) {
  NamedTensor t{std::move(name), "i32", std::move(shape), {}};
  t.bytes.resize(static_cast<std::size_t>(t.numel()) * 4);
  std::memcpy(t.bytes.data(), data, t.bytes.size());
  return t;
}

std::int64_t NamedTensor::numel() const { return product(shape); }

std::vector<float> NamedTensor::as_f32() const {
  if (dtype != "f32") throw std::runtime_error("tensor '" + name + "' is " + dtype + ", not f32");
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

std::vector<std::int32_t> NamedTensor::as_i32() const {
  if (dtype != "i32") throw std::runtime_error("tensor '" + name + "' is " + dtype + ", not i32");
  std::vector<std::int32_t> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

const NamedTensor* TensorFile::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

const NamedTensor& TensorFile::at(const std::string& name) const {
  if (const auto* t = find(name)) return *t;
  std::string have;
  for (const auto& t : tensors) have += (have.empty() ? "" : ", ") + t.name;
  throw std::runtime_error("tensor '" + name + "' not in file (has: " + have + ")");
}

void write_tensor_file(const std::string& path, const TensorFile& file) {
  nlohmann::json header;
  header["meta"] = file.meta;
  header["tensors"] = nlohmann::json::array();
  std::size_t offset = 0;
  for (const auto& t : file.tensors) {
    if (t.bytes.size() != static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype))
      throw std::runtime_error("tensor '" + t.name + "': byte size does not match its shape");
    header["tensors"].push_back({{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape}, {"offset", offset}});
    offset += (t.bytes.size() + 7) / 8 * 8;
  }
  const std::string h = header.dump();
  std::string out(kMagic, 8);
  const std::uint64_t hlen = h.size();
  out.append(reinterpret_cast<const char*>(&hlen), 8);
  out += h;
  for (const auto& t : file.tensors) {
    out.append(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size());
    out.append((8 - t.bytes.size() % 8) % 8, '\0');
  }
  io::write_file_atomic(path, out);
}

TensorFile read_tensor_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open tensor file");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  auto fail = [&](const std::string& why) { return std::runtime_error(path + ": not a valid tensor file: " + why); };
  if (data.size() < 16 || data.compare(0, 8, kMagic, 8) != 0) throw fail("bad magic");
  std::uint64_t hlen = 0;
  std::memcpy(&hlen, data.data() + 8, 8);
  if (hlen > data.size() - 16) throw fail("header runs past the end");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(data.substr(16, hlen));
  } catch (const nlohmann::json::exception& e) {
    throw fail(std::string("header JSON: ") + e.what());
  }
  const std::size_t base = 16 + hlen;
  TensorFile f;
  if (header.contains("meta")) f.meta = header["meta"];
  for (const auto& e : header.at("tensors")) {
    NamedTensor t;
    t.name = e.at("name").get<std::string>();
    t.dtype = e.at("dtype").get<std::string>();
    t.shape = e.at("shape").get<std::vector<std::int64_t>>();
    const auto offset = e.at("offset").get<std::size_t>();
    const std::size_t n = static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype);
    if (base + offset + n > data.size()) throw fail("tensor '" + t.name + "' runs past the end");
    t.bytes.assign(data.begin() + static_cast<std::ptrdiff_t>(base + offset),
                   data.begin() + static_cast<std::ptrdiff_t>(base + offset + n));
    f.tensors.push_back(std::move(t));
  }
  return f;
}

}  // namespace scalinglab::model
