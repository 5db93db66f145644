#pragma once

// Renderers for query results: aligned tables, CSV, JSON and a Unicode terminal chart.
// All of them are pure functions of the result and the options (no terminal I/O), so tests
// compare their output byte for byte. Times are shown in UTC.

#include <string>
#include <string_view>
#include <vector>

#include "tools/vigil/api.h"

namespace vigil::shell {

enum class Format { kTable, kCsv, kJson, kChart };

// "table", "csv", "json", "chart"; false for anything else.
bool ParseFormat(std::string_view name, Format* out);
std::string_view FormatName(Format f);

struct RenderOptions {
  int width = 100;        // terminal columns available
  int chart_height = 16;  // rows of the chart's plot area
  bool color = false;     // ANSI colours (terminals only)
};

// A table of strings: columns padded to their widest cell, two spaces apart, the header
// underlined. `right_align[i]` right-aligns column i (numbers).
std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows,
                        const std::vector<bool>& right_align, bool color);

// `name{a="x", b="y"}` (PromQL notation; values escaped as PromQL strings).
std::string SeriesName(const Series& s);
// The labels that tell series apart: those whose values differ between them (the metric name
// first); everything when there is one series.
std::string ShortSeriesName(const Series& s, const std::vector<std::string>& distinguishing);
std::vector<std::string> DistinguishingLabels(const std::vector<Series>& series);

// Instant vector: labels as columns when they fit in `width`, else one "series" column.
// Range results: one row per time and a column per series when that fits, else one row per
// sample. Scalars and strings: one row.
std::string RenderTable(const QueryResult& r, const RenderOptions& o);
// Series without samples (\series): labels as columns when they fit, else one name per line.
std::string RenderSeriesTable(const std::vector<Series>& series, const RenderOptions& o);
// The recording rules and continuous queries of a /api/v1/rules answer ("data"): one row per
// rule (group, name, interval, health, last evaluation and its duration, query). With `name`,
// only the rules or groups of that name, each as a block of fields including its last error.
// Errors for a malformed answer.
Result<std::string> RenderRules(const JsonValue& data, std::string_view name,
                                const RenderOptions& o);
// Continuous queries from /api/v1/cq: a list (array) as a table (name, kind, every, series,
// last run, lag, failures, expression), one CQ (object) as a block of fields.
Result<std::string> RenderCqs(const JsonValue& data, const RenderOptions& o);
// RFC 4180 CSV: label columns (union of all series, __name__ first), timestamp (Unix seconds),
// value; one row per sample.
std::string RenderCsv(const QueryResult& r);
// The API's "data" object, compact, on one line.
std::string RenderJson(const QueryResult& r);
// A braille line chart of a range result (see chart.cc). Non-range results get a note.
std::string RenderChart(const QueryResult& r, const RenderOptions& o);
// "3 series, 720 samples · 12.3ms" plus the range and step of a range query.
std::string RenderFooter(const QueryResult& r);

std::string Render(const QueryResult& r, Format f, const RenderOptions& o);

// Short numbers for axes: 1.5k, 12M, 0.25, 3e-05.
std::string FormatAxisValue(double v);

}  // namespace vigil::shell
