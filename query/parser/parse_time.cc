// Ranges, subqueries, offset, @, anchored/smoothed, and duration expressions.

#include <cmath>
#include <utility>

#include "query/parser.h"
#include "query/parser/parser.h"
#include "query/parser/text.h"

namespace vigil::query {

Result<int64_t> ParseDuration(std::string_view text) {
  auto bad = [&] { return Status::InvalidArgument("not a valid duration string: " +
                                                  detail::Quoted(text)); };
  if (text.empty()) return Status::InvalidArgument("empty duration string");
  if (text == "0") return int64_t{0};
  struct Unit {
    std::string_view name;
    int64_t ms;
  };
  static constexpr Unit kUnits[] = {{"y", 365LL * 24 * 3600 * 1000}, {"w", 7LL * 24 * 3600 * 1000},
                                    {"d", 24LL * 3600 * 1000},       {"h", 3600LL * 1000},
                                    {"m", 60LL * 1000},              {"s", 1000},
                                    {"ms", 1}};
  size_t i = 0;
  size_t next_unit = 0;
  __int128 total = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start || i - start > 18) return bad();
    int64_t n = 0;
    for (size_t k = start; k < i; ++k) n = n * 10 + (text[k] - '0');
    size_t u_start = i;
    while (i < text.size() && ((text[i] >= 'a' && text[i] <= 'z'))) ++i;
    std::string_view unit = text.substr(u_start, i - u_start);
    size_t u = next_unit;
    while (u < std::size(kUnits) && kUnits[u].name != unit) ++u;
    if (u == std::size(kUnits)) return bad();
    next_unit = u + 1;
    total += static_cast<__int128>(n) * kUnits[u].ms;
    if (total > INT64_MAX / 1000000) return Status::InvalidArgument("duration out of range");
  }
  return static_cast<int64_t>(total);
}

}  // namespace vigil::query

