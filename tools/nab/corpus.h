#pragma once

// Reading NAB-style data: `timestamp,value` CSV files, the windows file (combined_windows.json
// shape), published per-row detector scores (`file,timestamp,anomaly_score`, optionally gzip'd),
// and assembling them into a scorable corpus. All reads go through vigil::FileSystem.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/file_system.h"
#include "storage/base/status.h"
#include "tools/nab/scorer.h"

namespace vigil::nab {

// "YYYY-MM-DD HH:MM:SS" (optionally followed by ".ffffff", UTC) or integer Unix seconds.
Result<int64_t> ParseTimestamp(std::string_view text);

// A `timestamp,value` series. The header line must be `timestamp,value`.
struct SeriesCsv {
  std::vector<std::string> timestamp_text;  // as written in the file, echoed by replay commands
  std::vector<int64_t> timestamps;          // Unix seconds, non-decreasing
  std::vector<double> values;
};

// Parses CSV text; errors name the line. `source` names the input in messages.
Result<SeriesCsv> ParseSeriesCsv(std::string_view text, std::string_view source);
Result<SeriesCsv> ReadSeriesCsv(FileSystem* fs, const std::string& path);

// {"dir/file.csv": [["start", "end"], ...], ...}. Keys keep file order; timestamps are the raw
// strings (parse them with ParseTimestamp).
using WindowsFile =
    std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>;
Result<WindowsFile> ParseWindowsJson(std::string_view text);

// Reads a file, transparently gunzipping it when its name ends in ".gz".
Result<std::string> ReadMaybeGzip(FileSystem* fs, const std::string& path);

// Maps each window's start and end timestamps onto the rows of `series` (exact matches required).
Result<std::vector<Window>> WindowsToRows(
    const SeriesCsv& series, const std::vector<std::pair<std::string, std::string>>& windows,
    std::string_view file);

// Published detector scores: file name -> scores in row order (`file,timestamp,anomaly_score`).
Result<std::map<std::string, std::vector<double>>> ParseReferenceScores(std::string_view text);

// One data file of a NAB-style directory (`<dir>/data/<key>` with its windows).
struct CorpusFile {
  std::string key;  // e.g. "realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv"
  SeriesCsv series;
  std::vector<Window> windows;
};

// Every file listed in `<dir>/windows.json`, loaded with its rows mapped to windows.
Result<std::vector<CorpusFile>> LoadCorpus(FileSystem* fs, const std::string& dir);

}  // namespace vigil::nab
