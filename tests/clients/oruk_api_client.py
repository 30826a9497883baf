#!/usr/bin/python3
"""The Open Referral UK 3.0 API of a real signpost-matching (over HTTPS), as an outside client sees
it: Python `requests` and `jsonschema` (Draft 2020-12 with format checking) against the schemas
vendored from the ORUK UK profile (tests/services/matching/data/oruk, SOURCE.md there).

- the directory is loaded over gRPC (DirectoryService.UpsertResource, Debian's python3-grpcio);
- GET /oruk answers the API details; GET /oruk/services paged through, at several page sizes,
  shows every service exactly once, total_items right on every page, every page valid;
- every GET /oruk/services/{id} is valid and fully nested; ids are UUIDs (Python's own uuid5 of
  the Signpost id, or the id itself when it is a UUID already);
- modified_after and taxonomy_term_id select the services they should, paged too;
- capacity (HSDS 3.1 `capacities`) follows a capacity update at once; a removed service is
  gone from the list and answers 404;
- bad parameters answer 400 naming the parameter, unknown ids and paths 404, all JSON;
- every answer carries Access-Control-Allow-Origin: *.

usage: oruk_api_client.py GEN MATCHING_GRPC HTTPS_BASE CA_CERT SCHEMA_DIR
"""
import copy
import datetime
import json
import sys
import time
import uuid

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
import jsonschema  # noqa: E402
import requests  # noqa: E402
from signpost.v1 import (common_pb2, directory_service_pb2, directory_service_pb2_grpc,  # noqa: E402
                         resource_pb2)

matching_addr, base, ca_cert, schema_dir = sys.argv[2:6]
api = base + "/oruk"
NAMESPACE = uuid.UUID("93c718db-7fd0-5c22-a215-f3317dfdda5b")  # services/matching/oruk_ids.h
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message, flush=True)
    return condition


def schema(name):
    with open(f"{schema_dir}/{name}") as f:
        return json.load(f)


def validator(document_schema):
    return jsonschema.Draft202012Validator(document_schema,
                                           format_checker=jsonschema.FormatChecker())


service_list_schema = schema("service_list.json")
page_schema = schema("page.json")
page_schema["properties"]["contents"]["items"] = service_list_schema  # the rewritten $ref
capacity_schema = schema("capacities.json")["items"]
validators = {
    "root": validator(schema("api_details.json")),
    "page": validator(page_schema),
    "service": validator(schema("service.json")),
    "capacity": validator(capacity_schema),
}


def errors(kind, document):
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validators[kind].iter_errors(document)]


def get(path, params=None, expect=200):
    response = requests.get(api + path, params=params, verify=ca_cert, timeout=30)
    check(response.headers.get("Access-Control-Allow-Origin") == "*",
          f"GET {path} {params}: no Access-Control-Allow-Origin: * "
          f"({response.status_code}, {dict(response.headers)})")
    check(response.headers.get("Content-Type", "").startswith("application/json"),
          f"GET {path} {params}: Content-Type {response.headers.get('Content-Type')}")
    check(response.status_code == expect,
          f"GET {path} {params}: {response.status_code}, expected {expect}: {response.text[:300]}")
    return response.json()


