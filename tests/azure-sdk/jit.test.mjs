// Azure's own JavaScript SDKs against a running Drawbridge server: only the endpoint and the credential differ from
// a script written for Azure. Run by AzureSdkTests.cs, which starts the server on HTTPS with a certificate made for
// the test and passes DRAWBRIDGE_ENDPOINT, DRAWBRIDGE_TOKEN, DRAWBRIDGE_SUBSCRIPTION and DRAWBRIDGE_VM_ID.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SecurityCenter } from "@azure/arm-security";
import { NetworkManagementClient } from "@azure/arm-network";

const endpoint = process.env.DRAWBRIDGE_ENDPOINT;
const subscription = process.env.DRAWBRIDGE_SUBSCRIPTION;
const vmId = process.env.DRAWBRIDGE_VM_ID;
const group = "default";
const location = "local";

// A TokenCredential that hands out a Drawbridge API token instead of an Entra ID one.
const credential = { getToken: async () => ({ token: process.env.DRAWBRIDGE_TOKEN, expiresOnTimestamp: Date.now() + 3600_000 }) };
const security = new SecurityCenter(credential, subscription, { endpoint });
const network = new NetworkManagementClient(credential, subscription, { endpoint });

async function all(iterator) {
  const items = [];
  for await (const item of iterator) items.push(item);
  return items;
}

test("JIT policy: create, list every way, initiate, see the request, delete", async () => {
  const name = "js-sdk-policy";
  const created = await security.jitNetworkAccessPolicies.createOrUpdate(group, location, name, {
    kind: "Basic",
    virtualMachines: [{ id: vmId, ports: [{ number: 22, protocol: "*", allowedSourceAddressPrefix: "*", maxRequestAccessDuration: "PT3H" }] }],
  });
  assert.equal(created.name, name);
  assert.equal(created.virtualMachines[0].ports[0].number, 22);
  assert.equal(created.virtualMachines[0].ports[0].maxRequestAccessDuration, "PT3H");

  for (const listed of [
    await all(security.jitNetworkAccessPolicies.list()),
    await all(security.jitNetworkAccessPolicies.listByRegion(location)),
    await all(security.jitNetworkAccessPolicies.listByResourceGroup(group)),
    await all(security.jitNetworkAccessPolicies.listByResourceGroupAndRegion(group, location)),
  ]) {
    assert.ok(listed.some((p) => p.name === name), `listed: ${listed.map((p) => p.name)}`);
  }

  const end = new Date(Date.now() + 30 * 60_000);
  const request = await security.jitNetworkAccessPolicies.initiate(group, location, name, {
    virtualMachines: [{ id: vmId, ports: [{ number: 22, endTimeUtc: end, allowedSourceAddressPrefix: "127.0.0.1" }] }],
    justification: "js sdk",
  });
  const port = request.virtualMachines[0].ports[0];
  assert.equal(port.number, 22);
  assert.equal(port.status, "Initiated");
  assert.equal(port.allowedSourceAddressPrefix, "127.0.0.1");
  assert.equal(request.justification, "js sdk");

  const fetched = await security.jitNetworkAccessPolicies.get(group, location, name);
  const seen = fetched.requests.find((r) => r.justification === "js sdk");
  assert.ok(seen, "the request is stored on the policy");
  assert.equal(seen.requestor, "owner");
  assert.ok(seen.startTimeUtc instanceof Date);
  assert.ok(Math.abs(seen.virtualMachines[0].ports[0].endTimeUtc - end) < 1000, "the end time asked for");

  await security.jitNetworkAccessPolicies.delete(group, location, name);
  await assert.rejects(security.jitNetworkAccessPolicies.get(group, location, name), (e) => e.statusCode === 404 && e.code === "ResourceNotFound");
});

test("Errors arrive as Azure's error envelope", async () => {
  await assert.rejects(
    security.jitNetworkAccessPolicies.createOrUpdate(group, location, "js-bad", {
      virtualMachines: [{ id: vmId, ports: [{ number: 70000, protocol: "TCP", allowedSourceAddressPrefix: "*", maxRequestAccessDuration: "PT3H" }] }],
    }),
    (e) => e.statusCode === 400 && e.code === "InvalidParameter" && /70000/.test(e.message),
  );
});

test("Network security groups: create, get, list by group and across pages", async () => {
  const names = ["js-nsg-1", "js-nsg-2", "js-nsg-3"];
  for (const name of names) {
    const saved = await network.networkSecurityGroups.createOrUpdate(group, name, {
      location,
      securityRules: [{ name: "AllowHttps", priority: 300, direction: "Inbound", access: "Allow", protocol: "Tcp",
        sourceAddressPrefix: "Internet", sourcePortRange: "*", destinationAddressPrefix: "*", destinationPortRange: "443" }],
    });
    assert.equal(saved.name, name);
  }

  const one = await network.networkSecurityGroups.get(group, "js-nsg-2");
  assert.equal(one.securityRules[0].name, "AllowHttps");
  assert.equal(one.securityRules[0].destinationPortRange, "443");
  assert.deepEqual(one.defaultSecurityRules.map((r) => r.name).slice(0, 3), ["AllowVnetInBound", "AllowAzureLoadBalancerInBound", "DenyAllInBound"]);

  // The server pages 2 at a time here: the SDK must follow nextLink to see all three.
  const everywhere = (await all(network.networkSecurityGroups.listAll())).map((g) => g.name);
  const inGroup = (await all(network.networkSecurityGroups.list(group))).map((g) => g.name);
  for (const name of names) {
    assert.ok(everywhere.includes(name), `listAll: ${everywhere}`);
    assert.ok(inGroup.includes(name), `list: ${inGroup}`);
  }

  for (const name of names) await network.networkSecurityGroups.delete(group, name);
});

test("Assessments: the JIT recommendation per machine", async () => {
  const assessments = await all(security.assessments.list(`/subscriptions/${subscription}`));
  const mine = assessments.find((a) => a.resourceDetails?.id?.toLowerCase() === vmId.toLowerCase());
  assert.ok(mine, `assessed: ${assessments.map((a) => a.id)}`);
  assert.ok(["Healthy", "Unhealthy", "NotApplicable"].includes(mine.status.code));
  assert.equal(mine.displayName, "Management ports of virtual machines should be protected with just-in-time network access control");
});
