using Drawbridge.Authorization;
using Drawbridge.Contracts;
using Drawbridge.Jit;
using Drawbridge.Posture;
using Drawbridge.Server.Bootstrap;
using Drawbridge.Server.Http;
using Drawbridge.Server.Identity;
using Drawbridge.Server.Storage;
using Drawbridge.Validation;
using Microsoft.EntityFrameworkCore;

namespace Drawbridge.Server.Posture;

/// <summary>GET {vmId}/effectiveNetworkAccess[?port=N&amp;protocol=tcp|udp]: what reaches a machine's ports after every rule.</summary>
internal static class EffectiveAccessEndpoint
{
    public static IEndpointRouteBuilder MapEffectiveAccessEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/subscriptions/{subscriptionId}").WithTags("Posture").RequireApiVersion(ApiVersions.Network)
            .MapGet("resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines/{vmName}/effectiveNetworkAccess",
                async (string resourceGroupName, string vmName, string? port, string? protocol, DrawbridgeDbContext db, InstallationContext installation, CancellationToken ct) =>
                {
                    var errors = new ValidationErrors();
                    var ports = port is null ? PostureAssessment.ManagementPorts
                        : int.TryParse(port, out var number) && number is >= 0 and <= 65535 ? [number]
                        : Fail<int>(errors, "port", $"'{port}' is not a port (0..65535)");
                    PortProtocol[] protocols = protocol?.ToLowerInvariant() switch
                    {
                        null => [PortProtocol.Tcp, PortProtocol.Udp],
                        "tcp" => [PortProtocol.Tcp],
                        "udp" => [PortProtocol.Udp],
                        _ => Fail<PortProtocol>(errors, "protocol", $"'{protocol}' is not tcp or udp"),
                    };
                    if (errors.Any)
                    {
                        return Problems.Validation(errors);
                    }

                    var (rg, key) = (ArmIds.Key(resourceGroupName), ArmIds.Key(vmName));
                    var machine = await db.Machines.AsNoTracking().SingleOrDefaultAsync(m => m.ResourceGroup == rg && m.NameKey == key, ct);
                    if (machine is null)
                    {
                        return Problems.NotFound($"The virtual machine '{vmName}' could not be found.");
                    }

                    var posture = (await PostureInputs.LoadAsync(db, [machine], ct)).Single();
                    var result = new EffectiveNetworkAccess();
                    foreach (var p in ports)
                    {
                        foreach (var transport in protocols)
                        {
                            var access = PostureAssessment.Effective(posture.Input, transport, p);
                            var group = access.Nsg is null ? null : posture.Groups.First(g => ReferenceEquals(g.Nsg, access.Nsg)).Group;
                            result.Value.Add(new EffectivePortAccess
                            {
                                Port = p,
                                Protocol = transport.ToString(),
                                AllowedSources = access.Allowed.Prefixes.Select(x => x.ToString()).ToList(),
                                FromInternet = !access.Allowed.Intersect(AddressSpace.Internet).IsEmpty,
                                JitProtected = access.JitProtected,
                                NetworkSecurityGroupId = group is null ? null : ArmIds.NetworkSecurityGroup(installation.SubscriptionId, group.ResourceGroup, group.Name),
                                SecurityRule = access.Rule?.Name,
                            });
                        }
                    }

                    return TypedResults.Json(result, DrawbridgeJson.Wire.EffectiveNetworkAccess);
                })
            .RequireAction(Actions.NsgRead);
        return app;
    }

    private static T[] Fail<T>(ValidationErrors errors, string field, string message)
    {
        errors.Add(field, message);
        return [];
    }
}
