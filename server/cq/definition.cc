#include "server/cq/definition.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <exception>
#include <set>

#include "query/parser.h"
#include "storage/labels.h"

namespace vigil::server::cq {

namespace {

constexpr int kDefinitionsVersion = 1;

bool IsOutputPrefix(std::string_view name) {
  return !name.empty() && name.find(':') == std::string_view::npos &&
         storage::IsValidMetricName(name);
}

std::string Where(const CqDefinition& def) { return "continuous query \"" + def.name + "\""; }

Result<int64_t> Duration(std::string_view text, std::string_view what) {
  Result<int64_t> ms = query::ParseDuration(text);
  if (!ms.ok()) {
    return Status::InvalidArgument(std::string(what) + ": \"" + std::string(text) +
                                   "\" is not a duration (" + ms.status().message() + ")");
  }
  return *ms;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseLabelList(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return Status::InvalidArgument("labels: expected name=value, got \"" + std::string(item) +
                                     "\"");
    }
    out.emplace_back(std::string(item.substr(0, eq)), std::string(item.substr(eq + 1)));
  }
  return out;
}

}  // namespace

std::string_view KindName(CqKind kind) {
  switch (kind) {
    case CqKind::kRecord:
      return "record";
    case CqKind::kForecast:
      return "forecast";
    case CqKind::kAnomaly:
      return "anomaly";
  }
  return "record";
}

Result<CqKind> ParseKind(std::string_view name) {
  if (name == "record") return CqKind::kRecord;
  if (name == "forecast") return CqKind::kForecast;
  if (name == "anomaly") return CqKind::kAnomaly;
  return Status::InvalidArgument("kind must be record, forecast or anomaly, got \"" +
                                 std::string(name) + "\"");
}

Status Validate(const CqDefinition& def) {
  if (def.kind == CqKind::kRecord ? !storage::IsValidMetricName(def.name)
                                  : !IsOutputPrefix(def.name)) {
    return Status::InvalidArgument(
        Where(def) + ": the name must be a valid metric name" +
        (def.kind == CqKind::kRecord
             ? std::string()
             : std::string(" without ':' (outputs are <name>:forecast, ...)")));
  }
  Result<query::ExprPtr> parsed = query::ParseExpr(def.expr);
  if (!parsed.ok()) return parsed.status().WithContext(Where(def) + ": expr");
  if (def.interval_ms < 1000)
    return Status::InvalidArgument(Where(def) + ": interval must be at least 1s");
  if (def.kind == CqKind::kForecast) {
    if (def.horizon_ms < 0) return Status::InvalidArgument(Where(def) + ": horizon must be >= 0");
    if (def.season_ms < -1)
      return Status::InvalidArgument(Where(def) + ": season must be auto, none or a duration");
    if (!(def.coverage > 0 && def.coverage < 1)) {
      return Status::InvalidArgument(Where(def) + ": coverage must be in (0, 1)");
    }
  }
  if (def.kind == CqKind::kAnomaly && !(def.sensitivity > 0 && std::isfinite(def.sensitivity))) {
    return Status::InvalidArgument(Where(def) + ": sensitivity must be > 0");
  }
  for (const auto& [n, v] : def.labels) {
    if (!storage::IsValidLabelName(n) || n == storage::kMetricNameLabel || v.empty()) {
      return Status::InvalidArgument(Where(def) + ": bad label " + n + "=\"" + v + "\"");
    }
  }
  return Status::OK();
}

