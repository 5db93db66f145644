// The terminal chart of a range query. Layout (width W, plot height H rows):
//
//   <y label> ┤⠀⠀⣀⡠⠤⠒⠉⠉⠑⠒⠤⣀      one braille cell = 2 x 4 dots, so the plot has 2*PW x 4*H dots
//             │░░░░░░░░░░░░       a band (a `X:upper` / `X:lower` pair) shades the cells between
//   <y label> ┤                   its two curves; lines are drawn over it
//             └┬─────────┬──
//              05:00     05:15    time labels on round steps (UTC)
//   ━━ {job="a"}                  legend: one entry per line or band
//
// Lines break where a sample is missing (a gap longer than 1.5 steps) or not finite.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>

#include "tools/vigil/render.h"
#include "tools/vigil/statement.h"
#include "tools/vigil/time_format.h"

namespace vigil::shell {

std::string FormatAxisValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  double a = std::fabs(v);
  char buf[32];
  if (a == 0) return "0";
  static constexpr struct {
    double scale;
    const char* suffix;
  } kSuffixes[] = {{1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
  for (const auto& s : kSuffixes) {
    if (a >= s.scale) {
      std::snprintf(buf, sizeof buf, "%.3g%s", v / s.scale, s.suffix);
      return buf;
    }
  }
  std::snprintf(buf, sizeof buf, a < 1e-3 ? "%.2g" : "%.3g", v);
  return buf;
}

namespace {

constexpr int kPalette[] = {36, 33, 35, 32, 34, 31, 96, 93, 95, 92, 94, 91};
constexpr int kNumColors = sizeof kPalette / sizeof kPalette[0];
constexpr size_t kMaxLegend = 12;

void AppendCodepoint(std::string* out, char32_t cp) {
  if (cp < 0x800) {
    out->push_back(char(0xC0 | (cp >> 6)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(char(0xE0 | (cp >> 12)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  }
}

// Bit of dot (dx, dy) in a braille cell (U+2800 + bits).
uint8_t BrailleBit(int dx, int dy) {
  static constexpr uint8_t kBits[2][4] = {{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}};
  return kBits[dx][dy];
}

struct Canvas {
  int cols, rows;
  std::vector<uint8_t> dots;
  std::vector<int8_t> color;  // palette index of the last line drawn in the cell
  std::vector<int8_t> band;   // palette index of the band shading the cell, -2 = grey

  Canvas(int c, int r)
      : cols(c),
        rows(r),
        dots(size_t(c * r), 0),
        color(size_t(c * r), -1),
        band(size_t(c * r), -1) {}

  void Dot(int x, int y, int8_t col) {
    if (x < 0 || y < 0 || x >= cols * 2 || y >= rows * 4) return;
    size_t cell = size_t((y / 4) * cols + x / 2);
    dots[cell] |= BrailleBit(x % 2, y % 4);
    color[cell] = col;
  }
  void Line(int x0, int y0, int x1, int y1, int8_t col) {
    int dx = std::abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -std::abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
      Dot(x0, y0, col);
      if (x0 == x1 && y0 == y1) break;
      int e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  }
  void Shade(int cx, int row_top, int row_bottom, int8_t col) {
    if (cx < 0 || cx >= cols) return;
    row_top = std::clamp(row_top, 0, rows - 1);
    row_bottom = std::clamp(row_bottom, 0, rows - 1);
    if (row_top > row_bottom) std::swap(row_top, row_bottom);
    for (int r = row_top; r <= row_bottom; ++r) band[size_t(r * cols + cx)] = col;
  }
};

std::string WithoutName(const Series& s) {
  std::string k;
  for (const auto& [n, v] : s.labels) {
    if (n == "__name__") continue;
    k += n + "\x01" + v + "\x02";
  }
  return k;
}

std::string TimeLabel(int64_t ms, int64_t span_ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  const char* fmt = span_ms <= 10 * 60000 ? "%H:%M:%S"
                    : span_ms <= 86400000 ? "%H:%M"
                                          : "%m-%d %H:%M";
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}

int64_t TickStep(int64_t span_ms, int max_ticks) {
  static constexpr int64_t kSteps[] = {
      1000,     2000,     5000,      10000,     15000,        30000,        60000,    120000,
      300000,   600000,   900000,    1800000,   3600000,      7200000,      10800000, 21600000,
      43200000, 86400000, 172800000, 604800000, 2592000000LL, 31536000000LL};
  for (int64_t s : kSteps) {
    if (span_ms / s <= max_ticks) return s;
  }
  return span_ms / std::max(1, max_ticks) + 1;
}

}  // namespace

std::string RenderChart(const QueryResult& r, const RenderOptions& o) {
  if (!r.range || r.result_type != "matrix") {
    return RenderTable(r, o) +
           "(a chart needs a range query: set one with \\range -1h now, or use --start/--end)\n";
  }
  if (r.series.empty()) return "(no data)\n";

  // Bands: X:upper paired with X:lower of the same labels.
  struct Band {
    size_t upper, lower;
    int8_t color;
  };
  std::map<std::string, size_t> lowers;
  for (size_t i = 0; i < r.series.size(); ++i) {
    std::string_view n = r.series[i].Name();
    if (n.ends_with(":lower")) {
      lowers[std::string(n.substr(0, n.size() - 6)) + "\x03" + WithoutName(r.series[i])] = i;
    }
  }
  std::vector<Band> bands;
  std::vector<bool> in_band(r.series.size(), false);
  for (size_t i = 0; i < r.series.size(); ++i) {
    std::string_view n = r.series[i].Name();
    if (!n.ends_with(":upper")) continue;
    auto it =
        lowers.find(std::string(n.substr(0, n.size() - 6)) + "\x03" + WithoutName(r.series[i]));
    if (it == lowers.end() || in_band[it->second]) continue;
    bands.push_back({i, it->second, -2});
    in_band[i] = in_band[it->second] = true;
  }
  std::vector<int8_t> color(r.series.size(), -1);
  int next_color = 0;
  for (size_t i = 0; i < r.series.size(); ++i) {
    if (!in_band[i]) color[i] = int8_t(next_color++ % kNumColors);
  }
  // A band takes the colour of its forecast line (X:forecast or plain X with the same labels).
  for (auto& b : bands) {
    std::string_view n = r.series[b.upper].Name();
    std::string base(n.substr(0, n.size() - 6));
    std::string labels = WithoutName(r.series[b.upper]);
    for (size_t i = 0; i < r.series.size(); ++i) {
      std::string_view m = r.series[i].Name();
      if (!in_band[i] && (m == base + ":forecast" || m == base) &&
          WithoutName(r.series[i]) == labels) {
        b.color = color[i];
        break;
      }
    }
  }

  double vmin = INFINITY, vmax = -INFINITY;
  for (const auto& s : r.series) {
    for (const auto& smp : s.samples) {
      if (!std::isfinite(smp.v)) continue;
      vmin = std::min(vmin, smp.v);
      vmax = std::max(vmax, smp.v);
    }
  }
  if (vmin > vmax) return RenderTable(r, o) + "(nothing to chart: no finite values)\n";
  if (vmin == vmax) {
    double pad = vmin == 0 ? 1 : std::fabs(vmin) * 0.1;
    vmin -= pad;
    vmax += pad;
  }
  int64_t t0 = r.start_ms, t1 = std::max(r.end_ms, r.start_ms + 1);

  int rows = std::max(4, o.chart_height);
  std::vector<std::string> ylabels(static_cast<size_t>(rows));
  int yw = 0;
  for (int row = 0; row < rows; ++row) {
    bool tick = row % 4 == 0 || row == rows - 1;
    if (row == rows - 1 - (rows - 1) % 4 && row != rows - 1 && rows - 1 - row < 2) tick = false;
    if (!tick) continue;
    double v = vmax - double(row) / double(rows - 1) * (vmax - vmin);
    ylabels[size_t(row)] = FormatAxisValue(v);
    yw = std::max(yw, DisplayWidth(ylabels[size_t(row)]));
  }
  int cols = std::max(10, o.width - yw - 2);
  Canvas cv(cols, rows);
  auto xdot = [&](int64_t t) {
    return int(std::lround(double(t - t0) / double(t1 - t0) * double(cols * 2 - 1)));
  };
  auto ydot = [&](double v) {
    return int(std::lround((vmax - v) / (vmax - vmin) * double(rows - 1) * 4 + 1.5));
  };
  int64_t max_gap = r.step_ms > 0 ? r.step_ms * 3 / 2 : INT64_MAX;

  for (const auto& b : bands) {
    std::map<int64_t, double> low;
    for (const auto& smp : r.series[b.lower].samples) low[smp.t_ms] = smp.v;
    bool have_prev = false;
    double px = 0, ptop = 0, pbot = 0;
    int64_t pt = 0;
    for (const auto& smp : r.series[b.upper].samples) {
      auto it = low.find(smp.t_ms);
      if (it == low.end() || !std::isfinite(smp.v) || !std::isfinite(it->second)) {
        have_prev = false;
        continue;
      }
      double x = double(xdot(smp.t_ms)) / 2.0;
      double top = double(ydot(smp.v)) / 4.0, bot = double(ydot(it->second)) / 4.0;
      if (have_prev && smp.t_ms - pt <= max_gap) {
        for (int cx = int(std::ceil(px)); cx <= int(x); ++cx) {
          double f = x > px ? (cx - px) / (x - px) : 1;
          cv.Shade(cx, int(ptop + f * (top - ptop)), int(pbot + f * (bot - pbot)), b.color);
        }
      } else {
        cv.Shade(int(x), int(top), int(bot), b.color);
      }
      have_prev = true;
      px = x;
      ptop = top;
      pbot = bot;
      pt = smp.t_ms;
    }
  }
  for (size_t i = 0; i < r.series.size(); ++i) {
    if (in_band[i]) continue;
    bool have_prev = false;
    int px = 0, py = 0;
    int64_t pt = 0;
    for (const auto& smp : r.series[i].samples) {
      if (!std::isfinite(smp.v)) {
        have_prev = false;
        continue;
      }
      int x = xdot(smp.t_ms), y = ydot(smp.v);
      if (have_prev && smp.t_ms - pt <= max_gap) {
        cv.Line(px, py, x, y, color[i]);
      } else {
        cv.Dot(x, y, color[i]);
      }
      have_prev = true;
      px = x;
      py = y;
      pt = smp.t_ms;
    }
  }

  auto sgr = [&](std::string* out, int code) {
    if (o.color) *out += "\033[" + std::to_string(code) + "m";
  };
  std::string out;
  for (int row = 0; row < rows; ++row) {
    const std::string& label = ylabels[size_t(row)];
    out.append(size_t(yw - DisplayWidth(label)), ' ');
    out += label;
    out += label.empty() ? " │" : " ┤";
    int current = -1;  // SGR code in effect
    std::string line;
    for (int cx = 0; cx < cols; ++cx) {
      size_t cell = size_t(row * cols + cx);
      int want = 0;
      if (cv.dots[cell] != 0) {
        want = kPalette[cv.color[cell]];
      } else if (cv.band[cell] != -1) {
        want = cv.band[cell] == -2 ? 90 : kPalette[cv.band[cell]] + 60 * 0;
      }
      if (o.color && want != current) {
        line += want == 0 ? "\033[0m" : "\033[" + std::to_string(want) + "m";
        current = want;
      }
      if (cv.dots[cell] != 0) {
        AppendCodepoint(&line, char32_t(0x2800 + cv.dots[cell]));
      } else if (cv.band[cell] != -1) {
        line += "░";
      } else {
        line += ' ';
      }
    }
    if (o.color && current != 0) line += "\033[0m";
    while (line.ends_with(" ")) line.pop_back();
    out += line + "\n";
  }

  // Time axis.
  int64_t span = t1 - t0;
  int label_w = DisplayWidth(TimeLabel(t0, span));
  int64_t step = TickStep(span, std::max(1, cols / (label_w + 3)));
  std::string axis(size_t(yw) + 1, ' ');
  axis += "└";
  std::string labels(size_t(yw) + 2, ' ');
  int labels_used = yw + 2;  // columns filled in `labels`
  std::vector<int> tick_cols;
  int64_t first = (t0 / step) * step;
  if (first < t0) first += step;
  for (int64_t t = first; t <= t1; t += step) {
    int cx = xdot(t) / 2;
    std::string text = TimeLabel(t, span);
    int start = yw + 2 + cx - label_w / 2;
    start = std::max(start, yw + 2);
    if (start < labels_used + (labels_used > yw + 2 ? 2 : 0)) continue;
    if (start + label_w > yw + 2 + cols) break;
    labels.append(size_t(start - labels_used), ' ');
    labels += text;
    labels_used = start + label_w;
    tick_cols.push_back(cx);
  }
  for (int cx = 0; cx < cols; ++cx) {
    axis += std::find(tick_cols.begin(), tick_cols.end(), cx) != tick_cols.end() ? "┬" : "─";
  }
  out += axis + "\n" + labels + "\n";

  // Legend.
  std::vector<std::string> dist = DistinguishingLabels(r.series);
  size_t shown = 0, total = 0;
  auto entry = [&](int code, std::string_view mark, const std::string& name) {
    ++total;
    if (shown >= kMaxLegend) return;
    ++shown;
    std::string line = "  ";
    sgr(&line, code);
    line += mark;
    sgr(&line, 0);
    out += line + " " + name + "\n";
  };
  for (size_t i = 0; i < r.series.size(); ++i) {
    if (!in_band[i]) entry(kPalette[color[i]], "━━", ShortSeriesName(r.series[i], dist));
  }
  for (const auto& b : bands) {
    const Series& up = r.series[b.upper];
    std::string name = ShortSeriesName(up, dist);
    std::string_view n = up.Name();
    std::string base(n.substr(0, n.size() - 6));
    if (name.starts_with(n)) name = base + ":lower/:upper" + name.substr(n.size());
    entry(b.color == -2 ? 90 : kPalette[b.color], "░░", name + " (band)");
  }
  if (total > shown) out += "  … " + std::to_string(total - shown) + " more\n";
  return out;
}

}  // namespace vigil::shell
