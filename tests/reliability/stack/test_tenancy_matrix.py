"""Every admin route (from the served OpenAPI document) x every kind of caller: the right status, no leaks.

Callers: nobody (no token: the gateway's 401), staff of the practice without the line, staff of another
practice, a manager of another practice, and an admin. What each may do is read from the route's own code
(which `require_*` rule it applies, directly or through a helper of its module), so a new route is checked
the day it is added; a new request body needs an example below (the test says which).

Bodies of refused callers, and of allowed ones, must carry nothing of the practice they are not part of, and
staff without the line must not see its patients. Nothing a refused caller asked for may change anything.
"""

from __future__ import annotations

import ast
import itertools
import json
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.clock import ORDER_CONTACT, PRACTICE_ADDRESS, loa
from tests.integration.conftest import ROOT
from tests.reliability.conftest import TEMPLATE, ReliabilityStack, eventually, new_phone

pytestmark = pytest.mark.integration

RULES = ("require_admin", "require_manager", "require_line", "require_member")  # strictest first
OK = "2xx"
EXPECTED: dict[str, dict[str, int | str]] = {
    "require_admin": {"no_token": 401, "staff_without_line": 403, "other_staff": 403, "other_manager": 403,
                      "admin": OK},
    "require_manager": {"no_token": 401, "staff_without_line": 403, "other_staff": 404, "other_manager": 404,
                        "admin": OK},
    "require_line": {"no_token": 401, "staff_without_line": 403, "other_staff": 404, "other_manager": 404,
                     "admin": OK},
    "require_member": {"no_token": 401, "staff_without_line": OK, "other_staff": 404, "other_manager": 404,
                       "admin": OK},
    "signed_in": {"no_token": 401, "staff_without_line": OK, "other_staff": OK, "other_manager": OK, "admin": OK},
}
PERSONAS = ("no_token", "staff_without_line", "other_staff", "other_manager", "admin")
LOA = loa("dana@maple-clinic.com")  # signed a week before the run: never in the future
QUERY_EXAMPLES = {"area_code": "415", "q": "appointment"}
# A picture staff attach to a reply: a PNG's signature and header are what the API checks.
PICTURE = {"content_type": "image/png",
           "data": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="}
# Path parameters naming things the admin API cannot create (campaigns come from the integration API): the
# example practice has none, so an admin is told 404; everyone else must still be refused first.
NOTHING_TO_FIND = ("campaign_id",)
_hosted = itertools.count(100)


def _calls(function: ast.FunctionDef, module: dict[str, ast.FunctionDef], seen: frozenset[str]) -> set[str]:
    """Names a function calls, with what the module's own helpers it calls call in turn."""
    names: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name:
                names.add(name)
            if isinstance(node.func, ast.Name) and name in module and name not in seen:
                names |= _calls(module[name], module, seen | {name})
    return names


def access_rules() -> dict[str, str]:
    """Route function name -> the strictest access rule it applies (through module helpers too)."""
    rules: dict[str, str] = {}
    for file in sorted((ROOT / "functions" / "admin_api" / "routes").glob("*.py")):
        tree = ast.parse(file.read_text())
        module = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
        for name, function in module.items():
            if any(isinstance(d, ast.Call) and getattr(d.func, "attr", "") in ("get", "post", "put", "patch", "delete")
                   for d in function.decorator_list):
                names = _calls(function, module, frozenset({name}))
                rules[name] = next((rule for rule in RULES if rule in names), "signed_in")
    return rules


@dataclass
class Operation:
    method: str
    path: str
    function: str
    rule: str
    body_schema: str | None
    query: list[str]

    @property
    def destructive_rank(self) -> int:
        """Admins run the routes in this order, so that each finds what it needs still there."""
        ends = self.path.rsplit("/", 1)[-1]
        if ends == "disable":
            return 0
        if ends == "enable":
            return 1
        # Opting the patient out stops every later reply to them: after the routes that text.
        return {"release": 3, "opt-out": 3, "revoke": 4, "cancel": 4}.get(ends, 5 if self.method == "DELETE" else 2)


def operations(document: dict[str, Any]) -> list[Operation]:
    rules = access_rules()
    found = []
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            # Powertools names an operation `<function>_<path>_<method>`; the function may contain "_api_" too
            named = [f for f in rules if spec["operationId"].startswith(f"{f}_api_")]
            assert named, f"{method.upper()} {path}: no route function for {spec['operationId']} under routes/"
            function = max(named, key=len)
            body = (((spec.get("requestBody") or {}).get("content") or {}).get("application/json") or {})
            ref = (body.get("schema") or {}).get("$ref")
            query = [p["name"] for p in spec.get("parameters", []) if p["in"] == "query" and p.get("required")]
            found.append(Operation(method.upper(), path, function, rules[function],
                                   ref.rsplit("/", 1)[1] if ref else None, query))
    return found


@dataclass
class World:
    """Practice A (the target, with its data) and practice B (where the outsiders work)."""

    stack: ReliabilityStack
    a: dict[str, Any]
    b: dict[str, Any]
    tokens: dict[str, str | None]

    def path_values(self, path: str = "") -> dict[str, str]:
        # A carrier order's routes need a text-enabled landline whose order failed (retry, then cancel the new one).
        line = self.a["hosted"] if "/order/" in path else self.a["line2"]
        return {"practice_id": self.a["practice_id"], "line_id": line["line_id"],
                "workflow_id": self.a["workflow2"]["workflow_id"], "resource_id": self.a["resource_id"],
                "quick_id": self.a["quick_id"], "user_id": self.a["throwaway_user"],
                "phone": self.a["patient"], "key_id": self.a["key_id"], "patient_id": "mrn-1",
                **{name: f"none-{name}" for name in NOTHING_TO_FIND}}

    def secrets_of_a(self) -> list[str]:
        """What nobody outside practice A may ever see."""
        a = self.a
        values = [a["practice_id"], a["name"], a["address_sid"], a["line1"]["line_id"], a["line2"]["line_id"],
                  a["hosted"]["line_id"], a["key_id"],
                  a["workflow"]["workflow_id"], a["workflow2"]["workflow_id"], a["resource_id"], a["quick_id"],
                  a["throwaway_user"], a["throwaway_email"], a["staff_email"],
                  a["workflow"]["webhook_url"].rsplit("/", 1)[1], a["inbound_body"]]
        for number in (a["line1"]["number"], a["line2"]["number"], a["hosted"]["number"], a["patient"],
                       a["verified_phone"]):
            values += [number, number[2:], a_display(number)]
        return values

    def patients_of_line2(self) -> list[str]:
        return [self.a["patient"], self.a["patient"][2:], a_display(self.a["patient"]), self.a["inbound_body"]]


def a_display(e164: str) -> str:
    return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"


def build_world(stack: ReliabilityStack) -> World:
    a_clinic, b_clinic = stack.new_clinic(f"Maple {uuid.uuid4().hex[:6]}"), stack.new_clinic()
    p = a_clinic.practice_id
    offered = stack.api("GET", f"/api/practices/{p}/available-numbers?area_code=415").body
    line2 = stack.api("POST", f"/api/practices/{p}/lines/purchase",
                      {"display_name": "Second", "number": offered[0]["phone_number"]}).body
    address = stack.api("PUT", f"/api/practices/{p}/address", PRACTICE_ADDRESS)
    assert address.status == 200, address.body
    hosted = stack.api("POST", f"/api/practices/{p}/lines",
                       {"display_name": "Landline", "number": f"(312) 555-0{next(_hosted):03d}",
                        "authorization": LOA, "contact": ORDER_CONTACT}).body
    order = next(o for o in stack.sandbox("GET", "/sandbox/orders")["orders"] if o["phone_number"] == hosted["number"])
    stack.sandbox("POST", f"/sandbox/orders/{order['sid']}/fail", {"failure_reason": "Number is not portable"})
    stack.run_schedule("StatusPollerFunction")
    assert stack.api("GET", f"/api/practices/{p}/lines/{hosted['line_id']}").body["status"] == "failed"
    workflow2 = stack.api("POST", f"/api/practices/{p}/workflows",
                          {"name": "Spare", "kind": "abandoned_call", "vendor": "jive",
                           "line_id": a_clinic.line["line_id"], "template": TEMPLATE}).body
    resource = stack.api("POST", f"/api/practices/{p}/resources", {"name": "Main office"}).body
    assert stack.api("PUT", f"/api/practices/{p}/resources/{resource['resource_id']}/line",
                     {"line_id": a_clinic.line["line_id"]}).status == 200
    quick = stack.api("POST", f"/api/practices/{p}/quick-responses", {"title": "Hours", "body": "We open at 8."}).body
    api_key = stack.api("POST", f"/api/practices/{p}/api-keys", {"name": "Front desk app"})
    verified = new_phone()
    assert stack.api("POST", f"/api/practices/{p}/patients",
                     {"patient_id": "mrn-1", "name": "Pat Example", "phone": verified}).status == 201
    # Closed all week, so the patient's text always gets its after-hours reply, whatever time the test runs;
    # the snapshot is taken once that reply is delivered, so nothing is still in flight.
    assert stack.api("PATCH", f"/api/practices/{p}", {"hours": {}}).status == 200
    patient, inbound = new_phone(), f"Is my appointment on Tuesday {uuid.uuid4().hex[:6]}?"
    sent = stack.sandbox("POST", "/sandbox/inbound/sms", {"from": patient, "to": line2["number"], "body": inbound})
    assert sent["status"] == 200, sent
    thread = f"/api/practices/{p}/lines/{line2['line_id']}/conversations/{urllib.parse.quote(patient)}"
    assert eventually(lambda: any(m["sender"] == "auto_response" and m["status"] == "delivered"
                                  for m in stack.api("GET", thread).body.get("messages", []))), "no after-hours reply"
    suffix = uuid.uuid4().hex[:6]
    people = {"staff_without_line": (f"sam{suffix}@maple-clinic.com", p, "staff", []),
              "throwaway": (f"tmp{suffix}@maple-clinic.com", p, "staff", []),
              "other_staff": (f"olu{suffix}@birch-clinic.com", b_clinic.practice_id, "staff",
                              [b_clinic.line["line_id"]]),
              "other_manager": (f"mia{suffix}@birch-clinic.com", b_clinic.practice_id, "manager", []),
              "manager": (f"max{suffix}@maple-clinic.com", p, "manager", [])}
    user_ids: dict[str, str] = {}
    for persona, (email, practice_id, role, lines) in people.items():
        added = stack.api("POST", f"/api/practices/{practice_id}/users",
                          {"email": email, "name": "Person", "role": role, "line_ids": lines})
        assert added.status == 201, added.body
        user_ids[persona] = added.body["user_id"]
    tokens: dict[str, str | None] = {"no_token": None, "admin": stack.token()}
    for persona in ("staff_without_line", "other_staff", "other_manager", "manager"):
        email, _, role, _ = people[persona]
        tokens[persona] = stack.token(email, (role,))
    a = {"practice_id": p, "name": a_clinic.name, "line1": a_clinic.line, "line2": line2, "hosted": hosted,
         "address_sid": address.body["address"]["address_sid"],
         "workflow": a_clinic.workflow, "workflow2": workflow2, "resource_id": resource["resource_id"],
         "quick_id": quick["quick_response_id"],
         "patient": patient, "inbound_body": inbound, "verified_phone": verified,
         "throwaway_user": user_ids["throwaway"], "throwaway_email": people["throwaway"][0],
         "manager_user": user_ids["manager"],
         "staff_email": people["staff_without_line"][0],
         "key_id": api_key.body.get("key_id", "no-key") if api_key.status == 201 else "no-key"}
    a["attachment_id"] = attached(stack, thread)
    b_resource = stack.api("POST", f"/api/practices/{b_clinic.practice_id}/resources", {"name": "Birch office"}).body
    b_patient = new_phone()
    assert stack.sandbox("POST", "/sandbox/inbound/sms", {"from": b_patient, "to": b_clinic.line["number"],
                                                         "body": "Hello"})["status"] == 200
    b_thread = (f"/api/practices/{b_clinic.practice_id}/lines/{b_clinic.line['line_id']}/conversations/"
                f"{urllib.parse.quote(b_patient)}")
    b = {"practice_id": b_clinic.practice_id, "line_id": b_clinic.line["line_id"],
         "resource_id": b_resource["resource_id"], "user_id": user_ids["other_staff"],
         "attachment_id": attached(stack, b_thread)}
    return World(stack, a, b, tokens)


def attached(stack: ReliabilityStack, thread: str) -> str:
    """A picture attached (by the admin) on a conversation, for a reply to name."""
    answer = stack.api("POST", f"{thread}/attachments", PICTURE)
    assert answer.status == 201, answer.body
    return str(answer.body["attachment_id"])


def example_bodies(world: World) -> dict[str, Callable[[], Any]]:
    stack, a = world.stack, world.a

    def fresh_number() -> str:
        return stack.api("GET", f"/api/practices/{a['practice_id']}/available-numbers?area_code=415").body[0][
            "phone_number"]

    return {
        "NewPractice": lambda: {"name": f"Matrix {uuid.uuid4().hex[:6]}", "timezone": "America/Chicago"},
        "PracticeChanges": lambda: {"help_text": "Reply STOP to opt out."},
        "PracticeAddress": lambda: PRACTICE_ADDRESS,
        "NewPurchasedLine": lambda: {"display_name": "Matrix line", "number": fresh_number()},
        "NewHostedLine": lambda: {"display_name": "Hosted", "number": f"(312) 555-0{next(_hosted):03d}",
                                  "authorization": LOA, "contact": ORDER_CONTACT},
        "LineChanges": lambda: {"help_text": "Call the matrix wing."},
        "ReleaseRequest": lambda: {"confirm_number": a["line2"]["number"]},
        "ForwardingRequest": lambda: {"forwarding": None},
        "EmergencyCloseRequest": lambda: {"reason": "Matrix drill",
                                          "reopens_at": (datetime.now(UTC) + timedelta(minutes=5)).isoformat()},
        "NewResource": lambda: {"name": "Matrix room"},
        "LineLink": lambda: {"line_id": a["line1"]["line_id"]},
        "NewUser": lambda: {"email": f"u{uuid.uuid4().hex[:8]}@maple-clinic.com", "name": "New person",
                            "role": "staff"},
        "UserChanges": lambda: {"name": "Renamed person"},
        "NewWorkflow": lambda: {"name": "Matrix workflow", "kind": "call_to_text", "vendor": "jive",
                                "line_id": a["line1"]["line_id"], "template": TEMPLATE},
        "WorkflowChanges": lambda: {"name": "Renamed workflow"},
        "Draft": lambda: {"body": "See you Tuesday."},
        "Picture": lambda: PICTURE,
        "Assignment": lambda: {"user_id": None},
        "Snooze": lambda: {"until": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
        "NewQuickResponse": lambda: {"title": "Parking", "body": "Park behind the building."},
        "QuickResponseChanges": lambda: {"title": "Parking lot"},
        "NewPatient": lambda: {"patient_id": f"mrn-{uuid.uuid4().hex[:6]}", "name": "Lee Example",
                               "phone": new_phone()},
        "PatientChanges": lambda: {"name": "Pat Renamed"},
        "NewCampaign": lambda: {"name": "Recall", "line_id": a["line1"]["line_id"], "template": "Time for a check-up.",
                                "recipients": [{"patient_id": "mrn-1"}]},
        "UrlCheck": lambda: {"url": a["workflow"]["webhook_url"]},
        "SegmentRequest": lambda: {"text": "Hello"},
        "EnterpriseSettings": lambda: {"cross_practice_matching": False},
        "NewApiKey": lambda: {"name": "Matrix key"},
    }


def request_for(world: World, operation: Operation, bodies: dict[str, Callable[[], Any]]) -> tuple[str, Any]:
    path = operation.path
    values = world.path_values(path)
    for name, value in values.items():
        path = path.replace("{" + name + "}", urllib.parse.quote(value, safe=""))
    assert "{" not in path, f"{operation.method} {operation.path}: no example value for a path parameter"
    missing = [q for q in operation.query if q not in QUERY_EXAMPLES]
    assert not missing, f"{operation.method} {operation.path}: add an example for query {missing}"
    if operation.query:
        path += "?" + urllib.parse.urlencode({q: QUERY_EXAMPLES[q] for q in operation.query})
    body = None
    if operation.body_schema:
        assert operation.body_schema in bodies, f"add an example body for {operation.body_schema}"
        body = bodies[operation.body_schema]()
    return path, body


def snapshot(world: World) -> dict[str, Any]:
    """What practice A looks like to its admin: every refused call must leave it exactly so."""
    p = world.a["practice_id"]
    # The thread before the trail: its first opening in the admin's session goes on the trail, once.
    reads = ["", "/lines", "/users", "/workflows", "/resources", "/quick-responses", "/patients", "/inbox",
             f"/lines/{world.a['line2']['line_id']}/conversations/{urllib.parse.quote(world.a['patient'])}",
             "/audit?limit=200"]
    return {read: world.stack.api("GET", f"/api/practices/{p}{read}").body for read in reads} | {
        "texts": len(world.stack.sent_from(world.a["line2"]["number"])),
        "enterprise": world.stack.api("GET", "/api/enterprise").body,
        "practices": sorted(x["practice_id"] for x in world.stack.api("GET", "/api/practices").body)}


def test_every_admin_route_for_every_kind_of_caller(stack):
    world = build_world(stack)
    document = stack.api("GET", "/api/openapi.json").body
    ops = operations(document)
    assert len(ops) >= 30, "the OpenAPI document lists suspiciously few operations"
    bodies = example_bodies(world)
    before = snapshot(world)
    wrong: list[str] = []
    leaks: list[str] = []
    for persona in PERSONAS[:-1]:
        for operation in ops:
            path, body = request_for(world, operation, bodies)
            reply = stack.api(operation.method, path, body, token=world.tokens[persona])
            expected = EXPECTED[operation.rule][persona]
            if not (reply.status == expected or (expected == OK and 200 <= reply.status < 300)):
                wrong.append(f"{persona:>18} {operation.method:6} {operation.path} ({operation.rule}): "
                             f"{reply.status}, expected {expected}: {str(reply.body)[:160]}")
            text = reply.raw.decode(errors="replace")
            secrets = world.secrets_of_a() if persona.startswith("other") else world.patients_of_line2()
            shown = [s for s in secrets if s and s in text]
            if shown:
                leaks.append(f"{persona} {operation.method} {operation.path}: shows {len(shown)} of A's values")
    assert not wrong, "\n" + "\n".join(wrong)
    assert not leaks, "\n" + "\n".join(leaks)
    assert snapshot(world) == before, "a refused or read-only call changed practice A"

    for operation in sorted(ops, key=lambda op: op.destructive_rank):
        if operation.path.endswith("/release"):  # only a disabled line nothing depends on may be released
            lines = f"/api/practices/{world.a['practice_id']}/lines"
            stack.api("POST", f"{lines}/{world.a['line1']['line_id']}/primary")
            stack.api("POST", f"{lines}/{world.a['line2']['line_id']}/disable")
        path, body = request_for(world, operation, bodies)
        reply = stack.api(operation.method, path, body, token=world.tokens["admin"])
        nothing_there = any("{" + name + "}" in operation.path for name in NOTHING_TO_FIND)
        if not (200 <= reply.status < 300 or (nothing_there and reply.status == 404)):
            wrong.append(f"admin {operation.method} {operation.path}: {reply.status} {str(reply.body)[:200]}")
    assert not wrong, "\n" + "\n".join(wrong)


def test_the_openapi_document_itself_needs_a_token(stack):
    assert stack.api("GET", "/api/openapi.json", token=None).status == 401
    assert stack.api("GET", "/api/openapi.json", token="not-a-jwt").status == 401


# Body fields that name something else of the practice (never the new thing's own id, as a patient's MRN is).
REFERENCES = ("line_id", "line_ids", "linked_line_id", "primary_line_id", "resource_id", "user_id", "attachment_ids")


def references_in(value: Any, where: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += [(*where, key)] if key in REFERENCES else references_in(inner, (*where, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += references_in(inner, (*where, index))
    return found


def substituted(body: Any, where: tuple[Any, ...], b: dict[str, str]) -> Any:
    """The body with the field at `where` naming practice B's thing of that kind instead."""
    copy = json.loads(json.dumps(body))
    target = copy
    for step in where[:-1]:
        target = target[step]
    key = where[-1]
    if key in ("line_ids", "attachment_ids"):
        target[key] = [b["line_id" if key == "line_ids" else "attachment_id"]]
    else:
        target[key] = b[key if key in ("resource_id", "user_id") else "line_id"]
    return copy


def test_no_write_route_takes_an_id_of_another_practice(stack):
    """For every write route, each id in its body is swapped for one of another practice and sent by a manager
    of the path's practice (who may use the route): never accepted."""
    world = build_world(stack)
    a = world.a
    bodies = example_bodies(world) | {  # the examples, with every reference a body can carry filled in
        "ForwardingRequest": lambda: {"forwarding": {"linked_line_id": a["line1"]["line_id"]}},
        "NewUser": lambda: {"email": f"u{uuid.uuid4().hex[:8]}@maple-clinic.com", "name": "New person",
                            "role": "staff", "line_ids": [a["line1"]["line_id"]]},
        "UserChanges": lambda: {"line_ids": [a["line1"]["line_id"]]},
        "Assignment": lambda: {"user_id": a["manager_user"]},
        "Draft": lambda: {"body": "See you Tuesday.", "attachment_ids": [a["attachment_id"]]},
    }
    writes = [op for op in operations(stack.api("GET", "/api/openapi.json").body)
              if op.method in ("POST", "PUT", "PATCH") and op.body_schema]
    tried, accepted = 0, []
    for operation in writes:
        path, body = request_for(world, operation, bodies)
        for where in references_in(body):
            tried += 1
            reply = stack.api(operation.method, path, substituted(body, where, world.b), token=world.tokens["manager"])
            if 200 <= reply.status < 300 or reply.status >= 500:
                accepted.append(f"{operation.method} {operation.path} with {'.'.join(map(str, where))} of B: "
                                f"{reply.status} {str(reply.body)[:160]}")
    assert tried >= 5, "the write routes' example bodies carry suspiciously few ids"
    assert not accepted, "\n" + "\n".join(accepted)


INTEGRATION_REFERENCES = ("line_id", "resource_id", "patient_id")


def test_no_integration_write_takes_an_id_of_another_practice(stack):
    """The integration API, with practice A's key: each id in a write route's body swapped for one of practice B
    (a line, a location, a verified patient) is never accepted, and nothing is texted from B's line. B's
    campaigns cannot be read or cancelled with A's key."""
    a_clinic, b_clinic = stack.new_clinic(), stack.new_clinic()
    ids: dict[str, dict[str, str]] = {}
    for side, clinic in (("a", a_clinic), ("b", b_clinic)):
        p = clinic.practice_id
        resource = stack.api("POST", f"/api/practices/{p}/resources", {"name": "Office"}).body["resource_id"]
        assert stack.api("PUT", f"/api/practices/{p}/resources/{resource}/line",
                         {"line_id": clinic.line["line_id"]}).status == 200
        patient = f"mrn-{side}-{uuid.uuid4().hex[:6]}"
        assert stack.api("POST", f"/api/practices/{p}/patients",
                         {"patient_id": patient, "name": "Pat Example", "phone": new_phone()}).status == 201
        key = stack.api("POST", f"/api/practices/{p}/api-keys", {"name": "EMR"}).body["key"]
        ids[side] = {"line_id": clinic.line["line_id"], "resource_id": resource, "patient_id": patient, "key": key}
    a, b = ids["a"], ids["b"]

    def integration(method: str, path: str, body: Any = None, key: str = a["key"]) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        return stack.http(method, f"{stack.api_url}{path}", body=data,
                          headers={"X-Api-Key": key, "Content-Type": "application/json"})

    examples = {
        "SendRequest": lambda: {"patient_id": a["patient_id"], "line_id": a["line_id"], "text": "See you Tuesday.",
                                "idempotency_key": uuid.uuid4().hex},
        "SendRequestFromLocation": lambda: {"patient_id": a["patient_id"], "resource_id": a["resource_id"],
                                            "text": "See you Tuesday.", "idempotency_key": uuid.uuid4().hex},
        "NewCampaign": lambda: {"name": "Recall", "line_id": a["line_id"], "template": "Time for a check-up.",
                                "recipients": [{"patient_id": a["patient_id"]}]},
        "NewCampaignFromLocation": lambda: {"name": "Recall", "resource_id": a["resource_id"],
                                            "template": "Time for a check-up.",
                                            "recipients": [{"patient_id": a["patient_id"]}]},
    }
    document = integration("GET", "/v1/openapi.json").body
    writes = []
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            schema = (((spec.get("requestBody") or {}).get("content") or {}).get("application/json") or {}).get(
                "schema") or {}
            if method in ("post", "put", "patch") and "$ref" in schema:
                writes.append((method.upper(), path, schema["$ref"].rsplit("/", 1)[1]))
    assert {name for _, _, name in writes} == {"SendRequest", "NewCampaign"}, "a new write route needs examples"

    def swapped(value: Any) -> list[tuple[str, Any]]:
        found: list[tuple[str, Any]] = []
        if isinstance(value, dict):
            for field, inner in value.items():
                if field in INTEGRATION_REFERENCES:
                    found.append((field, {**value, field: b[field]}))
                else:
                    found += [(f"{field}.{where}", {**value, field: changed}) for where, changed in swapped(inner)]
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                found += [(f"{index}.{where}", [*value[:index], changed, *value[index + 1:]])
                          for where, changed in swapped(inner)]
        return found

    b_number = b_clinic.line["number"]
    texts_from_b = len(stack.sent_from(b_number))
    tried, accepted = 0, []
    for method, path, schema in writes:
        for name, make in examples.items():
            if not name.startswith(schema):
                continue
            body = make()
            assert 200 <= integration(method, path, body).status < 300, f"{name} as written must be accepted"
            for where, changed in swapped(body):
                tried += 1
                reply = integration(method, path, changed)
                if 200 <= reply.status < 300 or reply.status >= 500:
                    accepted.append(f"{method} {path} with {where} of B: {reply.status} {str(reply.body)[:160]}")
    assert tried >= 8, "the integration examples carry suspiciously few ids"
    assert not accepted, "\n" + "\n".join(accepted)
    assert stack.wait_idle()
    assert len(stack.sent_from(b_number)) == texts_from_b, "something was texted from B's line with A's key"

    theirs = integration("POST", "/v1/campaigns", {"name": "Theirs", "line_id": b["line_id"], "template": "Hi.",
                                                   "recipients": [{"patient_id": b["patient_id"]}]}, key=b["key"])
    assert theirs.status == 201, theirs.body
    campaign = theirs.body["campaign_id"]
    assert integration("GET", f"/v1/campaigns/{campaign}").status == 404
    assert integration("POST", f"/v1/campaigns/{campaign}/cancel").status == 404
    assert integration("GET", f"/v1/campaigns/{campaign}", key=b["key"]).body["status"] != "canceled"
