#include "scalinglab/fit/problem.h"

#include <cmath>
#include <stdexcept>

namespace scalinglab::fit {

LogPoint log_point(const Run& r) {
  auto safe = [](double v) { return v > 0 ? std::log(v) : 0.0; };
  return {safe(r.n), safe(r.d), safe(r.c), safe(r.x), safe(r.u)};
}

Problem make_problem(const Law& law, const Dataset& data) {
  for (Variable v : law.variables()) {
    // A default-named column with bad values is reported now that a law needs it.
    if (v == Variable::kX && data.x_error) throw *data.x_error;
    if (v == Variable::kU && data.u_error) throw *data.u_error;
    bool ok = (v == Variable::kN && data.has_n) || (v == Variable::kD && data.has_d) ||
              (v == Variable::kC && data.has_c) || (v == Variable::kX && data.has_x) ||
              (v == Variable::kU && data.has_u);
    if (!ok) {
      std::string need = variable_name(v);
      std::string how = v == Variable::kX   ? "choose the column with --col-x"
                        : v == Variable::kU ? "give the unique tokens with --col-u (or the epochs with --col-epochs)"
                                            : "give a column " + need + " (--col-" +
                                                  std::string(1, static_cast<char>(std::tolower(need[0]))) +
                                                  "), or two of N, D, C so that C = 6ND derives it";
      throw std::invalid_argument(data.source + ": law " + law.name() + " needs " + need + ": " + how);
    }
  }
  Problem p;
  for (const auto& r : data.runs) {
    p.x.push_back(log_point(r));
    p.log_loss.push_back(std::log(r.loss));
  }
  return p;
}

}  // namespace scalinglab::fit
