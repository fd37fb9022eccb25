// Topic templates of [[bridge.route]] `remote` / `local`:
//   {topic}   the whole topic
//   {1}..{n}  its n-th level (1-based); empty when the topic has fewer
//   {#}       the levels a trailing '#' of the route's filter matched
// Anything else is copied as written. Pure; validated at config load
// (bridge_config.cpp).
#pragma once

#include <string>
#include <string_view>

namespace strata::bridges {

std::string apply_template(std::string_view tmpl, std::string_view topic, std::string_view filter);

}  // namespace strata::bridges
