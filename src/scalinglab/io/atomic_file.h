#pragma once
// Outputs are never half-written: write to "<path>.tmp.<pid>" then rename over the target.
#include <cstddef>
#include <cstdio>
#include <string>

namespace scalinglab::io {

// Writes `contents` to `path` atomically; "-" means standard output. Throws std::runtime_error.
void write_file_atomic(const std::string& path, const std::string& contents);

// Streaming form for outputs too large to assemble in memory (checkpoints, token files): write()
// pieces, then commit() flushes, fsyncs, renames over `path` and fsyncs the directory so the new
// name survives a power loss. Destroying it uncommitted removes the temporary file, so a crash or
// exception mid-write leaves the previous `path` intact. Throws std::runtime_error.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const void* data, size_t bytes);
  void commit();

 private:
  std::string path_, tmp_;
  FILE* f_ = nullptr;
};

}  // namespace scalinglab::io
