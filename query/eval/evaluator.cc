#include "query/eval/evaluator.h"

#include <cmath>
#include <cstring>

#include "storage/series_ref.h"

namespace vigil::query::eval {

const char kDuplicateLabelsetError[] = "vector cannot contain metrics with the same labelset";

bool StepSeries::Empty() const {
  for (uint8_t b : ok) {
    if (b) return false;
  }
  return true;
}

size_t OutputBuilder::Series(const storage::Labels& labels, bool drop_name) {
  auto [it, inserted] = index_.try_emplace(std::string(labels.Encoded()), out_.series.size());
  if (inserted) {
    StepSeries s;
    s.labels = labels;
    s.drop_name = drop_name;
    s.Init(steps_);
    out_.series.push_back(std::move(s));
  }
  return it->second;
}

VectorSteps OutputBuilder::Finish() {
  index_.clear();
  return std::move(out_);
}

double GoMax(double a, double b) {
  if (std::isinf(a) && a > 0) return a;
  if (std::isinf(b) && b > 0) return b;
  if (std::isnan(a) || std::isnan(b)) return std::nan("");
  if (a == 0 && b == 0) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}

double GoMin(double a, double b) {
  if (std::isinf(a) && a < 0) return a;
  if (std::isinf(b) && b < 0) return b;
  if (std::isnan(a) || std::isnan(b)) return std::nan("");
  if (a == 0 && b == 0) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

storage::Labels DropMetricName(const storage::Labels& ls) {
  if (!ls.Has(storage::kMetricNameLabel)) return ls;
  storage::LabelsBuilder b(ls);
  b.Del(storage::kMetricNameLabel);
  auto r = b.Build();
  return r.ok() ? std::move(r).value() : ls;
}

Status Evaluator::Check() {
  if (st_->ctx != nullptr && st_->ctx->cancelled.load(std::memory_order_relaxed)) {
    return Status::Cancelled("query cancelled");
  }
  if (st_->has_deadline && std::chrono::steady_clock::now() > st_->deadline) {
    return Status::DeadlineExceeded("query timed out in query execution");
  }
  return Status::OK();
}

Status Evaluator::AddSamples(uint64_t n) {
  st_->samples += n;
  if (st_->samples > st_->options->max_samples) {
    return Status::ResourceExhausted(
        "query processing would load too many samples into memory in query execution (limit " +
        std::to_string(st_->options->max_samples) + " samples)");
  }
  return Status::OK();
}

void Evaluator::Annotate(AnnotationKind kind, std::string_view msg, PosRange pos) {
  std::string_view text = st_->text;
  size_t p = std::min<size_t>(pos.start, text.size());
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < p; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  std::string m = kind == AnnotationKind::kWarning ? "PromQL warning: " : "PromQL info: ";
  m.append(msg);
  m += " (" + std::to_string(line) + ":" + std::to_string(p - line_start + 1) + ")";
  for (const Annotation& a : st_->annotations) {
    if (a.kind == kind && a.message == m) return;
  }
  st_->annotations.push_back({kind, std::move(m)});
}

Result<VectorSteps> Evaluator::EvalVector(const Expr& e) {
  VIGIL_ASSIGN_OR_RETURN(Value v, Eval(e));
  if (auto* vec = std::get_if<VectorSteps>(&v)) return std::move(*vec);
  return Status::Internal("expected an instant vector");
}

Result<ScalarSteps> Evaluator::EvalScalar(const Expr& e) {
  VIGIL_ASSIGN_OR_RETURN(Value v, Eval(e));
  if (auto* s = std::get_if<ScalarSteps>(&v)) return std::move(*s);
  return Status::Internal("expected a scalar");
}

Result<Value> Evaluator::Eval(const Expr& e) {
  VIGIL_RETURN_IF_ERROR(Check());
  switch (e.kind) {
    case ExprKind::kNumberLiteral:
      return Value(ScalarSteps{std::vector<double>(range_.n, e.As<NumberLiteral>().value)});
    case ExprKind::kStringLiteral:
      return Value(StringVal{e.As<StringLiteral>().value});
    case ExprKind::kParen:
      return Eval(*e.As<Paren>().expr);
    case ExprKind::kVectorSelector: {
      VIGIL_ASSIGN_OR_RETURN(VectorSteps v, EvalVectorSelector(e.As<VectorSelector>(), false));
      return Value(std::move(v));
    }
    case ExprKind::kMatrixSelector:
    case ExprKind::kSubquery: {
      VIGIL_ASSIGN_OR_RETURN(MatrixSteps m, EvalMatrix(e));
      return Value(std::move(m));
    }
    case ExprKind::kUnary: {
      const auto& u = e.As<Unary>();
      VIGIL_ASSIGN_OR_RETURN(Value v, Eval(*u.expr));
      if (!u.negate) return v;
      if (auto* s = std::get_if<ScalarSteps>(&v)) {
        for (double& x : s->v) x = -x;
        return v;
      }
      if (auto* vec = std::get_if<VectorSteps>(&v)) {
        for (StepSeries& s : vec->series) {
          for (double& x : s.v) x = -x;
          s.drop_name = true;
        }
        return v;
      }
      return Status::Internal("unary minus on a non-numeric value");
    }
    case ExprKind::kBinary:
      return EvalBinary(e.As<Binary>());
    case ExprKind::kAggregate:
      return EvalAggregate(e.As<Aggregate>());
    case ExprKind::kCall:
      return EvalCall(e.As<Call>());
  }
  return Status::Internal("unknown expression kind");
}

}  // namespace vigil::query::eval
