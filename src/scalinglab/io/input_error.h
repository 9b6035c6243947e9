#pragma once
// The one error type for bad user input: it always names where the problem is
// (file, line, column/field) so the CLI can print one line and exit with code 2.
#include <sstream>
#include <stdexcept>
#include <string>

namespace scalinglab::io {

class InputError : public std::runtime_error {
 public:
  InputError(std::string file, long line, std::string field, const std::string& what)
      : std::runtime_error(format(file, line, field, what)),
        file_(std::move(file)), line_(line), field_(std::move(field)) {}

  const std::string& file() const { return file_; }
  long line() const { return line_; }  // 1-based; 0 when the error is about the whole file
  const std::string& field() const { return field_; }

 private:
  static std::string format(const std::string& file, long line, const std::string& field,
                            const std::string& what) {
    std::ostringstream s;  // (string += chains trip a false -Wrestrict in g++ 12)
    s << (file.empty() ? std::string("<input>") : file);
    if (line > 0) s << ':' << line;
    s << ": ";
    if (!field.empty()) s << "column '" << field << "': ";
    s << what;
    return s.str();
  }
  std::string file_;
  long line_;
  std::string field_;
};

}  // namespace scalinglab::io
