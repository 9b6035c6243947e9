#pragma once
// Quantiles of Student's t distribution for prediction intervals from a few points (the
// learning-curve fit has n − 3 degrees of freedom, often under 20, where the normal 1.96 is
// too narrow). CDF through the regularised incomplete beta function (continued fraction,
// Abramowitz & Stegun 26.5.8 with Lentz's method), quantile by bisection on the CDF.
namespace scalinglab::monitor {

double student_t_cdf(double t, double dof);
double student_t_quantile(double p, double dof);  // p in (0, 1), dof > 0; dof = inf gives the normal

}  // namespace scalinglab::monitor
