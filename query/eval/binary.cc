// Binary operators: arithmetic, comparisons (filtering or `bool`), set operators, and vector
// matching with on / ignoring / group_left / group_right, with Prometheus' matching errors.

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "query/eval/evaluator.h"
#include "query/eval/helpers.h"

namespace vigil::query::eval {
namespace {

bool DropsName(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
    case BinaryOp::kSub:
    case BinaryOp::kMul:
    case BinaryOp::kDiv:
    case BinaryOp::kMod:
    case BinaryOp::kPow:
    case BinaryOp::kAtan2:
      return true;
    default:
      return false;
  }
}

// Applies op to two floats. Comparisons return the left value and set *keep.
double Apply(BinaryOp op, double l, double r, bool* keep) {
  *keep = true;
  switch (op) {
    case BinaryOp::kAdd:
      return l + r;
    case BinaryOp::kSub:
      return l - r;
    case BinaryOp::kMul:
      return l * r;
    case BinaryOp::kDiv:
      return l / r;
    case BinaryOp::kMod:
      return std::fmod(l, r);
    case BinaryOp::kPow:
      return std::pow(l, r);
    case BinaryOp::kAtan2:
      return std::atan2(l, r);
    case BinaryOp::kEql:
      *keep = l == r;
      return l;
    case BinaryOp::kNeq:
      *keep = l != r;
      return l;
    case BinaryOp::kGtr:
      *keep = l > r;
      return l;
    case BinaryOp::kLss:
      *keep = l < r;
      return l;
    case BinaryOp::kGte:
      *keep = l >= r;
      return l;
    case BinaryOp::kLte:
      *keep = l <= r;
      return l;
    default:
      *keep = false;
      return 0;
  }
}

// Signature of a series for matching: the `on` labels, or all but `ignoring` labels and the name.
class Signer {
 public:
  Signer(bool on, const std::vector<std::string>& names) : on_(on), names_(names) {}
  std::string Key(const storage::Labels& ls) const {
    std::string k;
    for (const storage::Label& l : ls) {
      bool listed = std::find(names_.begin(), names_.end(), l.name) != names_.end();
      if (on_ ? !listed : (listed || l.name == storage::kMetricNameLabel)) continue;
      k.append(l.name);
      k.push_back('\xff');
      k.append(l.value);
      k.push_back('\xff');
    }
    return k;
  }
  storage::Labels MatchLabels(const storage::Labels& ls) const {
    storage::LabelsBuilder b;
    for (const storage::Label& l : ls) {
      bool listed = std::find(names_.begin(), names_.end(), l.name) != names_.end();
      if (on_ ? !listed : (listed || l.name == storage::kMetricNameLabel)) continue;
      b.Add(l.name, l.value);
    }
    auto r = b.Build();
    return r.ok() ? std::move(r).value() : storage::Labels();
  }

 private:
  bool on_;
  const std::vector<std::string>& names_;
};

// Dense ids for signatures of both sides.
struct SigIds {
  std::vector<uint32_t> lhs, rhs;
  size_t count = 0;
};

SigIds ComputeSigs(const Signer& signer, const VectorSteps& l, const VectorSteps& r) {
  SigIds ids;
  std::unordered_map<std::string, uint32_t> m;
  auto id = [&](const storage::Labels& ls) {
    auto [it, inserted] = m.try_emplace(signer.Key(ls), static_cast<uint32_t>(m.size()));
    return it->second;
  };
  for (const StepSeries& s : l.series) ids.lhs.push_back(id(s.labels));
  for (const StepSeries& s : r.series) ids.rhs.push_back(id(s.labels));
  ids.count = m.size();
  return ids;
}

Value VectorScalar(BinaryOp op, bool return_bool, VectorSteps vec, const ScalarSteps& sc,
                   bool scalar_left) {
  VectorSteps out;
  const bool comparison = IsComparison(op);
  for (StepSeries& s : vec.series) {
    bool any = false;
    for (size_t i = 0; i < s.v.size(); ++i) {
      if (!s.ok[i]) continue;
      double l = s.v[i], r = sc.v[i];
      if (scalar_left) std::swap(l, r);
      bool keep;
      double v = Apply(op, l, r, &keep);
      if (comparison && scalar_left) v = r;
      if (return_bool) {
        v = keep ? 1 : 0;
        keep = true;
      }
      if (!keep) {
        s.ok[i] = 0;
        continue;
      }
      s.v[i] = v;
      any = true;
    }
    if (!any) continue;
    if (DropsName(op) || return_bool) s.drop_name = true;
    out.series.push_back(std::move(s));
  }
  return out;
}

}  // namespace