def rfc3339(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def oruk_id(kind, signpost_id):
    try:
        if str(uuid.UUID(signpost_id)) == signpost_id:
            return signpost_id
    except ValueError:
        pass
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{signpost_id}"))


NEEDS = [common_pb2.NEED_CATEGORY_LONELINESS, common_pb2.NEED_CATEGORY_HOUSING,
         common_pb2.NEED_CATEGORY_PHYSICAL_ACTIVITY]


def resource(i, signpost_id):
    r = resource_pb2.Resource(id=signpost_id, name=f"Service {i}",
                              description=f"Community service number {i}",
                              status=resource_pb2.RESOURCE_STATUS_ACTIVE)
    r.need_categories.append(NEEDS[i % len(NEEDS)])
    r.languages.append("en")
    if i % 2 == 0:
        r.organization.id = f"org-{i % 7}"
        r.organization.name = f"Organisation {i % 7}"
        r.organization.url = "https://example.org"
        r.contact.phone = "0113 000 0000"
        r.contact.email = f"service{i}@example.org"
    if i % 5 == 0:
        r.delivery_modes.append(common_pb2.DELIVERY_MODE_ONLINE)
    else:
        r.delivery_modes.append(common_pb2.DELIVERY_MODE_IN_PERSON)
        loc = r.locations.add(id=f"loc-{i}", name=f"Hall {i}",
                              type=resource_pb2.LOCATION_TYPE_PHYSICAL, postcode="LS6 3BR")
        loc.point.latitude = 53.80 + i / 1000
        loc.point.longitude = -1.55
        loc.address_lines.extend([f"{i} Main Street", "Leeds"])
    if i % 3 == 0:
        r.capacity.places_total = 10
        r.capacity.places_available = i % 10
        r.capacity.waitlist_open = True
    if i % 4 == 0:
        r.taxonomy_terms.append("Walking groups")
        r.schedules.add(freq="WEEKLY", byday=["MO", "TH"], opens_at="10:00", closes_at="12:00")
        r.free = True
    return r


def page_through(per_page, params=None):
    """Every page of GET /services at per_page; returns the ids seen, in order."""
    seen = []
    number = 1
    expected_total = None
    while True:
        page = get("/services", {**(params or {}), "page": number, "per_page": per_page})
        for e in errors("page", page)[:5]:
            check(False, f"page {number} at {per_page} {params}: {e}")
        if expected_total is None:
            expected_total = page["total_items"]
        check(page["total_items"] == expected_total,
              f"total_items moved while paging: {page['total_items']} then {expected_total}")
        check(page["page_number"] == number and page["size"] == len(page["contents"]) and
              page["first_page"] == (number == 1) and page["empty"] == (not page["contents"]) and
              page["total_pages"] == -(-expected_total // per_page),
              f"page {number} at {per_page} {params}: envelope "
              f"{ {k: v for k, v in page.items() if k != 'contents'} }")
        seen += [s["id"] for s in page["contents"]]
        if page["last_page"]:
            check(len(page["contents"]) == expected_total - (number - 1) * per_page,
                  f"last page {number} at {per_page}: {len(page['contents'])} services")
            break
        check(len(page["contents"]) == per_page, f"page {number} not full: {page['size']}")
        number += 1
        if not check(number <= 1000, "paging does not end"):
            break
    check(len(seen) == expected_total,
          f"paged at {per_page} {params}: {len(seen)} services, total_items {expected_total}")
    return seen


def main():
    directory = directory_service_pb2_grpc.DirectoryServiceStub(
        grpc.secure_channel(matching_addr.replace("127.0.0.1", "localhost"),
                            grpc.ssl_channel_credentials(open(ca_cert, "rb").read())))
    # The directory is empty and loaded: 200 with no services (a loading one answers 503).
    deadline = time.monotonic() + 60
    while True:
        response = requests.get(api + "/services", verify=ca_cert, timeout=30)
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    check(response.status_code == 200, f"GET /services never ready: {response.status_code}")
    check(response.json()["total_items"] == 0, f"a fresh directory: {response.text[:200]}")

    # Two batches: the second after a cut-off the first is wholly before.
    ids = [f"oruk-test-{i:03d}" for i in range(120)]
    ids += [str(uuid.uuid4()) for _ in range(3)]  # ids imported from an ORUK feed
    resources = {sid: resource(i, sid) for i, sid in enumerate(ids)}
    first, second = ids[:90], ids[90:]
    for sid in first:
        directory.UpsertResource(directory_service_pb2.UpsertResourceRequest(
            resource=resources[sid]), timeout=30)
    modified = [rfc3339(get(f"/services/{oruk_id('service', sid)}")["last_modified"])
                for sid in first]
    cut = max(modified) + datetime.timedelta(milliseconds=1)
    time.sleep(0.01)  # the second batch's clock is past the cut
    for sid in second:
        directory.UpsertResource(directory_service_pb2.UpsertResourceRequest(
            resource=resources[sid]), timeout=30)
    expected = {oruk_id("service", sid): sid for sid in ids}
    check(len(expected) == len(ids), "two Signpost ids with one ORUK id")

    root = get("")
    check(not errors("root", root), f"GET /oruk: {errors('root', root)}")
    check(root.get("version") == "HSDS-UK-3.0", f"GET /oruk: {root}")
    check(get("/") == root, "GET /oruk/ differs from GET /oruk")

    # Paged through at several sizes: every service once, in the same order each time.
    default = get("/services")
    check(default["total_items"] == len(ids) and default["size"] == 50,
          f"default page: total {default['total_items']}, size {default['size']}")
    orders = {}
    for per_page in (1, 25, 50, 200):
        seen = page_through(per_page)
        check(len(set(seen)) == len(seen), f"at {per_page} a service came twice")
        check(set(seen) == set(expected), f"at {per_page}: missing "
              f"{sorted(set(expected) - set(seen))[:5]}, unknown {sorted(set(seen) - set(expected))[:5]}")
        orders[per_page] = seen
    check(len({tuple(o) for o in orders.values()}) == 1, "the order differs between page sizes")
    beyond = get("/services", {"page": 99, "per_page": 50})
    check(beyond["empty"] and beyond["contents"] == [] and beyond["total_items"] == len(ids),
          f"a page past the end: {beyond}")

    # Every service, fully nested.
    for oruk, sid in expected.items():
        service = get(f"/services/{oruk}")
        for e in errors("service", service)[:5]:
            check(False, f"service {sid}: {e}")
        r = resources[sid]
        check(service["id"] == oruk and service["signpost_id"] == sid and
              service["name"] == r.name and service["status"] == "active",
              f"service {sid}: {service['id']} {service.get('signpost_id')} {service['name']}")
        rfc3339(service["last_modified"])  # raises when it is not RFC 3339
        for at in service["service_at_locations"]:
            location = at["location"]
            check(at["location_id"] == location["id"] and "latitude" in location and
                  location["addresses"][0]["postal_code"] == "LS6 3BR",
                  f"service {sid}: location {location}")
        check(len(service["service_at_locations"]) == len(r.locations),
              f"service {sid}: {len(service['service_at_locations'])} locations")
        if r.organization.id:
            check(service["organization"]["id"] == oruk_id("organization", r.organization.id) ==
                  service["organization_id"], f"service {sid}: organisation {service.get('organization')}")
        terms = {a["taxonomy_term"]["term"] for a in service["attributes"]}
        check(common_pb2.NeedCategory.Name(r.need_categories[0]) in terms,
              f"service {sid}: attributes {terms}")
        if r.capacity.places_total:
            capacity = service["capacities"]
            check(len(capacity) == 1 and capacity[0]["available"] == r.capacity.places_available
                  and capacity[0]["maximum"] == 10, f"service {sid}: capacities {capacity}")
            for c in capacity:
                for e in errors("capacity", c):
                    check(False, f"service {sid} capacity: {e}")
        else:
            check(service["capacities"] == [], f"service {sid}: capacities {service['capacities']}")
    # A Signpost id is accepted as given.
    check(get(f"/services/{ids[7]}")["id"] == oruk_id("service", ids[7]), "by Signpost id")

    # The validators do assert formats: a service with a bad uuid or a bad status is refused.
    sample = get(f"/services/{oruk_id('service', ids[0])}")
    broken = copy.deepcopy(sample)
    broken["id"] = "oruk-test-000"
    check(errors("service", broken), "the schema check accepts a non-uuid id")
    broken = copy.deepcopy(sample)
    broken["status"] = "open"
    check(errors("service", broken), "the schema check accepts status 'open'")

    # modified_after: on or after, paged too.
    after = cut.isoformat().replace("+00:00", "Z")
    newer = page_through(7, {"modified_after": after})
    check(set(newer) == {oruk_id("service", sid) for sid in second},
          f"modified_after {after}: {len(newer)} services, expected {len(second)}")
    check(page_through(50, {"modified_after": "2000-01-01T00:00:00+01:00"}) == orders[50],
          "modified_after long ago: not every service in order")
    # An offset's '+' as typed, not percent-encoded (curl, a browser's address bar): the query
    # string reads it as a space; the API takes it as the '+' it was.
    typed = requests.get(api + "/services?per_page=200&modified_after=2000-01-01T00:00:00+01:00",
                         verify=ca_cert, timeout=30)
    check(typed.status_code == 200 and typed.json()["total_items"] == len(orders[50]),
          f"modified_after with a '+' not encoded: {typed.status_code} {typed.text[:200]}")
    # taxonomy_term_id: by the term's code, and by its id as the services show it.
    housing = [sid for sid in ids if resources[sid].need_categories[0] == common_pb2.NEED_CATEGORY_HOUSING]
    by_code = page_through(10, {"taxonomy_term_id": "NEED_CATEGORY_HOUSING"})
    check(set(by_code) == {oruk_id("service", sid) for sid in housing},
          f"taxonomy_term_id: {len(by_code)} services, expected {len(housing)}")
    term_id = next(a["taxonomy_term_id"] for a in get(f"/services/{oruk_id('service', housing[0])}")
                   ["attributes"] if a["taxonomy_term"]["term"] == "NEED_CATEGORY_HOUSING")
    check(page_through(10, {"taxonomy_term_id": term_id}) == by_code, "taxonomy_term_id by id")
    check(get("/services", {"search": "SERVICE 42"})["total_items"] == 1, "search 'SERVICE 42'")

    # Capacity is live: an update shows at once.
    with_places = next(sid for sid in ids if resources[sid].capacity.places_total)
    directory.UpdateCapacity(directory_service_pb2.UpdateCapacityRequest(
        id=with_places, places_available=3, waitlist_open=False), timeout=30)
    capacity = get(f"/services/{oruk_id('service', with_places)}")["capacities"][0]
    check(capacity["available"] == 3 and "closed" in capacity["description"],
          f"after UpdateCapacity: {capacity}")

    # A removed service is gone.
    gone = ids[11]
    directory.RemoveResource(directory_service_pb2.RemoveResourceRequest(id=gone), timeout=30)
    remaining = page_through(40)
    check(len(remaining) == len(ids) - 1 and oruk_id("service", gone) not in remaining,
          f"after a removal: {len(remaining)} services")
    missing = get(f"/services/{oruk_id('service', gone)}", expect=404)
    check("message" in missing, f"404 body: {missing}")
    get(f"/services/{uuid.uuid4()}", expect=404)
    get("/nothing-here", expect=404)

    # Bad parameters: 400, naming the parameter.
    for name, value in [("page", "0"), ("page", "two"), ("per_page", "201"), ("per_page", "0"),
                        ("modified_after", "yesterday"), ("modified_after", "2026-01-31")]:
        answer = get("/services", {name: value}, expect=400)
        check(answer.get("parameter") == name and name in answer.get("message", ""),
              f"{name}={value}: {answer}")

    if failures:
        print(f"{len(failures)} failures")
        sys.exit(1)
    print(f"ORUK API: {len(ids)} services paged through at 1, 25, 50, 200 and filtered; "
          "every page and service valid against the vendored ORUK 3.0 schemas")


if __name__ == "__main__":
    main()
