#pragma once
// Token edit distance (Levenshtein 1966): the fewest single-token insertions, deletions and
// substitutions turning one sequence into the other. The lab's continuous counterpart of exact
// match (Schaeffer, Miranda & Koyejo 2023): for an answer of L tokens it is ≈ L·(1 − p) when each
// token is right with probability p. (io::edit_distance is the case-insensitive one for names.)
#include <cstddef>
#include <cstdint>
#include <span>

namespace scalinglab::emergence {

// O(|a|·|b|) time, O(|b|) memory.
std::size_t token_edit_distance(std::span<const std::int32_t> a, std::span<const std::int32_t> b);

}  // namespace scalinglab::emergence
