// The namespace's endpoints on the admin server (/api/v1/namespace,
// /topics, /contracts) and its /metrics families. Handlers gather each
// core's catalog on that core (admin::Api::gather), merge on the admin
// thread and answer with the pure queries of catalog_query.hpp.
#pragma once

namespace strata::admin {
class Api;
}

namespace strata::uns {

class NamespaceHook;
class CatalogSnapshot;

// `snapshot`: the catalog's snapshot for /metrics (null when the namespace is off).
void add_uns_api(admin::Api& api, NamespaceHook& hook, const CatalogSnapshot* snapshot = nullptr);

}  // namespace strata::uns