namespace vigil::query::detail {
namespace {

VectorSelector* SelectorOf(Expr* e) {
  if (e->kind == ExprKind::kVectorSelector) return &e->As<VectorSelector>();
  if (e->kind == ExprKind::kMatrixSelector) {
    Expr* inner = e->As<MatrixSelector>().vector_selector.get();
    if (inner->kind == ExprKind::kVectorSelector) return &inner->As<VectorSelector>();
  }
  return nullptr;
}

TimeModifiers* ModifiersOf(Expr* e) {
  if (e->kind == ExprKind::kSubquery) return &e->As<Subquery>().mods;
  VectorSelector* vs = SelectorOf(e);
  return vs ? &vs->mods : nullptr;
}

int DurationPrecedence(Tok t) {
  switch (t) {
    case Tok::kAdd: case Tok::kSub: return 1;
    case Tok::kMul: case Tok::kDiv: case Tok::kMod: return 2;
    case Tok::kPow: return 3;
    default: return 0;
  }
}

DurationOp DurationOpOf(Tok t) {
  switch (t) {
    case Tok::kAdd: return DurationOp::kAdd;
    case Tok::kSub: return DurationOp::kSub;
    case Tok::kMul: return DurationOp::kMul;
    case Tok::kDiv: return DurationOp::kDiv;
    case Tok::kMod: return DurationOp::kMod;
    default: return DurationOp::kPow;
  }
}

bool EqualsLower(std::string_view word, std::string_view lower) {
  if (word.size() != lower.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

}  // namespace

bool Parser::DurationLiteral(const Token& t, double* seconds) {
  if (t.kind == Tok::kNumber) return ParseNumberText(t, seconds);
  Result<int64_t> ms = ParseDuration(t.text);
  if (!ms.ok()) {
    Fail({t.pos, t.pos + t.len}, ms.status().message());
    return false;
  }
  *seconds = static_cast<double>(*ms) / 1000.0;
  return true;
}

bool Parser::DurationLiteralMs(const Token& t, bool negative, int64_t* ms) {
  if (t.kind == Tok::kDuration) {
    Result<int64_t> r = ParseDuration(t.text);
    if (!r.ok()) {
      Fail({t.pos, t.pos + t.len}, r.status().message());
      return false;
    }
    *ms = negative ? -*r : *r;
    return true;
  }
  double seconds;
  if (!DurationLiteral(t, &seconds)) return false;
  *ms = SecondsToMs(negative ? -seconds : seconds);
  return true;
}

DurationExprPtr Parser::ParseDurationAtom() {
  const Token& t = Peek();
  if (t.kind == Tok::kNumber || t.kind == Tok::kDuration) {
    Token lit = Consume();
    auto e = std::make_unique<DurationExpr>();
    e->written_as_duration = lit.kind == Tok::kDuration;
    if (!DurationLiteral(lit, &e->seconds)) return nullptr;
    return e;
  }
  if (t.kind == Tok::kLeftParen) {
    Consume();
    auto e = std::make_unique<DurationExpr>();
    e->op = DurationOp::kParen;
    e->lhs = ParseDurationExpr(1);
    if (!e->lhs || !Expect(Tok::kRightParen, "duration expression", "\")\"")) return nullptr;
    return e;
  }
  if (t.kind == Tok::kIdentifier && PeekIs(Tok::kLeftParen, 1)) {
    auto e = std::make_unique<DurationExpr>();
    int args = 0;
    if (EqualsLower(t.text, "step")) {
      e->op = DurationOp::kStep;
    } else if (EqualsLower(t.text, "range")) {
      e->op = DurationOp::kRange;
    } else if (EqualsLower(t.text, "min_of")) {
      e->op = DurationOp::kMinOf, args = 2;
    } else if (EqualsLower(t.text, "max_of")) {
      e->op = DurationOp::kMaxOf, args = 2;
    } else {
      Unexpected("duration expression", "number, duration, step(), range(), min_of() or max_of()");
      return nullptr;
    }
    Consume();
    Consume();  // (
    if (args == 2) {
      e->lhs = ParseDurationExpr(1);
      if (!e->lhs || !Expect(Tok::kComma, "duration expression", "\",\"")) return nullptr;
      e->rhs = ParseDurationExpr(1);
      if (!e->rhs) return nullptr;
    }
    if (!Expect(Tok::kRightParen, "duration expression", "\")\"")) return nullptr;
    return e;
  }
  Unexpected("duration expression", "number, duration, step(), range(), min_of() or max_of()");
  return nullptr;
}

DurationExprPtr Parser::ParseDurationUnary() {
  if (PeekIs(Tok::kSub) || PeekIs(Tok::kAdd)) {
    bool neg = Consume().kind == Tok::kSub;
    auto e = std::make_unique<DurationExpr>();
    e->op = neg ? DurationOp::kNeg : DurationOp::kPlus;
    e->lhs = ParseDurationExpr(3);  // binds looser than ^, as in PromQL expressions
    if (!e->lhs) return nullptr;
    return e;
  }
  return ParseDurationAtom();
}

DurationExprPtr Parser::ParseDurationExpr(int min_precedence) {
  struct Guard {
    int* d;
    ~Guard() { --*d; }
  } guard{&++depth_};
  if (depth_ > 200) {
    Fail({Peek().pos, Peek().pos}, "expression nested too deeply");
    return nullptr;
  }
  DurationExprPtr lhs = ParseDurationUnary();
  int chain = 0;
  while (lhs) {
    int prec = DurationPrecedence(Peek().kind);
    if (prec == 0 || prec < min_precedence) break;
    if (++chain > 200) {
      Fail({Peek().pos, Peek().pos}, "expression nested too deeply");
      return nullptr;
    }
    DurationOp op = DurationOpOf(Consume().kind);
    DurationExprPtr rhs = ParseDurationExpr(op == DurationOp::kPow ? prec : prec + 1);
    if (!rhs) return nullptr;
    auto b = std::make_unique<DurationExpr>();
    b->op = op;
    b->lhs = std::move(lhs);
    b->rhs = std::move(rhs);
    lhs = std::move(b);
  }
  return lhs;
}

bool Parser::ParseDurationValue(std::string_view context, std::string_view expected, int64_t* ms,
                                DurationExprPtr* expr) {
  const Token& t = Peek();
  uint32_t start = t.pos;
  bool simple = (t.kind == Tok::kNumber || t.kind == Tok::kDuration) &&
                (PeekIs(Tok::kColon, 1) || PeekIs(Tok::kRightBracket, 1));
  if (simple) {
    return DurationLiteralMs(Consume(), false, ms);
  }
  if (!options_.duration_expressions) {
    if (t.kind == Tok::kNumber || t.kind == Tok::kDuration) {
      Consume();
      Unexpected(context, expected);
    } else {
      Unexpected(context, "duration");
    }
    return false;
  }
  DurationExprPtr e = ParseDurationExpr(1);
  if (!e) return false;
  if (IsConstant(*e)) {
    Result<double> v = EvalDurationExpr(*e, 0, 0);
    if (!v.ok()) {
      Fail({start, last_end()}, v.status().message());
      return false;
    }
    *ms = SecondsToMs(*v);
  }
  *expr = std::move(e);
  return true;
}

ExprPtr Parser::ParseBracket(ExprPtr e) {
  Token open = Consume();
  int64_t range_ms = 0;
  DurationExprPtr range_expr;
  if (PeekIs(Tok::kRightBracket) || PeekIs(Tok::kColon)) {
    Unexpected("subquery selector", "duration");
    return nullptr;
  }
  if (!ParseDurationValue("subquery or range", "\":\" or \"]\"", &range_ms, &range_expr)) {
    return nullptr;
  }
  if (PeekIs(Tok::kRightBracket)) {
    Token close = Consume();
    PosRange bracket{open.pos, close.pos + 1};
    const char* err = nullptr;
    VectorSelector* vs =
        e->kind == ExprKind::kVectorSelector ? &e->As<VectorSelector>() : nullptr;
    if (vs == nullptr) {
      err = "ranges only allowed for vector selectors";
    } else if (vs->mods.offset_ms != 0 || vs->mods.offset_expr) {
      err = "no offset modifiers allowed before range";
    } else if (vs->mods.at != AtKind::kNone) {
      err = "no @ modifiers allowed before range";
    }
    if (err != nullptr) {
      Fail(bracket, err);
      return nullptr;
    }
    auto ms = std::make_unique<MatrixSelector>();
    ms->span = {e->span.start, close.pos + 1};
    ms->type = ValueType::kMatrix;
    ms->range_ms = range_ms;
    ms->range_expr = std::move(range_expr);
    ms->vector_selector = std::move(e);
    return ms;
  }
  if (!PeekIs(Tok::kColon)) {
    Unexpected("subquery or range", "\":\" or \"]\"");
    return nullptr;
  }
  Consume();
  auto sq = std::make_unique<Subquery>();
  sq->range_ms = range_ms;
  sq->range_expr = std::move(range_expr);
  if (!PeekIs(Tok::kRightBracket)) {
    if (PeekIs(Tok::kColon)) {
      Unexpected("subquery selector", "duration or \"]\"");
      return nullptr;
    }
    if (!ParseDurationValue("subquery selector", "\"]\"", &sq->step_ms, &sq->step_expr)) {
      return nullptr;
    }
    if (!PeekIs(Tok::kRightBracket)) {
      Unexpected("subquery selector", "\"]\"");
      return nullptr;
    }
  }
  Token close = Consume();
  sq->span = {e->span.start, close.pos + 1};
  sq->type = ValueType::kMatrix;
  sq->expr = std::move(e);
  return sq;
}

bool Parser::ParseOffset(Expr* e, uint32_t modifier_pos) {
  Consume();  // offset
  TimeModifiers* mods = ModifiersOf(e);
  if (mods == nullptr) {
    Fail(e->span, "offset modifier must be preceded by an instant vector selector or range "
                  "vector selector or a subquery");
    return false;
  }
  if (mods->offset_ms != 0 || mods->offset_expr) {
    Fail(e->span, "offset may not be set multiple times");
    return false;
  }
  const Token& t = Peek();
  bool literal = t.kind == Tok::kNumber || t.kind == Tok::kDuration ||
                 ((t.kind == Tok::kSub || t.kind == Tok::kAdd) &&
                  (PeekIs(Tok::kNumber, 1) || PeekIs(Tok::kDuration, 1)));
  if (literal) {
    bool negative = false;
    if (t.kind == Tok::kSub || t.kind == Tok::kAdd) {
      if (t.kind == Tok::kAdd && !options_.duration_expressions) {
        Unexpected("offset", "number or duration");
        return false;
      }
      negative = Consume().kind == Tok::kSub;
    }
    if (!DurationLiteralMs(Consume(), negative, &mods->offset_ms)) return false;
  } else if (options_.duration_expressions &&
             (t.kind == Tok::kLeftParen || t.kind == Tok::kSub || t.kind == Tok::kAdd ||
              (t.kind == Tok::kIdentifier && PeekIs(Tok::kLeftParen, 1)))) {
    // An offset takes one operand: `x offset 1m + 2` adds 2 to the offset selector.
    DurationExprPtr d;
    if (t.kind == Tok::kSub || t.kind == Tok::kAdd) {
      d = std::make_unique<DurationExpr>();
      d->op = Consume().kind == Tok::kSub ? DurationOp::kNeg : DurationOp::kPlus;
      d->lhs = ParseDurationAtom();
      if (!d->lhs) return false;
    } else {
      d = ParseDurationAtom();
      if (!d) return false;
    }
    if (IsConstant(*d)) {
      Result<double> v = EvalDurationExpr(*d, 0, 0);
      if (!v.ok()) {
        Fail({modifier_pos, last_end()}, v.status().message());
        return false;
      }
      mods->offset_ms = SecondsToMs(*v);
    }
    mods->offset_expr = std::move(d);
  } else {
    Unexpected("offset", "number or duration");
    return false;
  }
  e->span.end = last_end();
  return true;
}

bool Parser::ParseAt(Expr* e) {
  Consume();  // @
  TimeModifiers* mods = ModifiersOf(e);
  if (mods == nullptr) {
    Fail(e->span, "@ modifier must be preceded by an instant vector selector or range vector "
                  "selector or a subquery");
    return false;
  }
  if (mods->at != AtKind::kNone) {
    Fail(e->span, "@ <timestamp> may not be set multiple times");
    return false;
  }
  const Token& t = Peek();
  if (t.kind == Tok::kIdentifier &&
      (t.keyword == Keyword::kStart || t.keyword == Keyword::kEnd) &&
      PeekIs(Tok::kLeftParen, 1) && PeekIs(Tok::kRightParen, 2)) {
    mods->at = t.keyword == Keyword::kStart ? AtKind::kStart : AtKind::kEnd;
    Consume();
    Consume();
    Consume();
    e->span.end = last_end();
    return true;
  }
  bool negative = false;
  if (t.kind == Tok::kSub || t.kind == Tok::kAdd) {
    if (PeekIs(Tok::kNumber, 1) || PeekIs(Tok::kDuration, 1)) {
      negative = Consume().kind == Tok::kSub;
    }
  }
  if (!PeekIs(Tok::kNumber) && !PeekIs(Tok::kDuration)) {
    Unexpected("@", "timestamp");
    return false;
  }
  double ts;
  if (!DurationLiteral(Consume(), &ts)) return false;
  if (negative) ts = -ts;
  if (!std::isfinite(ts) || ts >= 9.223372036854775807e18 || ts <= -9.223372036854775808e18) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%f", ts);
    std::string text = std::isnan(ts) ? "NaN" : std::isinf(ts) ? (ts > 0 ? "+Inf" : "-Inf") : buf;
    Fail(e->span, "timestamp out of bounds for @ modifier: " + text);
    return false;
  }
  mods->at = AtKind::kTimestamp;
  double ms = std::round(ts * 1000);
  mods->at_ms = ms >= 9.2e18 ? INT64_MAX : ms <= -9.2e18 ? INT64_MIN : static_cast<int64_t>(ms);
  e->span.end = last_end();
  return true;
}

bool Parser::ParseRangeModifier(Expr* e, bool anchored) {
  Token kw = Consume();
  const char* name = anchored ? "anchored" : "smoothed";
  if (!options_.extended_range_selectors) {
    Fail(e->span, std::string(name) + " modifier is experimental and not enabled");
    return false;
  }
  if (e->kind == ExprKind::kSubquery) {
    Fail(e->span, std::string(name) + " modifier is not supported for subqueries");
    return false;
  }
  VectorSelector* vs = SelectorOf(e);
  if (vs == nullptr) {
    Fail(e->span, std::string(name) + " modifier not implemented");
    return false;
  }
  (anchored ? vs->anchored : vs->smoothed) = true;
  if (vs->anchored && vs->smoothed) {
    Fail(e->span, "anchored and smoothed modifiers cannot be used together");
    return false;
  }
  e->span.end = kw.pos + kw.len;
  return true;
}

}  // namespace vigil::query::detail
