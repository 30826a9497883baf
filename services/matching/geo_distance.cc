#include "services/matching/geo_distance.h"

#include <cmath>

namespace signpost::matching {
namespace {

constexpr double kEarthRadiusKm = 6372.797560856;  // Redis's EARTH_RADIUS_IN_METERS / 1000
constexpr double kRadiansPerDegree = M_PI / 180.0;

}  // namespace

double DistanceKm(const v1::GeoPoint& a, const v1::GeoPoint& b) {
  const double lat1 = a.latitude() * kRadiansPerDegree, lat2 = b.latitude() * kRadiansPerDegree;
  const double u = std::sin((lat2 - lat1) / 2);
  const double v = std::sin((b.longitude() - a.longitude()) * kRadiansPerDegree / 2);
  return 2.0 * kEarthRadiusKm *
         std::asin(std::sqrt(u * u + std::cos(lat1) * std::cos(lat2) * v * v));
}

}  // namespace signpost::matching
