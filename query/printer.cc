// Format(): canonical PromQL text of a tree, in the spelling Prometheus' printer uses.

#include <cstdio>

#include "query/ast.h"
#include "query/parser/text.h"

namespace vigil::query {
namespace {

void AppendLabelName(std::string_view name, std::string* out) {
  if (detail::IsLegacyLabelName(name)) {
    out->append(name);
  } else {
    detail::AppendQuoted(name, out);
  }
}

void AppendLabelList(const std::vector<std::string>& labels, std::string* out) {
  out->push_back('(');
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) *out += ", ";
    AppendLabelName(labels[i], out);
  }
  out->push_back(')');
}

void AppendMods(const TimeModifiers& m, std::string* out) {
  switch (m.at) {
    case AtKind::kTimestamp: {
      char buf[48];
      std::snprintf(buf, sizeof(buf), " @ %.3f", static_cast<double>(m.at_ms) / 1000.0);
      *out += buf;
      break;
    }
    case AtKind::kStart: *out += " @ start()"; break;
    case AtKind::kEnd: *out += " @ end()"; break;
    case AtKind::kNone: break;
  }
  if (m.offset_expr) {
    *out += " offset ";
    *out += FormatDurationExpr(*m.offset_expr);
  } else if (m.offset_ms != 0) {
    *out += " offset ";
    *out += FormatDuration(m.offset_ms);
  }
}

void AppendSelectorBody(const VectorSelector& vs, std::string* out) {
  bool legacy_name = !vs.name.empty() && detail::IsLegacyMetricName(vs.name);
  if (legacy_name) out->append(vs.name);
  // The name matcher is the last one when the name is set.
  size_t n = vs.matchers.size() - (vs.name.empty() ? 0 : 1);
  if (legacy_name && n == 0) return;
  out->push_back('{');
  bool first = true;
  if (!vs.name.empty() && !legacy_name) {
    detail::AppendQuoted(vs.name, out);
    first = false;
  }
  for (size_t i = 0; i < n; ++i) {
    const LabelMatcher& m = vs.matchers[i];
    if (!first) *out += ", ";
    first = false;
    AppendLabelName(m.name, out);
    out->append(MatchTypeString(m.type));
    detail::AppendQuoted(m.value, out);
  }
  out->push_back('}');
}

void AppendRangeFlags(const VectorSelector& vs, std::string* out) {
  if (vs.anchored) *out += " anchored";
  if (vs.smoothed) *out += " smoothed";
}

void AppendNumber(double v, std::string* out) { *out += detail::FormatNumber(v); }

void Append(const Expr& e, std::string* out) {
  switch (e.kind) {
    case ExprKind::kNumberLiteral: AppendNumber(e.As<NumberLiteral>().value, out); return;
    case ExprKind::kStringLiteral: detail::AppendQuoted(e.As<StringLiteral>().value, out); return;
    case ExprKind::kVectorSelector: {
      const auto& vs = e.As<VectorSelector>();
      AppendSelectorBody(vs, out);
      AppendMods(vs.mods, out);
      AppendRangeFlags(vs, out);
      return;
    }
    case ExprKind::kMatrixSelector: {
      const auto& ms = e.As<MatrixSelector>();
      const auto& vs = ms.vector_selector->As<VectorSelector>();
      AppendSelectorBody(vs, out);
      out->push_back('[');
      *out += ms.range_expr ? FormatDurationExpr(*ms.range_expr) : FormatDuration(ms.range_ms);
      out->push_back(']');
      AppendMods(vs.mods, out);
      AppendRangeFlags(vs, out);
      return;
    }
    case ExprKind::kSubquery: {
      const auto& sq = e.As<Subquery>();
      Append(*sq.expr, out);
      out->push_back('[');
      *out += sq.range_expr ? FormatDurationExpr(*sq.range_expr) : FormatDuration(sq.range_ms);
      out->push_back(':');
      if (sq.step_expr) {
        *out += FormatDurationExpr(*sq.step_expr);
      } else if (sq.step_ms != 0) {
        *out += FormatDuration(sq.step_ms);
      }
      out->push_back(']');
      AppendMods(sq.mods, out);
      return;
    }
    case ExprKind::kCall: {
      const auto& c = e.As<Call>();
      out->append(c.func->name);
      out->push_back('(');
      for (size_t i = 0; i < c.args.size(); ++i) {
        if (i > 0) *out += ", ";
        Append(*c.args[i], out);
      }
      out->push_back(')');
      return;
    }
    case ExprKind::kAggregate: {
      const auto& a = e.As<Aggregate>();
      out->append(AggregateOpString(a.op));
      if (a.without || !a.grouping.empty()) {
        *out += a.without ? " without " : " by ";
        AppendLabelList(a.grouping, out);
        out->push_back(' ');
      }
      out->push_back('(');
      if (a.param) {
        Append(*a.param, out);
        *out += ", ";
      }
      Append(*a.expr, out);
      out->push_back(')');
      return;
    }
    case ExprKind::kBinary: {
      const auto& b = e.As<Binary>();
      Append(*b.lhs, out);
      out->push_back(' ');
      out->append(BinaryOpString(b.op));
      if (b.return_bool) *out += " bool";
      if (b.matching) {
        const VectorMatching& m = *b.matching;
        bool grouped = m.card == Cardinality::kManyToOne || m.card == Cardinality::kOneToMany;
        if (m.on || !m.labels.empty() || grouped) {
          *out += m.on ? " on" : " ignoring";
          AppendLabelList(m.labels, out);
        }
        if (grouped) {
          *out += m.card == Cardinality::kManyToOne ? " group_left" : " group_right";
          if (!m.include.empty()) AppendLabelList(m.include, out);
        }
        if (m.fill_lhs && m.fill_rhs && detail::FormatNumber(*m.fill_lhs) ==
                                            detail::FormatNumber(*m.fill_rhs)) {
          *out += " fill(" + detail::FormatNumber(*m.fill_lhs) + ")";
        } else {
          if (m.fill_lhs) *out += " fill_left(" + detail::FormatNumber(*m.fill_lhs) + ")";
          if (m.fill_rhs) *out += " fill_right(" + detail::FormatNumber(*m.fill_rhs) + ")";
        }
      }
      out->push_back(' ');
      Append(*b.rhs, out);
      return;
    }
    case ExprKind::kUnary: {
      const auto& u = e.As<Unary>();
      out->push_back(u.negate ? '-' : '+');
      Append(*u.expr, out);
      return;
    }
    case ExprKind::kParen:
      out->push_back('(');
      Append(*e.As<Paren>().expr, out);
      out->push_back(')');
      return;
  }
}

}  // namespace

std::string Format(const Expr& e) {
  std::string out;
  Append(e, &out);
  return out;
}

}  // namespace vigil::query
