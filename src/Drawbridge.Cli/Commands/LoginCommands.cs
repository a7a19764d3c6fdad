using System.CommandLine;
using Drawbridge.Cli.Api;
using Drawbridge.Cli.Output;
using Drawbridge.Contracts;

namespace Drawbridge.Cli.Commands;

internal static class LoginCommands
{
    public static Command Login()
    {
        var server = new Option<string>("--server") { Description = "Server URL, e.g. http://127.0.0.1:5080", Required = true };
        var token = new Option<string>("--token") { Description = "Your API token", Required = true };
        var command = new Command("login", "Check a server and token and remember them") { server, token };
        command.SetHandler(async (result, printer, ct) =>
        {
            var url = result.GetValue(server)!;
            using var api = new DrawbridgeApi(url, result.GetValue(token)!, "");
            var me = await api.GetAsync("api/v1/whoami", DrawbridgeJson.Wire.WhoAmI, ct);
            new ClientConfig { Server = url, Token = result.GetValue(token)!, SubscriptionId = me.SubscriptionId! }.Save();
            printer.Show(me, DrawbridgeJson.Indented.WhoAmI,
                () => printer.Line($"Logged in to {url} as {me.Principal} ({Printer.Roles(me.Roles, me.SubscriptionId)}). The server sees you at {me.ObservedAddress}."));
            return 0;
        });
        return command;
    }

    public static Command EnrollToken()
    {
        var uses = new Option<int>("--uses") { Description = "How many agents may enroll with it", DefaultValueFactory = _ => 1 };
        var ttl = new Option<string>("--ttl") { Description = "How long it stays valid (1h, PT30M, ...)", DefaultValueFactory = _ => "1h" };
        var create = new Command("create", "Create a one-time token for 'drawbridge-agent enroll'") { uses, ttl };
        create.SetHandler(async (result, printer, ct) =>
        {
            using var api = DrawbridgeApi.FromConfig();
            var body = new EnrollmentTokenCreateRequest { Uses = result.GetValue(uses), Ttl = result.GetValue(ttl) };
            var created = await api.PostAsync("api/v1/enrollment-tokens", body, DrawbridgeJson.Wire.EnrollmentTokenCreateRequest, DrawbridgeJson.Wire.EnrollmentTokenCreated, ct);
            printer.Show(created, DrawbridgeJson.Indented.EnrollmentTokenCreated, () =>
            {
                Console.Out.WriteLine(created.Token);
                Console.Error.WriteLine($"({created.Uses} use(s), valid until {created.ExpiresUtc.UtcDateTime:u}; on the host: drawbridge-agent enroll --server URL --token TOKEN)");
            });
            return 0;
        });
        return new Command("enroll-token", "Tokens that let agents enroll") { create };
    }
}
