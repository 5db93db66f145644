#include "server/cq/extension.h"

#include <memory>

#include "server/cq/api.h"
#include "server/cq/manager.h"
#include "server/metrics/server_metrics.h"
#include "storage/base/file_system.h"
#include "storage/base/logging.h"

namespace vigil::server::cq {

Extension MakeCqExtension(const CqExtensionOptions& options) {
  // Shared by start and stop; the manager lives until the extension is destroyed with the server.
  auto manager = std::make_shared<std::unique_ptr<CqManager>>();
  Extension e;
  e.name = "continuous queries";
  e.start = [manager, options](ServerContext& ctx) -> Status {
    CqManagerOptions mo;
    mo.data_dir = ctx.config->data_dir;
    mo.clock = options.clock;
    mo.max_catchup = options.max_catchup;
    if (ctx.api_options != nullptr) mo.engine = ctx.api_options->engine;
    VIGIL_ASSIGN_OR_RETURN(*manager, CqManager::Open(ctx.db, mo));
    CqManager* m = manager->get();
    for (const std::string& path : options.rule_files) {
      VIGIL_ASSIGN_OR_RETURN(std::string yaml, ReadFileToString(DefaultFileSystem(), path));
      Status st = m->LoadRuleFile(yaml);
      if (!st.ok()) return st.WithContext(path);
    }
    auto handle = [m](HttpRequest& req, HttpResponse* resp) {
      const ApiResponse r = HandleCqRequest(*m, req.method, req.path, req.params, req.body);
      resp->status = r.status;
      resp->body = r.body;
    };
    ctx.router->Register("GET", "/api/v1/cq", handle, Scope::kRead);
    ctx.router->Register("POST", "/api/v1/cq", handle, Scope::kAdmin);
    ctx.router->Register("POST", "/api/v1/cq/rules", handle, Scope::kAdmin);
    ctx.router->Register("GET", "/api/v1/cq/<name>", handle, Scope::kRead);
    ctx.router->Register("DELETE", "/api/v1/cq/<name>", handle, Scope::kAdmin);
    ctx.router->Register(
        "GET", "/api/v1/rules",
        [m](HttpRequest&, HttpResponse* resp) {
          resp->body = "{\"status\":\"success\",\"data\":{\"groups\":" + m->RuleGroupsJson() + "}}";
        },
        Scope::kRead);
    ctx.router->Register(
        "POST", "/api/v1/rules",
        [m](HttpRequest&, HttpResponse* resp) {
          resp->body = "{\"status\":\"success\",\"data\":{\"groups\":" + m->RuleGroupsJson() + "}}";
        },
        Scope::kRead);
    if (ctx.metrics != nullptr) {
      ctx.metrics->registry().AddCollector([m](MetricsWriter* w) { w->Raw(m->MetricsText()); });
    }
    m->Start(options.tick_ms, options.save_every_ms);
    VIGIL_LOG(INFO) << "continuous queries: " << m->List().size() << " loaded";
    return Status::OK();
  };
  e.stop = [manager] {
    if (*manager == nullptr) return;
    Status st = (*manager)->Stop();
    if (!st.ok())
      VIGIL_LOG(WARN) << "continuous queries: saving model state at stop: " << st.ToString();
  };
  return e;
}

}  // namespace vigil::server::cq
