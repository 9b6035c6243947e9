#include "scalinglab/emergence/token_edit_distance.h"

#include <algorithm>
#include <numeric>
#include <vector>

namespace scalinglab::emergence {

std::size_t token_edit_distance(std::span<const std::int32_t> a, std::span<const std::int32_t> b) {
  std::vector<std::size_t> row(b.size() + 1);  // row[j]: distance of a[0..i) to b[0..j)
  std::iota(row.begin(), row.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];  // distance of a[0..i-1) to b[0..j-1)
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({up + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace scalinglab::emergence
