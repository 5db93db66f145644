// Aggregation operators with by / without. Per step, each group keeps an accumulator; the
// arithmetic (Kahan-compensated sums, the mean that switches to incremental form on overflow,
// Welford-style variance) is Prometheus'.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <functional>
#include <limits>
#include <unordered_map>

#include "query/eval/evaluator.h"
#include "query/eval/functions.h"
#include "query/eval/helpers.h"
#include "query/parser/text.h"

namespace vigil::query::eval {
namespace {

struct Acc {
  double value = 0;
  double c = 0;  // Kahan compensation
  double mean = 0;
  double count = 0;
  bool seen = false;
  bool incremental = false;
};

// Memory the series-by-series aggregation may use for its accumulators (one per group and step).
constexpr size_t kSeriesMajorBudget = size_t{16} << 20;

void AccAdd(AggregateOp op, Acc& g, double f) {
  if (!g.seen) {
    g.seen = true;
    g.count = 1;
    g.c = 0;
    g.incremental = false;
    switch (op) {
      case AggregateOp::kStddev:
      case AggregateOp::kStdvar:
        g.mean = 0;
        g.value = 0;
        g.count = 0;
        break;
      case AggregateOp::kGroup:
        g.value = 1;
        break;
      default:
        g.value = f;
        g.mean = f;
    }
    if (op != AggregateOp::kStddev && op != AggregateOp::kStdvar) return;
  }
  switch (op) {
    case AggregateOp::kSum:
      KahanInc(f, &g.value, &g.c);
      break;
    case AggregateOp::kAvg: {
      g.count++;
      if (!g.incremental) {
        double v = g.value, c = g.c;
        KahanInc(f, &v, &c);
        if (!std::isinf(v)) {
          g.value = v;
          g.c = c;
          break;
        }
        g.incremental = true;
        g.mean = g.value / (g.count - 1);
        g.c /= g.count - 1;
      }
      const double q = (g.count - 1) / g.count;
      double m = q * g.mean, c = q * g.c;
      KahanInc(f / g.count, &m, &c);
      g.mean = m;
      g.c = c;
      break;
    }
    case AggregateOp::kCount:
      g.count++;
      break;
    case AggregateOp::kMin:
      if (g.value > f || std::isnan(g.value)) g.value = f;
      break;
    case AggregateOp::kMax:
      if (g.value < f || std::isnan(g.value)) g.value = f;
      break;
    case AggregateOp::kStddev:
    case AggregateOp::kStdvar: {
      g.count++;
      const double delta = f - (g.mean + g.c);
      KahanInc(delta / g.count, &g.mean, &g.c);
      g.value += delta * (f - (g.mean + g.c));
      break;
    }
    default:
      break;
  }
}

double AccResult(AggregateOp op, const Acc& g) {
  switch (op) {
    case AggregateOp::kSum:
      return g.value + g.c;
    case AggregateOp::kAvg:
      if (g.incremental) return g.mean + g.c;
      return g.value / g.count + g.c / g.count;
    case AggregateOp::kCount:
      return g.count;
    case AggregateOp::kStdvar:
      return g.value / g.count;
    case AggregateOp::kStddev:
      return std::sqrt(g.value / g.count);
    default:
      return g.value;
  }
}

// Go's heap (container/heap) over series indexes, so that topk/bottomk break ties as Prometheus.
struct KHeap {
  std::vector<size_t> h;
  const std::vector<StepSeries>* in;
  size_t step;
  bool reverse;  // bottomk: largest on top
  bool Less(size_t i, size_t j) const {
    double a = (*in)[h[i]].v[step], b = (*in)[h[j]].v[step];
    if (std::isnan(a)) return true;
    return reverse ? a > b : a < b;
  }
  void Up(size_t j) {
    while (j > 0) {
      size_t i = (j - 1) / 2;
      if (!Less(j, i)) break;
      std::swap(h[i], h[j]);
      j = i;
    }
  }
  bool Down(size_t i0) {
    size_t i = i0, n = h.size();
    for (;;) {
      size_t j1 = 2 * i + 1;
      if (j1 >= n) break;
      size_t j = j1;
      if (j1 + 1 < n && Less(j1 + 1, j1)) j = j1 + 1;
      if (!Less(j, i)) break;
      std::swap(h[i], h[j]);
      i = j;
    }
    return i > i0;
  }
  void Push(size_t s) {
    h.push_back(s);
    Up(h.size() - 1);
  }
  void Fix0() {
    if (!Down(0)) Up(0);
  }
  // sort.Sort(sort.Reverse(heap)): insertion sort for small inputs as Go's pdqsort does.
  void SortReverse() {
    auto rless = [&](size_t i, size_t j) { return Less(j, i); };
    if (h.size() <= 12) {
      for (size_t i = 1; i < h.size(); ++i) {
        for (size_t j = i; j > 0 && rless(j, j - 1); --j) std::swap(h[j], h[j - 1]);
      }
      return;
    }
    std::stable_sort(h.begin(), h.end(), [&](size_t a, size_t b) {
      double x = (*in)[a].v[step], y = (*in)[b].v[step];
      if (std::isnan(y)) return !std::isnan(x);
      if (std::isnan(x)) return false;
      return reverse ? x < y : x > y;
    });
  }
};

// The labels of the group a series with labels `l` belongs to (none without by / without).
Result<storage::Labels> GroupLabels(const Aggregate& a, const storage::Labels& l,
                                    storage::LabelsBuilder& lb) {
  if (a.without) {
    lb.Reset(l);
    for (const std::string& name : a.grouping) lb.Del(name);
    lb.Del(storage::kMetricNameLabel);
    return lb.Build();
  }
  if (a.grouping.empty()) return storage::Labels();
  lb.Reset();
  for (const storage::Label& x : l) {
    if (std::find(a.grouping.begin(), a.grouping.end(), x.name) != a.grouping.end()) {
      lb.Add(x.name, x.value);
    }
  }
  return lb.Build();
}

// Groups in order of first appearance, keyed by their labels' encoding.
struct Groups {
  std::unordered_map<std::string, uint32_t> index;
  std::vector<storage::Labels> labels;
  std::vector<uint8_t> drop;