std::string EncodeDefinitions(const std::vector<CqDefinition>& defs) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "version" << YAML::Value << kDefinitionsVersion;
  out << YAML::Key << "cqs" << YAML::Value << YAML::BeginSeq;
  for (const CqDefinition& d : defs) {
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << d.name;
    out << YAML::Key << "kind" << YAML::Value << std::string(KindName(d.kind));
    out << YAML::Key << "expr" << YAML::Value << YAML::DoubleQuoted << d.expr;
    out << YAML::Key << "interval_ms" << YAML::Value << d.interval_ms;
    out << YAML::Key << "season_ms" << YAML::Value << d.season_ms;
    out << YAML::Key << "horizon_ms" << YAML::Value << d.horizon_ms;
    out << YAML::Key << "coverage" << YAML::Value << d.coverage;
    out << YAML::Key << "sensitivity" << YAML::Value << d.sensitivity;
    if (!d.group.empty()) out << YAML::Key << "group" << YAML::Value << d.group;
    if (!d.labels.empty()) {
      out << YAML::Key << "labels" << YAML::Value << YAML::BeginMap;
      for (const auto& [n, v] : d.labels)
        out << YAML::Key << n << YAML::Value << YAML::DoubleQuoted << v;
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

Result<std::vector<CqDefinition>> DecodeDefinitions(std::string_view yaml) {
  std::vector<CqDefinition> defs;
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    if (!root.IsMap() || !root["version"] || root["version"].as<int>() != kDefinitionsVersion) {
      return Status::Corruption(
          "CQ definitions: missing or unsupported version (this build reads " +
          std::to_string(kDefinitionsVersion) + ")");
    }
    const YAML::Node cqs = root["cqs"];
    if (cqs && !cqs.IsSequence()) return Status::Corruption("CQ definitions: cqs must be a list");
    std::set<std::string> names;
    for (size_t i = 0; cqs && i < cqs.size(); ++i) {
      const YAML::Node n = cqs[i];
      CqDefinition d;
      d.name = n["name"].as<std::string>();
      VIGIL_ASSIGN_OR_RETURN(d.kind, ParseKind(n["kind"].as<std::string>()));
      d.expr = n["expr"].as<std::string>();
      d.interval_ms = n["interval_ms"].as<int64_t>();
      d.season_ms = n["season_ms"].as<int64_t>();
      d.horizon_ms = n["horizon_ms"].as<int64_t>();
      d.coverage = n["coverage"].as<double>();
      d.sensitivity = n["sensitivity"].as<double>();
      if (n["group"]) d.group = n["group"].as<std::string>();
      if (const YAML::Node l = n["labels"]) {
        for (const auto& kv : l)
          d.labels.emplace_back(kv.first.as<std::string>(), kv.second.as<std::string>());
      }
      Status st = Validate(d);
      if (!st.ok())
        return Status::Corruption("CQ definitions entry " + std::to_string(i) + ": " +
                                  st.message());
      if (!names.insert(d.name).second) {
        return Status::Corruption("CQ definitions: duplicate name \"" + d.name + "\"");
      }
      defs.push_back(std::move(d));
    }
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("CQ definitions: ") + e.what());
  }
  return defs;
}

