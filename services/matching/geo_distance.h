#pragma once

#include "signpost/v1/common.pb.h"

namespace signpost::matching {

// The great-circle distance in km between two points, by the formula and earth radius Redis's
// GEODIST and GEOSEARCH use, so a distance worked out here agrees with the radius Redis searched.
double DistanceKm(const v1::GeoPoint& a, const v1::GeoPoint& b);

}  // namespace signpost::matching
