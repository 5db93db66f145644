#include "query/parser/parser.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "query/parser/text.h"

namespace vigil::query::detail {
namespace {

// Bounds the depth of the tree (recursion here, in the checker, printer and destructors).
constexpr int kMaxDepth = 1000;

struct BinaryOpInfo {
  BinaryOp op;
  bool ok;
};

BinaryOpInfo BinaryOpOf(const Token& t) {
  switch (t.kind) {
    case Tok::kAdd: return {BinaryOp::kAdd, true};
    case Tok::kSub: return {BinaryOp::kSub, true};
    case Tok::kMul: return {BinaryOp::kMul, true};
    case Tok::kDiv: return {BinaryOp::kDiv, true};
    case Tok::kMod: return {BinaryOp::kMod, true};
    case Tok::kPow: return {BinaryOp::kPow, true};
    case Tok::kEqlC: return {BinaryOp::kEql, true};
    case Tok::kNeq: return {BinaryOp::kNeq, true};
    case Tok::kGtr: return {BinaryOp::kGtr, true};
    case Tok::kLss: return {BinaryOp::kLss, true};
    case Tok::kGte: return {BinaryOp::kGte, true};
    case Tok::kLte: return {BinaryOp::kLte, true};
    case Tok::kTrimUpper: return {BinaryOp::kTrimUpper, true};
    case Tok::kTrimLower: return {BinaryOp::kTrimLower, true};
    case Tok::kIdentifier:
      switch (t.keyword) {
        case Keyword::kAnd: return {BinaryOp::kAnd, true};
        case Keyword::kOr: return {BinaryOp::kOr, true};
        case Keyword::kUnless: return {BinaryOp::kUnless, true};
        case Keyword::kAtan2: return {BinaryOp::kAtan2, true};
        default: break;
      }
      break;
    default: break;
  }
  return {BinaryOp::kAdd, false};
}

AggregateOp AggregateOpOf(Keyword k) {
  switch (k) {
    case Keyword::kSum: return AggregateOp::kSum;
    case Keyword::kAvg: return AggregateOp::kAvg;
    case Keyword::kCount: return AggregateOp::kCount;
    case Keyword::kMin: return AggregateOp::kMin;
    case Keyword::kMax: return AggregateOp::kMax;
    case Keyword::kGroup: return AggregateOp::kGroup;
    case Keyword::kStddev: return AggregateOp::kStddev;
    case Keyword::kStdvar: return AggregateOp::kStdvar;
    case Keyword::kTopK: return AggregateOp::kTopK;
    case Keyword::kBottomK: return AggregateOp::kBottomK;
    case Keyword::kQuantile: return AggregateOp::kQuantile;
    case Keyword::kCountValues: return AggregateOp::kCountValues;
    case Keyword::kLimitK: return AggregateOp::kLimitK;
    default: return AggregateOp::kLimitRatio;
  }
}

class DepthGuard {
 public:
  explicit DepthGuard(int* depth) : depth_(depth) { ++*depth_; }
  ~DepthGuard() { --*depth_; }
  DepthGuard(const DepthGuard&) = delete;
  DepthGuard& operator=(const DepthGuard&) = delete;