Result<std::vector<CqDefinition>> ParseRuleFile(std::string_view yaml,
                                                int64_t default_interval_ms) {
  std::vector<CqDefinition> defs;
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    if (!root.IsMap() || !root["groups"] || !root["groups"].IsSequence()) {
      return Status::InvalidArgument("rule file: expected a map with a list under \"groups\"");
    }
    for (const auto& kv : root) {
      if (kv.first.as<std::string>() != "groups") {
        return Status::InvalidArgument("rule file: unknown key \"" + kv.first.as<std::string>() +
                                       "\"");
      }
    }
    std::set<std::string> group_names;
    for (const YAML::Node& g : root["groups"]) {
      if (!g.IsMap() || !g["name"])
        return Status::InvalidArgument("rule file: a group without a name");
      const std::string group = g["name"].as<std::string>();
      if (!group_names.insert(group).second) {
        return Status::InvalidArgument("rule file: group \"" + group + "\" appears twice");
      }
      int64_t interval = default_interval_ms;
      for (const auto& kv : g) {
        const std::string key = kv.first.as<std::string>();
        if (key != "name" && key != "interval" && key != "rules" && key != "limit" &&
            key != "labels" && key != "query_offset") {
          return Status::InvalidArgument("rule file: group \"" + group + "\": unknown key \"" +
                                         key + "\"");
        }
      }
      if (g["interval"]) {
        VIGIL_ASSIGN_OR_RETURN(interval, Duration(g["interval"].as<std::string>(),
                                                  "group \"" + group + "\" interval"));
      }
      std::vector<std::pair<std::string, std::string>> group_labels;
      if (const YAML::Node gl = g["labels"]) {
        for (const auto& kv : gl)
          group_labels.emplace_back(kv.first.as<std::string>(), kv.second.as<std::string>());
      }
      size_t index = 0;
      for (const YAML::Node& r : g["rules"]) {
        ++index;
        const std::string where =
            "rule file: group \"" + group + "\", rule " + std::to_string(index);
        if (r["alert"]) {
          return Status::InvalidArgument(where + ": alerting rules are not supported (alert \"" +
                                         r["alert"].as<std::string>() + "\")");
        }
        if (!r["record"] || !r["expr"])
          return Status::InvalidArgument(where + ": needs record and expr");
        for (const auto& kv : r) {
          const std::string key = kv.first.as<std::string>();
          if (key != "record" && key != "expr" && key != "labels") {
            return Status::InvalidArgument(where + ": unknown key \"" + key + "\"");
          }
        }
        CqDefinition d;
        d.name = r["record"].as<std::string>();
        d.expr = r["expr"].as<std::string>();
        d.interval_ms = interval;
        d.kind = CqKind::kRecord;
        d.group = group;
        d.labels = group_labels;
        if (const YAML::Node l = r["labels"]) {
          for (const auto& kv : l)
            d.labels.emplace_back(kv.first.as<std::string>(), kv.second.as<std::string>());
        }
        Status st = Validate(d);
        if (!st.ok()) return Status::InvalidArgument(where + ": " + st.message());
        defs.push_back(std::move(d));
      }
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("rule file: ") + e.what());
  }
  return defs;
}

Result<CqDefinition> DefinitionFromParams(
    const std::vector<std::pair<std::string, std::string>>& params) {
  CqDefinition d;
  for (const auto& [key, value] : params) {
    if (key == "name") {
      d.name = value;
    } else if (key == "expr" || key == "query") {
      d.expr = value;
    } else if (key == "kind") {
      VIGIL_ASSIGN_OR_RETURN(d.kind, ParseKind(value));
    } else if (key == "interval") {
      VIGIL_ASSIGN_OR_RETURN(d.interval_ms, Duration(value, "interval"));
    } else if (key == "season") {
      if (value == "auto") {
        d.season_ms = -1;
      } else if (value == "none") {
        d.season_ms = 0;
      } else {
        VIGIL_ASSIGN_OR_RETURN(d.season_ms, Duration(value, "season"));
      }
    } else if (key == "horizon") {
      VIGIL_ASSIGN_OR_RETURN(d.horizon_ms, Duration(value, "horizon"));
    } else if (key == "coverage" || key == "sensitivity") {
      char* end = nullptr;
      const double v = std::strtod(value.c_str(), &end);
      if (end == value.c_str() || *end != '\0') {
        return Status::InvalidArgument(key + ": \"" + value + "\" is not a number");
      }
      (key == "coverage" ? d.coverage : d.sensitivity) = v;
    } else if (key == "labels") {
      VIGIL_ASSIGN_OR_RETURN(d.labels, ParseLabelList(value));
    } else {
      return Status::InvalidArgument("unknown parameter \"" + key + "\"");
    }
  }
  if (d.name.empty() || d.expr.empty())
    return Status::InvalidArgument("name and expr are required");
  VIGIL_RETURN_IF_ERROR(Validate(d));
  return d;
}

}  // namespace vigil::server::cq
