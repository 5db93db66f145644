#pragma once

// Compensated summation shared by sum, avg, *_over_time and regressions. Internal to query/.

#include <cmath>

namespace vigil::query::eval {

// Adds inc to *sum with Neumaier's improvement of Kahan summation; the compensation accumulates
// in *c and is added by the caller at the end (sum + c). An infinite sum resets the compensation.
inline void KahanInc(double inc, double* sum, double* c) {
  double t = *sum + inc;
  if (std::isinf(t)) {
    *c = 0;
  } else if (std::fabs(*sum) >= std::fabs(inc)) {
    *c += (*sum - t) + inc;
  } else {
    *c += (inc - t) + *sum;
  }
  *sum = t;
}

}  // namespace vigil::query::eval
