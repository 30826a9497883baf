#!/usr/bin/env python3
"""Consistency checks for a real-area region profile (tools/region/profiles/<area>/).

Usage: python3 tests/tools/region_profile_check.py [PROFILE_DIR]

PROFILE_DIR defaults to tools/region/profiles/west-yorkshire in this repository.
Standard library only.
"""

import csv
import json
import math
import os
import re
import sys
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_DIR = os.path.join(REPO, "tools", "region", "profiles", "west-yorkshire")
PROFILE_DIR = DEFAULT_DIR

LSOA_RE = re.compile(r"^E01\d{6}$")
# UK postcode (outward code, single space, inward code), after the usual GOV.UK pattern.
POSTCODE_RE = re.compile(
    r"^(GIR 0AA|"
    r"[A-PR-UWYZ]("
    r"[0-9]{1,2}|"
    r"[A-HK-Y][0-9][0-9ABEHMNPRV-Y]?|"
    r"[0-9][A-HJKPSTUW]|"
    r"[A-HK-Y][0-9]"
    r") [0-9][ABD-HJLNP-UW-Z]{2})$"
)
WEST_YORKSHIRE = "West Yorkshire"
WY_LAS = {"Bradford", "Calderdale", "Kirklees", "Leeds", "Wakefield"}
WY_LSOA_COUNT = 1388
WY_BBOX = (53.5, 54.0, -2.2, -1.2)  # lat_min, lat_max, lon_min, lon_max
MAX_DISTRICT_KM = 12.0


def read_csv(name, header):
    path = os.path.join(PROFILE_DIR, name)
    with open(path, encoding="utf-8", newline="") as f:
        raw = f.read()
    if "\r" in raw:
        raise AssertionError(f"{name}: line endings must be LF only")
    rows = list(csv.reader(raw.splitlines()))
    if not rows or rows[0] != header:
        raise AssertionError(f"{name}: header {rows[0] if rows else None} != {header}")
    return [dict(zip(header, r)) for r in rows[1:] if r]


def haversine_km(lat1, lon1, lat2, lon2):
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


def outward(postcode):
    return postcode.split(" ", 1)[0]


class RegionProfileCheck(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(PROFILE_DIR, "profile.json"), encoding="utf-8") as f:
            cls.profile = json.load(f)
        cls.lsoas = read_csv("lsoas.csv", ["lsoa", "name", "local_authority", "imd_decile", "population"])
        cls.postcodes = read_csv("postcodes.csv", ["postcode", "latitude", "longitude", "lsoa"])
        cls.districts = read_csv("postcode_districts.csv", ["district", "post_town", "latitude", "longitude"])
        cls.is_wy = cls.profile.get("name") == WEST_YORKSHIRE

    def test_lsoa_codes_well_formed_and_unique(self):
        codes = [r["lsoa"] for r in self.lsoas]
        self.assertTrue(codes, "lsoas.csv is empty")
        bad = [c for c in codes if not LSOA_RE.match(c)]
        self.assertEqual(bad, [], "malformed LSOA codes")
        self.assertEqual(len(codes), len(set(codes)), "duplicate LSOA codes")

    def test_lsoa_fields(self):
        for r in self.lsoas:
            self.assertTrue(r["name"].strip(), f"{r['lsoa']}: empty name")
            self.assertTrue(r["local_authority"].strip(), f"{r['lsoa']}: empty local_authority")
            self.assertIn(r["imd_decile"], [str(i) for i in range(1, 11)], f"{r['lsoa']}: decile")
            if r["population"] != "":
                self.assertGreater(int(r["population"]), 0, f"{r['lsoa']}: population")

    def test_west_yorkshire_counts(self):
        if not self.is_wy:
            self.skipTest("count check applies to the West Yorkshire profile only")
        self.assertEqual(len(self.lsoas), WY_LSOA_COUNT)
        self.assertEqual({r["local_authority"] for r in self.lsoas}, WY_LAS)

    def test_postcodes_well_formed_unique_and_linked(self):
        self.assertTrue(self.postcodes, "postcodes.csv is empty")
        lsoa_codes = {r["lsoa"] for r in self.lsoas}
        seen = set()
        for r in self.postcodes:
            pc = r["postcode"]
            self.assertRegex(pc, POSTCODE_RE, "malformed postcode")
            self.assertNotIn(pc, seen, f"duplicate postcode {pc}")
            seen.add(pc)
            self.assertIn(r["lsoa"], lsoa_codes, f"{pc}: LSOA not in lsoas.csv")

    def test_postcodes_inside_bounding_box(self):
        bbox = self.profile.get("bbox")
        if bbox is None:
            if not self.is_wy:
                self.skipTest("no bbox in profile.json")
            bbox = WY_BBOX
        lat_min, lat_max, lon_min, lon_max = bbox
        for r in self.postcodes:
            lat, lon = float(r["latitude"]), float(r["longitude"])
            self.assertTrue(lat_min <= lat <= lat_max and lon_min <= lon <= lon_max,
                            f"{r['postcode']} ({lat},{lon}) outside {bbox}")

    def test_postcode_districts(self):
        cent = {}
        for d in self.districts:
            self.assertNotIn(d["district"], cent, f"duplicate district {d['district']}")
            self.assertTrue(d["post_town"].strip(), f"{d['district']}: empty post_town")
            cent[d["district"]] = (float(d["latitude"]), float(d["longitude"]))
        used = set()
        for r in self.postcodes:
            dist = outward(r["postcode"])
            used.add(dist)
            self.assertIn(dist, cent, f"{r['postcode']}: district missing from postcode_districts.csv")
            km = haversine_km(float(r["latitude"]), float(r["longitude"]), *cent[dist])
            self.assertLessEqual(km, MAX_DISTRICT_KM, f"{r['postcode']} is {km:.1f} km from {dist} centroid")
        self.assertEqual(set(cent) - used, set(), "districts listed but not used by any postcode")

    def test_decile_share(self):
        share = self.profile["decile_share"]
        self.assertEqual(len(share), 10)
        self.assertAlmostEqual(sum(share), 1.0, delta=0.001)
        n = len(self.lsoas)
        counts = [0] * 10
        for r in self.lsoas:
            counts[int(r["imd_decile"]) - 1] += 1
        for i in range(10):
            self.assertAlmostEqual(share[i], counts[i] / n, delta=1e-4, msg=f"decile {i + 1}")


def main():
    global PROFILE_DIR
    args = sys.argv[1:]
    if args and not args[0].startswith("-"):
        PROFILE_DIR = os.path.abspath(args.pop(0))
    unittest.main(argv=[sys.argv[0]] + args, verbosity=2)


if __name__ == "__main__":
    main()