 private:
  int* depth_;
};

}  // namespace

int64_t SecondsToMs(double seconds) {
  // Prometheus: time.Duration(seconds * 1000) * time.Millisecond (truncation).
  double ms = seconds * 1000;
  if (!(ms > -9.2e18 && ms < 9.2e18)) return 0;
  return static_cast<int64_t>(ms);
}

Parser::Parser(std::string_view input, const ParseOptions& options)
    : lexer_(input), options_(options) {}

const Token& Parser::Peek(size_t ahead) {
  while (buffered_ <= ahead) buffer_[buffered_++] = lexer_.Next();
  return buffer_[ahead];
}

Token Parser::Consume() {
  Peek();
  Token t = buffer_[0];
  for (size_t i = 1; i < buffered_; ++i) buffer_[i - 1] = buffer_[i];
  --buffered_;
  if (t.kind != Tok::kEOF && t.kind != Tok::kError) last_end_ = t.pos + t.len;
  return t;
}

void Parser::Fail(PosRange span, std::string message) {
  if (failed_) return;
  failed_ = true;
  error_span_ = span;
  error_message_ = std::move(message);
}

void Parser::Unexpected(std::string_view context, std::string_view expected) {
  const Token& t = Peek();
  if (t.kind == Tok::kError) {
    Fail({t.pos, t.pos + t.len}, std::string(t.text));
    return;
  }
  std::string msg = "unexpected " + Describe(t);
  if (!context.empty()) {
    msg += " in ";
    msg += context;
  }
  if (!expected.empty()) {
    msg += ", expected ";
    msg += expected;
  }
  Fail({t.pos, t.pos + t.len}, std::move(msg));
}

bool Parser::Expect(Tok kind, std::string_view context, std::string_view expected) {
  if (PeekIs(kind)) {
    Consume();
    return true;
  }
  Unexpected(context, expected);
  return false;
}

ExprPtr Parser::ParseTop() {
  if (PeekIs(Tok::kEOF)) {
    Fail({0, 0}, "no expression found in input");
    return nullptr;
  }
  ExprPtr e = ParseExpression(0);
  if (!e) return nullptr;
  if (!PeekIs(Tok::kEOF)) {
    Unexpected("", "");
    return nullptr;
  }
  return e;
}

ExprPtr Parser::ParseExpression(int min_precedence) {
  DepthGuard guard(&depth_);
  if (depth_ > kMaxDepth) {
    Fail({Peek().pos, Peek().pos}, "expression nested too deeply");
    return nullptr;
  }
  ExprPtr lhs = ParseUnary();
  // Each operator of a left-associative chain adds a tree level without recursing.
  int chain = 0;
  struct ChainRestore {
    int* depth;
    int* chain;
    ~ChainRestore() { *depth -= *chain; }
  } restore{&depth_, &chain};
  while (lhs) {
    BinaryOpInfo info = BinaryOpOf(Peek());
    if (!info.ok) break;
    int prec = Precedence(info.op);
    if (prec < min_precedence) break;
    ++chain;
    if (++depth_ > kMaxDepth) {
      Fail({Peek().pos, Peek().pos}, "expression nested too deeply");
      return nullptr;
    }
    Consume();
    auto b = std::make_unique<Binary>();
    b->op = info.op;
    if (!ParseBinaryModifiers(b.get())) return nullptr;
    // ^ is right-associative; everything else is left-associative.
    int next_min = info.op == BinaryOp::kPow ? prec : prec + 1;
    ExprPtr rhs = ParseExpression(next_min);
    if (!rhs) return nullptr;
    b->span = {lhs->span.start, rhs->span.end};
    bool scalars = lhs->type == ValueType::kScalar && rhs->type == ValueType::kScalar;
    b->type = scalars ? ValueType::kScalar : ValueType::kVector;
    b->lhs = std::move(lhs);
    b->rhs = std::move(rhs);
    if ((b->matching->fill_lhs || b->matching->fill_rhs) && !options_.binop_fill_modifiers) {
      Fail(b->span, "binop fill modifiers are experimental and not enabled");
      return nullptr;
    }
    lhs = std::move(b);
  }
  return lhs;
}

bool Parser::ParseBinaryModifiers(Binary* b) {
  b->matching.emplace();
  if (PeekKeyword(Keyword::kBool)) {
    Consume();
    b->return_bool = true;
  }
  if (PeekKeyword(Keyword::kOn) || PeekKeyword(Keyword::kIgnoring)) {
    b->matching->on = Consume().keyword == Keyword::kOn;
    if (!ParseGroupingLabels(&b->matching->labels)) return false;
    if (PeekKeyword(Keyword::kGroupLeft) || PeekKeyword(Keyword::kGroupRight)) {
      bool left = Consume().keyword == Keyword::kGroupLeft;
      b->matching->card = left ? Cardinality::kManyToOne : Cardinality::kOneToMany;
      if (PeekIs(Tok::kLeftParen) && !ParseGroupingLabels(&b->matching->include)) return false;
    }
  }
  while ((PeekKeyword(Keyword::kFill) || PeekKeyword(Keyword::kFillLeft) ||
          PeekKeyword(Keyword::kFillRight)) &&
         PeekIs(Tok::kLeftParen, 1)) {
    Keyword kw = Consume().keyword;
    std::optional<double> value;
    if (!ParseFillValue(&value)) return false;
    if (kw != Keyword::kFillRight) b->matching->fill_lhs = value;
    if (kw != Keyword::kFillLeft) b->matching->fill_rhs = value;
  }
  return true;
}

bool Parser::ParseFillValue(std::optional<double>* out) {
  Consume();  // (
  bool negative = false;
  if (PeekIs(Tok::kSub) || PeekIs(Tok::kAdd)) negative = Consume().kind == Tok::kSub;
  if (!PeekIs(Tok::kNumber)) {
    Unexpected("fill modifier", "number");
    return false;
  }
  double v;
  if (!ParseNumberText(Consume(), &v)) return false;
  *out = negative ? -v : v;
  return Expect(Tok::kRightParen, "fill modifier", "\")\"");
}

ExprPtr Parser::ParseUnary() {
  if (!PeekIs(Tok::kAdd) && !PeekIs(Tok::kSub)) return ParsePostfix(ParsePrimary());
  Token op = Consume();
  // Unary operators bind like '*': tighter than + and -, looser than ^.
  ExprPtr operand = ParseExpression(Precedence(BinaryOp::kPow));
  if (!operand) return nullptr;
  if (operand->kind == ExprKind::kNumberLiteral) {
    auto& n = operand->As<NumberLiteral>();
    if (op.kind == Tok::kSub) n.value = -n.value;
    n.span.start = op.pos;
    return operand;
  }
  auto u = std::make_unique<Unary>();
  u->negate = op.kind == Tok::kSub;
  u->span = {op.pos, operand->span.end};
  u->type = operand->type;
  u->expr = std::move(operand);
  return u;
}

ExprPtr Parser::ParsePrimary() {
  const Token& t = Peek();
  switch (t.kind) {
    case Tok::kNumber:
      return NumberFromToken(Consume());
    case Tok::kDuration: {
      if (!options_.duration_expressions) {
        Unexpected("", "");
        return nullptr;
      }
      Token d = Consume();
      double seconds;
      if (!DurationLiteral(d, &seconds)) return nullptr;
      auto n = std::make_unique<NumberLiteral>();
      n->value = seconds;
      n->span = {d.pos, d.pos + d.len};
      n->type = ValueType::kScalar;
      return n;
    }
    case Tok::kString: {
      Token s = Consume();
      auto lit = std::make_unique<StringLiteral>();
      if (!Unquote(s.text, &lit->value)) {
        Fail({s.pos, s.pos + s.len}, "error unquoting string " + Quoted(s.text));
        return nullptr;
      }
      lit->span = {s.pos, s.pos + s.len};
      lit->type = ValueType::kString;
      return lit;
    }
    case Tok::kLeftParen:
      return ParseParen();
    case Tok::kLeftBrace:
      return ParseVectorSelector();
    case Tok::kIdentifier:
      if (IsAggregatorKeyword(t.keyword) &&
          (PeekIs(Tok::kLeftParen, 1) || PeekKeyword(Keyword::kBy, 1) ||
           PeekKeyword(Keyword::kWithout, 1))) {
        return ParseAggregate();
      }
      if (PeekIs(Tok::kLeftParen, 1)) return ParseCall();
      if (IsAggregatorKeyword(t.keyword) && PeekIs(Tok::kEOF, 1)) {
        Consume();
        Unexpected("aggregation", "");
        return nullptr;
      }
      return ParseVectorSelector();
    case Tok::kMetricIdentifier:
      return ParseVectorSelector();
    default:
      Unexpected("", "");
      return nullptr;
  }
}

bool Parser::ParseNumberText(const Token& t, double* out) {
  std::string_view s = t.text;
  std::string clean;
  if (s.find('_') != std::string_view::npos) {
    for (char c : s) {
      if (c != '_') clean += c;
    }
    s = clean;
  }
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    uint64_t v = 0;
    auto r = std::from_chars(s.data() + 2, s.data() + s.size(), v, 16);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size() && v <= INT64_MAX) {
      *out = static_cast<double>(v);
      return true;
    }
  } else if (s.size() > 1 && s[0] == '0' &&
             s.find_first_not_of("01234567") == std::string_view::npos) {
    // Go's ParseInt with base 0: a leading 0 means octal.
    uint64_t v = 0;
    auto r = std::from_chars(s.data() + 1, s.data() + s.size(), v, 8);
    if (r.ec == std::errc() && v <= INT64_MAX) {
      *out = static_cast<double>(v);
      return true;
    }
  } else {
    auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
    if (r.ptr == s.data() + s.size() &&
        (r.ec == std::errc() || r.ec == std::errc::result_out_of_range)) {
      if (r.ec == std::errc::result_out_of_range) {
        // Go's ParseFloat yields ±Inf or 0 with a range error; Prometheus keeps the value.
        size_t e = s.find_first_of("eE");
        bool tiny = e != std::string_view::npos && e + 1 < s.size() && s[e + 1] == '-';
        *out = tiny ? 0.0 : HUGE_VAL;
      }
      return true;
    }
  }
  Fail({t.pos, t.pos + t.len}, "error parsing number: invalid syntax: " + Quoted(t.text));
  return false;
}

