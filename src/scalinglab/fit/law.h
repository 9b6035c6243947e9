#pragma once
// A scaling law as the optimiser sees it: a prediction of log loss from the logs of the run's
// variables, differentiable in a vector θ of internal (log-space) parameters. New laws
// (data-constrained, broken power laws, ...) implement this interface and plug into the
// Huber/L-BFGS machinery, the bootstrap and the JSON output without touching them.
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace scalinglab::fit {

// kU: unique training tokens (data-constrained law; Muennighoff et al. 2023).
enum class Variable { kN, kD, kC, kX, kU };
const char* variable_name(Variable v);  // "N", "D", "C", "x", "U"

// Natural logs of the variables of one run (precomputed once per fit).
struct LogPoint {
  double n = 0, d = 0, c = 0, x = 0, u = 0;
  double get(Variable v) const {
    switch (v) {
      case Variable::kN: return n;
      case Variable::kD: return d;
      case Variable::kC: return c;
      case Variable::kU: return u;
      default: return x;
    }
  }
};

// For laws that are linear in non-negative coefficients once their exponents are fixed
// (L = Σ_j c_j·φ_j(x; exponents)): enables variable projection (--method varpro).
struct Separable {
  std::vector<int> exponent_index;  // positions in θ of the nonlinear exponents
  int coefficients = 0;             // number of linear coefficients c_j ≥ 0
};

// For laws whose prediction is a log-sum-exp of terms linear in θ (Hoffmann et al. 2022 eq. 3):
// log L̂ = LSE(z_1, …, z_m[, e]) with z_j = θ[coef_j] − θ[exponent_j]·ln X_j and e = θ[e].
// Because every z is linear in θ, the exact Hessian of log L̂ is Jᵀ(diag w − w wᵀ)J (w the
// softmax weights, J = ∂z/∂θ), which makes trust-region Newton on the Huber objective cheap and
// lets the per-point loop run over plain arrays (newton.h). nullptr: not of this form.
struct LseForm {
  struct Term {
    int coef = 0, exponent = 0;  // positions in θ
    Variable variable = Variable::kN;
  };
  std::vector<Term> terms;  // 1 or 2 terms
  int e = -1;               // position of e = ln E in θ, or -1 without an irreducible term
};

class Law {
 public:
  virtual ~Law() = default;
  virtual std::string name() const = 0;
  virtual std::string formula() const = 0;
  virtual std::vector<Variable> variables() const = 0;
  virtual std::vector<std::string> internal_names() const = 0;  // names of θ entries
  virtual std::vector<std::string> param_names() const = 0;     // public names, as in the formula
  size_t dim() const { return internal_names().size(); }

  // log L̂(x; θ); when grad is non-null, also ∂ log L̂ / ∂θ (size dim()).
  virtual double log_predict(const double* theta, const LogPoint& p, double* grad) const = 0;

  // Public parameters (E, A, B, alpha, ...) from θ and back.
  virtual std::vector<double> to_public(const double* theta) const = 0;
  virtual std::vector<double> to_internal(const std::vector<double>& pub) const = 0;

  // The published or default grid of initial θ for multi-start L-BFGS.
  virtual std::vector<std::vector<double>> default_starts() const = 0;
  // Starts that may depend on the data (logs of the variables and of the loss), for laws whose
  // sensible initial values scale with the data (break locations of a broken power law).
  // The fitter always calls this one; the default is the data-free grid.
  virtual std::vector<std::vector<double>> data_starts(const std::vector<LogPoint>& x,
                                                       const std::vector<double>& log_loss) const {
    return default_starts();
  }

  // Index in θ of the one internal coordinate that the public parameter `public_index` is a
  // function of (and that no other public parameter changes), or -1. Parameters with such an
  // index can be held fixed (--fix NAME=VALUE, see fixed_parameters.h).
  virtual int internal_index_of(size_t public_index) const { return -1; }
  // Public parameters held fixed by LawOptions::fixed, as (name, value); empty for a plain law.
  virtual std::vector<std::pair<std::string, double>> fixed() const { return {}; }

  // The LSE structure above, when the law has it (enables the Newton fast path).
  virtual const LseForm* lse_form() const { return nullptr; }

  // Variable projection support; nullptr when the law is not separable.
  virtual const Separable* separable() const { return nullptr; }
  // φ_j(x; exponents) for the separable form (exponents in Separable::exponent_index order).
  virtual void basis(const double* exponents, const LogPoint& p, double* phi) const {}
  // θ from linear coefficients and exponents of the separable form.
  virtual std::vector<double> from_separable(const double* coefficients, const double* exponents) const { return {}; }

  // Options that recreate this law with make_law() (e.g. {"irreducible": true}).
  virtual bool irreducible() const { return true; }
};

struct LawOptions {
  bool irreducible = false;  // add an irreducible term E to the Kaplan single-variable laws
  // Public parameters held at a value instead of fitted (e.g. R_N_star = 5.309 for the
  // data-constrained law when no run has more parameters than its unique data can use).
  std::vector<std::pair<std::string, double>> fixed;
};

// "chinchilla", "kaplan-n", "kaplan-d", "kaplan-c", "kaplan-nd", "power", "data-constrained",
// "inference", "broken", "broken-2".
// Throws std::invalid_argument naming the known laws for an unknown name.
std::unique_ptr<Law> make_law(const std::string& name, const LawOptions& options = {});
std::vector<std::string> law_names();

}  // namespace scalinglab::fit