  // The group of a series with labels `l`.
  Result<uint32_t> Of(const Aggregate& a, const storage::Labels& l, bool drop_name,
                      storage::LabelsBuilder& lb) {
    VIGIL_ASSIGN_OR_RETURN(storage::Labels g, GroupLabels(a, l, lb));
    auto [it, inserted] = index.try_emplace(std::string(g.Encoded()), static_cast<uint32_t>(labels.size()));
    if (inserted) {
      labels.push_back(std::move(g));
      drop.push_back(0);
    }
    if (drop_name) drop[it->second] = 1;
    return it->second;
  }
};

// Per-group, per-step accumulators for the foldable aggregations, fed series by series in series
// order. Groups get a row of n accumulators (series-major: each series' steps are contiguous) in
// the order they first appear, while the rows fit kSeriesMajorBudget; the series of groups first
// met after that are held and summed step by step in Finish, one accumulator per such group.
// Either way every accumulator receives its values in series order, so the results do not
// depend on where the budget falls.
class GroupFolder {
 public:
  GroupFolder(AggregateOp op, size_t n) : op_(op), n_(n) {}

  // Adds series `s` of group `g` (groups numbered in order of first appearance). A held series
  // is copied when `lent` (its buffers are reused after the call), else kept by pointer and must
  // outlive the folder.
  void Add(uint32_t g, const StepSeries& s, bool lent) {
    if (g >= groups_ && !rows_full_) {
      groups_ = g + 1;
      if (groups_ * n_ * sizeof(Acc) <= kSeriesMajorBudget) {
        rows_ = groups_;
        acc_.resize(rows_ * n_);
      } else {
        rows_full_ = true;  // this group and every later one are held
      }
    }
    if (g < rows_) {
      Acc* row = acc_.data() + size_t{g} * n_;
      for (size_t i = 0; i < n_; ++i) {
        if (s.ok[i]) AccAdd(op_, row[i], s.v[i]);
      }
      return;
    }
    if (lent) {
      StepSeries& copy = owned_.emplace_back();
      copy.v = s.v;
      copy.ok = s.ok;
      held_.push_back({&copy, g});
    } else {
      held_.push_back({&s, g});
    }
  }

