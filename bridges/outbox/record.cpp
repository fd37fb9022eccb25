#include "bridges/outbox/record.hpp"

namespace strata::bridges {

const protocol::Properties& Record::no_properties() noexcept {
  static const protocol::Properties none;
  return none;
}

protocol::Properties& Record::mutable_properties() {
  if (!props) {
    props = std::make_shared<protocol::Properties>();
  } else if (props.use_count() > 1) {
    props = std::make_shared<protocol::Properties>(*props);
  }
  // Made non-const above (make_shared<Properties>), held by this record alone.
  return const_cast<protocol::Properties&>(*props);
}

void Record::set_properties(const protocol::Properties& p) {
  props = has_application_properties(p) ? std::make_shared<const protocol::Properties>(p) : nullptr;
}

void Record::set_properties(protocol::Properties&& p) {
  props = has_application_properties(p) ? std::make_shared<const protocol::Properties>(std::move(p)) : nullptr;
}

bool has_application_properties(const protocol::Properties& p) noexcept {
  return p.payload_format_indicator || p.content_type || p.response_topic || p.correlation_data ||
         !p.user_properties.empty();
}

}  // namespace strata::bridges
