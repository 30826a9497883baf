#!/usr/bin/env python3
"""Tests of tools/region/make-profile on tiny made-up ONSPD- and IoD2019-shaped files.

Usage: python3 tests/tools/make_profile_test.py

Every value in the fixtures below is invented for the test (postcode area "YY", LSOAs E01999xxx,
local authorities E08999xxx); none is a real postcode, LSOA or figure. The produced folder is also
checked with tests/tools/region_profile_check.py. Standard library only.
"""

import csv
import json
import os
import subprocess
import sys
import tempfile
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "tools", "region", "make-profile")
CHECKER = os.path.join(REPO, "tests", "tools", "region_profile_check.py")

LA = "E08999001"  # TEST FIXTURE: the chosen local authority
OTHER_LA = "E08999002"  # TEST FIXTURE: a neighbouring one, not chosen

# TEST FIXTURE (made up): IoD2019 File 7 columns, a subset, in File 7's header spelling.
IOD_HEADER = [
    "LSOA code (2011)", "LSOA name (2011)", "Local Authority District code (2019)",
    "Local Authority District name (2019)", "Index of Multiple Deprivation (IMD) Score",
    "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
    "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
    "Total population: mid 2015 (excluding prisoners)",
]
IOD_ROWS = [
    ["E01999001", "Testshire 001A", LA, "Testshire, City of", "60.1", "120", "1", "1500"],
    ["E01999002", "Testshire 001B", LA, "Testshire, City of", "45.2", "4000", "2", "1600"],
    ["E01999003", "Testshire 002A", LA, "Testshire, City of", "20.3", "15000", "5", "1400"],
    ["E01999004", "Testshire 002B", LA, "Testshire, City of", "5.4", "29000", "9", "1700"],
    ["E01999005", "Otherton 001A", OTHER_LA, "Otherton", "30.5", "9000", "3", "1800"],
]

# TEST FIXTURE (made up): ONSPD columns, a subset, in ONSPD's order.
ONSPD_HEADER = ["pcd", "pcd2", "pcds", "dointr", "doterm", "oslaua", "osward", "lsoa11",
                "lat", "long", "lsoa21"]


def onspd_row(pcds, doterm, la, lsoa, lat, lon):
    compact = pcds.replace(" ", "")
    return [f"{compact[:-3]:<4}{compact[-3:]}", f"{compact[:-3]:<5}{compact[-3:]}", pcds,
            "199801", doterm, la, "E05999999", lsoa, lat, lon, lsoa]


ONSPD_ROWS = [
    onspd_row("YY1 1AB", "", LA, "E01999001", "53.800000", "-1.550000"),
    onspd_row("YY1 1AD", "", LA, "E01999001", "53.801000", "-1.551000"),
    onspd_row("YY1 1AE", "", LA, "E01999001", "53.802000", "-1.552000"),
    onspd_row("YY1 2AB", "", LA, "E01999002", "53.810000", "-1.560000"),
    onspd_row("YY1 2AD", "202001", LA, "E01999002", "53.811000", "-1.561000"),  # terminated
    onspd_row("YY1 2AE", "", LA, "E01999002", "99.999999", "0.000000"),  # unlocated
    onspd_row("YY2 1AB", "", LA, "E01999003", "53.830000", "-1.500000"),
    onspd_row("YY2 1AD", "", LA, "E01999003", "53.831000", "-1.501000"),
    onspd_row("YY2 2AB", "", LA, "E01999004", "53.840000", "-1.490000"),
    onspd_row("YY2 2AD", "", LA, "E01999004", "53.841000", "-1.491000"),
    onspd_row("YY2 2AE", "", LA, "E01999004", "53.842000", "-1.492000"),
    onspd_row("YY2 9AB", "", OTHER_LA, "E01999005", "53.850000", "-1.480000"),  # other LA
]
LIVE_AREA = {r[2] for r in ONSPD_ROWS if r[4] == "" and r[5] == LA and r[8] != "99.999999"}
EXCLUDED = {"YY1 2AD", "YY1 2AE", "YY2 9AB"}


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")  # as the published files are
        w.writerow(header)
        w.writerows(rows)


