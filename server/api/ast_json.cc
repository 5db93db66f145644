#include "server/api/ast_json.h"

namespace vigil::server {
namespace {

std::string_view ValueTypeName(query::ValueType t) {
  switch (t) {
    case query::ValueType::kNone: return "none";
    case query::ValueType::kScalar: return "scalar";
    case query::ValueType::kVector: return "vector";
    case query::ValueType::kMatrix: return "matrix";
    case query::ValueType::kString: return "string";
  }
  return "none";
}

std::string_view CardName(query::Cardinality c) {
  switch (c) {
    case query::Cardinality::kOneToOne: return "one-to-one";
    case query::Cardinality::kManyToOne: return "many-to-one";
    case query::Cardinality::kOneToMany: return "one-to-many";
    case query::Cardinality::kManyToMany: return "many-to-many";
  }
  return "one-to-one";
}

void WriteStrings(JsonWriter* w, const std::vector<std::string>& v) {
  w->BeginArray();
  for (const auto& s : v) w->String(s);
  w->EndArray();
}

void WriteMatchers(JsonWriter* w, const std::vector<query::LabelMatcher>& ms) {
  w->BeginArray();
  for (const auto& m : ms) {
    w->BeginObject().Key("name").String(m.name).Key("type").String(query::MatchTypeString(m.type));
    w->Key("value").String(m.value).EndObject();
  }
  w->EndArray();
}

void WriteTimeMods(JsonWriter* w, const query::TimeModifiers& mods) {
  w->Key("startOrEnd");
  if (mods.at == query::AtKind::kStart) w->String("start");
  else if (mods.at == query::AtKind::kEnd) w->String("end");
  else w->Null();
  w->Key("timestamp");
  if (mods.at == query::AtKind::kTimestamp) w->Int(mods.at_ms);
  else w->Null();
}

void WriteOptionalNumber(JsonWriter* w, const std::optional<double>& v) {
  if (v) w->Double(*v);
  else w->Null();
}

}  // namespace

void WriteAstJson(JsonWriter* w, const query::Expr& e) {
  using namespace query;
  switch (e.kind) {
    case ExprKind::kAggregate: {
      const auto& a = e.As<Aggregate>();
      w->BeginObject().Key("expr");
      WriteAstJson(w, *a.expr);
      w->Key("grouping");
      WriteStrings(w, a.grouping);
      w->Key("op").String(AggregateOpString(a.op)).Key("param");
      if (a.param) WriteAstJson(w, *a.param);
      else w->Null();
      w->Key("type").String("aggregation").Key("without").Bool(a.without).EndObject();
      return;
    }
    case ExprKind::kBinary: {
      const auto& b = e.As<Binary>();
      w->BeginObject().Key("bool").Bool(b.return_bool).Key("lhs");
      WriteAstJson(w, *b.lhs);
      w->Key("matching");
      if (b.matching) {
        const auto& m = *b.matching;
        w->BeginObject().Key("card").String(CardName(m.card));
        w->Key("fillValues").BeginObject().Key("lhs");
        WriteOptionalNumber(w, m.fill_lhs);
        w->Key("rhs");
        WriteOptionalNumber(w, m.fill_rhs);
        w->EndObject().Key("include");
        WriteStrings(w, m.include);
        w->Key("labels");
        WriteStrings(w, m.labels);
        w->Key("on").Bool(m.on).EndObject();
      } else {
        w->Null();
      }
      w->Key("op").String(BinaryOpString(b.op)).Key("rhs");
      WriteAstJson(w, *b.rhs);
      w->Key("type").String("binaryExpr").EndObject();
      return;
    }
    case ExprKind::kCall: {
      const auto& c = e.As<Call>();
      w->BeginObject().Key("args").BeginArray();
      for (const auto& arg : c.args) WriteAstJson(w, *arg);
      w->EndArray().Key("func").BeginObject().Key("argTypes").BeginArray();
      for (ValueType t : c.func->ArgTypes()) w->String(ValueTypeName(t));
      w->EndArray().Key("name").String(c.func->name);
      w->Key("returnType").String(ValueTypeName(c.func->return_type));
      w->Key("variadic").Int(c.func->variadic).EndObject();
      w->Key("type").String("call").EndObject();
      return;
    }
    case ExprKind::kMatrixSelector: {
      const auto& m = e.As<MatrixSelector>();
      const auto& vs = m.vector_selector->As<VectorSelector>();
      w->BeginObject().Key("anchored").Bool(vs.anchored).Key("matchers");
      WriteMatchers(w, vs.matchers);
      w->Key("name").String(vs.name).Key("offset").Int(vs.mods.offset_ms);
      w->Key("range").Int(m.range_ms).Key("smoothed").Bool(vs.smoothed);
      WriteTimeMods(w, vs.mods);
      w->Key("type").String("matrixSelector").EndObject();
      return;
    }
    case ExprKind::kSubquery: {
      const auto& s = e.As<Subquery>();
      w->BeginObject().Key("expr");
      WriteAstJson(w, *s.expr);
      w->Key("offset").Int(s.mods.offset_ms).Key("range").Int(s.range_ms);
      WriteTimeMods(w, s.mods);
      w->Key("step").Int(s.step_ms).Key("type").String("subquery").EndObject();
      return;
    }
    case ExprKind::kNumberLiteral: {
      w->BeginObject().Key("type").String("numberLiteral");
      w->Key("val").String(FormatPromValue(e.As<NumberLiteral>().value)).EndObject();
      return;
    }
    case ExprKind::kParen: {
      w->BeginObject().Key("expr");
      WriteAstJson(w, *e.As<Paren>().expr);
      w->Key("type").String("parenExpr").EndObject();
      return;
    }
    case ExprKind::kStringLiteral: {
      w->BeginObject().Key("type").String("stringLiteral");
      w->Key("val").String(e.As<StringLiteral>().value).EndObject();
      return;
    }
    case ExprKind::kUnary: {
      const auto& u = e.As<Unary>();
      w->BeginObject().Key("expr");
      WriteAstJson(w, *u.expr);
      w->Key("op").String(u.negate ? "-" : "+").Key("type").String("unaryExpr").EndObject();
      return;
    }
    case ExprKind::kVectorSelector: {
      const auto& vs = e.As<VectorSelector>();
      w->BeginObject().Key("anchored").Bool(vs.anchored).Key("matchers");
      WriteMatchers(w, vs.matchers);
      w->Key("name").String(vs.name).Key("offset").Int(vs.mods.offset_ms);
      w->Key("smoothed").Bool(vs.smoothed);
      WriteTimeMods(w, vs.mods);
      w->Key("type").String("vectorSelector").EndObject();
      return;
    }
  }
}

}  // namespace vigil::server
