using System.Globalization;
using System.Text.RegularExpressions;
using Drawbridge.Contracts;
using Drawbridge.Jit;
using Drawbridge.Server.Web.Shared;

namespace Drawbridge.Server.Web.Machines;

/// <summary>The Request access form of a machine's Connect panel, and how the API's errors map onto it.</summary>
public sealed partial class ConnectForm
{
    public const string MyAddress = "mine";
    public const string Custom = "custom";

    /// <summary>The request times offered, as Defender's portal offers hours; only those within the policy are shown.</summary>
    public static readonly TimeSpan[] Durations =
        [.. new[] { 15, 30, 60, 120, 180, 240, 360, 480, 720, 1440 }.Select(m => TimeSpan.FromMinutes(m))];

    public List<int> Ports { get; init; } = [];
    public string Duration { get; init; } = "";
    public string Source { get; init; } = MyAddress;
    public string Cidr { get; init; } = "";
    public string Justification { get; init; } = "";
    public FormErrors Errors { get; } = new();

    public static ConnectForm Read(IFormCollection form) => new()
    {
        Ports = [.. form["port"].Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1)],
        Duration = form["duration"].ToString(),
        Source = form["source"].ToString() == Custom ? Custom : MyAddress,
        Cidr = form["cidr"].ToString().Trim(),
        Justification = form["justification"].ToString(),
    };

    /// <summary>The API request for the machine <paramref name="vmId"/>; null (with errors) when nothing was chosen.</summary>
    public JitNetworkAccessPolicyInitiateRequest? ToArm(string vmId)
    {
        if (Ports.Count == 0)
        {
            Errors.Add("port", "Choose at least one port.");
        }

        if (Source == Custom && Cidr.Length == 0)
        {
            Errors.Add("cidr", "Enter an address or range, like 203.0.113.7 or 203.0.113.0/24, or use your own address.");
        }

        return Errors.Any ? null : new JitNetworkAccessPolicyInitiateRequest
        {
            VirtualMachines =
            [
                new JitNetworkAccessPolicyInitiateVirtualMachine
                {
                    Id = vmId,
                    Ports = [.. Ports.Select(p => new JitNetworkAccessPolicyInitiatePort
                    {
                        Number = p,
                        Duration = Duration,
                        // Without a source the server takes the address it sees the caller at, as for the CLI.
                        AllowedSourceAddressPrefix = Source == Custom ? Cidr : null,
                    })],
                },
            ],
            Justification = Justification.Length == 0 ? null : Justification,
        };
    }

    internal void AddProblem(IResult result) => Errors.TryAddProblem(result, path =>
    {
        if (path == "justification")
        {
            return "justification";
        }

        var match = PortPath().Match(path);
        return !match.Success ? null : match.Groups[1].Value switch
        {
            "number" => "port",
            "duration" or "endTimeUtc" => "duration",
            "allowedSourceAddressPrefix" or "allowedSourceAddressPrefixes" => "cidr",
            _ => null,
        };
    });

    public static string Label(TimeSpan duration) => Display.Duration(duration);

    public static string Value(TimeSpan duration) => JitDuration.ToIso(duration);

    /// <summary>virtualMachines[0].ports[any].field, or one item of a list field.</summary>
    [GeneratedRegex(@"^virtualMachines\[0\]\.ports\[\d+\]\.(\w+)(?:\[\d+\])?$")]
    private static partial Regex PortPath();
}