  // One series per group that has a value at some step, in group order, labelled by `groups`.
  // `check` runs every 64 steps of the held series' loop.
  Result<VectorSteps> Finish(const Groups& groups, const std::function<Status()>& check) {
    const size_t ng = groups.labels.size();
    std::vector<StepSeries> out(ng);
    for (StepSeries& o : out) o.Init(n_);
    for (size_t g = 0; g < rows_; ++g) {
      const Acc* row = acc_.data() + g * n_;
      for (size_t i = 0; i < n_; ++i) {
        if (!row[i].seen) continue;
        out[g].ok[i] = 1;
        out[g].v[i] = AccResult(op_, row[i]);
      }
    }
    if (!held_.empty()) {
      std::vector<Acc> acc(ng - rows_);
      for (size_t i = 0; i < n_; ++i) {
        if ((i & 63) == 0) VIGIL_RETURN_IF_ERROR(check());
        for (Acc& x : acc) x.seen = false;
        for (const auto& [s, g] : held_) {
          if (s->ok[i]) AccAdd(op_, acc[g - rows_], s->v[i]);
        }
        for (size_t g = rows_; g < ng; ++g) {
          if (!acc[g - rows_].seen) continue;
          out[g].ok[i] = 1;
          out[g].v[i] = AccResult(op_, acc[g - rows_]);
        }
      }
    }
    VectorSteps kept;
    for (size_t g = 0; g < ng; ++g) {
      if (out[g].Empty()) continue;
      out[g].labels = groups.labels[g];
      out[g].drop_name = groups.drop[g];
      kept.series.push_back(std::move(out[g]));
    }
    return kept;
  }

