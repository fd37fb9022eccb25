// The namespace model applied to a topic: which [[uns.namespace]] governs
// it (the first whose prefix it is under), its ISA-95 place, or why it does
// not fit (too few levels, a level breaking the naming rules).
//
// With prefix "acme" (not a root) and the default levels, the topic
// acme/berlin/press/line1/cell2/temperature/max has enterprise=acme,
// site=berlin, area=press, line=line1, cell=cell2, tag=temperature/max.
// With prefix "plant/v1" as a root, plant/v1/acme/berlin/... is the same.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/uns/annotation.hpp"
#include "broker/uns/uns_config.hpp"

namespace strata::uns {

struct ModelResult {
  const NamespaceModel* ns = nullptr;  // null: not governed
  std::shared_ptr<const Placement> place;  // set when governed and fitting
  std::string error;                        // set when governed and not fitting
};

ModelResult place_topic(const std::vector<NamespaceModel>& namespaces, std::string_view topic);

}  // namespace strata::uns
