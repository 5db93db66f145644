// Prometheus' type checker (checkAST), run once a tree parsed without syntax errors.

#include <re2/re2.h>

#include <string>

#include "query/parser/parser.h"
#include "query/parser/text.h"

namespace vigil::query::detail {
namespace {

// Go's ValueType.String(), used in the subquery message.
const char* TypeName(ValueType t) {
  switch (t) {
    case ValueType::kScalar: return "scalar";
    case ValueType::kVector: return "vector";
    case ValueType::kMatrix: return "matrix";
    case ValueType::kString: return "string";
    case ValueType::kNone: break;
  }
  return "none";
}

bool MatchesEmpty(const LabelMatcher& m) {
  switch (m.type) {
    case MatchType::kEqual: return m.value.empty();
    case MatchType::kNotEqual: return !m.value.empty();
    default: break;
  }
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_dot_nl(true);
  RE2 re("^(?:" + m.value + ")$", opts);
  bool match = re.ok() && RE2::FullMatch("", re);
  return m.type == MatchType::kRegexMatch ? match : !match;
}

class Checker {
 public:
  explicit Checker(std::string_view input) : input_(input) {}

  ValueType Check(Expr* e);
  bool failed() const { return failed_; }
  PosRange span;
  std::string message;

 private:
  void Fail(PosRange s, std::string m) {
    if (failed_) return;
    failed_ = true;
    span = s;
    message = std::move(m);
  }
  void ExpectType(Expr* e, ValueType want, std::string_view context) {
    ValueType t = Check(e);
    if (t != want) {
      Fail(e->span, "expected type " + std::string(DocumentedType(want)) + " in " +
                        std::string(context) + ", got " + std::string(DocumentedType(t)));
    }
  }
  PosRange OperatorRange(const Binary& b) const {
    uint32_t s = b.lhs->span.end;
    uint32_t e = b.rhs->span.start;
    auto space = [&](uint32_t i) {
      char c = i < input_.size() ? input_[i] : 'x';
      return c == ' ' || c == '\t' || c == '\n' || c == '\r';
    };
    while (s < e && space(s)) ++s;
    while (e > s && space(e - 1)) --e;
    return {s, e};
  }
  void CheckBinary(Binary* b);
  void CheckCall(Call* c);
  void CheckSelector(VectorSelector* vs);

