// The mqtt bridge type: a client of a peer broker (Strata, Mosquitto, EMQX
// ...) over tcp, tls, ws or wss, MQTT 5 or 3.1.1.
//
// Out: records are published in outbox order, pipelined up to the window
// (`inflight`, else the peer's Receive Maximum, at most 65,535). A record's
// packet id is derived from its offset (offset mod 65535, + 1; the next
// free one on a clash), so a record re-sent after a reconnect or a restart
// carries the id the peer saw before and a QoS 2 peer recognises it. Each
// PUBACK / PUBCOMP confirms its record; PUBREC is recorded in the outbox's
// adapter state ("q2/<offset>" -> packet id) before PUBREL is sent, so
// after a restart the record is completed with PUBREL, not published again.
// A PUBACK/PUBREC with an error reason rejects the record for good (dead
// letters), except 0x97 quota exceeded, which drops the connection and
// retries. QoS 0 records are confirmed once written to the socket.
//
// In: after CONNACK the `in` routes' filters are subscribed (v5: No Local,
// Retain As Published). A received PUBLISH goes through the local broker's
// pipeline (LocalPublisher); PUBACK / PUBREC go back only when it is as
// durable as [store] durability says, in the order received. A QoS 2 id
// already received is answered again without publishing twice (counted as
// a duplicate).
//
// Liveness: PINGREQ every keep_alive; a peer that sends nothing for
// 1.5 × keep_alive is taken for hung and the connection dropped. Reconnects
// back off from reconnect_min, doubling to reconnect_max, with jitter
// (a random 50-100 % of the step).
//
// Loop guard: every PUBLISH sent carries the user property
// `hops_property` = record hops + 1 (v5), replacing the one it came with.
// A PUBLISH received (in) crossed this bridge too: it is published locally
// with hops + 1 (0 when it carried none), or dropped and counted
// (dropped/hops) when that is past max_hops. What came in over a bridge is
// never sent back out over it (bridge_manager.cpp), and v5 subscriptions
// use No Local, so in and out routes on overlapping filters do not echo.
//
// Backlog (order = "live_first", bridges/read_order.hpp): a record the
// driver sends from a backlog carries `strata-backlog: 1` (v5; 3.1.1 has
// no properties), kept when an earlier tier set it already.
//
// Threading: everything runs on the bridge's io_context.
#pragma once

#include <memory>

#include "bridges/adapter.hpp"
#include "bridges/mqtt/mqtt_settings.hpp"

namespace strata::bridges::mqtt {

// The AdapterType to register under "mqtt".
AdapterType adapter_type();

std::unique_ptr<Adapter> make_adapter(const BridgeConfig& bridge, Settings settings);

}  // namespace strata::bridges::mqtt