Result<Value> Evaluator::EvalBinary(const Binary& b) {
  VIGIL_ASSIGN_OR_RETURN(Value lv, Eval(*b.lhs));
  VIGIL_ASSIGN_OR_RETURN(Value rv, Eval(*b.rhs));
  auto* ls = std::get_if<ScalarSteps>(&lv);
  auto* rs = std::get_if<ScalarSteps>(&rv);
  if (ls != nullptr && rs != nullptr) {
    for (size_t i = 0; i < ls->v.size(); ++i) {
      bool keep;
      double v = Apply(b.op, ls->v[i], rs->v[i], &keep);
      ls->v[i] = IsComparison(b.op) ? (keep ? 1 : 0) : v;
    }
    return lv;
  }
  if (rs != nullptr) {
    return VectorScalar(b.op, b.return_bool, std::move(std::get<VectorSteps>(lv)), *rs, false);
  }
  if (ls != nullptr) {
    return VectorScalar(b.op, b.return_bool, std::move(std::get<VectorSteps>(rv)), *ls, true);
  }
  auto& lhs = std::get<VectorSteps>(lv);
  auto& rhs = std::get<VectorSteps>(rv);
  const VectorMatching kDefault;
  const VectorMatching& matching = b.matching ? *b.matching : kDefault;
  const size_t n = range_.n;

  if (IsSetOperator(b.op)) {
    Signer signer(matching.on, matching.labels);
    SigIds ids = ComputeSigs(signer, lhs, rhs);
    std::vector<size_t> seen_l(ids.count, SIZE_MAX), seen_r(ids.count, SIZE_MAX);
    for (size_t i = 0; i < n; ++i) {
      for (size_t k = 0; k < rhs.series.size(); ++k) {
        if (rhs.series[k].ok[i]) seen_r[ids.rhs[k]] = i;
      }
      for (size_t k = 0; k < lhs.series.size(); ++k) {
        if (lhs.series[k].ok[i]) seen_l[ids.lhs[k]] = i;
      }
      if (b.op == BinaryOp::kOr) {
        for (size_t k = 0; k < rhs.series.size(); ++k) {
          if (rhs.series[k].ok[i] && seen_l[ids.rhs[k]] == i) rhs.series[k].ok[i] = 0;
        }
      } else {
        const bool want = b.op == BinaryOp::kAnd;
        for (size_t k = 0; k < lhs.series.size(); ++k) {
          if (lhs.series[k].ok[i] && (seen_r[ids.lhs[k]] == i) != want) lhs.series[k].ok[i] = 0;
        }
      }
    }
    if (b.op != BinaryOp::kOr) {
      VectorSteps out;
      for (StepSeries& s : lhs.series) {
        if (!s.Empty()) out.series.push_back(std::move(s));
      }
      return Value(std::move(out));
    }
    OutputBuilder ob(n);
    for (VectorSteps* side : {&lhs, &rhs}) {
      for (StepSeries& s : side->series) {
        if (s.Empty()) continue;
        size_t idx = ob.Series(s.labels, s.drop_name);
        for (size_t i = 0; i < n; ++i) {
          if (s.ok[i] && !ob.Set(idx, i, s.v[i])) {
            return Status::InvalidArgument(kDuplicateLabelsetError);
          }
        }
      }
    }
    return Value(ob.Finish());
  }

  // Arithmetic and comparisons between two vectors. For group_right the sides swap so that the
  // "one" side is always `one`.
  const bool swapped = matching.card == Cardinality::kOneToMany;
  VectorSteps& many = swapped ? rhs : lhs;
  VectorSteps& one = swapped ? lhs : rhs;
  Signer signer(matching.on, matching.labels);
  SigIds ids = ComputeSigs(signer, many, one);
  const bool one_to_one = matching.card == Cardinality::kOneToOne;
  std::vector<size_t> one_at_step(ids.count, SIZE_MAX), one_idx(ids.count, 0);
  std::vector<size_t> many_seen(ids.count, SIZE_MAX);
  std::unordered_map<uint64_t, size_t> pair_out;
  OutputBuilder ob(n);
  const bool comparison = IsComparison(b.op);
  // Experimental fill modifiers: the value a missing "one" / "many" side takes. As in Prometheus,
  // they apply after group_right swapped the sides.
  const std::optional<double>& fill_one = matching.fill_rhs;
  const std::optional<double>& fill_many = matching.fill_lhs;
  storage::LabelsBuilder lb;
  for (size_t i = 0; i < n; ++i) {
    if ((i & 63) == 0) VIGIL_RETURN_IF_ERROR(Check());
    for (size_t k = 0; k < one.series.size(); ++k) {
      if (!one.series[k].ok[i]) continue;
      uint32_t sig = ids.rhs[k];
      if (one_at_step[sig] == i) {
        const storage::Labels& a = one.series[one_idx[sig]].labels;
        const storage::Labels& c = one.series[k].labels;
        const bool a_first = a < c;
        return Status::InvalidArgument(
            "found duplicate series for the match group " + LabelsString(signer.MatchLabels(c)) +
            " on the " + (swapped ? "left" : "right") + " hand-side of the operation: [" +
            LabelsString(a_first ? a : c) + ", " + LabelsString(a_first ? c : a) +
            "];many-to-many matching not allowed: matching labels must be unique on one side");
      }
      one_at_step[sig] = i;
      one_idx[sig] = k;
    }
    // Emits op(l, r) for a pair; base is the "many" side's labels (or the "one" side's when only
    // it is present, under a fill modifier), one_labels the other side's (null when filled).
    auto emit = [&](uint64_t key, const StepSeries& base, const StepSeries* one_s, bool strip_name,
                    double l, double r) -> Status {
      bool keep;
      double v = Apply(b.op, l, r, &keep);
      if (b.return_bool) {
        v = keep ? 1 : 0;
        keep = true;
      }
      if (!keep) return Status::OK();
      auto it = pair_out.find(key);
      if (it == pair_out.end()) {
        lb.Reset(base.labels);
        if (strip_name) lb.Del(storage::kMetricNameLabel);
        if (one_to_one || strip_name) {
          for (const storage::Label& lab : base.labels) {
            bool listed = std::find(matching.labels.begin(), matching.labels.end(), lab.name) !=
                          matching.labels.end();
            if (matching.on ? !listed : listed) lb.Del(lab.name);
          }
        }
        for (const std::string& name : matching.include) {
          lb.Set(name, one_s != nullptr ? one_s->labels.Get(name) : std::string_view());
        }
        VIGIL_ASSIGN_OR_RETURN(storage::Labels out_labels, lb.Build());
        bool drop = base.drop_name || b.return_bool || DropsName(b.op);
        if (comparison && !b.return_bool) drop = base.drop_name;
        it = pair_out.emplace(key, ob.Series(out_labels, drop)).first;
      }
      if (!ob.Set(it->second, i, v)) {
        if (!one_to_one) {
          return Status::InvalidArgument(
              "multiple matches for labels: grouping labels must ensure unique matches");
        }
        return Status::InvalidArgument(kDuplicateLabelsetError);
      }
      return Status::OK();
    };
    for (size_t k = 0; k < many.series.size(); ++k) {
      StepSeries& ms = many.series[k];
      if (!ms.ok[i]) continue;
      uint32_t sig = ids.lhs[k];
      if (one_at_step[sig] != i) {
        if (fill_one) {
          double l = ms.v[i], r = *fill_one;
          if (swapped) std::swap(l, r);
          VIGIL_RETURN_IF_ERROR(
              emit((static_cast<uint64_t>(k) << 32) | 0xffffffffu, ms, nullptr, false, l, r));
        }
        continue;
      }
      if (one_to_one) {
        if (many_seen[sig] == i) {
          return Status::InvalidArgument(
              "multiple matches for labels: many-to-one matching must be explicit "
              "(group_left/group_right)");
        }
      }
      many_seen[sig] = i;
      const size_t ok_idx = one_idx[sig];
      const StepSeries& os = one.series[ok_idx];
      double l = ms.v[i], r = os.v[i];
      if (swapped) std::swap(l, r);
      VIGIL_RETURN_IF_ERROR(emit((static_cast<uint64_t>(k) << 32) | ok_idx, ms, &os, false, l, r));
    }
    if (fill_many) {
      for (size_t k = 0; k < one.series.size(); ++k) {
        const StepSeries& os = one.series[k];
        if (!os.ok[i] || many_seen[ids.rhs[k]] == i) continue;
        double l = *fill_many, r = os.v[i];
        if (swapped) std::swap(l, r);
        VIGIL_RETURN_IF_ERROR(emit((uint64_t{0xffffffffu} << 32) | k, os, nullptr, true, l, r));
      }
    }
  }
  return Value(ob.Finish());
}

}  // namespace vigil::query::eval
