#pragma once

namespace signpost::events {

// A referral from a practice that no network in the directory lists is not parked out of sight:
// matching gives it this network id, so follow-up puts its tasks on the team queue
// "team:unrouted", which the region's coordinator (a coordinator token whose network is
// "unrouted") subscribes to and routes from; the monitor counts the referrals waiting there. The
// directory refuses a network of this id, so no real network's queue is mistaken for it.
inline constexpr char kUnroutedNetworkId[] = "unrouted";

}  // namespace signpost::events