  std::string_view input_;
  bool failed_ = false;
};

ValueType Checker::Check(Expr* e) {
  switch (e->kind) {
    case ExprKind::kAggregate: {
      auto& a = e->As<Aggregate>();
      ExpectType(a.expr.get(), ValueType::kVector, "aggregation expression");
      if (a.op == AggregateOp::kCountValues) {
        ExpectType(a.param.get(), ValueType::kString, "aggregation parameter");
      } else if (TakesParam(a.op)) {
        ExpectType(a.param.get(), ValueType::kScalar, "aggregation parameter");
      }
      break;
    }
    case ExprKind::kBinary: CheckBinary(&e->As<Binary>()); break;
    case ExprKind::kCall: CheckCall(&e->As<Call>()); break;
    case ExprKind::kParen: Check(e->As<Paren>().expr.get()); break;
    case ExprKind::kUnary: {
      ValueType t = Check(e->As<Unary>().expr.get());
      if (t != ValueType::kScalar && t != ValueType::kVector) {
        Fail(e->span, "unary expression only allowed on expressions of type scalar or instant "
                      "vector, got " + Quoted(DocumentedType(t)));
      }
      break;
    }
    case ExprKind::kSubquery: {
      ValueType t = Check(e->As<Subquery>().expr.get());
      if (t != ValueType::kVector) {
        Fail(e->span, std::string("subquery is only allowed on instant vector, got ") +
                          TypeName(t) + " instead");
      }
      break;
    }
    case ExprKind::kMatrixSelector: Check(e->As<MatrixSelector>().vector_selector.get()); break;
    case ExprKind::kVectorSelector: CheckSelector(&e->As<VectorSelector>()); break;
    case ExprKind::kNumberLiteral:
    case ExprKind::kStringLiteral: break;
  }
  return e->type;
}

void Checker::CheckBinary(Binary* b) {
  ValueType lt = Check(b->lhs.get());
  ValueType rt = Check(b->rhs.get());
  std::string op_name(BinaryOpString(b->op));
  if (b->return_bool && !IsComparison(b->op)) {
    Fail(OperatorRange(*b), "bool modifier can only be used on comparison operators");
  }
  if (IsComparison(b->op) && !b->return_bool && lt == ValueType::kScalar &&
      rt == ValueType::kScalar) {
    Fail(OperatorRange(*b), "comparisons between scalars must use BOOL modifier");
  }
  VectorMatching& m = *b->matching;
  if (IsSetOperator(b->op) && m.card == Cardinality::kOneToOne) m.card = Cardinality::kManyToMany;
  if (m.on) {
    for (const auto& l1 : m.labels) {
      for (const auto& l2 : m.include) {
        if (l1 == l2) {
          Fail(OperatorRange(*b), "label " + Quoted(l1) + " must not occur in ON and GROUP clause at once");
        }
      }
    }
  }
  if (lt != ValueType::kScalar && lt != ValueType::kVector) {
    Fail(b->lhs->span, "binary expression must contain only scalar and instant vector types");
  }
  if (rt != ValueType::kScalar && rt != ValueType::kVector) {
    Fail(b->rhs->span, "binary expression must contain only scalar and instant vector types");
  }
  if (lt != ValueType::kVector || rt != ValueType::kVector) {
    if (!m.labels.empty()) Fail(b->span, "vector matching only allowed between instant vectors");
    if (m.fill_lhs || m.fill_rhs) {
      Fail(b->span, "filling in missing series only allowed between instant vectors");
    }
    b->matching.reset();
  } else if (IsSetOperator(b->op)) {
    if (m.card == Cardinality::kOneToMany || m.card == Cardinality::kManyToOne) {
      Fail(b->span, "no grouping allowed for " + Quoted(op_name) + " operation");
    }
    if (m.card != Cardinality::kManyToMany) {
      Fail(b->span, "set operations must always be many-to-many");
    }
    if (m.fill_lhs || m.fill_rhs) {
      Fail(b->span, "filling in missing series not allowed for set operators");
    }
  }
  if ((lt == ValueType::kScalar || rt == ValueType::kScalar) && IsSetOperator(b->op)) {
    Fail(b->span, "set operator " + Quoted(op_name) + " not allowed in binary scalar expression");
  }
}

void Checker::CheckCall(Call* c) {
  const FunctionInfo& f = *c->func;
  const size_t nargs = f.num_arg_types;
  const size_t got = c->args.size();
  const std::string name = Quoted(f.name);
  if (f.variadic == 0) {
    if (nargs != got) {
      Fail(c->span, "expected " + std::to_string(nargs) + " argument(s) in call to " + name +
                        ", got " + std::to_string(got));
    }
  } else {
    size_t na = nargs - 1;
    if (na > got) {
      Fail(c->span, "expected at least " + std::to_string(na) + " argument(s) in call to " +
                        name + ", got " + std::to_string(got));
    } else if (f.variadic > 0 && na + f.variadic < got) {
      Fail(c->span, "expected at most " + std::to_string(na + f.variadic) +
                        " argument(s) in call to " + name + ", got " + std::to_string(got));
    }
  }
  if (f.name == "info" && got > 1) {
    Expr* arg = c->args[1].get();
    if (arg->type != ValueType::kVector) {
      Fail(c->span, "expected type instant vector in call to function " + name + ", got " +
                        std::string(DocumentedType(arg->type)));
    }
    if (auto* vs = arg->kind == ExprKind::kVectorSelector ? &arg->As<VectorSelector>() : nullptr) {
      if (!vs->name.empty()) {
        Fail(arg->span, "expected label selectors only, got vector selector instead");
      } else {
        vs->bypass_empty_matcher_check = true;
      }
    } else {
      Fail(arg->span, "expected label selectors only");
    }
  }
  for (size_t i = 0; i < got; ++i) {
    size_t k = i;
    if (k >= nargs) {
      if (f.variadic == 0 || nargs == 0) break;
      k = nargs - 1;
    }
    ValueType t = Check(c->args[i].get());
    if (t != f.arg_types[k]) {
      Fail(c->args[i]->span, "expected type " + std::string(DocumentedType(f.arg_types[k])) +
                                 " in call to function " + name + ", got " +
                                 std::string(DocumentedType(t)));
    }
  }
  // Extended range selectors apply to a few functions only.
  for (const auto& arg : c->args) {
    const auto* ms = arg->TryAs<MatrixSelector>();
    if (ms == nullptr) continue;
    const auto& vs = ms->vector_selector->As<VectorSelector>();
    std::string_view n = f.name;
    if (vs.anchored && n != "changes" && n != "delta" && n != "increase" && n != "rate" &&
        n != "resets") {
      Fail(c->span, "anchored modifier can only be used with: changes, delta, increase, rate, "
                    "resets - not with " + std::string(n));
    }
    if (vs.smoothed && n != "delta" && n != "increase" && n != "rate") {
      Fail(c->span, "smoothed modifier can only be used with: delta, increase, rate - not with " +
                        std::string(n));
    }
  }
}

void Checker::CheckSelector(VectorSelector* vs) {
  if (!vs->name.empty()) {
    for (size_t i = 0; i + 1 < vs->matchers.size(); ++i) {
      if (vs->matchers[i].name == "__name__") {
        Fail(vs->span, "metric name must not be set twice: " + Quoted(vs->name) + " or " +
                           Quoted(vs->matchers[i].value));
      }
    }
    return;
  }
  if (vs->bypass_empty_matcher_check) return;
  for (const auto& m : vs->matchers) {
    if (!MatchesEmpty(m)) return;
  }
  Fail(vs->span, "vector selector must contain at least one non-empty matcher");
}

}  // namespace

bool CheckTree(Expr* e, std::string_view input, PosRange* span, std::string* message) {
  Checker c(input);
  c.Check(e);
  if (!c.failed()) return true;
  *span = c.span;
  *message = std::move(c.message);
  return false;
}

}  // namespace vigil::query::detail