ExprPtr Parser::NumberFromToken(const Token& t) {
  auto n = std::make_unique<NumberLiteral>();
  if (!ParseNumberText(t, &n->value)) return nullptr;
  n->span = {t.pos, t.pos + t.len};
  n->type = ValueType::kScalar;
  return n;
}

ExprPtr Parser::ParseParen() {
  Token open = Consume();
  DepthGuard guard(&depth_);
  ExprPtr inner = ParseExpression(0);
  if (!inner) return nullptr;
  if (!PeekIs(Tok::kRightParen)) {
    Unexpected("", "");
    return nullptr;
  }
  Token close = Consume();
  auto p = std::make_unique<Paren>();
  p->span = {open.pos, close.pos + 1};
  p->type = inner->type;
  p->expr = std::move(inner);
  return p;
}

bool Parser::ParseCallArgs(std::vector<ExprPtr>* args, std::string_view context) {
  if (!Expect(Tok::kLeftParen, context, "\"(\"")) return false;
  if (PeekIs(Tok::kRightParen)) {
    Consume();
    return true;
  }
  while (true) {
    ExprPtr arg = ParseExpression(0);
    if (!arg) return false;
    args->push_back(std::move(arg));
    if (PeekIs(Tok::kComma)) {
      Token comma = Consume();
      if (PeekIs(Tok::kRightParen)) {
        Fail({comma.pos, comma.pos + 1}, "trailing commas not allowed in function call args");
        return false;
      }
      continue;
    }
    if (PeekIs(Tok::kRightParen)) {
      Consume();
      return true;
    }
    Unexpected(context, "\",\" or \")\"");
    return false;
  }
}

