#pragma once
// Quantiles of Student's t (and Fisher's F) distribution for prediction intervals from a few points (the
// learning-curve fit has n − 3 degrees of freedom, often under 20, where the normal 1.96 is
// too narrow). CDF through the regularised incomplete beta function (continued fraction,
// Abramowitz & Stegun 26.5.8 with Lentz's method), quantile by bisection on the CDF.
namespace scalinglab::monitor {

double student_t_cdf(double t, double dof);
double student_t_quantile(double p, double dof);  // p in (0, 1), dof > 0; dof = inf gives the normal

// Fisher's F distribution (CDF I_{d1·x/(d1·x+d2)}(d1/2, d2/2), A&S 26.6.2), for Scheffé's
// simultaneous band over a whole fitted curve: ±sqrt(p·F_{level}(p, n−p))·se(x).
double fisher_f_cdf(double x, double d1, double d2);
double fisher_f_quantile(double p, double d1, double d2);

}  // namespace scalinglab::monitor
