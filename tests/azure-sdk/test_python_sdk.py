"""Azure's own Python SDKs (Debian's python3-azure) against a running Drawbridge server.

Only the endpoint and the credential differ from a script written for Azure. Run by AzureSdkTests.cs with
DRAWBRIDGE_ENDPOINT, DRAWBRIDGE_TOKEN, DRAWBRIDGE_SUBSCRIPTION, DRAWBRIDGE_VM_ID and REQUESTS_CA_BUNDLE set.
"""
import datetime
import os
import time
import unittest

from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.security import SecurityCenter

ENDPOINT = os.environ["DRAWBRIDGE_ENDPOINT"]
SUBSCRIPTION = os.environ["DRAWBRIDGE_SUBSCRIPTION"]
VM_ID = os.environ["DRAWBRIDGE_VM_ID"]
GROUP, LOCATION = "default", "local"


class DrawbridgeToken:
    """A TokenCredential that hands out a Drawbridge API token instead of an Entra ID one."""

    def get_token(self, *scopes, **kwargs):
        return AccessToken(os.environ["DRAWBRIDGE_TOKEN"], int(time.time()) + 3600)


SECURITY = SecurityCenter(DrawbridgeToken(), SUBSCRIPTION, base_url=ENDPOINT)
NETWORK = NetworkManagementClient(DrawbridgeToken(), SUBSCRIPTION, base_url=ENDPOINT)
COMPUTE = ComputeManagementClient(DrawbridgeToken(), SUBSCRIPTION, base_url=ENDPOINT)


class JitPolicies(unittest.TestCase):
    def test_create_list_initiate_delete(self):
        name = "py-sdk-policy"
        policies = SECURITY.jit_network_access_policies
        created = policies.create_or_update(GROUP, LOCATION, name, {
            "kind": "Basic",
            "properties": {"virtualMachines": [{"id": VM_ID, "ports": [
                {"number": 22, "protocol": "*", "allowedSourceAddressPrefix": "*", "maxRequestAccessDuration": "PT3H"}]}]},
        })
        self.assertEqual(created.name, name)
        self.assertEqual(created.virtual_machines[0].ports[0].max_request_access_duration, "PT3H")

        for listed in (policies.list(), policies.list_by_region(LOCATION), policies.list_by_resource_group(GROUP),
                       policies.list_by_resource_group_and_region(GROUP, LOCATION)):
            self.assertIn(name, [p.name for p in listed])

        end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=30)
        request = policies.initiate(GROUP, LOCATION, name, {
            "virtualMachines": [{"id": VM_ID, "ports": [{"number": 22, "endTimeUtc": end.isoformat(), "allowedSourceAddressPrefix": "127.0.0.1"}]}],
            "justification": "python sdk",
        })
        self.assertEqual(request.virtual_machines[0].ports[0].status, "Initiated")
        self.assertEqual(request.justification, "python sdk")

        stored = [r for r in policies.get(GROUP, LOCATION, name).requests if r.justification == "python sdk"]
        self.assertEqual(len(stored), 1)
        self.assertEqual(stored[0].requestor, "owner")
        self.assertLess(abs((stored[0].virtual_machines[0].ports[0].end_time_utc - end).total_seconds()), 1)

        policies.delete(GROUP, LOCATION, name)
        with self.assertRaises(ResourceNotFoundError):
            policies.get(GROUP, LOCATION, name)

    def test_bad_input_is_azures_error(self):
        with self.assertRaises(HttpResponseError) as raised:
            SECURITY.jit_network_access_policies.create_or_update(GROUP, LOCATION, "py-bad", {
                "properties": {"virtualMachines": [{"id": VM_ID, "ports": [
                    {"number": 70000, "protocol": "TCP", "allowedSourceAddressPrefix": "*", "maxRequestAccessDuration": "PT3H"}]}]},
            })
        self.assertEqual(raised.exception.status_code, 400)
        self.assertEqual(raised.exception.error.code, "InvalidParameter")


class NetworkSecurityGroups(unittest.TestCase):
    def test_create_get_list_across_pages(self):
        names = ["py-nsg-1", "py-nsg-2", "py-nsg-3"]
        for name in names:
            NETWORK.network_security_groups.begin_create_or_update(GROUP, name, {
                "location": LOCATION,
                "security_rules": [{"name": "AllowSsh", "priority": 310, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                                    "source_address_prefix": "203.0.113.0/24", "source_port_range": "*",
                                    "destination_address_prefix": "*", "destination_port_range": "22"}],
            }).result()
        got = NETWORK.network_security_groups.get(GROUP, "py-nsg-2")
        self.assertEqual(got.security_rules[0].source_address_prefix, "203.0.113.0/24")
        everywhere = [g.name for g in NETWORK.network_security_groups.list_all()]
        in_group = [g.name for g in NETWORK.network_security_groups.list(GROUP)]
        for name in names:
            self.assertIn(name, everywhere)
            self.assertIn(name, in_group)
        for name in names:
            NETWORK.network_security_groups.begin_delete(GROUP, name).result()


class VirtualMachines(unittest.TestCase):
    def test_list_and_get(self):
        self.assertIn("sdk-vm", [vm.name for vm in COMPUTE.virtual_machines.list_all()])
        self.assertIn("sdk-vm", [vm.name for vm in COMPUTE.virtual_machines.list(GROUP)])
        vm = COMPUTE.virtual_machines.get(GROUP, "sdk-vm")
        self.assertEqual((vm.id.lower(), vm.location), (VM_ID.lower(), LOCATION))


class Assessments(unittest.TestCase):
    def test_jit_recommendation_per_machine(self):
        mine = [a for a in SECURITY.assessments.list(f"/subscriptions/{SUBSCRIPTION}") if a.resource_details.id.lower() == VM_ID.lower()]
        self.assertEqual(len(mine), 1)
        self.assertIn(mine[0].status.code, ("Healthy", "Unhealthy", "NotApplicable"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