ExprPtr Parser::ParseCall() {
  Token name = Consume();
  const FunctionInfo* fn = LookupFunction(name.text);
  PosRange name_span{name.pos, name.pos + name.len};
  if (fn == nullptr) {
    Fail(name_span, "unknown function with name " + Quoted(name.text));
    return nullptr;
  }
  if (fn->experimental && !options_.experimental_functions) {
    Fail(name_span, "function " + Quoted(name.text) + " is not enabled");
    return nullptr;
  }
  auto call = std::make_unique<Call>();
  call->func = fn;
  DepthGuard guard(&depth_);
  if (!ParseCallArgs(&call->args, "function call")) return nullptr;
  call->span = {name.pos, last_end()};
  call->type = fn->return_type;
  return call;
}

ExprPtr Parser::ParseAggregate() {
  Token op = Consume();
  auto agg = std::make_unique<Aggregate>();
  agg->op = AggregateOpOf(op.keyword);
  agg->type = ValueType::kVector;
  bool has_modifier = false;
  auto parse_modifier = [&]() {
    has_modifier = true;
    agg->without = Consume().keyword == Keyword::kWithout;
    return ParseGroupingLabels(&agg->grouping);
  };
  if ((PeekKeyword(Keyword::kBy) || PeekKeyword(Keyword::kWithout)) && !parse_modifier()) {
    return nullptr;
  }
  std::vector<ExprPtr> args;
  DepthGuard guard(&depth_);
  if (!PeekIs(Tok::kLeftParen)) {
    Unexpected("aggregation", "");
    return nullptr;
  }
  if (!ParseCallArgs(&args, "aggregation")) return nullptr;
  uint32_t end = last_end();
  if (!has_modifier && (PeekKeyword(Keyword::kBy) || PeekKeyword(Keyword::kWithout))) {
    if (!parse_modifier()) return nullptr;
    end = last_end();
  }
  agg->span = {op.pos, end};
  if (args.empty()) {
    Fail(agg->span, "no arguments for aggregate expression provided");
    return nullptr;
  }
  size_t want = 1;
  if (TakesParam(agg->op)) {
    if (IsExperimental(agg->op) && !options_.experimental_functions) {
      Fail(agg->span, std::string(AggregateOpString(agg->op)) +
                          "() is experimental and must be enabled with "
                          "--enable-feature=promql-experimental-functions");
      return nullptr;
    }
    want = 2;
  }
  if (args.size() != want) {
    Fail(agg->span, "wrong number of arguments for aggregate expression provided, expected " +
                        std::to_string(want) + ", got " + std::to_string(args.size()));
    return nullptr;
  }
  if (want == 2) agg->param = std::move(args[0]);
  agg->expr = std::move(args[want - 1]);
  return agg;
}