def read_rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f.read().splitlines()))


class MakeProfileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="make_profile_test.")
        cls.dir = cls.tmp.name
        cls.onspd = os.path.join(cls.dir, "ONSPD_TEST.csv")
        cls.iod = os.path.join(cls.dir, "File_7_TEST.csv")
        write_csv(cls.onspd, ONSPD_HEADER, ONSPD_ROWS)
        write_csv(cls.iod, IOD_HEADER, IOD_ROWS)
        cls.out = os.path.join(cls.dir, "testshire")
        cls.matching = os.path.join(cls.dir, "matching-postcodes.csv")
        cls.result = cls.run_script(["--onspd", cls.onspd, "--iod", cls.iod, "--la", LA,
                                     "--name", "Testshire (test fixture)", "--out", cls.out,
                                     "--postcodes-per-lsoa", "2",
                                     "--matching-postcodes", cls.matching])

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @staticmethod
    def run_script(args):
        return subprocess.run([sys.executable, SCRIPT] + args, capture_output=True, text=True,
                              timeout=60)

    def setUp(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)

    def file(self, name):
        return os.path.join(self.out, name)

    def profile(self):
        with open(self.file("profile.json"), encoding="utf-8") as f:
            return json.load(f)

    def test_files_and_headers(self):
        headers = {
            "lsoas.csv": ["lsoa", "name", "local_authority", "imd_decile", "population"],
            "postcodes.csv": ["postcode", "latitude", "longitude", "lsoa"],
            "postcode_districts.csv": ["district", "post_town", "latitude", "longitude"],
        }
        for name, header in headers.items():
            with open(self.file(name), encoding="utf-8", newline="") as f:
                text = f.read()
            self.assertNotIn("\r", text, name)
            self.assertEqual(text.split("\n", 1)[0], ",".join(header), name)
        profile = self.profile()
        self.assertEqual(profile["name"], "Testshire (test fixture)")
        self.assertEqual(profile["imd_edition"], "IoD2019")
        self.assertTrue(os.path.exists(self.file("SOURCES.md")))
        self.assertIn("LSOA of each postcode from the postcode file's lsoa11 column",
                      self.result.stderr)

    def test_lsoas_of_the_area_only(self):
        rows = read_rows(self.file("lsoas.csv"))[1:]
        self.assertEqual([r[0] for r in rows], ["E01999001", "E01999002", "E01999003", "E01999004"])
        self.assertEqual(rows[0], ["E01999001", "Testshire 001A", "City of Testshire", "1", "1500"])

    def test_excluded_postcodes_absent(self):
        postcodes = {r[0] for r in read_rows(self.file("postcodes.csv"))[1:]}
        self.assertEqual(postcodes & EXCLUDED, set())
        matching = {r[0] for r in read_rows(self.matching)[1:]}
        self.assertEqual(matching & EXCLUDED, set())

    def test_decile_share_and_core20(self):
        profile = self.profile()
        deciles = [int(r[3]) for r in read_rows(self.file("lsoas.csv"))[1:]]
        for d in range(10):
            self.assertAlmostEqual(profile["decile_share"][d], deciles.count(d + 1) / len(deciles),
                                   delta=1e-6, msg=f"decile {d + 1}")
        # (1500 + 1600) / (1500 + 1600 + 1400 + 1700), population-weighted
        self.assertAlmostEqual(profile["core20_population_share"], 0.5, places=4)
        self.assertEqual(profile["languages"], [{"code": "en", "share": 1.0}])
        self.assertIn("languages", profile["assumed"])

    def test_postcodes_per_lsoa(self):
        rows = read_rows(self.file("postcodes.csv"))[1:]
        per_lsoa = {}
        for postcode, _, _, lsoa in rows:
            per_lsoa.setdefault(lsoa, []).append(postcode)
        self.assertEqual({k: len(v) for k, v in per_lsoa.items()},
                         {"E01999001": 2, "E01999002": 1, "E01999003": 2, "E01999004": 2})
        # Spread over the sorted postcodes: the first and the last of three.
        self.assertEqual(per_lsoa["E01999001"], ["YY1 1AB", "YY1 1AE"])
        self.assertEqual(set(r[0] for r in rows) - LIVE_AREA, set())

    def test_district_centroid_is_the_mean(self):
        rows = {r[0]: r for r in read_rows(self.file("postcode_districts.csv"))[1:]}
        self.assertEqual(set(rows), {"YY1", "YY2"})
        for district, row in rows.items():
            # Every live located postcode of the district, in any local authority.
            members = [r for r in ONSPD_ROWS
                       if r[2].startswith(district + " ") and r[4] == "" and r[8] != "99.999999"]
            lat = sum(float(r[8]) for r in members) / len(members)
            lon = sum(float(r[9]) for r in members) / len(members)
            self.assertAlmostEqual(float(row[2]), lat, delta=1e-6, msg=district)
            self.assertAlmostEqual(float(row[3]), lon, delta=1e-6, msg=district)
            self.assertEqual(row[1], "City of Testshire")

    def test_matching_postcodes(self):
        rows = read_rows(self.matching)
        self.assertEqual(rows[0], ["postcode", "latitude", "longitude", "lsoa", "imd_decile"])
        for r in rows[1:]:
            self.assertEqual(len(r), 5, r)
        by_code = {r[0]: r for r in rows[1:]}
        self.assertEqual({k for k in by_code if " " in k}, LIVE_AREA)
        self.assertEqual(by_code["YY1 1AB"], ["YY1 1AB", "53.800000", "-1.550000", "E01999001", "1"])
        self.assertEqual(by_code["YY2 2AE"][3:], ["E01999004", "9"])
        # District rows: at the centroid, with the LSOA and decile of the postcode nearest it.
        districts = {r[0]: r for r in read_rows(self.file("postcode_districts.csv"))[1:]}
        for district in ("YY1", "YY2"):
            self.assertIn(district, by_code)
            self.assertAlmostEqual(float(by_code[district][1]), float(districts[district][2]), 6)
            self.assertAlmostEqual(float(by_code[district][2]), float(districts[district][3]), 6)
        # YY1 centroid (53.80325, -1.55325) is nearest YY1 1AE (E01999001, decile 1); YY2's
        # (53.839, -1.492333, with the other LA's YY2 9AB) is nearest YY2 2AB (E01999004, decile 9).
        self.assertEqual(by_code["YY1"][3:], ["E01999001", "1"])
        self.assertEqual(by_code["YY2"][3:], ["E01999004", "9"])

    def test_what_region_profile_cc_checks(self):
        # The checks of tools/region/region_profile.cc that region_profile_check.py does not make.
        profile = self.profile()
        for key in ("name", "imd_edition"):
            self.assertTrue(isinstance(profile[key], str) and profile[key], key)
        self.assertTrue(0 < profile["core20_population_share"] < 1)
        for language in profile["languages"]:
            self.assertEqual(len(language["code"]), 2)
            self.assertTrue(0 < language["share"] <= 1)
        for name, width in (("lsoas.csv", 5), ("postcodes.csv", 4), ("postcode_districts.csv", 4)):
            with open(self.file(name), encoding="utf-8") as f:
                for line in f.read().splitlines()[1:]:
                    self.assertEqual(len(line.split(",")), width, f"{name}: {line}")
                    self.assertNotIn('"', line, f"{name}: {line}")
        for name, lat in (("postcodes.csv", 1), ("postcode_districts.csv", 2)):
            for row in read_rows(self.file(name))[1:]:
                self.assertTrue(49 <= float(row[lat]) <= 61 and -9 <= float(row[lat + 1]) <= 2.5,
                                row)
        for row in read_rows(self.file("postcodes.csv"))[1:]:
            outward, inward = row[0].split(" ")
            self.assertTrue(len(outward) >= 2 and len(inward) == 3, row[0])
        districts = {r[0] for r in read_rows(self.file("postcode_districts.csv"))[1:]}
        for row in read_rows(self.file("postcodes.csv"))[1:]:
            self.assertIn(row[0].split(" ")[0], districts)

    def test_deterministic(self):
        again = os.path.join(self.dir, "again")
        result = self.run_script(["--onspd", self.onspd, "--iod", self.iod, "--la", LA,
                                  "--name", "Testshire (test fixture)", "--out", again,
                                  "--postcodes-per-lsoa", "2"])
        self.assertEqual(result.returncode, 0, result.stderr)
        for name in ("lsoas.csv", "postcodes.csv", "postcode_districts.csv", "profile.json"):
            with open(self.file(name), encoding="utf-8") as a, \
                    open(os.path.join(again, name), encoding="utf-8") as b:
                self.assertEqual(a.read(), b.read(), name)

    def test_passes_the_profile_checker(self):
        result = subprocess.run([sys.executable, CHECKER, self.out], capture_output=True,
                                text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertNotIn("FAIL", result.stderr)

    def test_nspl_with_lsoa21_and_languages(self):
        nspl = os.path.join(self.dir, "NSPL_TEST.csv")
        header = ["pcd", "pcd2", "pcds", "dointr", "doterm", "laua", "ward", "lat", "long",
                  "lsoa21"]
        write_csv(nspl, header, [r[:5] + [r[5], r[6], r[8], r[9], r[10]] for r in ONSPD_ROWS])
        languages = os.path.join(self.dir, "languages.json")
        with open(languages, "w", encoding="utf-8") as f:
            json.dump([{"code": "en", "share": 0.9}, {"code": "pl", "share": 0.05}], f)
        out = os.path.join(self.dir, "nspl")
        result = self.run_script(["--onspd", nspl, "--iod", self.iod, "--la", LA,
                                  "--name", "Testshire NSPL (test fixture)", "--out", out,
                                  "--languages", languages])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("lsoa21", result.stderr)
        with open(os.path.join(out, "SOURCES.md"), encoding="utf-8") as f:
            self.assertIn("**lsoa21**", f.read())
        with open(os.path.join(out, "profile.json"), encoding="utf-8") as f:
            profile = json.load(f)
        self.assertEqual(profile["languages"][1], {"code": "pl", "share": 0.05})
        self.assertNotIn("languages", profile["assumed"])
        self.assertEqual(len(read_rows(os.path.join(out, "postcodes.csv"))) - 1, 9)  # up to 3 per LSOA

    def test_missing_iod_column_fails(self):
        bad = os.path.join(self.dir, "iod_no_decile.csv")
        write_csv(bad, IOD_HEADER[:6] + IOD_HEADER[7:], [r[:6] + r[7:] for r in IOD_ROWS])
        result = self.run_script(["--onspd", self.onspd, "--iod", bad, "--la", LA,
                                  "--name", "X", "--out", os.path.join(self.dir, "bad1")])
        self.assertEqual(result.returncode, 2)
        self.assertIn("Index of Multiple Deprivation (IMD) Decile", result.stderr)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)

    def test_missing_onspd_column_fails(self):
        bad = os.path.join(self.dir, "onspd_no_doterm.csv")
        write_csv(bad, ONSPD_HEADER[:4] + ONSPD_HEADER[5:], [r[:4] + r[5:] for r in ONSPD_ROWS])
        result = self.run_script(["--onspd", bad, "--iod", self.iod, "--la", LA,
                                  "--name", "X", "--out", os.path.join(self.dir, "bad2")])
        self.assertEqual(result.returncode, 2)
        self.assertIn('no column "doterm"', result.stderr)

    def test_unknown_la_fails(self):
        result = self.run_script(["--onspd", self.onspd, "--iod", self.iod, "--la", "E08999009",
                                  "--name", "X", "--out", os.path.join(self.dir, "bad3")])
        self.assertEqual(result.returncode, 2)
        self.assertIn("no LSOA", result.stderr)

    def test_no_postcodes_fails(self):
        empty = os.path.join(self.dir, "onspd_other_la_only.csv")
        write_csv(empty, ONSPD_HEADER, [r for r in ONSPD_ROWS if r[5] == OTHER_LA])
        result = self.run_script(["--onspd", empty, "--iod", self.iod, "--la", LA,
                                  "--name", "X", "--out", os.path.join(self.dir, "bad4")])
        self.assertEqual(result.returncode, 2)
        self.assertIn("no live, located postcode", result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
