// The namespace's endpoints on the admin server (/api/v1/namespace,
// /topics, /contracts) and its /metrics families. Handlers gather each
// core's catalog on that core (admin::Api::gather), merge on the admin
// thread and answer with the pure queries of catalog_query.hpp.
#pragma once

#include <memory>
#include <string>

#include <rapidjson/document.h>

namespace strata::admin {
class Api;
}

namespace strata::uns {

class NamespaceHook;
class CatalogSnapshot;
class ContractOverlay;
class Contract;

// `snapshot`: the catalog's snapshot for /metrics (null when the namespace
// is off). `overlay`: where PUT/DELETE /api/v1/contracts/{name} are kept
// (null: they last until the next reload).
void add_uns_api(admin::Api& api, NamespaceHook& hook, const CatalogSnapshot* snapshot = nullptr,
                 ContractOverlay* overlay = nullptr);

// A contract from a PUT body: {"filter", "schema": {...} (or its text),
// "shape", "action", "version", "redirect_topic", "reject_disconnect",
// "all"}; throws admin::Error (400) naming what is wrong.
std::shared_ptr<const Contract> contract_of_body(const std::string& name, const rapidjson::Document& body);

}  // namespace strata::uns