ExprPtr Parser::ParsePostfix(ExprPtr e) {
  while (e) {
    const Token& t = Peek();
    if (t.kind == Tok::kLeftBracket) {
      e = ParseBracket(std::move(e));
    } else if (t.kind == Tok::kAt) {
      if (!ParseAt(e.get())) return nullptr;
    } else if (t.kind == Tok::kIdentifier && t.keyword == Keyword::kOffset) {
      uint32_t pos = t.pos;
      if (!ParseOffset(e.get(), pos)) return nullptr;
    } else if (t.kind == Tok::kIdentifier &&
               (t.keyword == Keyword::kAnchored || t.keyword == Keyword::kSmoothed)) {
      if (!ParseRangeModifier(e.get(), t.keyword == Keyword::kAnchored)) return nullptr;
    } else {
      break;
    }
  }
  return e;
}

}  // namespace vigil::query::detail

namespace vigil::query::detail {

ExprPtr Parser::ParseSelectorOnly() {
  const Token& t = Peek();
  if (t.kind != Tok::kIdentifier && t.kind != Tok::kMetricIdentifier &&
      t.kind != Tok::kLeftBrace) {
    Unexpected("series description", "metric name or \"{\"");
    return nullptr;
  }
  ExprPtr e = ParseVectorSelector();
  if (e && !PeekIs(Tok::kEOF)) {
    Unexpected("series description", "end of input");
    return nullptr;
  }
  return e;
}

}  // namespace vigil::query::detail