 private:
  const AggregateOp op_;
  const size_t n_;
  size_t groups_ = 0;  // groups met so far (while rows are given)
  size_t rows_ = 0;
  bool rows_full_ = false;
  std::vector<Acc> acc_;  // rows of n_ accumulators for groups [0, rows_)
  std::deque<StepSeries> owned_;  // copies of lent held series
  std::vector<std::pair<const StepSeries*, uint32_t>> held_;  // (series, group), in series order
};

// Aggregations whose groups need only one accumulator per step, fed series by series.
bool Foldable(AggregateOp op) {
  switch (op) {
    case AggregateOp::kSum:
    case AggregateOp::kAvg:
    case AggregateOp::kCount:
    case AggregateOp::kMin:
    case AggregateOp::kMax:
    case AggregateOp::kGroup:
    case AggregateOp::kStddev:
    case AggregateOp::kStdvar:
      return true;
    default:
      return false;
  }
}

std::string FormatFloatF(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[400];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

}  // namespace

Result<Value> Evaluator::EvalAggregate(const Aggregate& a) {
  const size_t n = range_.n;
  ScalarSteps param;
  std::string value_label;
  if (a.param != nullptr) {
    if (a.op == AggregateOp::kCountValues) {
      VIGIL_ASSIGN_OR_RETURN(Value pv, Eval(*a.param));
      value_label = std::get<StringVal>(pv).s;
      if (value_label.empty() || !detail::IsValidUtf8(value_label)) {
        return Status::InvalidArgument("invalid label name " + detail::Quoted(value_label));
      }
    } else {
      VIGIL_ASSIGN_OR_RETURN(param, EvalScalar(*a.param));
    }
  }
  for (size_t i = 0; i < param.v.size(); ++i) {
    double p = param.v[i];
    switch (a.op) {
      case AggregateOp::kTopK:
      case AggregateOp::kBottomK:
      case AggregateOp::kLimitK:
        if (std::isnan(p)) return Status::InvalidArgument("Parameter value is NaN");
        if (p >= 9.223372036854775807e18 || p < -9.223372036854775807e18) {
          return Status::InvalidArgument("Scalar value " + detail::FormatNumber(p) +
                                         " overflows int64");
        }
        break;
      case AggregateOp::kLimitRatio:
        if (std::isnan(p)) return Status::InvalidArgument("Ratio value is NaN");
        if (p > 1 || p < -1) {
          double capped = p > 1 ? 1 : -1;
          Warn("ratio value should be between -1 and 1, got " + detail::FormatNumber(p) +
                   ", capping to " + detail::FormatNumber(capped),
               a.param->span);
          param.v[i] = capped;
        }
        break;
      case AggregateOp::kQuantile:
        if (!(p >= 0 && p <= 1)) {
          Warn("quantile value should be between 0 and 1, got " + detail::FormatNumber(p),
               a.param->span);
        }
        break;
      default:
        break;
    }
  }
  // sum, avg, ... directly over a range function (`sum by (job) (rate(x[5m]))`): each series the
  // function makes goes to the GroupFolder as soon as it is made, in the order the function
  // returns them, so every accumulator sees the same values in the same order as when the
  // function's series are all evaluated first (below), and they are never all held at once.
  const Expr* inner = a.expr.get();
  while (inner->kind == ExprKind::kParen) inner = inner->As<Paren>().expr.get();
  if (Foldable(a.op) && inner->kind == ExprKind::kCall) {
    const Call& call = inner->As<Call>();
    if (const RangeFunction* rf = LookupRangeFunction(call.func->name)) {
      VIGIL_RETURN_IF_ERROR(Check());
      Groups groups;
      GroupFolder folder(a.op, n);
      storage::LabelsBuilder lb;
      uint64_t folded = 0;
      const StepSeriesSink fold = [&](StepSeries& s) -> Status {
        if ((folded++ & 63) == 0) VIGIL_RETURN_IF_ERROR(Check());
        VIGIL_ASSIGN_OR_RETURN(uint32_t g, groups.Of(a, s.labels, s.drop_name, lb));
        folder.Add(g, s, /*lent=*/true);
        return Status::OK();
      };
      VIGIL_RETURN_IF_ERROR(EvalRangeFunction(*this, call, *rf, &fold).status());
      VIGIL_ASSIGN_OR_RETURN(VectorSteps kept, folder.Finish(groups, [this] { return Check(); }));
      VIGIL_RETURN_IF_ERROR(AddSamples(kept.series.size() * n));
      return Value(std::move(kept));
    }
  }

  VIGIL_ASSIGN_OR_RETURN(VectorSteps in, EvalVector(*a.expr));

  // Group of each input series, groups in order of first appearance.
  std::vector<uint32_t> group_of(in.series.size());
  Groups groups;
  {
    storage::LabelsBuilder lb;
    for (size_t k = 0; k < in.series.size(); ++k) {
      VIGIL_ASSIGN_OR_RETURN(group_of[k], groups.Of(a, in.series[k].labels, in.series[k].drop_name, lb));
    }
  }
  const std::vector<storage::Labels>& group_labels = groups.labels;
  const std::vector<uint8_t>& group_drop = groups.drop;
  const size_t ng = group_labels.size();

  switch (a.op) {
    case AggregateOp::kTopK:
    case AggregateOp::kBottomK:
    case AggregateOp::kLimitK:
    case AggregateOp::kLimitRatio: {
      std::vector<size_t> out_of(in.series.size(), SIZE_MAX);
      VectorSteps out;
      std::vector<KHeap> heaps(ng);
      for (size_t i = 0; i < n; ++i) {
        if ((i & 63) == 0) VIGIL_RETURN_IF_ERROR(Check());
        const double p = param.v[i];
        int64_t k = a.op == AggregateOp::kLimitRatio ? INT64_MAX : static_cast<int64_t>(p);
        if (k < 1) continue;
        for (KHeap& h : heaps) {
          h.h.clear();
          h.in = &in.series;
          h.step = i;
          h.reverse = a.op == AggregateOp::kBottomK;
        }
        for (size_t s = 0; s < in.series.size(); ++s) {
          if (!in.series[s].ok[i]) continue;
          KHeap& h = heaps[group_of[s]];
          const double f = in.series[s].v[i];
          if (a.op == AggregateOp::kLimitRatio) {
            if (RatioSelects(p, in.series[s].labels)) h.h.push_back(s);
            continue;
          }
          if (static_cast<int64_t>(h.h.size()) < k) {
            if (a.op == AggregateOp::kLimitK) {
              h.h.push_back(s);
            } else {
              h.Push(s);
            }
            continue;
          }
          if (a.op == AggregateOp::kLimitK) continue;
          const double top = in.series[h.h[0]].v[i];
          const bool better = a.op == AggregateOp::kTopK ? top < f : top > f;
          if (better || (std::isnan(top) && !std::isnan(f))) {
            h.h[0] = s;
            if (k > 1) h.Fix0();
          }
        }
        for (KHeap& h : heaps) {
          if (a.op == AggregateOp::kTopK || a.op == AggregateOp::kBottomK) {
            if (h.h.size() > 1) h.SortReverse();
          }
          for (size_t s : h.h) {
            if (out_of[s] == SIZE_MAX) {
              out_of[s] = out.series.size();
              StepSeries o;
              o.labels = in.series[s].labels;
              o.drop_name = in.series[s].drop_name;
              o.Init(n);
              out.series.push_back(std::move(o));
            }
            out.series[out_of[s]].ok[i] = 1;
            out.series[out_of[s]].v[i] = in.series[s].v[i];
          }
        }
      }
      return Value(std::move(out));
    }
    case AggregateOp::kCountValues: {
      OutputBuilder ob(n);
      std::vector<double> counts;
      storage::LabelsBuilder lb;
      for (size_t i = 0; i < n; ++i) {
        std::unordered_map<std::string, size_t> step_groups;
        std::vector<size_t> order;
        for (size_t s = 0; s < in.series.size(); ++s) {
          if (!in.series[s].ok[i]) continue;
          lb.Reset(group_labels[group_of[s]]);
          lb.Set(value_label, FormatFloatF(in.series[s].v[i]));
          VIGIL_ASSIGN_OR_RETURN(storage::Labels l, lb.Build());
          size_t idx = ob.Series(l, false);
          if (idx >= counts.size()) counts.resize(idx + 1, 0);
          if (step_groups.emplace(std::string(l.Encoded()), idx).second) {
            order.push_back(idx);
            counts[idx] = 0;
          }
          counts[idx] += 1;
        }
        for (size_t idx : order) (void)ob.Set(idx, i, counts[idx]);
      }
      return Value(ob.Finish());
    }
    default:
      break;
  }

  if (Foldable(a.op)) {
    GroupFolder folder(a.op, n);
    for (size_t k = 0; k < in.series.size(); ++k) {
      if ((k & 63) == 0) VIGIL_RETURN_IF_ERROR(Check());
      folder.Add(group_of[k], in.series[k], /*lent=*/false);
    }
    VIGIL_ASSIGN_OR_RETURN(VectorSteps kept, folder.Finish(groups, [this] { return Check(); }));
    VIGIL_RETURN_IF_ERROR(AddSamples(kept.series.size() * n));
    return Value(std::move(kept));
  }
  VectorSteps out;
  out.series.resize(ng);
  for (size_t g = 0; g < ng; ++g) {
    out.series[g].labels = group_labels[g];
    out.series[g].drop_name = group_drop[g];
    out.series[g].Init(n);
  }
  std::vector<std::vector<double>> vals(ng);
  for (size_t i = 0; i < n; ++i) {
    for (auto& v : vals) v.clear();
    for (size_t s = 0; s < in.series.size(); ++s) {
      if (in.series[s].ok[i]) vals[group_of[s]].push_back(in.series[s].v[i]);
    }
    for (size_t g = 0; g < ng; ++g) {
      if (vals[g].empty()) continue;
      out.series[g].ok[i] = 1;
      out.series[g].v[i] = Quantile(param.v[i], vals[g]);
    }
  }
  VectorSteps kept;
  for (StepSeries& s : out.series) {
    if (!s.Empty()) kept.series.push_back(std::move(s));
  }
  VIGIL_RETURN_IF_ERROR(AddSamples(kept.series.size() * n));
  return Value(std::move(kept));
}

}  // namespace vigil::query::eval
